"""What a method's ``train_generation`` receives: the data as tensors, the run's config, the hooks to report
an epoch and to check for a stop; and the two ways a generation ends early."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

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


def index_batches(n: int, batch_size: int, generator: torch.Generator, device: torch.device) -> list[torch.Tensor]:
    """A seeded shuffle of 0..n-1 cut into batches (the last one may be smaller)."""
    order = torch.randperm(n, generator=generator).to(device)
    return list(order.split(batch_size))
