"""A dataset, split: load it through the catalog, split it (stratified, seeded), scale it, add label noise."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from core import catalog
from core.config import DataConfig


@dataclass
class Dataset:
    """A split dataset: inputs are float32, labels int64; ``y_train`` carries the label noise."""

    name: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    y_train_clean: np.ndarray
    flipped: np.ndarray  # indices into the training split whose label was flipped
    n_classes: int
    image_shape: tuple[int, int] | None = None  # (H, W) when rows are flattened images
    x_test_raw: np.ndarray | None = None  # test inputs before scaling, for display

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])


def load_arrays(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int] | None]:
    """Raw inputs and labels of the configured dataset, from its plug-in module."""
    return catalog.load(catalog.dataset(cfg.name)).load(cfg, seed)


def flip_labels(y: np.ndarray, fraction: float, n_classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric noise: flip ``fraction`` of the labels, each to a different class drawn uniformly."""
    n_flip = int(round(fraction * len(y)))
    flipped = np.sort(rng.choice(len(y), size=n_flip, replace=False))
    noisy = y.copy()
    offsets = rng.integers(1, n_classes, size=n_flip)  # 1..K-1, so the new class always differs
    noisy[flipped] = (y[flipped] + offsets) % n_classes
    return noisy, flipped


def load_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """Load, split (stratified, seeded), scale (on training statistics) and add label noise."""
    x, y, image_shape = load_arrays(cfg, seed)
    n_classes = int(y.max()) + 1
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=cfg.test_fraction, stratify=y, random_state=seed)
    x_test_raw = x_test.copy()
    if image_shape is not None:
        scale = float(x.max()) or 1.0  # keep pixel geometry: one scale for every pixel
        x_train, x_test = x_train / scale, x_test / scale
    else:
        mean, std = x_train.mean(0), x_train.std(0)
        std[std == 0] = 1.0
        x_train, x_test = (x_train - mean) / std, (x_test - mean) / std
    rng = np.random.default_rng(seed + 7919)
    y_noisy, flipped = flip_labels(y_train, cfg.label_noise, n_classes, rng)
    return Dataset(cfg.name, x_train.astype(np.float32), y_noisy, x_test.astype(np.float32), y_test, y_train,
                   flipped, n_classes, image_shape, x_test_raw)
