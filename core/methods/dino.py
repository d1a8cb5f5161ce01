"""Label-free self-distillation in the style of DINO (Caron et al. 2021): a student matches a teacher across views.

Generation 0: the teacher is an exponential moving average (EMA) of the student, backbone and projection head.
Generation k ≥ 1: a fresh student learns from generation k−1, frozen (the label-free born-again step).
Either way the teacher's outputs are centered (a running mean subtracted) and sharpened (a low temperature);
the student's cross-entropy to them is averaged over every (teacher view, other student view) pair.
No label is read for training; labels appear only in the per-epoch k-NN monitor.
"""
from __future__ import annotations

import copy
import math

import torch
import torch.nn.functional as F
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from core.evaluation import metrics as evaluate
from core import catalog
from core.data.augment import FRAGMENT_SIDE, ImageViewSpec, image_specs, make_views
from core.data.spoken_views import speech_specs
from core.config import MethodConfig, RunConfig
from core.data.splits import Dataset
from core.models import build_model as build_backbone
from core.engine.context import GenerationContext, batch_slices, index_batches
from core.engine.optim import LrSchedule, clip_gradients, make_optimizer
from core.models.inference import predict_features

N_GLOBAL = 2  # global views: the teacher sees these only
BOTTLENECK = 64  # width of the L2-normalised layer before the K outputs
HEAD_LAYERS = 2  # linear layers of the projection MLP (2 beat 3 and 1 for k-NN on digits)


# ---- the pure pieces -----------------------------------------------------------------------------------------
def teacher_probs(teacher_out: torch.Tensor, center: torch.Tensor, teacher_temp: float) -> torch.Tensor:
    """softmax((t − center) / teacher_temp), without gradient: the centered, sharpened target."""
    return F.softmax((teacher_out.detach() - center) / teacher_temp, dim=-1)


def dino_loss(student_out: list[torch.Tensor], teacher_out: list[torch.Tensor], center: torch.Tensor,
              teacher_temp: float, student_temp: float) -> torch.Tensor:
    """Mean over pairs (teacher view i, student view v ≠ i) of the per-sample mean of −Σ_k p_ik · log q_vk."""
    targets = [teacher_probs(t, center, teacher_temp) for t in teacher_out]  # each (B, K)
    log_q = [F.log_softmax(s / student_temp, dim=-1) for s in student_out]  # each (B, K), global views first
    terms = [-(p * log_q[v]).sum(-1).mean() for i, p in enumerate(targets) for v in range(len(log_q)) if v != i]
    return torch.stack(terms).mean()


@torch.no_grad()
def update_center(center: torch.Tensor, teacher_out: list[torch.Tensor], momentum: float) -> torch.Tensor:
    """momentum · center + (1 − momentum) · mean of the teacher outputs over every global view and sample."""
    batch_mean = torch.cat(teacher_out).mean(0)  # (K,)
    return momentum * center + (1 - momentum) * batch_mean


def ema_momentum_at(step: int, total_steps: int, base: float) -> float:
    """Cosine schedule: ``base`` at step 0, rising to 1 at ``total_steps``."""
    return 1 - (1 - base) * (math.cos(math.pi * min(step / max(total_steps, 1), 1.0)) + 1) / 2


def teacher_temp_at(epoch: int, cfg: MethodConfig) -> float:
    """Linear warm-up from ``warmup_teacher_temp`` (epoch 0) to ``teacher_temp`` (epoch ``warmup_..._epochs``)."""
    if epoch >= cfg.warmup_teacher_temp_epochs:
        return cfg.teacher_temp
    fraction = epoch / cfg.warmup_teacher_temp_epochs
    return cfg.warmup_teacher_temp + fraction * (cfg.teacher_temp - cfg.warmup_teacher_temp)


# ---- the networks --------------------------------------------------------------------------------------------
class ProjectionHead(nn.Module):
    """features → MLP → bottleneck → L2-normalise → weight-normalised linear layer with K outputs."""

    def __init__(self, in_dim: int, out_dim: int, hidden: int, bottleneck: int = BOTTLENECK,
                 layers: int = HEAD_LAYERS):
        super().__init__()
        widths = [in_dim] + [hidden] * (layers - 1) + [bottleneck]
        blocks: list[nn.Module] = []
        for a, b in zip(widths, widths[1:]):
            blocks += [nn.Linear(a, b), nn.GELU()]
        self.mlp = nn.Sequential(*blocks[:-1])  # no activation after the bottleneck
        self.last = weight_norm(nn.Linear(bottleneck, out_dim, bias=False))
        magnitude = self.last.parametrizations.weight.original0  # (K, 1), the norm of each output's weights
        magnitude.data.fill_(1.0)
        magnitude.requires_grad_(False)  # fixed unit norms: only the directions learn (DINO's norm_last_layer)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        z = F.normalize(self.mlp(features), dim=-1)  # (B, bottleneck) on the unit sphere
        return self.last(z)  # (B, K)


