"""The 8×8 digits placed at a random offset on a larger blank canvas, optionally with a fragment of another digit.

Each digit gets its own offset, uniform over every position that keeps all 8×8 pixels on the canvas, so a
classifier (or a k-NN) on raw pixels can no longer rely on a stroke being at a fixed pixel. With
``data.distractor=fragment`` a 4×4 patch of another digit (one with some ink, never a blank corner) is pasted at
a uniformly random position; where it overlaps the digit the brighter pixel stays, so strokes cross instead of
erasing each other. Values keep the digits' 0-16 range. Everything is drawn from ``seed`` alone, vectorised.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn import datasets as skdata

from core.config import DataConfig

DIGIT = 8  # side of a scikit-learn digit
FRAGMENT = 4  # side of a distractor fragment
FRAGMENT_MIN_INK = 32.0  # a fragment holds at least two full-ink pixels' worth (digits range 0-16)


def place(images: np.ndarray, canvas: int, top: np.ndarray, left: np.ndarray,
          out: np.ndarray | None = None) -> np.ndarray:
    """Write each (n, s, s) image onto an (n, canvas, canvas) canvas (blank unless ``out`` is given) with its
    top-left corner at (top[i], left[i]); with ``out``, keep the brighter of the two pixels where they overlap."""
    n, side = images.shape[0], images.shape[1]
    out = np.zeros((n, canvas, canvas), dtype=np.float32) if out is None else out
    rows = top[:, None, None] + np.arange(side)[None, :, None]  # (n, s, 1)
    cols = left[:, None, None] + np.arange(side)[None, None, :]  # (n, 1, s)
    index = (np.arange(n)[:, None, None], rows, cols)
    out[index] = np.maximum(out[index], images)
    return out


def fragments(digits: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """For each digit, a 4×4 patch of another digit, drawn uniformly among that digit's patches holding at least
    FRAGMENT_MIN_INK (its inkiest patch when none does). Returns (n, 4, 4)."""
    n = len(digits)
    other = (np.arange(n) + rng.integers(1, n, size=n)) % n  # i + 1 .. i + n − 1: never the digit itself
    windows = sliding_window_view(digits[other], (FRAGMENT, FRAGMENT), axis=(1, 2))  # (n, 5, 5, 4, 4)
    windows = windows.reshape(n, -1, FRAGMENT, FRAGMENT)
    ink = windows.sum(axis=(2, 3))  # (n, 25)
    inky = ink >= FRAGMENT_MIN_INK
    blank = ~inky.any(axis=1)
    inky[blank, ink[blank].argmax(axis=1)] = True
    scores = np.where(inky, rng.random(ink.shape), -1.0)  # a uniform pick among the allowed patches
    return windows[np.arange(n), scores.argmax(axis=1)]


def load(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    d = skdata.load_digits()
    digits, canvas = d.images.astype(np.float32), cfg.canvas  # (n, 8, 8) in 0-16
    n, rng = len(digits), np.random.default_rng(seed)
    top, left = rng.integers(0, canvas - DIGIT + 1, size=(2, n))
    images = place(digits, canvas, top, left)
    if cfg.distractor == "fragment":
        patch = fragments(digits, rng)
        top, left = rng.integers(0, canvas - FRAGMENT + 1, size=(2, n))
        images = place(patch, canvas, top, left, out=images)
    return images.reshape(n, canvas * canvas), d.target.astype(np.int64), (canvas, canvas)
