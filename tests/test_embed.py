"""Tests for core.evaluation.embed: shapes, quality of the UMAP view, subsampled placement and Procrustes alignment."""
import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits
from sklearn.manifold import trustworthiness

from core.evaluation import embed


@pytest.fixture(scope="module")
def digits() -> np.ndarray:
    return load_digits().data


def _similarity(view: np.ndarray, scale: float, angle: float, reflect: bool, shift) -> np.ndarray:
    c, s = np.cos(angle), np.sin(angle)
    rot = np.array([[c, -s], [s, c]]) @ (np.diag([1.0, -1.0]) if reflect else np.eye(2))
    return scale * view @ rot + np.asarray(shift)


@pytest.mark.parametrize("reflect", [False, True])
def test_align_recovers_rotated_scaled_shifted_copy(reflect):
    ref = np.random.default_rng(0).normal(size=(200, 2))
    moved = _similarity(ref, 3.7, 2.1, reflect, [5.0, -12.0])
    np.testing.assert_allclose(embed.align_to_reference(moved, ref), ref, atol=1e-6)


def test_align_fits_on_shared_rows_only():
    ref = np.random.default_rng(1).normal(size=(50, 2))
    moved = _similarity(ref, 0.5, -0.8, True, [1.0, 2.0])
    ref_with_gaps = ref.copy()
    ref_with_gaps[:10] = np.nan  # points the previous generation did not have
    aligned = embed.align_to_reference(moved, ref_with_gaps)
    np.testing.assert_allclose(aligned, ref, atol=1e-6)  # the missing rows are carried along too


@pytest.mark.parametrize("method", embed.METHODS)
def test_each_method_returns_finite_n_by_2(digits, method):
    x = digits[:300]
    view = embed.embed_2d(x, method=method, seed=0)
    assert view.shape == (300, 2) and view.dtype == np.float32
    assert np.isfinite(view).all()


@pytest.mark.parametrize("method", embed.METHODS)
def test_fully_collapsed_features_are_one_dot(method):
    view = embed.embed_2d(np.ones((100, 8)), method=method)
    np.testing.assert_array_equal(view, np.zeros((100, 2), dtype=np.float32))


def test_bad_method_names_allowed_values(digits):
    with pytest.raises(ValueError, match="umap.*pca.*tsne"):
        embed.embed_2d(digits[:50], method="isomap")


def test_pca_accepts_torch_and_aligns_onto_reference(digits):
    ref = embed.embed_2d(digits, method="pca")
    moved = _similarity(ref.astype(np.float64), 2.0, 1.0, True, [3.0, 3.0])
    # PCA of the same data is the reference itself up to sign, so aligning onto a moved copy
    # of it must give that moved copy back
    view = embed.embed_2d(torch.tensor(digits), method="pca", reference=moved)
    np.testing.assert_allclose(view, moved, rtol=1e-4, atol=1e-3)


def test_warm_up_runs():
    embed.warm_up()


def test_umap_on_digits_is_trustworthy_and_seeded(digits):
    view = embed.embed_2d(digits, method="umap", seed=0)
    assert view.shape == (len(digits), 2)
    assert trustworthiness(digits, view, n_neighbors=5) >= 0.9
    np.testing.assert_array_equal(view, embed.embed_2d(digits, method="umap", seed=0))


def test_large_inputs_fit_a_subsample_and_place_the_rest(digits, monkeypatch):
    monkeypatch.setitem(embed.MAX_FIT_POINTS, "umap", 400)
    view = embed.embed_2d(digits, method="umap", seed=0)
    assert view.shape == (len(digits), 2) and np.isfinite(view).all()
    # placed points are convex combinations of fitted ones, so the view is no wider than the fit
    fitted = view[np.random.default_rng(0).permutation(len(digits))[:400]]
    assert (view.min(axis=0) >= fitted.min(axis=0) - 1e-4).all()
    assert (view.max(axis=0) <= fitted.max(axis=0) + 1e-4).all()
    assert trustworthiness(digits, view, n_neighbors=5) >= 0.9


def test_align_keeps_a_poorly_matching_view_at_the_reference_spread():
    # Unrelated views: least-squares scaling would shrink this towards the mean (a dot after a few generations).
    rng = np.random.default_rng(3)
    ref, view = rng.normal(size=(300, 2)) * 5.0, rng.normal(size=(300, 2))
    aligned = embed.align_to_reference(view, ref)
    spread = lambda a: np.sqrt(((a - a.mean(0)) ** 2).sum())  # noqa: E731
    assert spread(aligned) == pytest.approx(spread(ref), rel=1e-9)
    assert np.allclose(aligned.mean(0), ref.mean(0))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 10])
@pytest.mark.parametrize("method", ["umap", "tsne", "pca"])
def test_a_tiny_test_split_falls_back_to_pca_instead_of_failing(n, method):
    """Regression: UMAP's spectral initialisation raised TypeError (k >= N) on a handful of points."""
    x = np.random.default_rng(n).normal(size=(n, 5)).astype(np.float32)
    view = embed.embed_2d(x, method, seed=0)
    assert view.shape == (n, 2) and np.isfinite(view).all()
    if n >= 3:  # the PCA fallback: the first axis is the projection on the top right-singular vector (up to sign)
        centred = x - x.mean(0)
        first = centred @ np.linalg.svd(centred, full_matrices=False)[2][0]
        np.testing.assert_allclose(np.abs(view[:, 0]), np.abs(first), atol=1e-4)
