"""2-D views of feature spaces (UMAP, PCA, t-SNE), aligned across generations.

UMAP is given an exact k-nearest-neighbour graph from scikit-learn (skipping umap-learn's own
neighbour search) and runs 200 optimisation epochs (umap-learn's own choice for large data; its
default of 500 for small data costs more time for no measurable trustworthiness gain).
t-SNE runs 500 iterations instead of 1000 (half the time, the same trustworthiness to 1e-3 on digits).
bench/RESULTS.md holds the measurements.
Above ``MAX_FIT_POINTS[method]`` points, UMAP and t-SNE are fitted on a seeded random subsample
and every other point is placed at the inverse-distance-weighted mean of its nearest fitted
points (exact kNN), so large views stay fast while still returning one row per input point.
"""
from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

__all__ = ["METHODS", "MAX_FIT_POINTS", "embed_2d", "align_to_reference", "warm_up"]

METHODS = ("umap", "pca", "tsne")
MAX_FIT_POINTS = {"umap": 4000, "tsne": 2000}  # keeps 50k-point UMAP views at ~3.5 s CPU
N_NEIGHBORS = 15
PLACE_NEIGHBORS = 5  # more smear placed points toward local means; 1 would stack them on fitted ones
UMAP_EPOCHS = 200
MIN_NONLINEAR_POINTS = N_NEIGHBORS + 1  # below this, UMAP and t-SNE fall back to PCA


def _np(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=np.float32)


def _umap(x: np.ndarray, seed: int) -> np.ndarray:
    import umap  # deferred: importing umap-learn (numba, pynndescent) takes over a second

    k = min(N_NEIGHBORS, len(x) - 1)
    dists, idx = NearestNeighbors(n_neighbors=k).fit(x).kneighbors(x)
    reducer = umap.UMAP(
        n_neighbors=k,
        n_epochs=UMAP_EPOCHS,
        precomputed_knn=(idx, dists),
        random_state=seed,  # reproducible views; umap then runs single-threaded
        n_jobs=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's notes on precomputed_knn / transform support
        return reducer.fit_transform(x)


def _tsne(x: np.ndarray, seed: int) -> np.ndarray:
    """One OpenMP thread: with training sharing the 2 cores, two spinning threads ran ~20x slower."""
    perplexity = min(30.0, (len(x) - 1) / 3)
    tsne = TSNE(n_components=2, init="pca", perplexity=perplexity, max_iter=500, random_state=seed)
    with threadpool_limits(1, user_api="openmp"):
        return tsne.fit_transform(x)


def _pca_2d(x: np.ndarray, seed: int) -> np.ndarray:
    """The first two principal components; zero columns where the data have fewer than two."""
    components = min(2, len(x), x.shape[1])
    view = np.zeros((len(x), 2))
    if len(x) > 1:
        view[:, :components] = PCA(n_components=components, random_state=seed).fit_transform(x)
    return view


def _place(x_new: np.ndarray, x_fit: np.ndarray, y_fit: np.ndarray) -> np.ndarray:
    """Put each new point at the inverse-distance-weighted mean of its nearest fitted points."""
    k = min(PLACE_NEIGHBORS, len(x_fit))
    dists, idx = NearestNeighbors(n_neighbors=k).fit(x_fit).kneighbors(x_new)
    w = 1.0 / (dists + 1e-6)
    return np.einsum("nk,nkd->nd", w / w.sum(axis=1, keepdims=True), y_fit[idx])


def embed_2d(
    features: Any, method: str = "umap", seed: int = 0, reference: np.ndarray | None = None
) -> np.ndarray:
    """(N, D) features -> (N, 2) float32 view, optionally aligned onto a previous (N, 2) view."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; allowed: {', '.join(METHODS)}")
    x = _np(features).reshape(len(features), -1)
    if not np.ptp(x, axis=0).any():  # fully collapsed features: one dot (sklearn's t-SNE segfaults here)
        view = np.zeros((len(x), 2))
    elif method == "pca" or len(x) < MIN_NONLINEAR_POINTS:  # UMAP's spectral start fails on a handful of points
        view = _pca_2d(x, seed)
    else:
        fit = _umap if method == "umap" else _tsne
        cap = MAX_FIT_POINTS[method]
        if len(x) <= cap:
            view = fit(x, seed)
        else:
            order = np.random.default_rng(seed).permutation(len(x))
            fit_idx, rest_idx = order[:cap], order[cap:]
            view = np.empty((len(x), 2))
            view[fit_idx] = fit(x[fit_idx], seed)
            view[rest_idx] = _place(x[rest_idx], x[fit_idx], view[fit_idx])
    if reference is not None:
        view = align_to_reference(view, reference)
    return np.asarray(view, dtype=np.float32)


def align_to_reference(view: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """Best rotation/reflection + translation of view onto reference (Procrustes), with the view scaled to the
    reference's spread.

    The least-squares scale would shrink a view that matches its reference poorly, so generation after
    generation the views would collapse towards a dot; matching the spread keeps every generation readable.
    Fitted on the rows finite in both, so reference rows may be NaN for points it lacks.
    """
    view = np.asarray(view, dtype=np.float64)
    ref = np.asarray(reference, dtype=np.float64)
    shared = np.isfinite(view).all(axis=1) & np.isfinite(ref).all(axis=1)
    v_mean, r_mean = view[shared].mean(axis=0), ref[shared].mean(axis=0)
    v, r = view[shared] - v_mean, ref[shared] - r_mean
    u, _, vt = np.linalg.svd(v.T @ r)
    scale = np.sqrt(float((r**2).sum()) / max(float((v**2).sum()), 1e-300))
    return scale * (view - v_mean) @ (u @ vt) + r_mean


def warm_up() -> None:
    """Compile umap-learn's numba kernels on tiny data so the first real view is not slow."""
    _umap(np.random.default_rng(0).normal(size=(64, 8)).astype(np.float32), seed=0)
