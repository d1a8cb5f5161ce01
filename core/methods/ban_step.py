"""A hand-derived training step for the plain MLP (Linear + ReLU layers, no batch norm) under the born-again loss.

Why it exists: at batch 64 on a CPU, an autograd step of the digits MLP is mostly overhead, not arithmetic: the
graph, a fresh gradient tensor per parameter, elementwise ops on boolean masks, an optimizer pass per parameter
tensor. This step does the forward pass, the gradient of the loss with respect to the logits (derived below) and
the backward pass in about 20 tensor operations, writing every gradient into one flat buffer. The parameters are
rebound as views of one flat tensor too, so the optimizer, the gradient norm and the clipping each run once per
step over a single tensor: the same update as per-parameter Adam/AdamW/SGD, which are all elementwise.

bench/RESULTS.md (``trainer_fast_step_over_autograd``) measures it against the autograd step.
tests/test_mlp_step.py checks the loss parts and the gradients against autograd on
``core.methods.ban.kd_loss_parts``, and whole training runs against the autograd path.

Gradient of the loss with respect to the student's logits z (B samples, K classes, q = softmax(z),
q_T = softmax(z/T), p_T = softmax(teacher/T), y one-hot):
    CE = −mean log q[y]                    dCE/dz = (q − y) / B
    KD = T² · mean Σ_k p_T (log p_T − log q_T)  dKD/dz = T · (q_T − p_T) / B
    loss = (1 − alpha)·CE + alpha·KD (CE alone for generation 0).
"""
from __future__ import annotations

import torch
from torch import nn

from core.config import TrainConfig
from core.models.mlp import MLP
from core.engine.optim import clip_gradients, make_optimizer


def supports(model: nn.Module) -> bool:
    """True for an MLP made only of Linear and ReLU layers (batch norm needs its own backward: autograd does it)."""
    return isinstance(model, MLP) and all(isinstance(layer, (nn.Linear, nn.ReLU)) for layer in model.body)


def flatten_parameters(model: nn.Module) -> tuple[nn.Parameter, torch.Tensor]:
    """Copy the model's parameters into one flat tensor and rebind each parameter as a view of it; give each a
    gradient that is a view of one flat gradient buffer. Returns (the flat parameter, the flat gradient)."""
    params = list(model.parameters())
    first = params[0]
    flat = torch.empty(sum(p.numel() for p in params), dtype=first.dtype, device=first.device)
    grad = torch.zeros_like(flat)
    offset = 0
    for p in params:
        n = p.numel()
        flat[offset: offset + n].copy_(p.detach().reshape(-1))
        p.data = flat[offset: offset + n].view_as(p)
        p.grad = grad[offset: offset + n].view_as(p)
        offset += n
    flat_param = nn.Parameter(flat)
    flat_param.grad = grad
    return flat_param, grad


def loss_and_logit_grad(logits: torch.Tensor, teacher_logits: torch.Tensor | None, labels: torch.Tensor,
                        temperature: float, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
    """((total, CE, KD) as one tensor of 3, d total / d logits), by the formulas in the module's docstring."""
    batch = logits.shape[0]
    log_q = torch.log_softmax(logits, dim=1)
    ce = -log_q.gather(1, labels[:, None]).mean()
    grad = log_q.exp_()  # q; then q − y
    grad.scatter_add_(1, labels[:, None], torch.full((batch, 1), -1.0, dtype=grad.dtype, device=grad.device))
    if teacher_logits is None:
        return torch.stack([ce, ce, torch.zeros_like(ce)]), grad.div_(batch)
    log_q_t = torch.log_softmax(logits / temperature, dim=1)
    log_p_t = torch.log_softmax(teacher_logits / temperature, dim=1)
    p_t = log_p_t.exp()
    kd = temperature**2 * (p_t * (log_p_t - log_q_t)).sum(dim=1).mean()
    kd_grad = log_q_t.exp_().sub_(p_t).mul_(temperature * alpha / batch)
    grad = grad.mul_((1 - alpha) / batch).add_(kd_grad)
    return torch.stack([(1 - alpha) * ce + alpha * kd, ce, kd]), grad


class MLPStep:
    """One optimisation step of a supported MLP (see ``supports``); owns the model's optimizer."""

    def __init__(self, model: MLP, cfg: TrainConfig):
        if not supports(model):
            raise ValueError("MLPStep needs an MLP of Linear and ReLU layers only")
        layers = [m for m in model.body if isinstance(m, nn.Linear)] + [model.head]
        self.weights = [layer.weight for layer in layers]
        self.biases = [layer.bias for layer in layers]
        self.flat, self.grad = flatten_parameters(model)
        self.optimizer = make_optimizer([self.flat], cfg)
        self.max_norm = cfg.grad_clip

    @torch.no_grad()
    def __call__(self, x: torch.Tensor, labels: torch.Tensor, teacher_logits: torch.Tensor | None,
                 temperature: float, alpha: float) -> tuple[torch.Tensor, torch.Tensor]:
        """Update the parameters on one batch; returns ((total, CE, KD), the logits before the update)."""
        inputs = [x]  # the input of each Linear layer
        for weight, bias in zip(self.weights[:-1], self.biases[:-1]):
            inputs.append(torch.addmm(bias, inputs[-1], weight.t()).relu_())
        logits = torch.addmm(self.biases[-1], inputs[-1], self.weights[-1].t())
        parts, grad = loss_and_logit_grad(logits, teacher_logits, labels, temperature, alpha)
        for i in range(len(self.weights) - 1, -1, -1):
            torch.mm(grad.t(), inputs[i], out=self.weights[i].grad)
            torch.sum(grad, dim=0, out=self.biases[i].grad)
            if i:  # through the Linear, then through the ReLU (zero where its output was zero)
                grad = torch.ops.aten.threshold_backward(grad.mm(self.weights[i]), inputs[i], 0)
        clip_gradients([self.flat], self.max_norm)  # the flat parameter holds every gradient
        self.optimizer.step()
        return parts, logits
