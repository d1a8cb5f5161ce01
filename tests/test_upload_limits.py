"""Uploads that used to pass validation and then fail, or exhaust memory, are refused up front with one line."""
from __future__ import annotations

import io
import resource

import numpy as np
import pytest

from core.data.files import MAX_VALUES, DataError, parse_upload


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez_compressed(buffer, **arrays)
    return buffer.getvalue()


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def test_a_compressed_npz_bomb_is_refused_from_its_headers_without_inflating():
    bomb = _npz(X=np.zeros((200_000, 1280)), y=np.zeros(200_000))  # 2 GiB of float64 in under 2 MiB
    assert len(bomb) < 3 * 2**20
    before = _peak_rss_mb()
    with pytest.raises(DataError, match="values is over the cap"):
        parse_upload(bomb, "bomb.npz")
    assert _peak_rss_mb() - before < 100  # nothing near the 2 GiB was ever allocated


def test_an_npz_over_the_row_cap_is_refused_before_loading():
    with pytest.raises(DataError, match="over the cap of 200000 rows"):
        parse_upload(_npz(X=np.zeros((200_001, 1), np.float32), y=np.zeros(200_001)), "rows.npz")


@pytest.mark.parametrize("arrays, message", [
    ({"X": np.ones((4, 2)) + 1j, "y": np.array([0, 1, 0, 1])}, "X must hold real numbers"),
    ({"X": np.ones(4), "y": np.array([0, 1, 0, 1])}, "X must be 2-D"),
    ({"X": np.ones((4, 2)), "y": np.array([0, 1, 0])}, "one label per row"),
    ({"X": np.ones((4, 2))}, "missing \\['y'\\]"),
])
def test_npz_shape_and_kind_are_checked_from_the_headers(arrays, message):
    with pytest.raises(DataError, match=message):
        parse_upload(_npz(**arrays), "x.npz")


def test_values_beyond_float32_are_refused_after_the_cast():
    csv = b"a,label\n1e39,1\n2,0\n3,1\n4,0\n"  # finite as float64, inf as float32
    with pytest.raises(DataError, match="out-of-range"):
        parse_upload(csv, "big.csv")


def test_a_blank_string_label_is_a_clear_error_not_a_type_error():
    with pytest.raises(DataError, match="1 rows have no label \\(first at data row 2\\)"):
        parse_upload(b"a,label\n1,x\n2,\n3,y\n4,x\n5,y\n", "blank.csv")


def test_string_labels_are_encoded():
    x, y = parse_upload(b"a,label\n1,cat\n2,dog\n3,cat\n4,dog\n", "pets.csv")
    assert y.tolist() == [0, 1, 0, 1] and x.dtype == np.float32


def test_a_header_only_csv_says_no_rows():
    with pytest.raises(DataError, match="no rows"):
        parse_upload(b"f1,f2,label\n", "empty.csv")


def test_a_csv_with_only_the_label_column_is_refused():
    with pytest.raises(DataError, match="at least one row and one feature column"):
        parse_upload(b"label\n1\n0\n1\n0\n", "labels.csv")


def test_a_very_wide_csv_is_refused_from_its_header_at_once():
    header = ",".join(f"c{i}" for i in range(1_000_000)).encode() + b",label\n"
    row = b",".join([b"0"] * 1_000_001) + b"\n"
    before = _peak_rss_mb()
    with pytest.raises(DataError, match="1000000 features is over the cap"):
        parse_upload(header + row + row, "wide.csv")
    assert _peak_rss_mb() - before < 100


def test_the_value_cap_applies_to_csv_too():
    rows = MAX_VALUES // 4000 + 1
    assert rows <= 200_000
    header = ",".join(f"c{i}" for i in range(4000)).encode() + b",label\n"
    content = header + b"\n" * 0 + (b"0," * 4000 + b"1\n") * 2  # two real rows, then the count check below
    x, _ = None, None
    with pytest.raises(DataError, match="every class needs at least 2 samples|two classes"):
        parse_upload(content, "two-rows.csv")  # a small file with wide rows passes the caps and fails later
    big = header + (b"0," * 4000 + b"1\n") * rows
    if len(big) <= 20 * 2**20:
        with pytest.raises(DataError, match="values is over the cap"):
            parse_upload(big, "tall.csv")
    else:
        with pytest.raises(DataError, match="MiB is over"):
            parse_upload(big, "tall.csv")
