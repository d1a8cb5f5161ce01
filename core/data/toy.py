"""2-D toy sets drawn from the run's seed: moons, circles and blobs."""
from __future__ import annotations

import numpy as np
from sklearn import datasets as skdata

from core.config import DataConfig


def load(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, None]:
    if cfg.name == "moons":
        x, y = skdata.make_moons(cfg.n_samples, noise=cfg.noise, random_state=seed)
    elif cfg.name == "circles":
        x, y = skdata.make_circles(cfg.n_samples, noise=min(cfg.noise, 1.0), factor=0.5, random_state=seed)
    elif cfg.name == "blobs":
        x, y = skdata.make_blobs(cfg.n_samples, centers=4, cluster_std=1.0 + 4 * cfg.noise, random_state=seed)
    else:
        raise ValueError(f"data.name={cfg.name!r} is not a toy set")
    return x.astype(np.float32), y.astype(np.int64), None
