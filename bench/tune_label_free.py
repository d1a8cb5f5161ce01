"""Tune a label-free preset on VALIDATION data: train on the training split, score k-NN on the validation split.

    python -m bench.tune_label_free [--preset shifted-dino] [--seeds 0 1] [--set KEY=VALUE ...] [--baselines]

The test split is never read: the method's own per-epoch k-NN monitor is pointed at the validation split too
(the Dataset handed to training has its test part replaced by the validation part). The validation part is the
project's (``data.val_fraction`` of the training pool, stratified, seeded) when the split module provides one;
otherwise 10% of the training split is carved here, stratified and seeded.

With ``--baselines`` the same k-NN is computed on the validation part for raw pixels, PCA(32), |FFT| magnitudes,
the untrained network with batch-norm statistics from the training inputs, and the autoencoder baseline (the
backbone trained to reconstruct its input), all fitted on the training part only: the functions of
core.evaluation.baselines, so that tuning compares with what a run reports.

Per seed it prints the validation k-NN of every generation and every fifth epoch's monitor, the wall and CPU
seconds of training (one thread: this lab's benchmarks share two cores), and a Markdown row for RESULTS.md.
The validation part is small (about 144 digits: one digit is 0.7 points), so it also prints a leave-one-out
k-NN over the training part (each training digit classified by its 20 nearest other training digits): labels
are read for scoring only, as for the validation k-NN, and its 1,293 queries make it several times less noisy.
"""
from __future__ import annotations

import argparse
import dataclasses
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.model_selection import train_test_split

from core import catalog
from core.config import RunConfig, parse_assignments
from core.data.splits import Dataset, load_dataset
from core.engine.context import GenerationContext, Tensors
from core.engine.devices import configure_cpu
from core.evaluation import baselines as reference
from core.models.inference import freeze, predict_features
from core.presets import get_preset

FALLBACK_VAL_FRACTION = 0.1


def validation_as_test(config: RunConfig) -> Dataset:
    """The run's dataset with its test part replaced by the validation part (carved here if the split has none)."""
    data = load_dataset(config.data, config.seed)
    x_val = getattr(data, "x_val", None)
    if x_val is not None and len(x_val):
        return dataclasses.replace(data, x_test=x_val, y_test=data.y_val_clean, x_test_raw=None)
    if config.data.label_noise:
        raise SystemExit("carving a validation part here supports data.label_noise=0 only")
    keep, held = train_test_split(np.arange(len(data.x_train)), test_size=FALLBACK_VAL_FRACTION,
                                  stratify=data.y_train, random_state=config.seed + 1)
    return dataclasses.replace(data, x_train=data.x_train[keep], y_train=data.y_train[keep],
                               y_train_clean=data.y_train_clean[keep], flipped=np.zeros(0, np.int64),
                               x_test=data.x_train[held], y_test=data.y_train_clean[held], x_test_raw=None)


def leave_one_out_knn(features, labels: np.ndarray, k: int, temperature: float) -> float:
    """The project's weighted cosine k-NN (weights exp(similarity / T)) with each row classified by the others."""
    z = F.normalize(torch.as_tensor(np.asarray(features), dtype=torch.float32), dim=1)
    similarity = z @ z.T
    similarity.fill_diagonal_(-float("inf"))
    sim, top = similarity.topk(k, dim=1)
    votes = torch.zeros(len(z), int(labels.max()) + 1, dtype=torch.float64)
    votes.scatter_add_(1, torch.as_tensor(labels)[top], torch.exp(sim.double() / temperature))
    return float((votes.argmax(1).numpy() == labels).mean())


def _loo(config: RunConfig, train_features, data: Dataset) -> float:
    return leave_one_out_knn(train_features, data.y_train_clean, config.eval.knn_k, config.eval.knn_temperature)


