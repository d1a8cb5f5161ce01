"""What a trained generation is worth, measured with labels that training never saw (or saw noisy): accuracy,
NLL, calibration, agreement with its teacher, the ensemble so far, memorised noise, k-NN, k-means and
linear-probe quality of its features, the same on the validation split (for choosing a generation), and a 2-D
view of its test features aligned to the previous generation's. The run's baselines are in
core.evaluation.baselines."""
from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn

from core import catalog
from core.engine.context import GenerationContext
from core.evaluation import metrics as evaluate
from core.evaluation.attention import attention_arrays
from core.evaluation.baselines import knn
from core.evaluation.wer import wer_metrics
from core.models.inference import predict_features, predict_logits


def evaluate_generation(ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None,
                         history: list[np.ndarray], reference: np.ndarray | None,
                         supervised: bool) -> tuple[dict, dict[str, np.ndarray]]:
    """Metrics and arrays of a trained generation. Labels are used here only, never fed back into training."""
    cfg, data, t = ctx.config, ctx.data, ctx.tensors
    train_features = predict_features(model, t.x_train).cpu().numpy()
    test_features = predict_features(model, t.x_test).cpu().numpy()
    metrics: dict = {"generation": ctx.generation}
    arrays: dict[str, np.ndarray] = {"features": test_features.astype(np.float32)}
    arrays.update(attention_arrays(model, t.x_test))  # a ViT's class-token attention maps; nothing otherwise
    if supervised:
        test_logits = predict_logits(model, t.x_test)
        probs = torch.softmax(test_logits, 1).cpu().numpy()
        train_logits = predict_logits(model, t.x_train)
        train_preds = train_logits.argmax(1).cpu().numpy()
        # Logits, not only probabilities: softened at any T later (float32 probabilities underflow to 0).
        arrays["logits"] = test_logits.cpu().numpy().astype(np.float32)
        arrays["flipped_logits"] = train_logits.cpu().numpy()[data.flipped].astype(np.float32)
        history.append(probs)
        metrics.update(
            test_accuracy=evaluate.accuracy(probs, data.y_test),
            train_accuracy=evaluate.accuracy(train_preds, data.y_train),
            test_nll=evaluate.nll(probs, data.y_test),
            test_ece=evaluate.expected_calibration_error(probs, data.y_test),
            ensemble_accuracy=evaluate.accuracy(evaluate.ensemble_probs(history), data.y_test),
            memorized_noise=evaluate.memorized_noise(train_preds, data.y_train, data.flipped),
        )
        if data.has_validation:
            metrics["val_accuracy"] = evaluate.accuracy(predict_logits(model, t.x_val).cpu(), data.y_val)
        if teacher is not None:
            teacher_probs = torch.softmax(predict_logits(teacher, t.x_test), 1).cpu().numpy()
            metrics["teacher_agreement"] = evaluate.agreement(probs, teacher_probs)
        arrays["probs"] = probs.astype(np.float32)
    metrics["knn_accuracy"] = knn(cfg, train_features, data.y_train_clean, test_features, data.y_test)
    if data.has_validation:
        val_features = predict_features(model, t.x_val).cpu().numpy()
        metrics["val_knn_accuracy"] = knn(cfg, train_features, data.y_train_clean, val_features, data.y_val_clean)
    metrics["kmeans_nmi"] = evaluate.kmeans_nmi(test_features, data.y_test, data.n_classes, seed=cfg.seed)
    if cfg.eval.linear_probe:
        metrics["linear_probe_accuracy"] = evaluate.linear_probe_accuracy(
            train_features, data.y_train_clean, test_features, data.y_test, seed=cfg.seed)
    if catalog.dataset(data.name).speech:  # spoken words: the same results as word error rates
        metrics.update(wer_metrics(metrics, arrays.get("probs"), data.y_test))
    if cfg.eval.embedding != "none":
        from core.evaluation import embed  # imported on first use: umap-learn takes seconds to import

        started = time.perf_counter()
        arrays["embedding"] = embed.embed_2d(test_features, cfg.eval.embedding, cfg.seed, reference=reference)
        metrics["embedding_seconds"] = round(time.perf_counter() - started, 3)
    return {k: (float(v) if isinstance(v, (np.floating, float)) else v) for k, v in metrics.items()}, arrays
