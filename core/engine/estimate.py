"""How long a run will take on this machine, said before it starts.

The training part is measured, not guessed: a few training steps of the run's own model on a batch of the run's
own data, timed here and now, times the number of steps the run will take. Evaluation (k-NN, probes, 2-D
views) is added from its per-generation cost at the run's test size, timed the same way where it is cheap to
time and taken from simple rules where it is not (a UMAP view). Good to a factor of about two: enough to warn
before a run that would take an hour, and for a server to refuse one over its budget.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

import torch

from core import catalog
from core.config import RunConfig
from core.data.splits import load_dataset
from core.evaluation import metrics

TIMED_STEPS = 4
SAMPLE_TRAIN, SAMPLE_TEST = 2000, 500  # rows the evaluation is timed on
VIEW_SECONDS = {"umap": (1.0, 4e-4), "tsne": (1.5, 1.5e-3), "pca": (0.02, 1e-6), "none": (0.0, 0.0)}  # a + b·n


@dataclass(frozen=True)
class Estimate:
    train_seconds: float
    evaluation_seconds: float
    steps: int  # optimizer steps of the whole run

    @property
    def total_seconds(self) -> float:
        return self.train_seconds + self.evaluation_seconds

    def describe(self) -> str:
        return (f"about {_duration(self.total_seconds)} on this machine ({_duration(self.train_seconds)} training, "
                f"{_duration(self.evaluation_seconds)} evaluation)")


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def _step_seconds(config: RunConfig, model: torch.nn.Module, batch: torch.Tensor) -> float:
    """Median time of one forward-backward-update of ``model`` on ``batch`` (views included for label-free)."""
    views = 1 if catalog.method(config.method.name).supervised else 2 + config.method.local_views
    x = batch.repeat(views, 1)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-6)
    times = []
    for i in range(TIMED_STEPS + 1):
        started = time.perf_counter()
        loss = model(x).logsumexp(1).mean()
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if i:  # the first step pays one-off allocations
            times.append(time.perf_counter() - started)
    teacher_share = 0.0 if views == 1 else 2 / views / 3  # the teacher's forward on the global views, no backward
    return sorted(times)[len(times) // 2] * (1 + teacher_share)


def _evaluation_seconds(config: RunConfig, model: torch.nn.Module, x_train: torch.Tensor, x_test: torch.Tensor,
                        per_epoch: bool) -> tuple[float, float]:
    """(per generation, per epoch) seconds of evaluation. Features and a k-NN are timed on a sample of at most
    SAMPLE_TRAIN × SAMPLE_TEST rows and scaled (features by rows, the k-NN by train × test rows); views by rule."""
    train_part, test_part = x_train[:SAMPLE_TRAIN], x_test[:SAMPLE_TEST]
    started = time.perf_counter()
    with torch.no_grad():
        model.eval()
        train_f, test_f = model.features(train_part), model.features(test_part)
        model.train()
    features = (time.perf_counter() - started) * (len(x_train) + len(x_test)) / (len(train_part) + len(test_part))
    started = time.perf_counter()
    metrics.knn_accuracy(train_f, torch.zeros(len(train_f), dtype=torch.long), test_f,
                         torch.zeros(len(test_f), dtype=torch.long), k=min(config.eval.knn_k, len(train_f)))
    knn = (time.perf_counter() - started) * (len(x_train) * len(x_test)) / (len(train_part) * len(test_part))
    a, b = VIEW_SECONDS[config.eval.embedding]
    probe = 0.5 if config.eval.linear_probe else 0.0
    per_generation = 2 * (features + knn) + probe + a + b * len(x_test)
    return per_generation, (features + knn if per_epoch else 0.0)


def estimate(config: RunConfig) -> Estimate:
    """The run's expected wall time on this machine, from a few timed steps of its own model."""
    data = load_dataset(config.data, config.seed)
    method = catalog.load(catalog.method(config.method.name))
    torch.manual_seed(config.seed)
    model = method.build_model(config, data)
    x_train, x_test = torch.from_numpy(data.x_train), torch.from_numpy(data.x_test)
    batch = x_train[: config.train.batch_size]
    if len(batch) < 2:
        batch = x_train[:2]
    steps_per_epoch = math.ceil(len(x_train) / config.train.batch_size)
    epochs = config.method.generations * config.train.epochs
    label_free = not catalog.method(config.method.name).supervised
    extra_epochs = (config.train.epochs if label_free else 0) + (epochs if config.eval.compute_control else 0)
    step = _step_seconds(config, model, batch)
    per_generation, per_epoch = _evaluation_seconds(config, model, x_train, x_test, per_epoch=label_free)
    train = step * steps_per_epoch * (epochs + extra_epochs)
    evaluation = per_generation * config.method.generations + per_epoch * epochs
    return Estimate(round(train, 2), round(evaluation, 2), steps_per_epoch * (epochs + extra_epochs))
