"""Kernel-ridge self-distillation in closed form (Mobahi, Farajtabar & Bartlett, 2020).

Ridge convention: the fit to targets t is f(x) = k(x, X) (K + lam I)^{-1} t, with the RBF kernel
k(x, x') = exp(-gamma ||x - x'||^2) and no 1/n scaling of lam. Pure numpy; never imports streamlit.
"""

from __future__ import annotations

from dataclasses import dataclass
from numbers import Integral

import numpy as np

__all__ = [
    "DEFAULT_GAMMA",
    "DEFAULT_LAM",
    "EigenView",
    "default_data",
    "eigen_view",
    "krr_self_distillation",
    "round_errors",
]

DEFAULT_GAMMA = 200.0  # with DEFAULT_LAM on default_data(), error vs truth bottoms out after a few rounds
DEFAULT_LAM = 0.2


def _check_alpha_rounds(alpha: float, rounds: int) -> float:
    """Validate the distillation weight and round count; return alpha as a float."""
    a = float(alpha)
    if not 0.0 <= a <= 1.0:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
    if isinstance(rounds, bool) or not isinstance(rounds, Integral) or rounds < 1:
        raise ValueError(f"rounds must be an integer >= 1, got {rounds!r}")
    return a


def _target_gains(shrink: np.ndarray, alpha: float, rounds: int) -> np.ndarray:
    """Per-round, per-eigen-direction ratio of the round's targets to the labels, shape (rounds, n)."""
    gains = np.ones((rounds, shrink.size))
    for t in range(1, rounds):
        gains[t] = alpha + (1.0 - alpha) * shrink * gains[t - 1]
    return gains


@dataclass(frozen=True)
class EigenView:
    """Gram eigenvalues `d` (descending) and per-round shrink factors d / (d + lam)."""

    d: np.ndarray
    shrink: np.ndarray

    def filters(self, alpha: float, rounds: int) -> np.ndarray:
        """Factor each round applies to the labels' eigen-coordinates at the training points, (rounds, n)."""
        return self.shrink * _target_gains(self.shrink, _check_alpha_rounds(alpha, rounds), rounds)


def _as_points(x: np.ndarray, name: str) -> np.ndarray:
    """Return x as a finite float (n, p) array, treating 1-D input as (n, 1)."""
    arr = np.asarray(x, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array or 2-D (n, features) array, got shape {np.shape(x)}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} must contain only finite values")
    return arr


def _positive(value: float, name: str) -> float:
    """Return value as a float after checking it is finite and > 0."""
    v = float(value)
    if not (np.isfinite(v) and v > 0):
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return v


def _rbf_kernel(a: np.ndarray, b: np.ndarray, gamma: float) -> np.ndarray:
    """RBF kernel matrix exp(-gamma ||a_i - b_j||^2) between point sets a (n, p) and b (m, p)."""
    sq = np.sum(a**2, axis=1)[:, None] + np.sum(b**2, axis=1)[None, :] - 2.0 * a @ b.T
    return np.exp(-gamma * np.maximum(sq, 0.0))


def _gram_eigh(x: np.ndarray, gamma: float) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues (descending, clipped at 0) and eigenvectors of the training Gram matrix."""
    d, v = np.linalg.eigh(_rbf_kernel(x, x, gamma))
    return np.maximum(d[::-1], 0.0), v[:, ::-1]


def eigen_view(x_train: np.ndarray, gamma: float, lam: float) -> EigenView:
    """Gram eigenvalues of x_train and the factor d / (d + lam) each round applies per eigen-direction."""
    x = _as_points(x_train, "x_train")
    d, _ = _gram_eigh(x, _positive(gamma, "gamma"))
    return EigenView(d=d, shrink=d / (d + _positive(lam, "lam")))


def krr_self_distillation(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_eval: np.ndarray,
    gamma: float,
    lam: float,
    alpha: float,
    rounds: int,
) -> np.ndarray:
    """Predictions at x_eval of each self-distillation round, shape (rounds, len(x_eval))."""
    x = _as_points(x_train, "x_train")
    xe = _as_points(x_eval, "x_eval")
    y = np.asarray(y_train, dtype=float)
    if y.shape != (x.shape[0],):
        raise ValueError(f"y_train must have shape ({x.shape[0]},) to match x_train, got {y.shape}")
    if not np.all(np.isfinite(y)):
        raise ValueError("y_train must contain only finite values")
    if xe.shape[1] != x.shape[1]:
        raise ValueError(f"x_eval has {xe.shape[1]} features but x_train has {x.shape[1]}")
    gamma, lam = _positive(gamma, "gamma"), _positive(lam, "lam")
    a = _check_alpha_rounds(alpha, rounds)
    d, v = _gram_eigh(x, gamma)
    # Round t's targets are gains[t] * (V^T y) in the eigenbasis; its dual coefficients divide by d + lam.
    coef_coords = _target_gains(d / (d + lam), a, rounds) * ((v.T @ y) / (d + lam))
    return coef_coords @ (_rbf_kernel(xe, x, gamma) @ v).T


def round_errors(predictions: np.ndarray, y_true: np.ndarray) -> np.ndarray:
    """Mean squared error against y_true of each round's predictions (one value per row)."""
    p = np.atleast_2d(np.asarray(predictions, dtype=float))
    t = np.asarray(y_true, dtype=float)
    if p.ndim != 2 or t.ndim != 1 or p.shape[1] != t.size:
        raise ValueError(f"need predictions (rounds, m) and y_true (m,), got {p.shape} and {t.shape}")
    return np.mean((p - t) ** 2, axis=1)


def default_data(
    n: int = 20, noise: float = 0.5, seed: int = 0, grid: int = 200
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Noisy sin(2 pi x) at n evenly spaced x in [0, 1]: x_train, y_train, an x_eval grid, truth on it."""
    if isinstance(n, bool) or not isinstance(n, Integral) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    if not (np.isfinite(noise) and noise >= 0):
        raise ValueError(f"noise must be a finite number >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    x_train = np.linspace(0.0, 1.0, n)
    y_train = np.sin(2 * np.pi * x_train) + noise * rng.standard_normal(n)
    x_eval = np.linspace(0.0, 1.0, grid)
    return x_train, y_train, x_eval, np.sin(2 * np.pi * x_eval)
