"""The compute-matched control: one generation-0 model trained for generations × epochs epochs (same method,
same seed), so a run's generations are compared with the same number of epochs spent in one go.

Its epochs are not reported to the sink (it is not a generation of the run: the Runs page must not show it as
one); its numbers join the run's baselines as ``compute_matched_knn_accuracy`` (and, for supervised methods,
``compute_matched_test_accuracy``)."""
from __future__ import annotations

from typing import Callable

import torch

from core import catalog
from core.config import ConfigError, RunConfig, all_keys
from core.data.splits import Dataset
from core.engine.context import GenerationContext, Tensors
from core.evaluation.generation import evaluate_generation


def control_config(config: RunConfig) -> RunConfig:
    """The run's config for one generation of generations × epochs epochs (no 2-D view, no probe: only the k-NN
    and the test accuracy are reported). ConfigError when that many epochs exceed ``train.epochs``' bound."""
    epochs = config.method.generations * config.train.epochs
    limit = all_keys()["train.epochs"].metadata["high"]
    if epochs > limit:
        raise ConfigError(f"eval.compute_control=true needs method.generations × train.epochs = {epochs} epochs in "
                          f"one generation, over the limit of {limit}: lower either, or turn the control off")
    return config.override({"train.epochs": epochs, "method.generations": 1, "eval.embedding": "none",
                            "eval.linear_probe": False})


def train_compute_control(config: RunConfig, data: Dataset, tensors: Tensors, device: torch.device,
                          should_stop: Callable[[], bool], baselines: dict | None = None,
                          on_epoch: Callable[[int, dict], None] = lambda epoch, metrics: None
                          ) -> tuple[dict[str, float], list[str]]:
    """Train and evaluate the control; returns its scores and the warnings its training raised."""
    control = control_config(config)
    entry = catalog.method(config.method.name)
    method = catalog.load(entry)
    torch.manual_seed(config.seed * 1000)  # generation 0's seed: the same initial weights
    model = method.build_model(control, data).to(device)
    ctx = GenerationContext(0, control, data, tensors, device, on_epoch, should_stop, baselines or {})
    extras = method.train_generation(ctx, model, None)
    metrics, _ = evaluate_generation(ctx, model, None, [], None, entry.supervised)
    scores = {"compute_matched_knn_accuracy": metrics["knn_accuracy"]}
    if entry.supervised:
        scores["compute_matched_test_accuracy"] = metrics["test_accuracy"]
    return scores, list(extras.get("warnings", []))
