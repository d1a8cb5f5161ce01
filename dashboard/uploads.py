"""Uploaded data files: validated first, then stored by content hash under ``<store>/uploads/``."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.data.files import parse_upload


@dataclass(frozen=True)
class StoredUpload:
    path: Path
    rows: int
    features: int
    classes: int


def store_upload(root: Path, content: bytes, filename: str, label_column: str) -> StoredUpload:
    """Validate ``content`` (DataError, with nothing written, when it is unusable), then save it once.

    The file is named by the SHA-256 of its bytes, so uploading the same file twice stores it once, and a
    half-written file is never visible (written to a temporary name, then renamed).
    """
    x, y = parse_upload(content, filename, label_column)
    folder = Path(root) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{hashlib.sha256(content).hexdigest()}{Path(filename).suffix.lower()}"
    if not path.exists():
        tmp = path.with_name(f".{path.name}.tmp")
        tmp.write_bytes(content)
        tmp.replace(path)
    return StoredUpload(path, int(x.shape[0]), int(x.shape[1]), int(len(np.unique(y))))
