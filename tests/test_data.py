"""Datasets: splits, symmetric label noise, and validation of user files."""
import io

import numpy as np
import pytest

from core.config import DataConfig
from core.data.files import DataError, parse_upload
from core.data.splits import flip_labels, load_dataset


def test_digits_split_is_stratified_seeded_and_scaled():
    a = load_dataset(DataConfig(), seed=0)
    b = load_dataset(DataConfig(), seed=0)
    assert np.array_equal(a.x_test, b.x_test) and a.n_classes == 10 and a.image_shape == (8, 8)
    assert len(a.x_train) + len(a.x_val) + len(a.x_test) == 1797 and abs(len(a.x_test) - 0.2 * 1797) <= 1
    assert a.x_train.min() >= 0 and a.x_train.max() <= 1 and a.x_test_raw.max() == 16
    counts = np.bincount(a.y_test)
    assert counts.max() - counts.min() <= 2  # stratified: ~36 per class
    assert not np.array_equal(load_dataset(DataConfig(), seed=1).y_test, a.y_test)


def test_symmetric_noise_flips_exact_fraction_to_other_classes():
    y = np.repeat(np.arange(10), 100)
    noisy, flipped = flip_labels(y, 0.4, 10, np.random.default_rng(0))
    assert len(flipped) == 400 and len(set(flipped)) == 400
    assert (noisy[flipped] != y[flipped]).all()
    untouched = np.setdiff1d(np.arange(1000), flipped)
    assert (noisy[untouched] == y[untouched]).all()
    # symmetric: the new class is spread over the 9 others, not always the same one
    offsets = (noisy[flipped] - y[flipped]) % 10
    assert set(offsets) == set(range(1, 10))


def test_noise_only_on_training_split():
    data = load_dataset(DataConfig(label_noise=0.3), seed=0)
    clean = load_dataset(DataConfig(), seed=0)
    assert np.array_equal(data.y_test, clean.y_test)
    assert len(data.flipped) == round(0.3 * len(data.y_train))
    assert (data.y_train[data.flipped] != data.y_train_clean[data.flipped]).all()


@pytest.mark.parametrize("name", ["moons", "circles", "blobs"])
def test_toy_sets_are_seeded_and_standardized(name):
    data = load_dataset(DataConfig(name=name, n_samples=400), seed=3)
    assert data.x_train.shape[1] == 2 and data.image_shape is None
    assert np.allclose(data.x_train.mean(0), 0, atol=1e-5)
    assert np.array_equal(data.x_train, load_dataset(DataConfig(name=name, n_samples=400), seed=3).x_train)


def _npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_valid_csv_and_npz():
    csv = b"a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n7,8,dog\n"
    x, y = parse_upload(csv, "d.csv")
    assert x.shape == (4, 2) and list(y) == [0, 1, 0, 1]
    x, y = parse_upload(_npz(X=np.eye(4), y=np.array([0, 1, 0, 1])), "d.npz")
    assert x.dtype == np.float32 and x.shape == (4, 4)


@pytest.mark.parametrize("content,filename,message", [
    (b"a,b\n1,2\n3,4\n", "d.csv", "no label column"),
    (b"a,label\nx,1\ny,0\nx,1\ny,0\n", "d.csv", "numeric"),
    (b"a,label\n1,0\n2,0\n3,0\n", "d.csv", "two classes"),
    (b"a,label\n1,0\nnan,1\n3,0\n4,1\n", "d.csv", "NaN"),
    (b"a,label\n1,0\n2,1\n3,0\n", "d.csv", "at least 2 samples"),
    (b"\x00\x01garbage", "d.npz", "not a readable NPZ"),
    (_npz(X=np.eye(3)), "d.npz", "missing"),
    (_npz(X=np.ones(4), y=np.array([0, 1, 0, 1])), "d.npz", "2-D"),
    (_npz(X=np.eye(4), y=np.array([0, 1])), "d.npz", "one label per row"),
    (_npz(X=np.array([[1.0], [np.inf], [2.0], [3.0]]), y=np.array([0, 1, 0, 1])), "d.npz", "NaN, infinite or out-of-range"),
    (b"{}", "d.json", "unsupported file type"),
])
def test_bad_uploads_get_clear_errors(content, filename, message):
    with pytest.raises(DataError, match=message):
        parse_upload(content, filename)


def test_pickled_npz_is_refused():
    content = _npz(X=np.array([[object()], [object()]], dtype=object), y=np.array([0, 1]))
    with pytest.raises(DataError, match="X must hold real numbers; got dtype object"):
        parse_upload(content, "evil.npz")  # refused from the header: the pickle is never read


def test_oversized_upload_is_refused_before_parsing():
    with pytest.raises(DataError, match="cap"):
        parse_upload(b"0" * (21 * 2**20), "big.csv")


def test_file_dataset_round_trip(tmp_path):
    path = tmp_path / "data.csv"
    rows = ["f1,f2,label"] + [f"{i},{i % 3},{i % 2}" for i in range(40)]
    path.write_text("\n".join(rows))
    data = load_dataset(DataConfig(name="file", path=str(path)), seed=0)
    assert data.n_classes == 2 and len(data.x_train) + len(data.x_val) + len(data.x_test) == 40
