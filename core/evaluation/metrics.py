"""Evaluation metrics: accuracy, calibration, kNN / linear probes and collapse monitors.

Every function accepts numpy arrays (or torch tensors, converted on entry) and returns
plain Python numbers or numpy arrays.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import KMeans
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import normalized_mutual_info_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

__all__ = [
    "accuracy",
    "nll",
    "expected_calibration_error",
    "agreement",
    "ensemble_probs",
    "memorized_noise",
    "knn_accuracy",
    "linear_probe_accuracy",
    "mean_entropy",
    "kl_divergence",
    "normalized_feature_std",
    "argmax_dims_used",
    "argmax_top_share",
    "effective_rank",
    "kmeans_nmi",
    "detect_collapse",
    "collapse_advice",
    "effective_rank_floor",
]


def _np(x: Any) -> np.ndarray:
    """Convert a torch tensor (any device, with or without grad) or array-like to numpy."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _preds(probs_or_preds: Any) -> np.ndarray:
    """(N,K) scores -> argmax labels; (N,) labels pass through."""
    a = _np(probs_or_preds)
    return a.argmax(axis=1) if a.ndim == 2 else a


def accuracy(probs_or_preds: Any, labels: Any) -> float:
    return float(np.mean(_preds(probs_or_preds) == _np(labels)))


def nll(probs: Any, labels: Any, eps: float = 1e-12) -> float:
    """Mean negative log-likelihood of the true label."""
    p = _np(probs).astype(np.float64)
    y = _np(labels).astype(np.int64)
    return float(-np.mean(np.log(np.maximum(p[np.arange(len(y)), y], eps))))


def expected_calibration_error(probs: Any, labels: Any, n_bins: int = 15) -> float:
    """ECE with equal-width confidence bins (i/n, (i+1)/n]; confidence = max probability."""
    p = _np(probs).astype(np.float64)
    y = _np(labels)
    conf = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(np.float64)
    bins = np.clip(np.ceil(conf * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    gap = np.bincount(bins, weights=correct - conf, minlength=n_bins)
    # |sum(acc - conf)| / N per bin equals (count/N) * |mean acc - mean conf|.
    return float(np.abs(gap).sum() / len(y))


def agreement(probs_or_preds_a: Any, probs_or_preds_b: Any) -> float:
    """Fraction of rows on which the two models predict the same class."""
    return float(np.mean(_preds(probs_or_preds_a) == _preds(probs_or_preds_b)))


def ensemble_probs(list_of_probs: Sequence[Any]) -> np.ndarray:
    return np.mean([_np(p) for p in list_of_probs], axis=0)


def memorized_noise(train_preds: Any, noisy_labels: Any, flipped_indices: Any) -> float:
    """Fraction of flipped training labels the model reproduces; nan when nothing was flipped."""
    idx = _np(flipped_indices)
    if idx.dtype == bool:
        idx = np.flatnonzero(idx)
    if idx.size == 0:
        return float("nan")
    return float(np.mean(_preds(train_preds)[idx] == _np(noisy_labels)[idx]))


def knn_accuracy(
    train_features: Any,
    train_labels: Any,
    test_features: Any,
    test_labels: Any,
    k: int = 20,
    temperature: float = 0.07,
    chunk_size: int = 1024,
) -> float:
    """Weighted cosine kNN (weights exp(sim/T)), one test chunk at a time.

    Uses torch.topk, ~5x faster than np.argpartition on 1024 x 50k similarity blocks.
    """
    train = F.normalize(torch.as_tensor(_np(train_features), dtype=torch.float32), dim=1)
    test = F.normalize(torch.as_tensor(_np(test_features), dtype=torch.float32), dim=1)
    classes, train_y = np.unique(_np(train_labels), return_inverse=True)
    train_y = torch.as_tensor(train_y.reshape(-1))
    test_y = _np(test_labels)
    k = min(k, len(train))
    correct = 0
    for start in range(0, len(test), chunk_size):
        sim, top = (test[start:start + chunk_size] @ train.T).topk(k, dim=1)
        votes = torch.zeros(len(sim), len(classes), dtype=torch.float64)
        votes.scatter_add_(1, train_y[top], torch.exp(sim.double() / temperature))
        pred = classes[votes.argmax(dim=1).numpy()]
        correct += int(np.sum(pred == test_y[start:start + chunk_size]))
    return correct / len(test)


def linear_probe_accuracy(
    train_features: Any, train_labels: Any, test_features: Any, test_labels: Any, seed: int = 0
) -> float:
    """Multinomial logistic regression (L-BFGS) on standardized frozen features."""
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=seed))
    probe.fit(_np(train_features), _np(train_labels))
    return float(probe.score(_np(test_features), _np(test_labels)))


