"""Born-again networks (Furlanello et al. 2018): generation k+1 learns from generation k's softened outputs."""
from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from core.data import Dataset
from core.config import RunConfig
from core.models import build_model as build_classifier
from core.training import GenerationContext, clip_gradients, index_batches, make_optimizer, predict_logits

SUPERVISED = True
LOSS_PARTS = ("ce", "kd")


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


def kd_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, labels: torch.Tensor,
            temperature: float, alpha: float) -> torch.Tensor:
    """(1−alpha)·CE(student, labels) + alpha·T²·KL(teacher_T ‖ student_T)."""
    return kd_loss_parts(student_logits, teacher_logits, labels, temperature, alpha)[0]


def build_model(config: RunConfig, data: Dataset) -> nn.Module:
    return build_classifier(config.model, data.n_features, data.n_classes, data.image_shape)


def train_generation(ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None) -> dict:
    """Train one generation: labels only for generation 0, the frozen teacher's soft targets after."""
    cfg, t = ctx.config, ctx.tensors
    model.to(ctx.device).train()
    optimizer = make_optimizer(model.parameters(), cfg.train)
    # The teacher is frozen and sees unaugmented inputs, so its logits are computed once for the whole split.
    teacher_logits = predict_logits(teacher, t.x_train) if teacher is not None else None
    generator = torch.Generator().manual_seed(cfg.seed * 1000 + ctx.generation)
    temperature, alpha = cfg.method.temperature, cfg.method.alpha
    for epoch in range(cfg.train.epochs):
        sums = torch.zeros(4, device=ctx.device)  # loss, ce, kd, correct
        for idx in index_batches(len(t.x_train), cfg.train.batch_size, generator, ctx.device):
            ctx.check_stop()
            logits = model(t.x_train[idx])
            target = teacher_logits[idx] if teacher_logits is not None else None
            loss, ce, kd = kd_loss_parts(logits, target, t.y_train[idx], temperature, alpha)
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            clip_gradients(model, cfg.train.grad_clip)
            optimizer.step()
            n = len(idx)
            sums += torch.stack([loss.detach() * n, ce.detach() * n, kd.detach() * n,
                                 (logits.argmax(1) == t.y_train[idx]).sum()])
        loss_sum, ce_sum, kd_sum, correct = sums.tolist()
        n_train = len(t.x_train)
        losses = {"loss": loss_sum / n_train, "ce": ce_sum / n_train, "kd": kd_sum / n_train}
        ctx.check_finite(epoch, losses)
        test_acc = (predict_logits(model, t.x_test).argmax(1) == t.y_test).float().mean().item()
        ctx.on_epoch(epoch, {**losses, "train_accuracy": correct / n_train, "test_accuracy": test_acc})
    return {}
