"""A small convolutional network for image-shaped inputs given as flat rows (the 8×8 digits)."""
from __future__ import annotations

import torch
from torch import nn

from core.config import ModelConfig


class CNN(nn.Module):
    """Two 3×3 conv layers and a pooling step on (H, W) images given as flat rows, then a dense feature layer."""

    def __init__(self, image_shape: tuple[int, int], n_classes: int, hidden: int = 256, batch_norm: bool = False):
        super().__init__()
        self.image_shape = image_shape
        norm = (lambda c: nn.BatchNorm2d(c)) if batch_norm else (lambda c: nn.Identity())
        self.conv = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), norm(16), nn.ReLU(),
            nn.Conv2d(16, 32, 3, padding=1), norm(32), nn.ReLU(),
            nn.MaxPool2d(2),
        )
        h, w = image_shape
        self.dense = nn.Sequential(nn.Linear(32 * (h // 2) * (w // 2), hidden), nn.ReLU())
        self.feature_dim = hidden
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        images = x.view(x.shape[0], 1, *self.image_shape)  # (B, 1, H, W)
        return self.dense(self.conv(images).flatten(1))  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build(cfg: ModelConfig, in_dim: int, n_classes: int, image_shape: tuple[int, int] | None) -> CNN:
    if image_shape is None:
        raise ValueError("model.name=cnn needs image-shaped data (digits)")
    return CNN(image_shape, n_classes, cfg.hidden, cfg.batch_norm)
