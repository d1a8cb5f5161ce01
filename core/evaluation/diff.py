"""What generation B changed against generation A of one run: the test points it fixed and broke, both confusion
matrices, and the flipped training labels it stopped or started reproducing.

Why a diff and not two accuracies: a generation that fixes 20 points and breaks 15 reads as "+5" on the accuracy
chart, which hides both the learning and the forgetting. By construction ``len(fixed) - len(broken)`` equals
``n_test · (accuracy_to - accuracy_from)``; tests/test_diff.py checks that and a hand-worked case.

``generation_diff`` is pure (arrays in, dict out); ``load_generation_diff`` reads a stored run (predictions from
the stored logits, or from the probabilities of runs stored before logits were).
"""
from __future__ import annotations

import numpy as np

from core.storage.run_store import RunStore


class InsightError(ValueError):
    """A generation, index or run that cannot be looked at (no such generation, a label-free run, ...)."""


def confusion(labels: np.ndarray, predictions: np.ndarray, n_classes: int) -> np.ndarray:
    """K×K counts: row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(labels, dtype=np.int64), np.asarray(predictions, dtype=np.int64)), 1)
    return matrix


def generation_diff(labels: np.ndarray, pred_from: np.ndarray, pred_to: np.ndarray, n_classes: int,
                    flipped_labels: np.ndarray | None = None, flipped_from: np.ndarray | None = None,
                    flipped_to: np.ndarray | None = None, flipped_index: np.ndarray | None = None) -> dict:
    """Fixed (A wrong, B right) and broken (A right, B wrong) test indices, both confusion matrices and, given the
    noisy labels of the flipped training points and both generations' predictions there, the training indices
    whose wrong label B stopped reproducing (A predicted it, B does not) and started reproducing."""
    labels, pred_from, pred_to = (np.asarray(a, dtype=np.int64) for a in (labels, pred_from, pred_to))
    if not (labels.shape == pred_from.shape == pred_to.shape) or labels.ndim != 1:
        raise InsightError(f"labels and predictions must be 1-D of one length, got {labels.shape}, "
                           f"{pred_from.shape}, {pred_to.shape}")
    right_from, right_to = pred_from == labels, pred_to == labels
    out = {"n_test": int(len(labels)),
           "fixed": np.flatnonzero(~right_from & right_to).tolist(),
           "broken": np.flatnonzero(right_from & ~right_to).tolist(),
           "confusion_from": confusion(labels, pred_from, n_classes).tolist(),
           "confusion_to": confusion(labels, pred_to, n_classes).tolist(),
           "accuracy_from": float(right_from.mean()) if len(labels) else float("nan"),
           "accuracy_to": float(right_to.mean()) if len(labels) else float("nan")}
    if flipped_labels is not None and flipped_from is not None and flipped_to is not None:
        given = np.asarray(flipped_labels, dtype=np.int64)
        index = np.arange(len(given)) if flipped_index is None else np.asarray(flipped_index, dtype=np.int64)
        copied_from, copied_to = np.asarray(flipped_from) == given, np.asarray(flipped_to) == given
        out.update(n_flipped=int(len(given)),
                   flipped_stopped=index[copied_from & ~copied_to].tolist(),
                   flipped_started=index[~copied_from & copied_to].tolist(),
                   flipped_reproduced_from=int(copied_from.sum()), flipped_reproduced_to=int(copied_to.sum()))
    return out


def stored_generations(store: RunStore, run_id: str) -> list[int]:
    """The generations of a run that have stored arrays (RunNotFound for an unknown run)."""
    store.get_run(run_id)
    return [row["generation"] for row in store.generations(run_id)
            if (store.artifact_dir(run_id) / f"gen{row['generation']}.npz").exists()]


def generation_arrays(store: RunStore, run_id: str, generation: int) -> dict[str, np.ndarray]:
    """A stored generation's arrays; InsightError naming the generations there are when it has none."""
    available = stored_generations(store, run_id)
    if generation not in available:
        there = ", ".join(map(str, available)) or "none yet"
        raise InsightError(f"run {run_id} has no generation {generation} (stored generations: {there})")
    return store.load_arrays(run_id, f"gen{generation}")


def generation_logits(arrays: dict[str, np.ndarray], run_id: str, generation: int) -> np.ndarray:
    """(N, K) logits of a generation's test outputs; log-probabilities for runs stored before logits were (the
    same argmax and, up to a constant per row, the same softmax at any temperature)."""
    if "logits" in arrays:
        return arrays["logits"].astype(np.float64)
    if "probs" in arrays:
        with np.errstate(divide="ignore"):
            return np.log(arrays["probs"].astype(np.float64))
    raise InsightError(f"run {run_id}, generation {generation}: a label-free run has no class outputs to compare")


def load_generation_diff(store: RunStore, run_id: str, gen_from: int, gen_to: int) -> dict:
    """``generation_diff`` of two stored generations, with run_id, from and to; the flipped-label part when the
    run has flipped labels and stored the training logits at them."""
    a = generation_arrays(store, run_id, gen_from)
    b = generation_arrays(store, run_id, gen_to)
    run = store.load_arrays(run_id, "run")
    labels = run["y_test"]
    pred_a, pred_b = generation_logits(a, run_id, gen_from).argmax(1), generation_logits(b, run_id, gen_to).argmax(1)
    n_classes = int(max(a.get("logits", a.get("probs")).shape[1], labels.max() + 1))
    flipped = run.get("flipped")
    extra = {}
    if flipped is not None and len(flipped) and "flipped_logits" in a and "flipped_logits" in b:
        extra = dict(flipped_labels=run["y_train"][flipped], flipped_from=a["flipped_logits"].argmax(1),
                     flipped_to=b["flipped_logits"].argmax(1), flipped_index=flipped)
    diff = generation_diff(labels, pred_a, pred_b, n_classes, **extra)
    return {"run_id": run_id, "from": gen_from, "to": gen_to, **diff}
