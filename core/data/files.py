"""User data files (CSV with a label column, or NPZ with arrays X and y): parsed and validated, never unpickled."""
from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np

from core.config import DataConfig

MAX_ROWS = 200_000
MAX_FEATURES = 4096
MAX_FILE_BYTES = 20 * 2**20
MAX_VALUES = 20_000_000  # rows × features: 80 MB as float32; a compressed file may not inflate past it


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


def _npz_member_header(archive: zipfile.ZipFile, name: str, filename: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one .npy member, read from its header alone: nothing is inflated beyond it."""
    with archive.open(name) as member:
        try:
            version = np.lib.format.read_magic(member)
            read_header = np.lib.format.read_array_header_1_0 if version == (1, 0) \
                else np.lib.format.read_array_header_2_0
            shape, _, dtype = read_header(member)
        except Exception as exc:
            raise DataError(f"{filename}: {name} is not a readable .npy array ({exc})") from None
    return shape, dtype


def _check_npz_headers(archive: zipfile.ZipFile, filename: str) -> None:
    """Refuse an NPZ whose arrays are too large or of the wrong kind before any of them is loaded."""
    members = {Path(n).stem: n for n in archive.namelist() if n.endswith(".npy")}
    missing = {"X", "y"} - set(members)
    if missing:
        raise DataError(f"{filename}: the NPZ needs arrays named X and y; missing {sorted(missing)}")
    x_shape, x_dtype = _npz_member_header(archive, members["X"], filename)
    y_shape, y_dtype = _npz_member_header(archive, members["y"], filename)
    if len(x_shape) != 2:
        raise DataError(f"{filename}: X must be 2-D (samples × features); got shape {x_shape}")
    _check_size(x_shape[0], x_shape[1], filename)
    if x_dtype.kind not in "biuf":
        raise DataError(f"{filename}: X must hold real numbers; got dtype {x_dtype}")
    if len(y_shape) != 1 or y_shape[0] != x_shape[0]:
        raise DataError(f"{filename}: y must be 1-D with one label per row of X; got {y_shape} for X {x_shape}")
    if y_dtype.kind not in "biufUS":
        raise DataError(f"{filename}: y must hold numbers or strings; got dtype {y_dtype}")


def _parse_npz(content: bytes, filename: str) -> tuple[np.ndarray, np.ndarray]:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            _check_npz_headers(archive, filename)
        with np.load(io.BytesIO(content), allow_pickle=False) as archive:
            return np.asarray(archive["X"]), np.asarray(archive["y"])
    except DataError:
        raise
    except Exception as exc:  # a corrupt zip, object arrays (pickles are refused), ...
        raise DataError(f"{filename}: not a readable NPZ file ({exc})") from None


def _check_size(rows: int, features: int, source: str) -> None:
    if rows > MAX_ROWS or features > MAX_FEATURES:
        raise DataError(f"{source}: {rows} rows × {features} features is over the cap of {MAX_ROWS} rows × "
                        f"{MAX_FEATURES} features")
    if rows * features > MAX_VALUES:
        raise DataError(f"{source}: {rows} rows × {features} features = {rows * features:,} values is over the cap "
                        f"of {MAX_VALUES:,} values")


def _csv_shape_from_text(content: bytes, filename: str) -> tuple[int, int]:
    """Rows (after the header) and columns of a CSV, counted on the raw bytes before pandas parses anything."""
    header, _, body = content.partition(b"\n")
    try:
        columns = len(next(csv.reader([header.decode("utf-8", errors="replace").rstrip("\r")]), []))
    except csv.Error as exc:
        raise DataError(f"{filename}: not a readable CSV file ({exc})") from None
    rows = sum(1 for line in body.split(b"\n") if line.strip())
    return rows, columns


def _parse_csv(content: bytes, filename: str, label_column: str) -> tuple[np.ndarray, np.ndarray]:
    import pandas as pd

    rows, columns = _csv_shape_from_text(content, filename)
    _check_size(rows, max(columns - 1, 0), filename)
    if rows == 0:
        raise DataError(f"{filename}: no rows: the file has a header but no data")
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
    labels = frame[label_column]
    if labels.isna().any():
        raise DataError(f"{filename}: {int(labels.isna().sum())} rows have no label (first at data row "
                        f"{int(labels.isna().to_numpy().argmax()) + 1}); fill or drop them")
    return features.to_numpy(dtype=np.float64), labels.to_numpy()


def validate_arrays(x: np.ndarray, y: np.ndarray, source: str) -> tuple[np.ndarray, np.ndarray]:
    """Check shape, kind, finiteness (as float32), class count and size; return float32 inputs and labels
    encoded as 0..K-1."""
    if x.ndim != 2:
        raise DataError(f"{source}: X must be 2-D (samples × features); got shape {x.shape}")
    if y.ndim != 1 or len(y) != len(x):
        raise DataError(f"{source}: y must be 1-D with one label per row of X; got {y.shape} for X {x.shape}")
    _check_size(len(x), x.shape[1], source)
    if x.shape[1] == 0 or len(x) == 0:
        raise DataError(f"{source}: needs at least one row and one feature column; got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise DataError(f"{source}: X must hold real numbers; got dtype {x.dtype}")
    with np.errstate(over="ignore", invalid="ignore"):
        x32 = x.astype(np.float32)
    if not np.isfinite(x32).all():  # after the cast: 1e39 is finite in float64 but inf in float32
        raise DataError(f"{source}: X has {int((~np.isfinite(x32)).sum())} NaN, infinite or out-of-range values "
                        f"(float32 holds up to ±3.4e38); clean them first")
    y = _clean_labels(y, source)
    classes, encoded = np.unique(y, return_inverse=True)
    if len(classes) < 2:
        raise DataError(f"{source}: needs at least two classes; found {len(classes)}")
    counts = np.bincount(encoded)
    if counts.min() < 2:
        raise DataError(f"{source}: every class needs at least 2 samples to split; class {classes[counts.argmin()]!r} "
                        f"has {counts.min()}")
    return x32, encoded.astype(np.int64)


def _clean_labels(y: np.ndarray, source: str) -> np.ndarray:
    """Labels as one sortable kind: numbers, or strings; missing ones (NaN, None, blank) are refused."""
    if y.dtype.kind == "f" and not np.isfinite(y).all():
        raise DataError(f"{source}: y has missing (NaN) labels")
    if y.dtype.kind == "c":
        raise DataError(f"{source}: labels must be numbers or strings; got complex values")
    if y.dtype.kind == "O":
        blank = [i for i, v in enumerate(y) if v is None or (isinstance(v, float) and v != v) or str(v).strip() == ""]
        if blank:
            raise DataError(f"{source}: {len(blank)} labels are missing (first at row {blank[0] + 1})")
        return np.array([str(v) for v in y])
    return y