def train_and_score(config: RunConfig, data: Dataset) -> dict:
    """Every generation as the generation loop runs it (same seeds), scored by k-NN on the validation part."""
    device = torch.device("cpu")
    t = Tensors.from_dataset(data, device)
    method = catalog.load(catalog.method(config.method.name))
    curve: list[tuple[int, int, float]] = []
    knn_by_generation, teacher = [], None
    wall, cpu = time.perf_counter(), time.process_time()
    for generation in range(config.method.generations):
        torch.manual_seed(config.seed * 1000 + generation)
        model = method.build_model(config, data).to(device)
        on_epoch = lambda e, m, g=generation: curve.append((g, e, m.get("knn_accuracy", float("nan"))))  # noqa: E731
        ctx = GenerationContext(generation, config, data, t, device, on_epoch, lambda: False)
        method.train_generation(ctx, model, teacher)
        train_features = predict_features(model, t.x_train).numpy()
        knn_by_generation.append(reference.knn(config, train_features, data.y_train_clean,
                                               predict_features(model, t.x_test).numpy(), data.y_test))
        teacher = freeze(model)
    return {"knn": knn_by_generation, "loo": _loo(config, train_features, data), "curve": curve,
            "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu}


def baseline_scores(config: RunConfig, data: Dataset) -> tuple[dict[str, float], dict[str, float]]:
    """raw, pca, fft, random-init (training BN statistics) and autoencoder k-NN: on the validation part, and
    leave-one-out over the training part."""
    t = Tensors.from_dataset(data, torch.device("cpu"))
    torch.manual_seed(config.seed * 1000)  # the generation-0 network, as the generation loop draws it
    model = catalog.load(catalog.model(config.model.name)).build(config.model, data.n_features, data.n_classes,
                                                                 data.image_shape)
    features = {"raw": (data.x_train, data.x_test),
                "pca": reference.pca_features(data.x_train, data.x_test, config.seed),
                "random_cnn": reference.features_of(reference.with_batchnorm_statistics(model, t.x_train), t)}
    if data.image_shape is not None:
        features["fft"] = (reference.fft_magnitudes(data.x_train, data.image_shape),
                           reference.fft_magnitudes(data.x_test, data.image_shape))
    features["autoencoder"] = reference.features_of(reference.train_autoencoder(config, data, t.x_train), t)
    val = {name: reference.knn(config, train, data.y_train_clean, test, data.y_test)
           for name, (train, test) in features.items()}
    return val, {name: _loo(config, train, data) for name, (train, _) in features.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.tune_label_free")
    parser.add_argument("--preset", default="shifted-dino")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--baselines", action="store_true")
    args = parser.parse_args(argv)
    configure_cpu(1)  # one thread, denormals flushed: the generation loop's CPU settings for this small model
    updates = parse_assignments(args.set)
    shown = " ".join(args.set) or "(preset as is)"
    for seed in args.seeds:
        config = get_preset(args.preset).config({**updates, "seed": seed, "eval.embedding": "none"})
        data = validation_as_test(config)
        result = train_and_score(config, data)
        epochs = " ".join(f"g{g}e{e + 1}:{k:.3f}" for g, e, k in result["curve"] if (e + 1) % 5 == 0)
        print(f"seed {seed} {args.preset} {shown}: val k-NN by generation "
              f"{' '.join(f'{k:.3f}' for k in result['knn'])} (train LOO {result['loo']:.3f}) | "
              f"train {result['wall_s']:.1f} s wall, "
              f"{result['cpu_s']:.1f} s CPU | n_train {len(data.x_train)} n_val {len(data.x_test)}", flush=True)
        print(f"  monitor: {epochs}", flush=True)
        row = [args.preset, shown, str(seed), f"{result['knn'][-1]:.3f} ({result['loo']:.3f})"]
        if args.baselines:
            val, loo = baseline_scores(config, data)
            print("  baselines, val (train LOO): " + " ".join(f"{k} {v:.3f} ({loo[k]:.3f})" for k, v in val.items()),
                  flush=True)
            row += [f"{val[k]:.3f} ({loo[k]:.3f})" if k in val else "" for k in ("raw", "pca", "fft", "random_cnn",
                                                                                   "autoencoder")]
        print("  | " + " | ".join(row + [f"{result['wall_s']:.0f}", f"{result['cpu_s']:.0f}"]) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
