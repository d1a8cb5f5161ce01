"""The generation loop: run every generation of a self-distillation experiment, reporting through a sink.

    summary = run(config, sink, should_stop)

Per generation: build a fresh model (its own seed) through the method's plug-in, train it against the previous
generation (frozen), evaluate it (core.evaluation.generation) and hand the result to the sink. Before generation
0 trains, the run's baselines (core.evaluation.baselines); after the last generation, the label-efficiency
probes and, when asked for, the compute-matched control (core.engine.control). The best generation is chosen on
the validation split (core.evaluation.selection). The loop never talks to a UI; the sink hooks are described in
core.engine.sinks.
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
from core.engine.control import control_config, train_compute_control
from core.engine.devices import choose_threads, configure_cpu, pick_device
from core.engine.sinks import Sink
from core.evaluation.baselines import baselines, features_of
from core.evaluation.generation import evaluate_generation
from core.evaluation.label_efficiency import label_efficiency
from core.evaluation.selection import best_generation, selection_metric
from core.models.inference import freeze

# The cheap ones, beside the last generation's features; "invariant" (|FFT|) exists for image data only.
LABEL_EFFICIENCY_BASELINES = ("raw", "pca", "random_init", "invariant")


def run(config: RunConfig, sink: Sink | None = None, should_stop: Callable[[], bool] = lambda: False) -> dict:
    """Train and evaluate every generation; return the summary (status finished, cancelled or failed)."""
    sink = sink or Sink()
    started = time.perf_counter()
    summary: dict = {"status": "running", "config": config.to_dict(), "generations": [], "baselines": {},
                     "best_generation": None, "label_efficiency": None, "warnings": [], "error": None}
    try:
        _run_generations(config, sink, should_stop, summary)
        summary["status"] = "finished"
    except RunCancelled as exc:
        summary.update(status="cancelled", error=str(exc))
    except TrainingDiverged as exc:
        summary.update(status="failed", error=str(exc))
    supervised = catalog.method(config.method.name).supervised
    summary["best_generation"] = best_generation(summary["generations"], selection_metric(supervised))
    summary["wall_time_s"] = summary["wall_seconds"] = round(time.perf_counter() - started, 3)
    return summary


def _run_generations(config: RunConfig, sink: Sink, should_stop: Callable[[], bool], summary: dict) -> None:
    if config.eval.compute_control:
        control_config(config)  # refuse a control over the epoch limit before anything trains
    device = pick_device(config.train.device)
    data = load_dataset(config.data, config.seed)
    tensors = Tensors.from_dataset(data, device)
    entry = catalog.method(config.method.name)
    method = catalog.load(entry)
    sink.on_start(_run_info(config, data, entry), _run_arrays(data))
    teacher: nn.Module | None = None
    history: list[np.ndarray] = []  # test probabilities of each generation, for the ensemble
    reference, reference_features = None, {}
    for generation in range(config.method.generations):
        torch.manual_seed(config.seed * 1000 + generation)
        model = method.build_model(config, data).to(device)
        if device.type == "cpu":
            configure_cpu(choose_threads(model, config.train.batch_size))
        if generation == 0:
            summary["baselines"], reference_features = baselines(config, data, tensors, model, entry.supervised,
                                                                 _stop_check(should_stop, "the baselines"))
            sink.on_baselines(summary["baselines"])
        if teacher is not None and config.method.warm_start:
            model.load_state_dict(teacher.state_dict())
        ctx = GenerationContext(generation, config, data, tensors, device,
                                lambda epoch, m, g=generation: sink.on_epoch(g, epoch, m), should_stop,
                                summary["baselines"])
        extras = method.train_generation(ctx, model, teacher)
        summary["warnings"] += [f"generation {generation}: {w}" for w in extras.get("warnings", [])]
        metrics, arrays = evaluate_generation(ctx, model, teacher, history, reference, entry.supervised)
        metrics.update(extras.get("metrics", {}))  # what only the method knows (dino: the epoch it kept)
        reference = arrays.get("embedding")
        summary["generations"].append(metrics)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        sink.on_generation(generation, metrics, arrays, state)
        teacher = freeze(model)
    feature_sets = {"features": features_of(teacher, tensors),
                    **{name: reference_features[name] for name in LABEL_EFFICIENCY_BASELINES
                       if name in reference_features}}
    summary["label_efficiency"] = label_efficiency(feature_sets, data.y_train_clean, data.y_test, config.seed)
    sink.on_label_efficiency(summary["label_efficiency"])
    if config.eval.compute_control:
        scores, warnings = train_compute_control(config, data, tensors, device, should_stop, summary["baselines"])
        summary["baselines"].update(scores)
        summary["warnings"] += [f"compute-matched control: {w}" for w in warnings]
        sink.on_baselines(summary["baselines"])


def _stop_check(should_stop: Callable[[], bool], stage: str) -> Callable[[], None]:
    def check() -> None:
        if should_stop():
            raise RunCancelled(f"cancelled during {stage}")
    return check


def _run_info(config: RunConfig, data: Dataset, method: catalog.Method) -> dict:
    return {"dataset": data.name, "n_train": len(data.x_train), "n_test": len(data.x_test),
            "n_val": len(data.x_val) if data.has_validation else 0,
            "n_classes": data.n_classes, "n_features": data.n_features, "image_shape": data.image_shape,
            "n_flipped": int(len(data.flipped)), "loss_parts": list(method.loss_parts),
            "generations": config.method.generations, "epochs": config.train.epochs}


def _run_arrays(data: Dataset) -> dict[str, np.ndarray]:
    return {"x_test_raw": data.x_test_raw, "y_test": data.y_test, "y_train": data.y_train,
            "y_train_clean": data.y_train_clean, "flipped": data.flipped, **data.extras}