def mean_entropy(probs: Any) -> float:
    """Mean row entropy in nats; log K means uniform, 0 means one-hot."""
    p = _np(probs).astype(np.float64)
    return float(-np.mean(np.sum(p * np.log(np.maximum(p, 1e-300)), axis=1)))


def kl_divergence(p: Any, q: Any, eps: float = 1e-12) -> float:
    """Mean over rows of KL(p || q) in nats."""
    p, q = _np(p).astype(np.float64), _np(q).astype(np.float64)
    terms = p * (np.log(np.maximum(p, eps)) - np.log(np.maximum(q, eps)))
    return float(np.mean(np.sum(terms, axis=1)))


def normalized_feature_std(features: Any) -> float:
    """Mean per-dimension std of L2-normalised rows: 0 when collapsed, ~1/sqrt(d) when spread out."""
    x = _np(features).astype(np.float64)
    x /= np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    return float(x.std(axis=0).mean())


def argmax_dims_used(probs_or_logits: Any) -> int:
    return int(np.unique(_preds(probs_or_logits)).size)


def argmax_top_share(probs_or_logits: Any) -> float:
    """Share of the rows whose argmax is the most frequent winner: 1 when one dimension wins for every input."""
    winners = _preds(probs_or_logits)
    return float(np.bincount(winners).max() / len(winners)) if len(winners) else float("nan")


def effective_rank(features: Any) -> float:
    """exp of the entropy of the singular values normalised to sum 1 (Roy & Vetterli 2007), of the matrix as it
    is (not centred, so features that all point one way count as rank 1): between 1 and min(N, D)."""
    s = np.linalg.svd(_np(features).astype(np.float64), compute_uv=False)
    if s.sum() <= 0:
        return 0.0
    p = s / s.sum()
    p = p[p > 0]
    return float(np.exp(-np.sum(p * np.log(p))))


def kmeans_nmi(features: Any, labels: Any, n_clusters: int, seed: int = 0, n_init: int = 3) -> float:
    """Cluster quality: k-means (K clusters, seeded) on standardised features, normalised mutual information of
    its clusters with the labels (1: the clusters are the classes; 0: independent of them)."""
    x = StandardScaler().fit_transform(_np(features).astype(np.float64))
    clusters = KMeans(n_clusters=n_clusters, n_init=n_init, random_state=seed).fit_predict(x)
    return float(normalized_mutual_info_score(_np(labels), clusters))


# Healthy label-free runs on digits kept about 0.9 of the untrained network's feature effective rank, and so did
# runs whose output head collapsed (one-hot or uniform) while the backbone did not; runs whose features collapsed
# fell below a tenth of it within two epochs.
RANK_FLOOR_SHARE = 0.25


def effective_rank_floor(reference_rank: float | None) -> float | None:
    """The dimensional-collapse floor: a share of the untrained network's feature effective rank (None without)."""
    return None if reference_rank is None else RANK_FLOOR_SHARE * reference_rank


