"""Born-again training of N seeds of the plain MLP at once: one stacked model, one hand-derived step.

Why it exists: one seed's step of the digits MLP is ~20 small tensor operations whose cost is mostly overhead
(core.methods.ban_step). Stacking N seeds along a leading dimension runs the same ~20 operations on N times the
data (``torch.baddbmm``/``torch.bmm``), so N seeds cost far less than N single runs (bench/RESULTS.md,
``seed_batch_speedup``).

Each seed stays the run it would be alone: its model is built (and initialised) exactly as a single run builds it,
its own split, label noise and batch order (its generator, seeded seed·1000 + generation) are used, its gradient
is clipped by its own norm, and the optimizer (Adam, AdamW, SGD: all elementwise) updates its rows only. So seed k
of a group reproduces a single run with seed k up to float round-off (tests/test_batched_step.py).

Layout: one flat parameter buffer, parameter-major: each layer's weight of all N seeds is one contiguous [N, out,
in] block (then its bias [N, out]), so every batched matmul reads and writes contiguous memory and the optimizer
runs once per step over one tensor. The gradient formulas are those of core.methods.ban_step, over the last dim.

A seed whose loss turns NaN or infinite fails alone: its rows are zeroed and it stops reporting; the others go on.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from core.config import TrainConfig
from core.engine.context import GenerationContext, TrainingDiverged, batch_slices
from core.engine.optim import LrSchedule, make_optimizer
from core.methods import ban_step
from core.models.inference import predict_logits


def supports(ctxs: list[GenerationContext], models: list[nn.Module]) -> bool:
    """True when every model has the hand-derived step and the seeds' splits have equal sizes (they stack)."""
    if not models or not all(ban_step.supports(m) for m in models):
        return False
    shapes = {(tuple(c.tensors.x_train.shape), tuple(c.tensors.x_test.shape),
               None if c.tensors.x_val is None else tuple(c.tensors.x_val.shape)) for c in ctxs}
    return len(shapes) == 1


def _layers(model: nn.Module) -> list[nn.Linear]:
    return [m for m in model.body if isinstance(m, nn.Linear)] + [model.head]