class DinoNet(nn.Module):
    """A backbone from core.models (its classifier removed) and a projection head; ``features`` is the backbone's."""

    def __init__(self, backbone: nn.Module, out_dim: int):
        super().__init__()
        backbone.head = nn.Identity()  # the classification head is never trained without labels
        self.backbone = backbone
        self.head = ProjectionHead(backbone.feature_dim, out_dim, hidden=backbone.feature_dim, layers=HEAD_LAYERS)
        self.feature_dim = backbone.feature_dim

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.backbone.features(x)  # (B, hidden)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))  # (B, K)


def build_model(config: RunConfig, data: Dataset) -> nn.Module:
    backbone = build_backbone(config.model, data.n_features, data.n_classes, data.image_shape)
    return DinoNet(backbone, config.method.out_dim)


@torch.no_grad()
def ema_update(teacher: nn.Module, student: nn.Module, momentum: float) -> None:
    """teacher ← momentum · teacher + (1 − momentum) · student, parameter by parameter."""
    for t, s in zip(teacher.parameters(), student.parameters()):
        t.mul_(momentum).add_(s.detach(), alpha=1 - momentum)


# ---- one generation ------------------------------------------------------------------------------------------
def train_generation(ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None) -> dict:
    """Train ``model`` label-free; on return it holds the weights whose features are evaluated.

    Without a ``teacher`` (generation 0) an EMA copy of ``model`` teaches, and its weights are the ones kept: on
    digits its k-NN accuracy was at least the student's on every seed tried.
    With a frozen ``teacher`` (the previous generation) the student itself is kept.
    With ``method.keep_best_val_knn`` the kept weights are those of the epoch whose features scored the best
    validation k-NN (early stopping on the validation split: on spoken digits that k-NN peaks at epochs 4-8 of 10
    and then falls); the extras' metrics carry that epoch as ``best_val_epoch``.
    """
    cfg, m, x = ctx.config, ctx.config.method, ctx.tensors.x_train
    model.to(ctx.device).train()
    use_ema = teacher is None
    if use_ema:
        teacher = _ema_copy(model)
    optimizer = make_optimizer([p for p in model.parameters() if p.requires_grad], cfg.train)
    steps_per_epoch = len(batch_slices(len(x), cfg.train.batch_size))
    lr_schedule = LrSchedule(optimizer, cfg.train, steps_per_epoch)
    specs = speech_specs(m) if catalog.dataset(cfg.data.name).speech else view_specs(m)  # SpecAugment for words
    batch_generator = torch.Generator().manual_seed(cfg.seed * 1000 + ctx.generation)
    view_generator = torch.Generator().manual_seed(cfg.seed * 1000 + ctx.generation + 500)
    center = torch.zeros(m.out_dim, device=ctx.device)
    total_steps = cfg.train.epochs * steps_per_epoch
    step, momentum, entropies = 0, 1.0, []  # momentum 1: a frozen teacher does not move
    keep_best = m.keep_best_val_knn and ctx.data.has_validation
    best_val, best_epoch, best_state = -1.0, None, None
    for epoch in range(cfg.train.epochs):
        temp = teacher_temp_at(epoch, m)
        loss_sum, targets, answers = 0.0, [], []
        for idx in index_batches(len(x), cfg.train.batch_size, batch_generator, ctx.device):
            ctx.check_stop()
            views = make_views(x[idx], ctx.data.image_shape, N_GLOBAL, m.local_views, view_generator, specs)
            lr_schedule.before_step()
            loss, teacher_out, student_out = _train_step(model, teacher, views, center, temp, m, optimizer,
                                                         cfg.train.grad_clip, freeze_last_layer=epoch == 0)
            if use_ema:
                momentum = ema_momentum_at(step, total_steps, m.ema_momentum)
                ema_update(teacher, model, momentum)
            targets.append(torch.cat([teacher_probs(t, center, temp) for t in teacher_out]))
            # the student's answer to each teacher view is its output on the other global view
            answers.append(torch.cat([F.softmax(s / m.student_temp, -1) for s in student_out[1::-1]]))
            if m.centering:
                center = update_center(center, teacher_out, m.center_momentum)
            loss_sum += loss * len(idx)
            step += 1
        dino = loss_sum / len(x)
        ctx.check_finite(epoch, {"dino": dino})
        evaluated = teacher if use_ema else model
        monitors = _monitors(ctx, evaluated, torch.cat(targets), torch.cat(answers))
        entropies.append(monitors["teacher_entropy"])
        ctx.on_epoch(epoch, {"loss": dino, "dino": dino, **monitors, "teacher_temp": temp, "ema_momentum": momentum})
        if keep_best and monitors["val_knn_accuracy"] > best_val:
            best_val, best_epoch = monitors["val_knn_accuracy"], epoch
            best_state = copy.deepcopy(evaluated.state_dict())
    if use_ema:
        model.load_state_dict(teacher.state_dict())
    if best_state is not None:
        model.load_state_dict(best_state)
    floor = evaluate.effective_rank_floor(ctx.baselines.get("random_init_effective_rank"))
    warnings = evaluate.detect_collapse(ctx.epoch_history, m.out_dim, floor,
                                        evaluate.collapse_advice(m.centering, cfg.model.batch_norm))
    return {"warnings": warnings, "metrics": {"best_val_epoch": best_epoch} if keep_best else {}}


