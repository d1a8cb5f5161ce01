"""What a teacher's softened output looked like to its student: softmax(logits / T) of one point, per generation.

Why from logits: probabilities stored in float32 underflow to exactly 0 for confident classes, and 0^(1/T) stays
0, so they cannot be re-softened; logits can, at any T. The computation is shifted by the row maximum (the same
softmax, no overflow). The dashboard ships the same logits to the browser and recomputes there.
"""
from __future__ import annotations

import math

import numpy as np

from core.evaluation.diff import InsightError, generation_arrays, stored_generations, generation_logits
from core.storage.run_store import RunStore

DEFAULT_TEMPERATURES = (1.0, 2.0, 4.0)


def softmax_at(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) along the last axis, in float64."""
    if not (math.isfinite(temperature) and temperature > 0):
        raise InsightError(f"temperature {temperature!r}: must be a positive number")
    z = np.asarray(logits, dtype=np.float64) / temperature
    z = z - np.max(np.where(np.isfinite(z), z, -np.inf), axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def temperature_key(temperature: float) -> str:
    """How a temperature names its entry: 1 -> "1", 0.5 -> "0.5"."""
    return f"{temperature:g}"


def parse_temperatures(text: str) -> list[float]:
    """"1,2,4" -> [1.0, 2.0, 4.0]; InsightError on anything but positive finite numbers."""
    values = []
    for part in text.split(","):
        try:
            value = float(part)
        except ValueError:
            raise InsightError(f"--temperatures {text!r}: {part.strip()!r} is not a number") from None
        if not (math.isfinite(value) and value > 0):
            raise InsightError(f"--temperatures {text!r}: each temperature must be a positive number")
        values.append(value)
    return values


def point_logits(store: RunStore, run_id: str, index: int, split: str = "test") -> tuple[int, list[int], np.ndarray]:
    """(given label, generations, (G, K) logits) of test point ``index``, or of training point ``index`` when
    ``split`` is "flipped" (it must be one whose label was flipped: only those have stored training logits)."""
    run = store.load_arrays(run_id, "run")
    generations = stored_generations(store, run_id)
    if not generations or "y_test" not in run:
        raise InsightError(f"run {run_id} has no finished generation yet")
    if split == "test":
        n = len(run["y_test"])
        if not 0 <= index < n:
            raise InsightError(f"--index {index}: run {run_id} has test points 0..{n - 1}")
        rows = [generation_logits(generation_arrays(store, run_id, g), run_id, g)[index] for g in generations]
        return int(run["y_test"][index]), generations, np.stack(rows)
    if split != "flipped":
        raise InsightError(f"split {split!r}: test or flipped")
    flipped = run.get("flipped", np.zeros(0, dtype=np.int64))
    where = np.flatnonzero(flipped == index)
    if not where.size:
        shown = ", ".join(map(str, flipped[:5])) + (", ..." if len(flipped) > 5 else "")
        raise InsightError(f"--index {index}: not a flipped training point of run {run_id} "
                           f"({len(flipped)} flipped{': ' + shown if len(flipped) else ''})")
    rows = []
    for g in generations:
        arrays = generation_arrays(store, run_id, g)
        if "flipped_logits" not in arrays:
            raise InsightError(f"run {run_id}, generation {g} stored no training logits (a run from before they "
                               "were stored, or a label-free run)")
        rows.append(arrays["flipped_logits"][where[0]].astype(np.float64))
    return int(run["y_train"][index]), generations, np.stack(rows)


def soft_targets(store: RunStore, run_id: str, index: int, temperatures: list[float],
                 split: str = "test") -> dict:
    """{"index", "label", "generations": [{"generation", "probabilities": {"T": [K]}}]} of one point."""
    label, generations, logits = point_logits(store, run_id, index, split)
    out = {"index": index, "label": label, "split": split, "generations": []}
    if split == "flipped":
        out["clean_label"] = int(store.load_arrays(run_id, "run")["y_train_clean"][index])
    for g, row in zip(generations, logits):
        out["generations"].append({"generation": g, "probabilities": {
            temperature_key(t): softmax_at(row, t).tolist() for t in temperatures}})
    return out
