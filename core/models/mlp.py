"""A multilayer perceptron: in → [Linear, (BatchNorm), ReLU] × depth → features → head."""
from __future__ import annotations

import torch
from torch import nn

from core.config import ModelConfig


class MLP(nn.Module):
    """in → [Linear, (BatchNorm), ReLU] × depth → features → head."""

    def __init__(self, in_dim: int, n_classes: int, hidden: int = 256, depth: int = 2, batch_norm: bool = False):
        super().__init__()
        layers: list[nn.Module] = []
        width = in_dim
        for _ in range(depth):
            layers.append(nn.Linear(width, hidden))
            if batch_norm:
                layers.append(nn.BatchNorm1d(hidden))
            layers.append(nn.ReLU())
            width = hidden
        self.body = nn.Sequential(*layers)
        self.feature_dim = hidden
        self.head = nn.Linear(hidden, n_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, K)


def build(cfg: ModelConfig, in_dim: int, n_classes: int, image_shape: tuple[int, int] | None) -> MLP:
    return MLP(in_dim, n_classes, cfg.hidden, cfg.depth, cfg.batch_norm)