def view_specs(m: MethodConfig) -> tuple[ImageViewSpec, ImageViewSpec]:
    """The (global, local) image view specs the config asks for (the defaults give augment's own)."""
    return image_specs(shift=m.view_shift, crop=(m.view_crop_min, m.view_crop_max),
                       fragment=FRAGMENT_SIDE if m.view_fragment else 0)


def _ema_copy(model: nn.Module) -> nn.Module:
    """A gradient-free copy that will follow the student. It stays in train mode, so batch norm normalises with
    the batch's statistics as in the student, and its running statistics track its own weights."""
    teacher = copy.deepcopy(model)
    for p in teacher.parameters():
        p.requires_grad_(False)
    return teacher


def _train_step(model: nn.Module, teacher: nn.Module, views: list[torch.Tensor], center: torch.Tensor, temp: float,
                m: MethodConfig, optimizer: torch.optim.Optimizer, grad_clip: float,
                freeze_last_layer: bool) -> tuple[float, list[torch.Tensor], list[torch.Tensor]]:
    """One optimizer step of the student; returns the loss and both networks' outputs (detached)."""
    with torch.no_grad():
        teacher_out = list(teacher(torch.cat(views[:N_GLOBAL])).chunk(N_GLOBAL))  # N_GLOBAL × (B, K)
    student_out = list(model(torch.cat(views)).chunk(len(views)))  # (N_GLOBAL + local) × (B, K)
    loss = dino_loss(student_out, teacher_out, center, temp, m.student_temp)
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    if freeze_last_layer:  # the last layer waits one epoch, while the rest of the head settles
        for p in model.head.last.parameters():
            p.grad = None
    clip_gradients(model.parameters(), grad_clip)
    optimizer.step()
    return loss.item(), teacher_out, [s.detach() for s in student_out]


def _monitors(ctx: GenerationContext, evaluated: nn.Module, targets: torch.Tensor, answers: torch.Tensor) -> dict:
    """Collapse monitors of one epoch (teacher targets vs the student's answers) and a k-NN of the features."""
    p, q = targets.cpu().numpy(), answers.cpu().numpy()
    test_features = predict_features(evaluated, ctx.tensors.x_test).cpu()
    train_features = predict_features(evaluated, ctx.tensors.x_train).cpu()
    # Evaluation only: clean labels score the features; nothing computed here flows back into training.
    k, knn_t = ctx.config.eval.knn_k, ctx.config.eval.knn_temperature
    knn = evaluate.knn_accuracy(train_features, ctx.data.y_train_clean, test_features, ctx.data.y_test,
                                k=k, temperature=knn_t)
    val = {}
    if ctx.data.has_validation:
        val_features = predict_features(evaluated, ctx.tensors.x_val).cpu()
        val["val_knn_accuracy"] = evaluate.knn_accuracy(train_features, ctx.data.y_train_clean, val_features,
                                                        ctx.data.y_val_clean, k=k, temperature=knn_t)
    floor = evaluate.effective_rank_floor(ctx.baselines.get("random_init_effective_rank"))
    return {
        "teacher_entropy": evaluate.mean_entropy(p),
        "log_k": math.log(p.shape[1]),
        "kl_teacher_student": evaluate.kl_divergence(p, q),
        "feature_std": evaluate.normalized_feature_std(test_features),
        "feature_std_reference": 1 / math.sqrt(test_features.shape[1]),
        "argmax_dims_used": evaluate.argmax_dims_used(p),
        "argmax_share": evaluate.argmax_dims_used(p) / p.shape[1],
        "argmax_top_share": evaluate.argmax_top_share(p),
        "feature_effective_rank": evaluate.effective_rank(test_features),
        **({"feature_effective_rank_floor": floor} if floor is not None else {}),
        "knn_accuracy": knn,
        **val,
    }
