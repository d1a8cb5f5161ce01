"""Run the generations of a self-distillation experiment; report through a sink, never to a UI directly.

    summary = run(config, sink, should_stop)

Per generation: build a fresh model (its own seed), train it against the previous generation (frozen), then
evaluate it: accuracy, NLL, calibration, agreement with its teacher, the ensemble so far, memorised noise,
k-NN and linear-probe accuracy of its features, and a 2-D view of its test features aligned to the last one.
"""
from __future__ import annotations

import importlib
import time
from typing import Callable

import numpy as np
import torch
from torch import nn

from core import evaluate
from core.config import RunConfig
from core.data import Dataset, load_dataset
from core.training import (GenerationContext, RunCancelled, Tensors, TrainingDiverged, choose_threads,
                           configure_cpu, freeze, pick_device, predict_features, predict_logits)



def method_module(name: str):
    """The module implementing ``method.name`` (core/methods/<name>.py)."""
    return importlib.import_module(f"core.methods.{name}")


class Sink:
    """Receives a run's progress. Every hook is optional; the store, the CLI and tests subclass it."""

    def on_start(self, info: dict, arrays: dict[str, np.ndarray]) -> None: ...
    def on_baselines(self, baselines: dict[str, float]) -> None: ...
    def on_epoch(self, generation: int, epoch: int, metrics: dict[str, float]) -> None: ...
    def on_generation(self, generation: int, metrics: dict, arrays: dict[str, np.ndarray],
                      state_dict: dict[str, torch.Tensor]) -> None: ...


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
    method = method_module(config.method.name)
    sink.on_start(_run_info(config, data, method), _run_arrays(data))
    teacher: nn.Module | None = None
    history: list[np.ndarray] = []  # test probabilities of each generation, for the ensemble
    reference = None
    for generation in range(config.method.generations):
        torch.manual_seed(config.seed * 1000 + generation)
        model = method.build_model(config, data).to(device)
        if device.type == "cpu":
            configure_cpu(choose_threads(model, config.train.batch_size))
        if generation == 0:
            summary["baselines"] = _baselines(config, data, tensors, model)
            sink.on_baselines(summary["baselines"])
        if teacher is not None and config.method.warm_start:
            model.load_state_dict(teacher.state_dict())
        ctx = GenerationContext(generation, config, data, tensors, device,
                                lambda epoch, m, g=generation: sink.on_epoch(g, epoch, m), should_stop)
        extras = method.train_generation(ctx, model, teacher)
        summary["warnings"] += [f"generation {generation}: {w}" for w in extras.get("warnings", [])]
        metrics, arrays = _evaluate_generation(ctx, model, teacher, history, reference, method.SUPERVISED)
        reference = arrays.get("embedding")
        summary["generations"].append(metrics)
        state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
        sink.on_generation(generation, metrics, arrays, state)
        teacher = freeze(model)


def _run_info(config: RunConfig, data: Dataset, method) -> dict:
    return {"dataset": data.name, "n_train": len(data.x_train), "n_test": len(data.x_test),
            "n_classes": data.n_classes, "n_features": data.n_features, "image_shape": data.image_shape,
            "n_flipped": int(len(data.flipped)), "loss_parts": list(method.LOSS_PARTS),
            "generations": config.method.generations, "epochs": config.train.epochs}


def _run_arrays(data: Dataset) -> dict[str, np.ndarray]:
    return {"x_test_raw": data.x_test_raw, "y_test": data.y_test, "y_train": data.y_train,
            "y_train_clean": data.y_train_clean, "flipped": data.flipped}


def _knn(config: RunConfig, train_features, train_labels, test_features, test_labels) -> float:
    return evaluate.knn_accuracy(train_features, train_labels, test_features, test_labels,
                                 k=config.eval.knn_k, temperature=config.eval.knn_temperature)


def _baselines(config: RunConfig, data: Dataset, t: Tensors, model: nn.Module) -> dict[str, float]:
    """k-NN on raw inputs and on a randomly initialised network's features (clean labels: evaluation only)."""
    return {
        "raw_knn_accuracy": _knn(config, data.x_train, data.y_train_clean, data.x_test, data.y_test),
        "random_init_knn_accuracy": _knn(config, predict_features(model, t.x_train).cpu(), data.y_train_clean,
                                         predict_features(model, t.x_test).cpu(), data.y_test),
    }


def _evaluate_generation(ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None,
                         history: list[np.ndarray], reference: np.ndarray | None,
                         supervised: bool) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics and arrays of a trained generation. Labels are used here only, never fed back into training."""
    cfg, data, t = ctx.config, ctx.data, ctx.tensors
    train_features = predict_features(model, t.x_train).cpu().numpy()
    test_features = predict_features(model, t.x_test).cpu().numpy()
    metrics: dict = {"generation": ctx.generation}
    arrays: dict[str, np.ndarray] = {"features": test_features.astype(np.float32)}
    if supervised:
        probs = torch.softmax(predict_logits(model, t.x_test), 1).cpu().numpy()
        train_preds = predict_logits(model, t.x_train).argmax(1).cpu().numpy()
        history.append(probs)
        metrics.update(
            test_accuracy=evaluate.accuracy(probs, data.y_test),
            train_accuracy=evaluate.accuracy(train_preds, data.y_train),
            test_nll=evaluate.nll(probs, data.y_test),
            test_ece=evaluate.expected_calibration_error(probs, data.y_test),
            ensemble_accuracy=evaluate.accuracy(evaluate.ensemble_probs(history), data.y_test),
            memorized_noise=evaluate.memorized_noise(train_preds, data.y_train, data.flipped),
        )
        if teacher is not None:
            teacher_probs = torch.softmax(predict_logits(teacher, t.x_test), 1).cpu().numpy()
            metrics["teacher_agreement"] = evaluate.agreement(probs, teacher_probs)
        arrays["probs"] = probs.astype(np.float32)
    metrics["knn_accuracy"] = _knn(cfg, train_features, data.y_train_clean, test_features, data.y_test)
    if cfg.eval.linear_probe:
        metrics["linear_probe_accuracy"] = evaluate.linear_probe_accuracy(
            train_features, data.y_train_clean, test_features, data.y_test, seed=cfg.seed)
    if cfg.eval.embedding != "none":
        from core import embed  # imported on first use: umap-learn takes seconds to import

        started = time.perf_counter()
        arrays["embedding"] = embed.embed_2d(test_features, cfg.eval.embedding, cfg.seed, reference=reference)
        metrics["embedding_seconds"] = round(time.perf_counter() - started, 3)
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in metrics.items()}, arrays
