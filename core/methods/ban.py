"""Born-again networks (Furlanello et al. 2018): generation k+1 learns from generation k's softened outputs."""
from __future__ import annotations

from typing import Callable

import torch
import torch.nn.functional as F
from torch import nn

from core.methods import ban_step as mlp_step
from core.data.splits import Dataset
from core.config import RunConfig, TrainConfig
from core.models import build_model as build_classifier
from core.engine.context import GenerationContext, batch_slices
from core.engine.optim import LrSchedule, clip_gradients, make_optimizer
from core.models.inference import predict_logits



def kd_loss_parts(student_logits: torch.Tensor, teacher_logits: torch.Tensor | None, labels: torch.Tensor,
                  temperature: float, alpha: float) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """(total, CE, T²·KL): KL(softmax(teacher/T) ‖ softmax(student/T)) summed over classes, averaged over samples."""
    ce = F.cross_entropy(student_logits, labels)
    if teacher_logits is None:
        return ce, ce, torch.zeros((), device=ce.device)
    log_q = F.log_softmax(student_logits / temperature, dim=1)  # (B, K) student
    log_p = F.log_softmax(teacher_logits / temperature, dim=1)  # (B, K) teacher
    kl = (log_p.exp() * (log_p - log_q)).sum(dim=1).mean()
    kd = temperature**2 * kl
    return (1 - alpha) * ce + alpha * kd, ce, kd


def build_model(config: RunConfig, data: Dataset) -> nn.Module:
    return build_classifier(config.model, data.n_features, data.n_classes, data.image_shape)


def train_generation(ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None,
                     fast_step: bool = True) -> dict:
    """Train one generation: labels only for generation 0, the frozen teacher's soft targets after.
    ``fast_step`` uses the hand-derived step (core.methods.ban_step) where the model allows it; False forces autograd."""
    t = ctx.tensors
    model.to(ctx.device).train()
    step = make_step(model, ctx.config.train, fast_step)
    lr_schedule = LrSchedule(step.optimizer, ctx.config.train, len(batch_slices(len(t.x_train), ctx.config.train.batch_size)))
    # The teacher is frozen and sees unaugmented inputs, so its logits are computed once for the whole split.
    teacher_logits = predict_logits(teacher, t.x_train) if teacher is not None else None
    generator = torch.Generator().manual_seed(ctx.config.seed * 1000 + ctx.generation)
    for epoch in range(ctx.config.train.epochs):
        order = torch.randperm(len(t.x_train), generator=generator).to(ctx.device)
        losses, correct = _train_epoch(ctx, step, order, teacher_logits, lr_schedule)
        ctx.check_finite(epoch, losses)
        test_acc = (predict_logits(model, t.x_test).argmax(1) == t.y_test).float().mean().item()
        scores = {"train_accuracy": correct / len(order), "test_accuracy": test_acc}
        if t.x_val is not None:  # against the given (possibly noisy) validation labels
            scores["val_accuracy"] = (predict_logits(model, t.x_val).argmax(1) == t.y_val).float().mean().item()
        ctx.on_epoch(epoch, {**losses, **scores})
    return {}


Step = Callable[[torch.Tensor, torch.Tensor, "torch.Tensor | None", float, float], tuple[torch.Tensor, torch.Tensor]]


def make_step(model: nn.Module, cfg: TrainConfig, fast: bool = True) -> Step:
    """A function (x, labels, teacher logits or None, T, alpha) -> ((total, CE, KD), logits) that updates the
    model on one batch: the hand-derived MLP step where supported, else autograd with the configured optimizer.
    Either way the step's ``optimizer`` attribute is the optimizer it steps (a learning-rate schedule sets its lr)."""
    if fast and mlp_step.supports(model):
        return mlp_step.MLPStep(model, cfg)
    optimizer = make_optimizer(model.parameters(), cfg)

    def autograd_step(x, labels, teacher_logits, temperature, alpha):
        logits = model(x)  # (B, K)
        loss, ce, kd = kd_loss_parts(logits, teacher_logits, labels, temperature, alpha)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        clip_gradients(model.parameters(), cfg.grad_clip)
        optimizer.step()
        return torch.stack([loss.detach(), ce.detach(), kd.detach()]), logits.detach()

    autograd_step.optimizer = optimizer
    return autograd_step


def _train_epoch(ctx: GenerationContext, step: Step, order: torch.Tensor, teacher_logits: torch.Tensor | None,
                 lr_schedule: LrSchedule) -> tuple[dict[str, float], int]:
    """One pass over the training split in ``order``: the mean loss parts and the count of correct predictions."""
    cfg, t = ctx.config, ctx.tensors
    # One gather per epoch: each batch is then a slice (a view), not an indexed copy.
    x, y = t.x_train[order], t.y_train[order]
    soft = teacher_logits[order] if teacher_logits is not None else None
    parts, outputs = [], []  # per batch (loss, ce, kd) and logits, summed once per epoch instead of every step
    for batch in batch_slices(len(order), cfg.train.batch_size):
        ctx.check_stop()
        lr_schedule.before_step()
        batch_parts, logits = step(x[batch], y[batch], None if soft is None else soft[batch],
                                   cfg.method.temperature, cfg.method.alpha)
        parts.append(batch_parts)
        outputs.append(logits)
    sizes = torch.tensor([len(o) for o in outputs], dtype=torch.float32, device=ctx.device)
    loss_sum, ce_sum, kd_sum = (torch.stack(parts) * sizes[:, None]).sum(0).tolist()
    correct = int((torch.cat(outputs).argmax(1) == y).sum())
    n = len(order)
    return {"loss": loss_sum / n, "ce": ce_sum / n, "kd": kd_sum / n}, correct
