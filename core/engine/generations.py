"""The generation loop: run every generation of a self-distillation experiment, reporting through a sink.

    summary = run(config, sink, should_stop)

Per generation: build a fresh model (its own seed) through the method's plug-in, train it against the previous
generation (frozen), evaluate it (core.evaluation.generation) and hand the result to the sink. The loop never
talks to a UI; the sink hooks are described in core.engine.sinks.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from core import catalog
from core.config import RunConfig
from core.data.splits import Dataset, load_dataset
from core.engine.context import GenerationContext, RunCancelled, Tensors, TrainingDiverged
from core.engine.devices import choose_threads, configure_cpu, pick_device
from core.engine.sinks import Sink
from core.evaluation.generation import baselines, evaluate_generation
from core.models.inference import freeze


def run(config: RunConfig, sink: Sink | None = None, should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Train and evaluate every generation; return the summary (status finished, cancelled or failed)."""
    sink = sink or Sink()
    started = time.perf_counter()
    summary: dict = {"status": "running", "config": config.to_dict(), "generations": [], "baselines": {},
                     "warnings": [], "error": None}
    try:
        _run_generations(config, sink, should_stop, summary)
        summary["status"] = "finished"
    except RunCancelled as exc:
        summary.update(status="cancelled", error=str(exc))
    except TrainingDiverged as exc:
        summary.update(status="failed", error=str(exc))
    summary["wall_time_s"] = round(time.perf_counter() - started, 3)
    return summary


def _run_generations(config: RunConfig, sink: Sink, should_stop: Callable[[], bool], summary: dict) -> None:
    device = pick_device(config.train.device)
    data = load_dataset(config.data, config.seed)
    tensors = Tensors.from_dataset(data, device)
    entry = catalog.method(config.method.name)
    method = catalog.load(entry)
    sink.on_start(_run_info(config, data, entry), _run_arrays(data))
    teacher: nn.Module | None = None
    history: list[np.ndarray] = []  # test probabilities of each generation, for the ensemble
    reference = None
    for generation in range(config.method.generations):
        torch.manual_seed(config.seed * 1000 + generation)
        model = method.build_model(config, data).to(device)
        if device.type == "cpu":
            configure_cpu(choose_threads(model, config.train.batch_size))
        if generation == 0:
            summary["baselines"] = baselines(config, data, tensors, model)
            sink.on_baselines(summary["baselines"])
        if teacher is not None and config.method.warm_start:
            model.load_state_dict(teacher.state_dict())
        ctx = GenerationContext(generation, config, data, tensors, device,
                                lambda epoch, m, g=generation: sink.on_epoch(g, epoch, m), should_stop)
        extras = method.train_generation(ctx, model, teacher)
        summary["warnings"] += [f"generation {generation}: {w}" for w in extras.get("warnings", [])]
        metrics, arrays = evaluate_generation(ctx, model, teacher, history, reference, entry.supervised)
        reference = arrays.get("embedding")
        summary["generations"].append(metrics)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        sink.on_generation(generation, metrics, arrays, state)
        teacher = freeze(model)


def _run_info(config: RunConfig, data: Dataset, method: catalog.Method) -> dict:
    return {"dataset": data.name, "n_train": len(data.x_train), "n_test": len(data.x_test),
            "n_classes": data.n_classes, "n_features": data.n_features, "image_shape": data.image_shape,
            "n_flipped": int(len(data.flipped)), "loss_parts": list(method.loss_parts),
            "generations": config.method.generations, "epochs": config.train.epochs}


def _run_arrays(data: Dataset) -> dict[str, np.ndarray]:
    return {"x_test_raw": data.x_test_raw, "y_test": data.y_test, "y_train": data.y_train,
            "y_train_clean": data.y_train_clean, "flipped": data.flipped}


