"""Arithmetic floor of training: matmul FLOPs counted from the layers, over the machine's measured matmul rate."""
from __future__ import annotations

import torch
from torch import nn

from bench.measure import seconds


def forward_flops(model: nn.Module, example: torch.Tensor) -> int:
    """Matmul FLOPs (2 per multiply-add) of one sample's forward pass, from its Linear and Conv2d layers."""
    counts: list[int] = []

    def linear(layer: nn.Linear, _inputs, out: torch.Tensor) -> None:
        counts.append(2 * layer.in_features * out.numel())

    def conv(layer: nn.Conv2d, _inputs, out: torch.Tensor) -> None:
        kh, kw = layer.kernel_size
        counts.append(2 * (layer.in_channels // layer.groups) * kh * kw * out.numel())

    hooks = [m.register_forward_hook(linear) for m in model.modules() if isinstance(m, nn.Linear)]
    hooks += [m.register_forward_hook(conv) for m in model.modules() if isinstance(m, nn.Conv2d)]
    was_training = model.training
    model.eval()  # one sample through batch norm needs eval mode
    try:
        with torch.no_grad():
            model(example[:1])
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return sum(counts)


def generation_flops(per_sample: int, n_train: int, n_test: int, epochs: int, with_teacher: bool) -> int:
    """One generation: forward+backward ≈ 3 forwards per training sample per epoch, one forward of the test split
    per epoch (the trainer's accuracy), and one teacher forward over the training split (its logits, once)."""
    return per_sample * (3 * n_train * epochs + n_test * epochs + (n_train if with_teacher else 0))


def matmul_rate(device: torch.device, n: int = 1024) -> float:
    """FLOP/s of one n×n float32 torch.mm on ``device`` at the current thread setting (after a warm-up call)."""
    a, b = torch.randn(n, n, device=device), torch.randn(n, n, device=device)
    torch.mm(a, b)
    return 2 * n**3 / seconds(lambda: torch.mm(a, b), device)