class StackedMLP:
    """N seeds' MLP weights in one flat buffer ([N, out, in] blocks) with its optimizer."""

    def __init__(self, models: list[nn.Module], cfg: TrainConfig):
        self.n = len(models)
        per_seed = [[p for layer in _layers(m) for p in (layer.weight, layer.bias)] for m in models]
        shapes = [p.shape for p in per_seed[0]]
        first = per_seed[0][0]
        total = sum(self.n * p.numel() for p in per_seed[0])
        self.flat = nn.Parameter(torch.empty(total, dtype=first.dtype, device=first.device))
        self.flat.grad = torch.zeros_like(self.flat)
        self.blocks, self.grads = [], []
        offset = 0
        with torch.no_grad():
            for i, shape in enumerate(shapes):
                size = self.n * shape.numel()
                block = self.flat.data[offset: offset + size].view(self.n, *shape)
                block.copy_(torch.stack([seed[i].detach() for seed in per_seed]))
                self.blocks.append(block)
                self.grads.append(self.flat.grad[offset: offset + size].view(self.n, *shape))
                offset += size
        self.weights, self.biases = self.blocks[0::2], self.blocks[1::2]
        self.weight_grads, self.bias_grads = self.grads[0::2], self.grads[1::2]
        self.optimizer = make_optimizer([self.flat], cfg)
        self.max_norm = cfg.grad_clip

    @torch.no_grad()
    def logits(self, x: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
        """[N, B, K] logits of inputs [N, B, D] (each seed its own rows), in chunks along B."""
        return torch.cat([self._forward(part)[-1] for part in x.split(chunk, dim=1)], dim=1)

    def _forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The input of each Linear layer, then the logits."""
        outs = [x]
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            outs.append(torch.baddbmm(bias[:, None, :], outs[-1], weight.transpose(1, 2)).relu_())
        outs.append(torch.baddbmm(self.biases[-1][:, None, :], outs[-1], self.weights[-1].transpose(1, 2)))
        return outs

    @torch.no_grad()
    def step(self, x: torch.Tensor, labels: torch.Tensor, targets: "SoftTargets | None",
             temperature: float, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Update every seed on its batch (x [N, B, D], labels [N, B]); ([N, 3] loss parts, [N, B] predictions)."""
        outs = self._forward(x)
        inputs, logits = outs[:-1], outs[-1]
        predictions = logits.argmax(2)  # before the loss scales the logits in place
        parts, grad = loss_and_logit_grad(logits, targets, labels, temperature, alpha)
        for i in range(len(self.weights) - 1, -1, -1):
            torch.bmm(grad.transpose(1, 2), inputs[i], out=self.weight_grads[i])
            torch.sum(grad, dim=1, out=self.bias_grads[i])
            if i:
                grad = torch.ops.aten.threshold_backward(torch.bmm(grad, self.weights[i]), inputs[i], 0)
        self._clip()
        self.optimizer.step()
        return parts, predictions

    def _clip(self) -> None:
        """Each seed's gradient scaled to norm ``max_norm`` when above it, as clip_grads_with_norm_ does alone."""
        if self.max_norm <= 0:
            return
        squares = sum(g.reshape(self.n, -1).square().sum(1) for g in self.grads)
        scale = (self.max_norm / (squares.sqrt() + 1e-6)).clamp_(max=1.0)
        for g in self.grads:
            g.mul_(scale.view(-1, *([1] * (g.dim() - 1))))

    @torch.no_grad()
    def drop(self, k: int) -> None:
        """Zero seed ``k``'s weights and optimizer state (it failed): no NaN is carried along."""
        for block in self.blocks:
            block[k].zero_()
        for value in self.optimizer.state[self.flat].values():
            if torch.is_tensor(value) and value.shape == self.flat.shape:
                offset = 0
                for block in self.blocks:
                    value[offset: offset + block.numel()].view_as(block)[k].zero_()
                    offset += block.numel()

    @torch.no_grad()
    def copy_into(self, k: int, model: nn.Module) -> None:
        """Write seed ``k``'s trained weights into its own model."""
        params = [p for layer in _layers(model) for p in (layer.weight, layer.bias)]
        for p, block in zip(params, self.blocks):
            p.data = block[k].clone()


@dataclass(frozen=True)
class SoftTargets:
    """A generation's teacher side of the KD loss, computed once over each seed's whole training split (the
    teacher is frozen and sees unaugmented inputs): p_T = softmax(teacher / T) [N, rows, K] and Σ_k p_T log p_T
    [N, rows]. A step then indexes its batch instead of recomputing two softmaxes of the same logits every epoch."""
    probs: torch.Tensor
    neg_entropy: torch.Tensor

    @classmethod
    def of(cls, teacher_logits: torch.Tensor, temperature: float) -> "SoftTargets":
        log_p_t = torch.log_softmax(teacher_logits / temperature, dim=2)
        probs = log_p_t.exp()
        return cls(probs, (probs * log_p_t).sum(dim=2))

    def rows(self, seeds: torch.Tensor, index: torch.Tensor) -> "SoftTargets":
        """The targets of rows ``index`` [N, R] of each seed (``seeds`` = arange(N)[:, None])."""
        return SoftTargets(self.probs[seeds, index], self.neg_entropy[seeds, index])

    def __getitem__(self, batch: slice) -> "SoftTargets":
        return SoftTargets(self.probs[:, batch], self.neg_entropy[:, batch])


def loss_and_logit_grad(logits: torch.Tensor, targets: SoftTargets | None, labels: torch.Tensor,
                        temperature: float, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """Per seed (total, CE, KD) [N, 3] and d total / d logits [N, B, K]: core.methods.ban_step's formulas, each
    seed's loss averaged over its own batch. KD = T² · mean (Σ p_T log p_T − Σ p_T log q_T); with alpha = 1 the CE
    term has no weight, so only its value is computed, not its gradient."""
    n, batch, _ = logits.shape
    log_q = torch.log_softmax(logits, dim=2)
    ce = -log_q.gather(2, labels[..., None]).squeeze(2).mean(1)  # [N]
    if targets is None or alpha < 1:
        grad = log_q.exp_()
        grad.scatter_add_(2, labels[..., None], torch.full((n, batch, 1), -1.0, dtype=grad.dtype,
                                                           device=grad.device))
        if targets is None:
            return torch.stack([ce, ce, torch.zeros_like(ce)], dim=1), grad.div_(batch)
    log_q_t = torch.log_softmax(logits.div_(temperature), dim=2)
    cross = torch.linalg.vecdot(targets.probs, log_q_t)  # Σ_k p_T log q_T, [N, B]
    kd = (targets.neg_entropy - cross).mean(1).mul_(temperature**2)
    kd_grad = log_q_t.exp_().sub_(targets.probs).mul_(temperature * alpha / batch)
    if alpha < 1:
        kd_grad.add_(grad.mul_((1 - alpha) / batch))
    return torch.stack([(1 - alpha) * ce + alpha * kd, ce, kd], dim=1), kd_grad


def _accuracy(stack: StackedMLP, x: torch.Tensor, y: torch.Tensor) -> list[float]:
    return (stack.logits(x).argmax(2) == y).float().mean(1).tolist()


def train_generations(ctxs: list[GenerationContext], models: list[nn.Module],
                      teachers: list[nn.Module | None]) -> list[Exception | None]:
    """Train one generation of every seed together (``supports`` must hold); each seed's epochs go to its own
    ``ctx.on_epoch`` and its trained weights into its own model. Returns per seed None or the TrainingDiverged that
    failed it; a cancel (RunCancelled) stops them all."""
    cfg, device, n = ctxs[0].config, ctxs[0].device, len(ctxs)
    tensors = [c.tensors for c in ctxs]
    x_train = torch.stack([t.x_train for t in tensors])
    y_train = torch.stack([t.y_train for t in tensors])
    x_test, y_test = torch.stack([t.x_test for t in tensors]), torch.stack([t.y_test for t in tensors])
    has_val = tensors[0].x_val is not None
    x_val = torch.stack([t.x_val for t in tensors]) if has_val else None
    y_val = torch.stack([t.y_val for t in tensors]) if has_val else None
    soft = None
    if teachers[0] is not None:  # each teacher is frozen and sees its own unaugmented split: once per generation
        logits = torch.stack([predict_logits(teacher, t.x_train) for teacher, t in zip(teachers, tensors)])
        soft = SoftTargets.of(logits, cfg.method.temperature)
    for model in models:
        model.to(device).train()
    stack = StackedMLP(models, cfg.train)
    rows = len(tensors[0].x_train)
    slices = batch_slices(rows, cfg.train.batch_size)
    lr_schedule = LrSchedule(stack.optimizer, cfg.train, len(slices))
    generators = [torch.Generator().manual_seed(c.config.seed * 1000 + c.generation) for c in ctxs]
    seeds = torch.arange(n, device=device)[:, None]
    errors: list[Exception | None] = [None] * n
    for epoch in range(cfg.train.epochs):
        order = torch.stack([torch.randperm(rows, generator=g) for g in generators]).to(device)
        x, y = x_train[seeds, order], y_train[seeds, order]
        targets = soft.rows(seeds, order) if soft is not None else None
        parts, predictions = [], []
        for batch in slices:
            ctxs[0].check_stop()
            lr_schedule.before_step()
            batch_parts, batch_predictions = stack.step(x[:, batch], y[:, batch],
                                                        None if targets is None else targets[batch],
                                                        cfg.method.temperature, cfg.method.alpha)
            parts.append(batch_parts)
            predictions.append(batch_predictions)
        sizes = torch.tensor([s.stop - s.start for s in slices], dtype=torch.float32, device=device)
        sums = (torch.stack(parts) * sizes[:, None, None]).sum(0).tolist()  # [N][3]
        correct = (torch.cat(predictions, dim=1) == y).sum(1).tolist()
        test_acc = _accuracy(stack, x_test, y_test)
        val_acc = _accuracy(stack, x_val, y_val) if has_val else None
        for k, ctx in enumerate(ctxs):
            if errors[k] is not None:
                continue
            losses = {"loss": sums[k][0] / rows, "ce": sums[k][1] / rows, "kd": sums[k][2] / rows}
            try:
                ctx.check_finite(epoch, losses)
            except TrainingDiverged as exc:
                errors[k] = exc
                stack.drop(k)
                continue
            scores = {"train_accuracy": correct[k] / rows, "test_accuracy": test_acc[k]}
            if has_val:
                scores["val_accuracy"] = val_acc[k]
            ctx.on_epoch(epoch, {**losses, **scores})
        if all(e is not None for e in errors):
            break
    for k, model in enumerate(models):
        if errors[k] is None:
            stack.copy_into(k, model)
    return errors
