"""What a method's ``train_generation`` receives: the data as tensors, the run's config, the hooks to report
an epoch and to check for a stop; and the two ways a generation ends early."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import torch

from core import catalog
from core.config import RunConfig
from core.data.splits import Dataset


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
    x_val: torch.Tensor | None = None  # None without a validation split
    y_val: torch.Tensor | None = None  # given labels, as noisy as y_train

    @classmethod
    def from_dataset(cls, data: Dataset, device: torch.device) -> "Tensors":
        as_t = lambda a: None if a is None else torch.from_numpy(a).to(device)  # noqa: E731
        return cls(as_t(data.x_train), as_t(data.y_train), as_t(data.x_test), as_t(data.y_test),
                   as_t(data.x_val), as_t(data.y_val))


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
    baselines: dict = field(default_factory=dict)  # the run's baselines (reference levels for the monitors)
    epoch_history: list[dict] = field(default_factory=list)  # every epoch's metrics reported so far

    def __post_init__(self) -> None:
        report = self.on_epoch

        def record_and_report(epoch: int, metrics: dict) -> None:
            self.epoch_history.append(metrics)
            report(epoch, metrics)

        self.on_epoch = record_and_report

    def check_stop(self) -> None:
        if self.should_stop():
            raise RunCancelled(f"cancelled during generation {self.generation}")

    def check_finite(self, epoch: int, losses: dict[str, float]) -> None:
        bad = {k: v for k, v in losses.items() if v != v or v in (float("inf"), float("-inf"))}
        if bad:
            raise TrainingDiverged(
                f"loss became {next(iter(bad.values()))} at generation {self.generation}, epoch {epoch} "
                f"({', '.join(bad)}); try {divergence_advice(self.config)}")


def divergence_advice(config: RunConfig) -> str:
    """The settings worth changing after a NaN loss, among the keys the run's method reads."""
    chosen = {"method": config.method.name, "model": config.model.name, "dataset": config.data.name}
    hints = ["a lower train.lr"]
    if config.train.grad_clip == 0:
        hints.append("gradient clipping (train.grad_clip > 0)")
    hints += [f"a higher {key}" for key in ("method.temperature", "method.student_temp")
              if catalog.uses_key(key, chosen)]
    return ", ".join(hints[:-1]) + " or " + hints[-1] if len(hints) > 1 else hints[0]


def batch_slices(n: int, batch_size: int) -> list[slice]:
    """0..n-1 cut into batches of ``batch_size``; a last batch of a single row joins the one before, since batch
    norm cannot normalise one sample (the last batch may otherwise be smaller)."""
    starts = list(range(0, n, batch_size))
    if batch_size > 1 and len(starts) > 1 and n - starts[-1] == 1:
        starts.pop()
    return [slice(start, end) for start, end in zip(starts, starts[1:] + [n])]


def index_batches(n: int, batch_size: int, generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
    """A seeded shuffle of 0..n-1 cut into ``batch_slices``."""
    order = torch.randperm(n, generator=generator).to(device)
    return [order[s] for s in batch_slices(n, batch_size)]
