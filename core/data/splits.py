"""A dataset, split: load it through the catalog, split it (stratified, seeded), scale it, add label noise.

Order: the test split is held out of the whole set; the validation split is carved from what is left (the
training pool), so ``train + val + test`` is every sample once. Scaling statistics come from the training part
only. Label noise is added after carving, to the training and the validation part each (the same fraction of
each, one seeded stream, training first): validation labels are as noisy as training labels, because a
practitioner choosing a generation on them has no clean labels either. ``y_val_clean`` is kept for evaluation
protocols that score with clean labels (the k-NN), exactly as ``y_train_clean`` is.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from sklearn.model_selection import train_test_split

from core import catalog
from core.config import DataConfig
from core.data.files import DataError


@dataclass
class Dataset:
    """A split dataset: inputs are float32, labels int64; ``y_train`` and ``y_val`` carry the label noise.

    Without a validation split (``data.val_fraction = 0``) ``x_val``, ``y_val`` and ``y_val_clean`` are None."""

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
    x_val: np.ndarray | None = None
    y_val: np.ndarray | None = None  # given labels (noisy where the config adds noise)
    y_val_clean: np.ndarray | None = None
    extras: dict = field(default_factory=dict)  # more test-split arrays the run keeps (spoken-digits: its audio)

    @property
    def n_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def has_validation(self) -> bool:
        return self.x_val is not None and len(self.x_val) > 0


def load_arrays(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, tuple[int, int] | None]:
    """Raw inputs and labels of the configured dataset, from its plug-in module."""
    return catalog.load(catalog.dataset(cfg.name)).load(cfg, seed)


def dataset_facts(cfg: DataConfig, seed: int) -> dict:
    """What a dataset says about its parts beyond the arrays (spoken-digits: the voices of each part); {} if none."""
    facts = getattr(catalog.load(catalog.dataset(cfg.name)), "facts", None)
    return facts(cfg, seed) if facts is not None else {}


def flip_labels(y: np.ndarray, fraction: float, n_classes: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric noise: flip ``fraction`` of the labels, each to a different class drawn uniformly."""
    n_flip = int(round(fraction * len(y)))
    flipped = np.sort(rng.choice(len(y), size=n_flip, replace=False))
    noisy = y.copy()
    offsets = rng.integers(1, n_classes, size=n_flip)  # 1..K-1, so the new class always differs
    noisy[flipped] = (y[flipped] + offsets) % n_classes
    return noisy, flipped


def samples_needed_per_class(test_fraction: float, val_fraction: float) -> int:
    """Samples per class that guarantee at least one in every part: the stratified split rounds each class's
    share down before it hands out the remainder, so a class needs 1/fraction samples for each held-out part."""
    needed = max(2, math.ceil(1 / test_fraction - 1e-9))
    if val_fraction > 0:
        needed = max(needed, math.ceil(1 / ((1 - test_fraction) * val_fraction) - 1e-9), 3)
    return needed


def stratified_split(x: np.ndarray, y: np.ndarray, fraction: float, seed: int, part: str,
                     needed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(x_kept, x_held, y_kept, y_held): scikit-learn's stratified split, checked so that every class keeps at
    least one sample on each side; DataError (with the samples needed per class) otherwise."""
    classes, counts = np.unique(y, return_counts=True)
    advice = (f"every class needs about {needed} samples for data.test_fraction and data.val_fraction as set "
              f"(add samples, raise the fractions, or set data.val_fraction=0)")
    if counts.min() < 2:
        raise DataError(f"class {classes[counts.argmin()]} has {counts.min()} sample(s) left for the {part} "
                        f"split: {advice}")
    try:
        x_kept, x_held, y_kept, y_held = train_test_split(x, y, test_size=fraction, stratify=y, random_state=seed)
    except ValueError as exc:  # fewer held-out (or kept) samples than classes
        raise DataError(f"cannot split {len(y)} samples of {len(classes)} classes for {part} ({exc}): "
                        f"{advice}") from None
    for side, labels in (("training", y_kept), (part, y_held)):
        missing = np.setdiff1d(classes, labels)
        if missing.size:
            raise DataError(f"class {missing[0]} ({counts[np.searchsorted(classes, missing[0])]} samples) has none "
                            f"left in the {side} part: {advice}")
    return x_kept, x_held, y_kept, y_held


def load_dataset(cfg: DataConfig, seed: int) -> Dataset:
    """Load, split off test then validation (stratified, seeded), scale (on training statistics) and add noise."""
    x, y, image_shape = load_arrays(cfg, seed)
    n_classes = int(y.max()) + 1
    needed = samples_needed_per_class(cfg.test_fraction, cfg.val_fraction)
    by_group = getattr(catalog.load(catalog.dataset(cfg.name)), "split_indices", None)
    if by_group is not None:  # the dataset splits by group itself (spoken-digits: test voices never trained on)
        train, val, test = by_group(cfg, seed)
        x_train, x_test, y_train, y_test = x[train], x[test], y[train], y[test]
        x_val, y_val = (x[val], y[val]) if len(val) else (None, None)
        extras = getattr(catalog.load(catalog.dataset(cfg.name)), "test_arrays", lambda c, s: {})(cfg, seed)
    else:
        x_train, x_test, y_train, y_test = stratified_split(x, y, cfg.test_fraction, seed, "test", needed)
        x_val = y_val = extras = None
    if cfg.val_fraction > 0 and by_group is None:
        x_train, x_val, y_train, y_val = stratified_split(x_train, y_train, cfg.val_fraction, seed + 1,
                                                          "validation", needed)
    x_test_raw = x_test.copy()
    parts = [x_train, x_test] + ([x_val] if x_val is not None else [])
    if image_shape is not None:
        scale = float(x_train.max()) or 1.0  # keep pixel geometry: one scale for every pixel
        parts = [p / scale for p in parts]
    else:
        mean, std = x_train.mean(0), x_train.std(0)
        std[std == 0] = 1.0
        parts = [(p - mean) / std for p in parts]
    rng = np.random.default_rng(seed + 7919)
    y_noisy, flipped = flip_labels(y_train, cfg.label_noise, n_classes, rng)
    data = Dataset(cfg.name, parts[0].astype(np.float32), y_noisy, parts[1].astype(np.float32), y_test, y_train,
                   flipped, n_classes, image_shape, x_test_raw, extras=extras or {})
    if x_val is not None:
        data.x_val, data.y_val_clean = parts[2].astype(np.float32), y_val
        data.y_val = flip_labels(y_val, cfg.label_noise, n_classes, rng)[0]
    return data
