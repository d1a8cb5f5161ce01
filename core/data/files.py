"""User data files (CSV with a label column, or NPZ with arrays X and y): parsed and validated, never unpickled."""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from core.config import DataConfig

MAX_ROWS = 200_000
MAX_FEATURES = 4096
MAX_FILE_BYTES = 20 * 2**20


class DataError(ValueError):
    """A dataset that cannot be used; the message says what is wrong and how to fix it."""


def load(cfg: DataConfig, seed: int) -> tuple[np.ndarray, np.ndarray, None]:
    """The file named by ``data.path`` (the dataset plug-in ``file``)."""
    x, y = read_file(Path(cfg.path), cfg.label_column)
    return x, y, None


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
