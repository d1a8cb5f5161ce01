"""Where a Vision Transformer looks: the class token's attention over the patches, for every test point.

The class token is what the features (and so the head, the k-NN and the probes) are read from, so its attention in
the last block says which patches fed the answer. Maps are stored per generation beside the other test arrays
(``attention`` in gen<k>.npz, shape (N, heads, grid rows, grid cols)); the head mean is taken where they are shown
or exported, not stored twice. Models without attention (MLP, CNN) give no maps.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

ARRAY = "attention"  # the key in a generation's arrays


def attention_source(model: nn.Module):
    """The module computing ``cls_attention``: the model itself, or the backbone a label-free method wraps."""
    for candidate in (model, getattr(model, "backbone", None)):
        if candidate is not None and hasattr(candidate, "cls_attention"):
            return candidate
    return None


@torch.no_grad()
def attention_arrays(model: nn.Module, x: torch.Tensor, chunk: int = 1024) -> dict[str, np.ndarray]:
    """``{"attention": (N, heads, gh, gw) float32}`` for a ViT in eval mode; ``{}`` for a model without attention."""
    source = attention_source(model)
    if source is None:
        return {}
    was_training = source.training
    source.eval()
    maps = torch.cat([source.cls_attention(part) for part in x.split(chunk)])
    source.train(was_training)
    return {ARRAY: maps.cpu().numpy().astype(np.float32)}

