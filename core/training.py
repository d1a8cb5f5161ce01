"""What every method's generation loop shares: tensors on the device, index batches, optimizers, stop checks."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Callable, Iterable

import torch
from threadpoolctl import threadpool_limits
from torch import nn

from core.config import RunConfig, TrainConfig
from core.data import Dataset


class RunCancelled(Exception):
    """The run's cancel flag was set; raised between steps."""


class TrainingDiverged(Exception):
    """A loss became NaN or infinite."""


@dataclass
class Tensors:
    """The dataset as tensors on the training device."""

    x_train: torch.Tensor
    y_train: torch.Tensor  # labels as given to training (noisy where the config adds noise)
    x_test: torch.Tensor
    y_test: torch.Tensor

    @classmethod
    def from_dataset(cls, data: Dataset, device: torch.device) -> "Tensors":
        as_t = lambda a: torch.from_numpy(a).to(device)  # noqa: E731
        return cls(as_t(data.x_train), as_t(data.y_train), as_t(data.x_test), as_t(data.y_test))


@dataclass
class GenerationContext:
    """Everything a method's ``train_generation`` needs besides the models."""

    generation: int
    config: RunConfig
    data: Dataset
    tensors: Tensors
    device: torch.device
    on_epoch: Callable[[int, dict], None]  # (epoch, metrics) -> None
    should_stop: Callable[[], bool]

    def check_stop(self) -> None:
        if self.should_stop():
            raise RunCancelled(f"cancelled during generation {self.generation}")

    def check_finite(self, epoch: int, losses: dict[str, float]) -> None:
        bad = {k: v for k, v in losses.items() if v != v or v in (float("inf"), float("-inf"))}
        if bad:
            raise TrainingDiverged(
                f"loss became {next(iter(bad.values()))} at generation {self.generation}, epoch {epoch} "
                f"({', '.join(bad)}); try a lower train.lr or a higher method.temperature")


def pick_device(name: str) -> torch.device:
    """``auto`` takes CUDA when available; asking for cuda without one is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("train.device=cuda but no CUDA device is available; use auto or cpu")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def choose_threads(model: nn.Module, batch_size: int) -> int:
    """Intra-op threads for this model: small steps run faster on one thread (no fork/join per op, and no
    spinning when other processes share the cores); large ones use every core."""
    work = batch_size * sum(p.numel() for p in model.parameters())  # ~ multiply-adds per step / 3
    cores = int(os.environ.get("SDLAB_MAX_THREADS", 0)) or os.cpu_count() or 1  # sweep workers set it to 1
    return 1 if work < 5e7 else cores


def configure_cpu(threads: int) -> None:
    """CPU settings for a run, process-wide: ``threads`` threads for torch's intra-op work and for the BLAS/OpenMP
    pools of numpy, SciPy and scikit-learn (the evaluation's linear probe, k-NN, views), and denormal floats flushed
    to zero. Measured on 2 shared cores (bench/RESULTS.md): the probe ran 5-37x slower on OpenBLAS's default 2
    threads than on 1; the last epochs of a 60-epoch digits run were ~1.25x slower with denormals, same accuracy."""
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)
    torch.set_flush_denormal(True)


def index_batches(n: int, batch_size: int, generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
    """A seeded shuffle of 0..n-1 cut into batches (the last one may be smaller)."""
    order = torch.randperm(n, generator=generator).to(device)
    return list(order.split(batch_size))


def make_optimizer(params, cfg: TrainConfig) -> torch.optim.Optimizer:
    """The configured optimizer. Adam and AdamW use their fused kernel, one call per step instead of ~10 small
    ops per tensor: generation-0 training of the digits MLP on CPU ran 1.3x faster (SGD's gained nothing)."""
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
