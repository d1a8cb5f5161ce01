"""The configured optimizer and gradient clipping, shared by every method."""
from __future__ import annotations

from typing import Iterable

import torch

from core.config import TrainConfig


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer. Adam and AdamW use their fused kernel: one call per step instead of several
    small ops per parameter tensor, which dominate a small model's step on a CPU (bench/RESULTS.md).
    A weight decay with Adam is decoupled (AdamW), not an L2 penalty added to the loss."""
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    return torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, fused=True) if cfg.weight_decay \
        else torch.optim.Adam(params, lr=cfg.lr, fused=True)


def clip_gradients(parameters: Iterable[torch.Tensor], max_norm: float) -> None:
    """Scale the gradients of ``parameters`` down to total norm ``max_norm`` when above it (0 disables clipping).

    On CPU reading the norm waits for nothing, so the rescale is skipped when it would multiply by 1;
    on an accelerator the norm stays on the device (no per-step sync).
    """
    if max_norm <= 0:
        return
    params = [p for p in parameters if p.grad is not None]
    if not params:
        return
    total = torch.nn.utils.get_total_norm([p.grad for p in params])
    if total.device.type != "cpu" or total.item() + 1e-6 > max_norm:  # clip_grads_with_norm_ scales by
        torch.nn.utils.clip_grads_with_norm_(params, max_norm, total)  # min(1, max_norm / (total + 1e-6))
