"""core.data.shifted: each digit intact at a seeded offset inside the canvas, offsets covering every allowed
position, and the fragment distractor a non-blank 4×4 piece of another digit, pasted without erasing strokes."""
from __future__ import annotations

import time

import numpy as np
import pytest
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.datasets import load_digits

from core.config import DataConfig
from core.data import shifted
from core.data.splits import load_dataset

DIGITS = load_digits().images.astype(np.float32)  # (1797, 8, 8), values 0-16


def _load(seed: int = 0, canvas: int = 16, distractor: str = "none") -> np.ndarray:
    x, _, shape = shifted.load(DataConfig(name="digits-shifted", canvas=canvas, distractor=distractor), seed)
    assert shape == (canvas, canvas)
    return x.reshape(-1, canvas, canvas)


def _offsets(images: np.ndarray) -> np.ndarray:
    """(top, left) of each image's digit, found by search: the one 8×8 window equal to the original digit with
    nothing outside it. -1 where no offset explains the image."""
    found = np.full((len(images), 2), -1)
    side = images.shape[1] - 8 + 1
    for i, image in enumerate(images):
        windows = sliding_window_view(image, (8, 8))  # (side, side, 8, 8)
        matches = np.all(windows == DIGITS[i], axis=(2, 3)) & np.isclose(image.sum(), DIGITS[i].sum())
        if matches.any():
            found[i] = np.argwhere(matches)[0]
        assert matches.shape == (side, side)
    return found


def test_canvas_of_eight_gives_back_the_original_digits():
    np.testing.assert_array_equal(_load(canvas=8), DIGITS)


@pytest.mark.parametrize("canvas", [12, 16])
def test_each_digit_is_intact_inside_the_canvas_and_offsets_cover_the_range(canvas):
    images = _load(seed=3, canvas=canvas)
    offsets = _offsets(images)
    assert np.all(offsets >= 0), "a digit was cut or altered"
    for axis in (0, 1):  # every allowed offset 0 .. canvas − 8 occurs, none beyond
        assert set(offsets[:, axis]) == set(range(canvas - 8 + 1))
    # roughly uniform: 1797 digits over 9 (or 5) positions per axis
    counts = np.bincount(offsets[:, 0], minlength=canvas - 7)
    assert counts.min() > 0.6 * len(images) / (canvas - 7)
    assert images.min() == 0 and images.max() == 16


def test_labels_are_the_digits_labels():
    _, y, _ = shifted.load(DataConfig(name="digits-shifted"), 0)
    np.testing.assert_array_equal(y, load_digits().target)


@pytest.mark.parametrize("distractor", ["none", "fragment"])
def test_same_seed_same_images_other_seed_other_images(distractor):
    a, b, c = _load(5, distractor=distractor), _load(5, distractor=distractor), _load(6, distractor=distractor)
    np.testing.assert_array_equal(a, b)
    assert np.mean(np.any(a != c, axis=(1, 2))) > 0.8  # most digits sit elsewhere under another seed


def _fragment_sources(clean: np.ndarray, cluttered: np.ndarray, i: int) -> set[int]:
    """The digits j whose 4×4 patch P, pasted at some canvas position p by max, turns image i's clean canvas into
    its cluttered one (searching every digit's every patch at every position touching the changed pixels)."""
    changed = np.argwhere(clean[i] != cluttered[i])
    patches = sliding_window_view(DIGITS, (4, 4), axis=(1, 2)).reshape(len(DIGITS), 25, 16)
    (r0, c0), (r1, c1) = changed.min(0), changed.max(0)
    sources = set()
    for top in range(max(r1 - 3, 0), min(r0, clean.shape[1] - 4) + 1):
        for left in range(max(c1 - 3, 0), min(c0, clean.shape[2] - 4) + 1):
            before = clean[i, top:top + 4, left:left + 4].reshape(16)
            after = cluttered[i, top:top + 4, left:left + 4].reshape(16)
            fits = np.all(np.maximum(before, patches) == after, axis=2)  # (1797, 25)
            fits &= patches.sum(axis=2) >= 32  # a non-blank patch: two full pixels of ink at least
            sources |= set(np.flatnonzero(fits.any(axis=1)))
    return sources


def test_fragment_is_a_non_blank_four_by_four_piece_of_another_digit():
    clean, cluttered = _load(7), _load(7, distractor="fragment")
    assert np.all(cluttered >= clean)  # pasted by max: strokes are never erased
    touched = np.any(clean != cluttered, axis=(1, 2))
    assert touched.mean() > 0.9  # nearly every image shows its fragment (a few hide under the digit's strokes)
    for i in np.flatnonzero(touched)[:25]:
        changed = np.argwhere(clean[i] != cluttered[i])
        assert np.all(changed.max(0) - changed.min(0) < 4)  # the change fits in one 4×4 square
        sources = _fragment_sources(clean, cluttered, i)
        assert sources - {i}, f"image {i}: no other digit's non-blank 4×4 patch explains the change"


def test_fragments_are_drawn_among_inked_patches_of_other_digits():
    # Synthetic "digits": blank but for one 2×2 block whose value names the digit (16 + i/1000). Of the 25 4×4
    # patches of each, most hold fewer than two block pixels (less than 32 of ink): a uniform pick would often
    # return one of them, the rule never does.
    rng = np.random.default_rng(0)
    n = 400
    values = 16 + np.arange(n) / 1000
    digits = np.zeros((n, 8, 8), np.float32)
    corners = rng.integers(0, 7, size=(n, 2))
    for i, (r, c) in enumerate(corners):
        digits[i, r:r + 2, c:c + 2] = values[i]
    patches = sliding_window_view(digits, (4, 4), axis=(1, 2)).sum(axis=(3, 4))
    assert np.mean(patches < 32) > 0.3
    pieces = shifted.fragments(digits, rng)
    assert pieces.shape == (n, 4, 4)
    assert pieces.sum(axis=(1, 2)).min() >= 32
    source = np.round((pieces.max(axis=(1, 2)) - 16) * 1000).astype(int)
    assert np.all(source != np.arange(n))  # always another digit
    assert len(set(source)) > n / 2  # drawn among many digits, not a few
    # the piece is a true 4×4 window of its source
    for i in range(20):
        windows = sliding_window_view(digits[source[i]], (4, 4)).reshape(25, 4, 4)
        assert np.any(np.all(windows == pieces[i], axis=(1, 2)))


def test_fast_and_scaled_by_the_split_module():
    started = time.perf_counter()
    _load(0, distractor="fragment")
    assert time.perf_counter() - started < 1.0
    data = load_dataset(DataConfig(name="digits-shifted", distractor="fragment"), 0)
    assert data.image_shape == (16, 16) and data.x_train.shape[1] == 256
    assert data.x_train.max() == pytest.approx(1.0) and data.x_train.min() == 0.0
