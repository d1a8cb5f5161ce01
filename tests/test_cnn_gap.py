"""core.models.cnn_gap: shapes on 16×16 and 8×8 images, and features that forget where the digit sits."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from sklearn.datasets import load_digits

from core import catalog
from core.config import ModelConfig, RunConfig
from core.models import build_model

DIGITS = load_digits()


def _model(image_shape: tuple[int, int], seed: int = 0) -> torch.nn.Module:
    torch.manual_seed(seed)
    return build_model(ModelConfig(name="cnn-gap"), image_shape[0] * image_shape[1], 10, image_shape).eval()


def _on_canvas(index: int, canvas: int, top: int, left: int) -> torch.Tensor:
    """Digit ``index`` (scaled to [0, 1]) written by hand onto a blank canvas at (top, left), as a flat row."""
    image = np.zeros((canvas, canvas), np.float32)
    image[top:top + 8, left:left + 8] = DIGITS.images[index] / 16.0
    return torch.from_numpy(image.reshape(1, -1))


@pytest.mark.parametrize("side", [8, 16])
def test_shapes(side):
    model = _model((side, side))
    x = torch.rand(5, side * side)
    assert model.feature_dim == 128
    assert model.features(x).shape == (5, 128)
    assert model(x).shape == (5, 10)
    assert model.head.in_features == 128 and model.head.out_features == 10


def test_features_are_the_global_mean_and_max_of_the_last_maps():
    model = _model((16, 16))
    x = torch.rand(3, 256)
    maps = model.conv(x.view(3, 1, 16, 16))  # (3, 64, 8, 8)
    assert maps.shape == (3, 64, 8, 8)
    expected = torch.cat([maps.flatten(2).mean(2), maps.flatten(2).max(2).values], 1)
    torch.testing.assert_close(model.features(x), expected)


def test_a_shift_by_the_pooling_stride_leaves_the_features_unchanged_away_from_the_border():
    # On a 24×24 canvas, digit moved by 2 pixels (one pooling cell), every receptive field that sees ink stays
    # inside the canvas, so conv → max-pool → conv → global pooling gives the same numbers.
    model = _model((24, 24))
    a, b = _on_canvas(0, 24, 6, 6), _on_canvas(0, 24, 8, 8)
    with torch.no_grad():
        torch.testing.assert_close(model.features(a), model.features(b), atol=1e-5, rtol=1e-5)
        assert not torch.equal(a, b)


def _shift_retrieval(name: str, seed: int, n: int = 100) -> float:
    """Share of n digits, moved by 2 pixels on the 16×16 canvas, whose nearest neighbour (cosine, features of
    the untrained model) among the n unmoved digits is the digit itself."""
    torch.manual_seed(seed)
    model = build_model(ModelConfig(name=name), 256, 10, (16, 16)).eval()
    with torch.no_grad():
        still = torch.cat([model.features(_on_canvas(i, 16, 2, 2)) for i in range(n)])
        moved = torch.cat([model.features(_on_canvas(i, 16, 4, 4)) for i in range(n)])
    similarity = torch.nn.functional.normalize(moved, dim=1) @ torch.nn.functional.normalize(still, dim=1).T
    return float((similarity.argmax(1) == torch.arange(n)).float().mean())


@pytest.mark.parametrize("seed", [0, 1])
def test_a_moved_digit_is_closer_to_itself_than_to_any_other_digit(seed):
    # Global pooling: a 2-pixel move changes the features less than swapping the digit for another one.
    assert _shift_retrieval("cnn-gap", seed) >= 0.95
    # A dense layer on the flattened maps (core.models.cnn) sees another input at every position.
    assert _shift_retrieval("cnn", seed) <= 0.2


def test_batch_norm_is_always_on_and_the_catalog_knows_the_model():
    for batch_norm in (False, True):
        model = build_model(ModelConfig(name="cnn-gap", batch_norm=batch_norm), 64, 10, (8, 8))
        assert sum(isinstance(m, torch.nn.BatchNorm2d) for m in model.modules()) == 2
    assert catalog.model("cnn-gap").inputs == ("image",)
    RunConfig().override({"model.name": "cnn-gap", "data.name": "digits-shifted"})
    with pytest.raises(ValueError, match="image"):
        RunConfig().override({"model.name": "cnn-gap", "data.name": "moons"})
    with pytest.raises(ValueError, match="image-shaped"):
        build_model(ModelConfig(name="cnn-gap"), 2, 2, None)


def test_row_mean_norm_forgets_a_per_row_offset_and_is_off_by_default():
    """model.row_mean_norm: a constant added to each row (a mel band's level, on log-mel images) leaves the
    features as they were; without it the same offset moves them."""
    torch.manual_seed(0)
    normed = build_model(ModelConfig(name="cnn-gap", row_mean_norm=True), 64, 10, (8, 8)).eval()
    torch.manual_seed(0)
    plain = build_model(ModelConfig(name="cnn-gap"), 64, 10, (8, 8)).eval()
    images = torch.from_numpy(DIGITS.images[:5].astype(np.float32) / 16.0)  # (5, 8, 8)
    offset = torch.linspace(-0.5, 0.7, 8).view(1, 8, 1)  # one value per row, the same across the row
    x, shifted = images.reshape(5, -1), (images + offset).reshape(5, -1)
    with torch.no_grad():
        assert torch.allclose(normed.features(x), normed.features(shifted), atol=1e-5)
        assert not torch.allclose(plain.features(x), plain.features(shifted), atol=1e-3)
        same_input = x - images.mean(dim=2, keepdim=True).reshape(5, 8, 1).expand(5, 8, 8).reshape(5, -1)
        assert torch.allclose(normed.features(x), plain.features(same_input), atol=1e-5)  # it is the row's mean
    assert ModelConfig().row_mean_norm is False
