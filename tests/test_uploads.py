"""dashboard.uploads: a file is stored only after it validates, once per content."""
from __future__ import annotations

import pytest

from core.data.files import DataError
from dashboard.uploads import store_upload

GOOD = b"a,b,label\n" + b"".join(f"{i},{i % 3},{i % 2}\n".encode() for i in range(20))


def test_a_valid_csv_is_stored_by_content_hash(tmp_path):
    first = store_upload(tmp_path, GOOD, "mine.CSV", "label")
    second = store_upload(tmp_path, GOOD, "copy.csv", "label")
    assert first.path == second.path and first.path.suffix == ".csv"
    assert first.path.read_bytes() == GOOD
    assert (first.rows, first.features, first.classes) == (20, 2, 2)
    assert [p.name for p in (tmp_path / "uploads").iterdir()] == [first.path.name]


@pytest.mark.parametrize("content, name, message", [
    (b"a,b\n1,2\n3,4\n", "x.csv", "no label column 'label'"),
    (b"not a zip", "x.npz", "not a readable NPZ"),
    (GOOD, "x.txt", "unsupported file type"),
])
def test_a_bad_file_raises_and_stores_nothing(tmp_path, content, name, message):
    with pytest.raises(DataError, match=message):
        store_upload(tmp_path, content, name, "label")
    assert not (tmp_path / "uploads").exists()