def _sustained(collapsed: np.ndarray, min_epochs: int) -> int | None:
    """The epoch a collapse lasting to the end began, when it spans min_epochs (or the whole history); else None."""
    if collapsed.size == 0 or not collapsed[-1]:
        return None
    healthy = np.flatnonzero(~collapsed)
    start = int(healthy[-1]) + 1 if healthy.size else 0
    return start if collapsed.size - start >= min(min_epochs, collapsed.size) else None


def collapse_advice(centering: bool, batch_norm: bool) -> dict[str, str]:
    """What to change for each kind of collapse of a DINO-style run, naming only keys such a run reads."""
    def either(*hints: str) -> str:
        hints = tuple(h for h in hints if h)
        return ", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0]

    centering_on = "" if centering else "turn method.centering on"
    batch_norm_on = "" if batch_norm else "turn model.batch_norm on"
    return {
        "one-hot": centering_on or "raise method.teacher_temp (less sharpening) or lower method.center_momentum "
                                   "(a faster center)",
        "uniform": either("lower method.teacher_temp (sharper targets)", batch_norm_on,
                          "raise method.center_momentum (a slower center)" if centering else ""),
        "dimensional": either(centering_on, batch_norm_on, "lower train.lr"),
    }


def detect_collapse(epochs: Sequence[dict], n_outputs: int, rank_floor: float | None = None,
                    advice: dict[str, str] | None = None, rel_tol: float = 0.05, one_hot_tol: float = 0.1,
                    top_share: float = 0.9, min_epochs: int = 3) -> list[str]:
    """One warning per kind of collapse that lasts to the final epoch, naming the kind, the epoch it began and
    (from ``advice``) the setting to change. ``epochs`` are the per-epoch monitors, in order:

    - one-hot: the teacher entropy is near 0 (≤ one_hot_tol · log K) AND one output wins the argmax for nearly
      every input (``argmax_top_share`` ≥ top_share) or a handful of outputs win every input (at most
      ``max(2, 5% of K)``); a sharp teacher whose winners differ between inputs is healthy, so low entropy alone
      does not count;
    - uniform: the teacher entropy is near log K (≥ (1 − rel_tol) · log K);
    - dimensional: the features' effective rank is below ``rank_floor`` (skipped without one): the outputs may
      look healthy while the backbone maps every input into a few directions.

    A collapse must span at least min_epochs epochs (or the whole history when it is shorter), so one
    near-uniform epoch at initialisation does not count.
    """
    if not epochs or n_outputs < 2:
        return []
    log_k = math.log(n_outputs)
    column = lambda key: np.array([e.get(key, np.nan) for e in epochs], dtype=np.float64)  # noqa: E731
    h, share, rank = column("teacher_entropy"), column("argmax_top_share"), column("feature_effective_rank")
    used, few = column("argmax_dims_used"), max(2, round(0.05 * n_outputs))
    kinds = {"one-hot": (h <= one_hot_tol * log_k) & ((share >= top_share) | (used <= few)),
             "uniform": h >= (1 - rel_tol) * log_k}
    if rank_floor is not None:
        kinds["dimensional"] = rank < rank_floor
    found = []
    for kind, collapsed in kinds.items():
        start = _sustained(collapsed, min_epochs)
        if start is None:
            continue
        if kind == "dimensional":
            text = f"feature effective rank {rank[-1]:.1f} below the floor {rank_floor:.1f}"
        else:
            text = f"teacher entropy {h[-1]:.3f} nats vs log K = {log_k:.3f} (K = {n_outputs})"
            if kind == "one-hot" and used[-1] > 1 and share[-1] < top_share:
                text += f", {used[-1]:.0f} of {n_outputs} outputs win every input"
            elif kind == "one-hot":
                text += f", one output wins for {share[-1]:.0%} of inputs"
        hint = (advice or {}).get(kind)
        found.append(f"{kind} collapse from epoch {start}: {text}" + (f"; {hint}" if hint else "") + ".")
    return found
