"""Built-in offline datasets, user files (CSV/NPZ), seeded stratified splits and symmetric label noise."""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn import datasets as skdata
from sklearn.model_selection import train_test_split

from core.config import DataConfig

MAX_ROWS = 200_000
MAX_FEATURES = 4096
MAX_FILE_BYTES = 20 * 2**20


class DataError(ValueError):
    """A dataset that cannot be used; the message says what is wrong and how to fix it."""


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
    """Raw inputs and labels of the configured dataset."""
    if cfg.name == "digits":
        d = skdata.load_digits()
        return d.data.astype(np.float32), d.target.astype(np.int64), (8, 8)
    if cfg.name == "moons":
        x, y = skdata.make_moons(cfg.n_samples, noise=cfg.noise, random_state=seed)
    elif cfg.name == "circles":
        x, y = skdata.make_circles(cfg.n_samples, noise=min(cfg.noise, 1.0), factor=0.5, random_state=seed)
    elif cfg.name == "blobs":
        x, y = skdata.make_blobs(cfg.n_samples, centers=4, cluster_std=1.0 + 4 * cfg.noise, random_state=seed)
    else:
        x, y = read_file(Path(cfg.path), cfg.label_column)
        return x, y, None
    return x.astype(np.float32), y.astype(np.int64), None


def read_file(path: Path, label_column: str = "label") -> tuple[np.ndarray, np.ndarray]:
    """Read and validate a CSV or NPZ data file."""
    if not path.is_file():
        raise DataError(f"data file {str(path)!r} does not exist")
    return parse_upload(path.read_bytes(), path.name, label_column)


def parse_upload(content: bytes, filename: str, label_column: str = "label") -> tuple[np.ndarray, np.ndarray]:
    """Parse uploaded bytes (CSV with a label column, or NPZ with X and y) and validate them; never unpickles."""
    if len(content) > MAX_FILE_BYTES:
        raise DataError(f"{filename}: {len(content) / 2**20:.1f} MiB is over the {MAX_FILE_BYTES // 2**20} MiB cap")
    suffix = Path(filename).suffix.lower()
    if suffix == ".npz":
        x, y = _parse_npz(content, filename)
    elif suffix == ".csv":
        x, y = _parse_csv(content, filename, label_column)
    else:
        raise DataError(f"{filename}: unsupported file type {suffix or '(none)'!r}; upload a .csv or .npz file")
    return validate_arrays(x, y, filename)


def _parse_npz(content: bytes, filename: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            missing = {"X", "y"} - set(archive.files)
            if missing:
                raise DataError(f"{filename}: the NPZ needs arrays named X and y; missing {sorted(missing)}")
            return np.asarray(archive["X"]), np.asarray(archive["y"])
    except DataError:
        raise
    except Exception as exc:  # a corrupt zip, object arrays (pickles are refused), ...
        raise DataError(f"{filename}: not a readable NPZ file ({exc})") from None


def _parse_csv(content: bytes, filename: str, label_column: str) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    try:
        frame = pd.read_csv(io.BytesIO(content), nrows=MAX_ROWS + 1)
    except Exception as exc:
        raise DataError(f"{filename}: not a readable CSV file ({exc})") from None
    if label_column not in frame.columns:
        raise DataError(f"{filename}: no label column {label_column!r}; columns are {list(frame.columns)[:10]}")
    features = frame.drop(columns=[label_column])
    non_numeric = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if non_numeric:
        raise DataError(f"{filename}: feature columns must be numeric; not numeric: {non_numeric[:5]}")
    return features.to_numpy(dtype=np.float64), frame[label_column].to_numpy()


def validate_arrays(x: np.ndarray, y: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Check shape, finiteness, class count and size; return float32 inputs and labels encoded as 0..K-1."""
    if x.ndim != 2:
        raise DataError(f"{source}: X must be 2-D (samples × features); got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{source}: y must be 1-D with one label per row of X; got {y.shape} for X {x.shape}")
    if len(x) > MAX_ROWS or x.shape[1] > MAX_FEATURES:
        raise DataError(f"{source}: {x.shape} is over the cap of {MAX_ROWS} rows × {MAX_FEATURES} features")
    if not np.issubdtype(x.dtype, np.number):
        raise DataError(f"{source}: X must be numeric; got dtype {x.dtype}")
    if not np.isfinite(x).all():
        raise DataError(f"{source}: X has {int((~np.isfinite(x)).sum())} NaN or infinite values; clean them first")
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"{source}: y has missing (NaN) labels")
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"{source}: needs at least two classes; found {len(classes)}")
    counts = np.bincount(encoded)
    if counts.min() < 2:
        raise DataError(f"{source}: every class needs at least 2 samples to split; class {classes[counts.argmin()]!r} "
                        f"has {counts.min()}")
    return x.astype(np.float32), encoded.astype(np.int64)


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
