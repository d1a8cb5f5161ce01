"""A small CNN whose features are global poolings, so that where a digit sits on the canvas barely matters.

Two 3×3 conv layers (32 then 64 channels, each followed by batch norm and a ReLU, a 2×2 max-pool between them),
then the 64 channel maps are pooled over the whole image twice, by their mean and by their max: 128 features
whatever the image size (8×8 digits or a 16×16 canvas). Convolutions move with the input and global pooling
forgets position, so a digit shifted on a blank canvas gives nearly the same features; a dense layer on the
flattened maps (core.models.cnn) would see a different input for every position.

Batch norm is always on (``model.batch_norm`` is not read): without it the label-free teacher of a network this
small drifts to one output for every image. ``model.hidden`` and ``model.depth`` are not read either.

``model.row_mean_norm`` subtracts each input row's mean (over its columns) before the first conv. On log-mel images
the rows are mel bands, so this is cepstral mean normalisation: a voice's or channel's fixed spectral tilt is a
per-band offset, and it goes, while the word's shape across time stays. k-NN on the raw log-mel images normalised so
misrecognises about 27% of the validation words against 43% without (seeds 0-3; bench/TUNING.md, fourth pass).
"""
from __future__ import annotations

import torch
from torch import nn

from core.config import ModelConfig

CHANNELS = (32, 64)  # of the two conv layers; the features are twice the last (mean and max of each map)


class GlobalPoolCNN(nn.Module):
    """conv 3×3 - BN - ReLU, max-pool 2×2, conv 3×3 - BN - ReLU, then concat(global mean, global max)."""

    def __init__(self, image_shape: tuple[int, int], n_classes: int, row_mean_norm: bool = False):
        super().__init__()
        self.image_shape = image_shape
        self.row_mean_norm = row_mean_norm
        first, second = CHANNELS
        self.conv = nn.Sequential(
            nn.Conv2d(1, first, 3, padding=1), nn.BatchNorm2d(first), nn.ReLU(),
            nn.MaxPool2d(2),
            nn.Conv2d(first, second, 3, padding=1), nn.BatchNorm2d(second), nn.ReLU(),
        )
        self.feature_dim = 2 * second
        self.head = nn.Linear(self.feature_dim, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        images = x.view(x.shape[0], 1, *self.image_shape)
        if self.row_mean_norm:
            images = images - images.mean(dim=3, keepdim=True)  # each row's mean over its columns
        maps = self.conv(images)  # (B, C, H/2, W/2)
        return torch.cat([maps.mean(dim=(2, 3)), maps.amax(dim=(2, 3))], dim=1)  # (B, 2C)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def build(cfg: ModelConfig, in_dim: int, n_classes: int, image_shape: tuple[int, int] | None) -> GlobalPoolCNN:
    if image_shape is None:
        raise ValueError("model.name=cnn-gap needs image-shaped data (digits, digits-shifted)")
    return GlobalPoolCNN(image_shape, n_classes, row_mean_norm=cfg.row_mean_norm)
