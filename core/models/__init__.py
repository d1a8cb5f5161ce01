"""One module per architecture; each provides ``build(cfg, in_dim, n_classes, image_shape)`` and is listed in
core.catalog. Every model exposes ``features(x)`` (the representation views and k-NN see), ``head`` and
``feature_dim``."""
from __future__ import annotations

from typing import TYPE_CHECKING

from core import catalog

if TYPE_CHECKING:
    from torch import nn

    from core.config import ModelConfig


def build_model(cfg: ModelConfig, in_dim: int, n_classes: int, image_shape: tuple[int, int] | None) -> nn.Module:
    """The configured model, found through the catalog (its weights drawn from torch's current random state)."""
    return catalog.load(catalog.model(cfg.name)).build(cfg, in_dim, n_classes, image_shape)
