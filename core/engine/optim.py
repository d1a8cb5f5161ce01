"""The configured optimizer, its learning-rate schedule and gradient clipping, shared by every method."""
from __future__ import annotations

import math
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


def lr_at(step: int, total_steps: int, warmup_steps: int, base_lr: float, schedule: str) -> float:
    """The learning rate of optimizer step ``step`` (0-based) out of ``total_steps``.

    Warm-up: step s < ``warmup_steps`` gets base_lr · (s + 1) / warmup_steps, a linear rise from near 0 whose last
    warm-up step reaches base_lr (no step is spent at lr 0). After it, ``constant`` keeps base_lr and ``cosine``
    decays as base_lr · (1 + cos(π · p)) / 2, p = (s − warmup_steps) / (total_steps − warmup_steps) running from 0
    at the first step after the warm-up towards 1 at ``total_steps`` (the last step's lr is small, not 0).
    """
    if step < warmup_steps:
        return base_lr * (step + 1) / warmup_steps
    if schedule == "constant":
        return base_lr
    if schedule != "cosine":
        raise ValueError(f"unknown learning-rate schedule {schedule!r}: constant or cosine")
    progress = min((step - warmup_steps) / max(total_steps - warmup_steps, 1), 1.0)
    return base_lr * (1 + math.cos(math.pi * progress)) / 2


class LrSchedule:
    """Sets an optimizer's learning rate before each of its steps, following ``lr_at`` over a whole generation
    (``train.epochs`` × ``steps_per_epoch`` steps, the first ``train.warmup_epochs`` of them warming up)."""

    def __init__(self, optimizer: torch.optim.Optimizer, cfg: TrainConfig, steps_per_epoch: int):
        self.optimizer = optimizer
        self.base_lr, self.schedule = cfg.lr, cfg.schedule
        self.total_steps = cfg.epochs * steps_per_epoch
        self.warmup_steps = min(cfg.warmup_epochs * steps_per_epoch, self.total_steps)
        self.step_index = 0

    def before_step(self) -> float:
        """Set the lr of the coming optimizer step on every parameter group and move on; returns that lr."""
        lr = lr_at(self.step_index, self.total_steps, self.warmup_steps, self.base_lr, self.schedule)
        for group in self.optimizer.param_groups:
            group["lr"] = lr
        self.step_index += 1
        return lr
