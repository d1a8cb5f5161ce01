"""Running a trained model: logits and features in eval mode and in chunks, and freezing a teacher."""
from __future__ import annotations

import torch
from torch import nn


@torch.no_grad()
def predict_logits(model: nn.Module, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Logits of a model in eval mode, in chunks; the model's mode is restored afterwards."""
    was_training = model.training
    model.eval()
    out = torch.cat([model(part) for part in x.split(chunk)])
    model.train(was_training)
    return out


@torch.no_grad()
def predict_features(model: nn.Module, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """``model.features`` in eval mode, in chunks."""
    was_training = model.training
    model.eval()
    out = torch.cat([model.features(part) for part in x.split(chunk)])
    model.train(was_training)
    return out


def freeze(model: nn.Module) -> nn.Module:
    """Eval mode, no gradients: how a teacher is used."""
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model
