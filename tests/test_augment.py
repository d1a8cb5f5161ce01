"""core.data.augment: shapes, seeded determinism, that each distortion changes the input, image range kept."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from core.data.augment import ImageViewSpec, VectorViewSpec, image_view, make_views, vector_view


def _digits(n: int = 32) -> torch.Tensor:
    from sklearn.datasets import load_digits

    return torch.from_numpy(load_digits().data[:n].astype(np.float32) / 16.0)  # (n, 64) in [0, 1]


def _gen(seed: int = 0) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


@pytest.mark.parametrize("n_local", [0, 3])
def test_view_count_and_shapes(n_local):
    images = make_views(_digits(), (8, 8), n_global=2, n_local=n_local, generator=_gen())
    vectors = make_views(torch.randn(32, 5), None, n_global=2, n_local=n_local, generator=_gen())
    for views in (images, vectors):
        assert len(views) == 2 + n_local
    assert all(v.shape == (32, 64) and v.dtype == torch.float32 for v in images)
    assert all(v.shape == (32, 5) for v in vectors)


@pytest.mark.parametrize("image_shape, x", [((8, 8), _digits()), (None, torch.randn(32, 5))])
def test_same_seed_same_views_other_seed_other_views(image_shape, x):
    a = make_views(x, image_shape, 2, 2, _gen(3))
    b = make_views(x, image_shape, 2, 2, _gen(3))
    c = make_views(x, image_shape, 2, 2, _gen(4))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert not any(torch.equal(u, v) for u, v in zip(a, c))
    assert not torch.equal(a[0], a[1])  # the two global views differ from each other


def test_image_views_stay_in_unit_range():
    x = _digits(256)
    for view in make_views(x, (8, 8), 2, 4, _gen()):
        assert float(view.min()) >= 0.0 and float(view.max()) <= 1.0


def test_subpixel_shift_stays_within_each_pixels_neighbourhood():
    # A full-size window moved by at most one pixel samples bilinearly between a pixel and its 3×3 neighbours
    # (zeros outside the image), so every output pixel lies between their minimum and maximum.
    x = _digits(64)
    spec = ImageViewSpec(crop=(1.0, 1.0), shift=1.0, rotate=0.0, thickness=0.0, mask=0.0, noise=0.0)
    view = image_view(x, (8, 8), spec, _gen(5)).reshape(-1, 8, 8)
    padded = torch.nn.functional.pad(x.reshape(-1, 8, 8), (1, 1, 1, 1))
    windows = padded.unfold(1, 3, 1).unfold(2, 3, 1)  # (B, 8, 8, 3, 3): each pixel's neighbourhood
    assert torch.all(view <= windows.amax(dim=(-1, -2)) + 1e-5)
    assert torch.all(view >= windows.amin(dim=(-1, -2)) - 1e-5)


def test_shift_changes_the_input_and_keeps_the_ink():
    x = _digits(64)
    spec = ImageViewSpec(crop=(1.0, 1.0), shift=1.0, rotate=0.0, thickness=0.0, mask=0.0, noise=0.0)
    view = image_view(x, (8, 8), spec, _gen(1))
    assert (view - x).abs().sum(1).min() > 0  # every sample moved
    # Digits have a blank border, so a one-pixel move loses little ink.
    np.testing.assert_allclose(view.sum(1).numpy(), x.sum(1).numpy(), rtol=0.35)


def test_masking_zeroes_about_the_asked_fraction():
    x = torch.full((512, 64), 0.5)
    spec = ImageViewSpec(crop=(1.0, 1.0), shift=0.0, rotate=0.0, thickness=0.0, mask=0.3, noise=0.0)
    view = image_view(x, (8, 8), spec, _gen(2))
    assert abs(float((view == 0).float().mean()) - 0.3) < 0.02
    kept = view[view != 0]
    np.testing.assert_allclose(kept.numpy(), 0.5, atol=1e-6)  # no shift, no noise: kept pixels untouched


@pytest.mark.parametrize("side", [0.5, 0.75, 1.0])
def test_crop_zooms_by_the_window_side(side):
    # On a horizontal ramp (pixel value = column / 7) a window of `side` image widths stretched over the full
    # width steps by side/7 per output column (away from the border, where zero padding blends in).
    ramp = (torch.arange(8.0) / 7).repeat(8, 1).reshape(1, 64).repeat(16, 1)
    spec = ImageViewSpec(crop=(side, side), shift=0.0, rotate=0.0, thickness=0.0, mask=0.0, noise=0.0)
    view = image_view(ramp, (8, 8), spec, _gen()).reshape(16, 8, 8)
    steps = view[:, 2:6, 2:7] - view[:, 2:6, 1:6]
    np.testing.assert_allclose(steps.numpy(), side / 7, atol=1e-5)


def test_vector_views_mask_scale_and_noise():
    x = torch.ones(1000, 4)
    masked = vector_view(x, VectorViewSpec(scale=0.0, mask=0.25, noise=0.0), _gen())
    assert abs(float((masked == 0).float().mean()) - 0.25) < 0.03
    scaled = vector_view(x, VectorViewSpec(scale=0.2, mask=0.0, noise=0.0), _gen())
    assert torch.allclose(scaled, scaled[:, :1].expand_as(scaled))  # one factor per sample
    assert 0.8 <= float(scaled.min()) and float(scaled.max()) <= 1.2 and float(scaled.std()) > 0.05
    noisy = vector_view(x, VectorViewSpec(scale=0.0, mask=0.0, noise=0.1), _gen())
    assert abs(float((noisy - x).std()) - 0.1) < 0.01


def test_wrong_image_shape_is_refused():
    with pytest.raises(ValueError, match="image_shape"):
        make_views(torch.rand(4, 10), (8, 8), generator=_gen())


def test_stroke_width_thickens_or_thins():
    # A 2×2 block: dilation spreads it to 4×4 (16 pixels), erosion empties it; the blend lies in between.
    x = torch.zeros(200, 64)
    x.view(200, 8, 8)[:, 3:5, 3:5] = 1.0
    view = image_view(x, (8, 8), ImageViewSpec(thickness=0.5), _gen(7)).reshape(200, 8, 8)
    ink = view.sum(dim=(1, 2))
    assert float(view.min()) >= 0 and float(view.max()) <= 1
    assert float(ink.min()) < 4 < float(ink.max())  # some views thinner, some thicker than 4 pixels of ink
    assert float(ink.min()) >= 2 - 1e-5 and float(ink.max()) <= 4 + 0.5 * 12 + 1e-5
    assert torch.all(view[:, :2, :] == 0) and torch.all(view[:, 6:, :] == 0)  # nothing beyond one pixel out


# ---- view strengths from the config, zoom-out, wider shifts, pasted fragments --------------------------------
def test_default_specs_are_the_module_defaults():
    from core.config import MethodConfig
    from core.data.augment import GLOBAL_IMAGE, LOCAL_IMAGE, image_specs
    from core.methods.dino import view_specs

    assert image_specs() == (GLOBAL_IMAGE, LOCAL_IMAGE)
    assert view_specs(MethodConfig()) == (GLOBAL_IMAGE, LOCAL_IMAGE)
    wide, _ = view_specs(MethodConfig(view_shift=4.0, view_crop_min=0.9, view_crop_max=1.1, view_fragment=True))
    assert (wide.shift, wide.crop, wide.fragment) == (4.0, (0.9, 1.1), 4)


def _blob(n: int, side: int = 16) -> torch.Tensor:
    """n copies of a 2×2 block of ink at the centre of a side×side canvas."""
    x = torch.zeros(n, side, side)
    x[:, side // 2 - 1: side // 2 + 1, side // 2 - 1: side // 2 + 1] = 1.0
    return x.reshape(n, side * side)


def _centroids(views: torch.Tensor, side: int = 16) -> torch.Tensor:
    images = views.reshape(-1, side, side)
    grid = torch.arange(side, dtype=torch.float32)
    ink = images.sum(dim=(1, 2))
    return torch.stack([(images.sum(2) * grid).sum(1) / ink, (images.sum(1) * grid).sum(1) / ink], 1)


def test_shift_in_pixels_on_a_larger_canvas():
    # A full-size window moved by up to 4 pixels: the blob's centre (7.5, 7.5) moves by at most 4 per axis, and
    # the moves reach near 4 (they are uniform over ±4).
    spec = ImageViewSpec(crop=(1.0, 1.0), shift=4.0)
    moves = (_centroids(image_view(_blob(2000), (16, 16), spec, _gen(3))) - 7.5).abs()
    assert float(moves.max()) <= 4.0 + 1e-4
    assert float(moves.max()) > 3.8 and 1.6 < float(moves.mean()) < 2.4


def test_a_window_larger_than_the_image_zooms_out_around_the_centre():
    # Side 1.25 without shift: every sample gets the same, centred view (no random move from the window size),
    # and the horizontal ramp steps by 1.25/7 per column in the middle: the content is shrunk.
    ramp = (torch.arange(8.0) / 7).repeat(8, 1).reshape(1, 64).repeat(16, 1)
    view = image_view(ramp, (8, 8), ImageViewSpec(crop=(1.25, 1.25)), _gen()).reshape(16, 8, 8)
    assert torch.equal(view, view[:1].expand_as(view))
    steps = view[:, 3:5, 3:5] - view[:, 3:5, 2:4]
    np.testing.assert_allclose(steps.numpy(), 1.25 / 7, atol=1e-5)


def test_pasted_fragment_is_a_four_by_four_piece_of_another_image():
    from core.data.augment import paste_fragments

    b = 64
    values = 0.5 + torch.arange(b, dtype=torch.float32) / (2 * b)  # each source image one distinct level
    sources = values[:, None, None, None].expand(b, 1, 16, 16).contiguous()
    out = paste_fragments(torch.zeros(b, 1, 16, 16), sources, 4, _gen(2)).reshape(b, 16, 16)
    for i in range(b):
        inked = torch.nonzero(out[i])
        assert len(inked) == 16  # one 4×4 square ...
        assert torch.all(inked.max(0).values - inked.min(0).values == 3)
        level = float(out[i].max())
        assert level in values.tolist() and level != float(values[i])  # ... of another image of the batch


def test_pasted_fragments_carry_ink_and_keep_the_brighter_pixel():
    from core.data.augment import paste_fragments

    b = 256
    sources = torch.zeros(b, 1, 16, 16)
    corners = torch.randint(0, 15, (b, 2), generator=_gen(4))
    for i, (r, c) in enumerate(corners.tolist()):
        sources[i, 0, r:r + 2, c:c + 2] = 1.0  # 4 pixels of ink: most 4×4 patches of these images are blank
    background = torch.full((b, 1, 16, 16), 0.25)
    out = paste_fragments(background, sources, 4, _gen(5))
    added = (out - background).clamp(min=0).sum(dim=(1, 2, 3)) / 0.75  # pixels raised from 0.25 to 1
    assert float(added.min()) >= 2 - 1e-4  # every pasted patch held at least two pixels of ink
    assert torch.all(out >= background) and set(out.unique().tolist()) <= {0.25, 1.0}  # max, never erased


def test_fragment_views_are_seeded_and_in_range():
    from core.data.augment import image_specs

    x = torch.from_numpy(np.pad(_digit_images(48), ((0, 0), (4, 4), (4, 4))).reshape(48, 256))
    specs = image_specs(shift=4.0, crop=(0.9, 1.1), fragment=4)
    a, b = make_views(x, (16, 16), 2, 0, _gen(9), specs), make_views(x, (16, 16), 2, 0, _gen(9), specs)
    plain = make_views(x, (16, 16), 2, 0, _gen(9), image_specs(shift=4.0, crop=(0.9, 1.1)))
    assert all(torch.equal(u, v) for u, v in zip(a, b))
    assert all(float(v.min()) >= 0 and float(v.max()) <= 1 for v in a)
    assert float((a[0] - plain[0]).abs().sum()) > 0  # the fragment changed the views


def _digit_images(n: int) -> np.ndarray:
    return _digits(n).numpy().reshape(n, 8, 8)


def test_config_refuses_a_crop_range_upside_down():
    from core.config import ConfigError, RunConfig

    with pytest.raises(ConfigError, match="view_crop_min"):
        RunConfig().override({"method.view_crop_min": 1.1, "method.view_crop_max": 0.9})
    assert RunConfig().override({"method.view_crop_min": 1.1, "method.view_crop_max": 1.1}).method.view_crop_min == 1.1
