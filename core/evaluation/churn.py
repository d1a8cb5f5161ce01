"""Neighbour churn: for each test point, the share of its k nearest neighbours (feature space, cosine) that changed
since the previous generation.

Why: accuracy says whether a generation's predictions moved; churn says whether its representation did. A point
whose neighbours all changed sits in a region the new generation rearranged, even when its prediction held. 0 means
the same k neighbours (in any order), 1 means none of them is still a neighbour. tests/test_churn.py checks a
hand-worked case and a second implementation (scikit-learn's brute-force cosine neighbours).
"""
from __future__ import annotations

import numpy as np

from core.evaluation.diff import InsightError, generation_arrays, stored_generations
from core.storage.run_store import RunStore

CHURN_K = 10


def cosine_neighbours(features: np.ndarray, k: int = CHURN_K) -> np.ndarray:
    """(N, k) indices of each row's k most cosine-similar other rows (itself excluded), most similar first; ties
    go to the lower index. An all-zero row (a dead ReLU layer) is similar to nothing (similarity 0 to all)."""
    x = np.asarray(features, dtype=np.float64)
    n = len(x)
    if not 0 < k < n:
        raise InsightError(f"k = {k}: needs 0 < k < {n} (the number of points)")
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    unit = np.divide(x, norms, out=np.zeros_like(x), where=norms > 0)
    similarity = unit @ unit.T
    np.fill_diagonal(similarity, -np.inf)
    return np.argsort(-similarity, axis=1, kind="stable")[:, :k]


def neighbour_churn(before: np.ndarray, after: np.ndarray, k: int = CHURN_K) -> np.ndarray:
    """(N,) share of each point's k nearest neighbours in ``after`` that were not among its k in ``before``."""
    if len(before) != len(after):
        raise InsightError(f"{len(before)} points before and {len(after)} after: churn needs the same points")
    old, new = cosine_neighbours(before, k), cosine_neighbours(after, k)
    n = len(old)
    was = np.zeros((n, n), dtype=bool)
    was[np.arange(n)[:, None], old] = True
    kept = was[np.arange(n)[:, None], new].sum(axis=1)
    return 1.0 - kept / k


def churn_k(n_points: int) -> int:
    """The neighbours counted for ``n_points`` test points: CHURN_K, or every other point when there are fewer
    (0 when there are too few to have neighbours that can change: fewer than 3)."""
    return min(CHURN_K, n_points - 1) if n_points >= 3 else 0


def run_churn(store: RunStore, run_id: str, k: int = CHURN_K) -> dict[int, np.ndarray]:
    """{generation g: (N,) churn from g - 1 to g} for every stored generation after the first."""
    generations = stored_generations(store, run_id)
    features = {g: generation_arrays(store, run_id, g)["features"] for g in generations}
    return {g: neighbour_churn(features[prev], features[g], k) for prev, g in zip(generations, generations[1:])}


def neighbours_of(store: RunStore, run_id: str, generation: int, index: int, k: int = CHURN_K) -> list[int]:
    """The k nearest test neighbours of test point ``index`` in a generation's features."""
    features = generation_arrays(store, run_id, generation)["features"]
    if not 0 <= index < len(features):
        raise InsightError(f"test point {index}: run {run_id} has 0..{len(features) - 1}")
    return cosine_neighbours(features, k)[index].tolist()
