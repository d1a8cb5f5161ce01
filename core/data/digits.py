"""scikit-learn's 8×8 handwritten digits (1,797 images, shipped with the package: no download)."""
from __future__ import annotations

import numpy as np
from sklearn import datasets as skdata

from core.config import DataConfig


def load(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    d = skdata.load_digits()
    return d.data.astype(np.float32), d.target.astype(np.int64), (8, 8)
