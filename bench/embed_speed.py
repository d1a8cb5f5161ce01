"""The project's 2-D view (core.evaluation.embed) against umap-learn's defaults on the same features, and view time as
the number of points grows."""
from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.manifold import trustworthiness

from bench.measure import interleave, median_ratio, seconds
from bench.trainer_speed import digits, trained_model
from core.evaluation import embed
from core.models.inference import predict_features

CPU = torch.device("cpu")


def digits_features(epochs: int = 10) -> np.ndarray:
    """Features of all 1,797 digits (train and test) from a generation-0 digits-ban MLP trained ``epochs`` epochs."""
    config, data, tensors = digits(epochs, CPU)
    model = trained_model(config, data, tensors, CPU)
    return predict_features(model, torch.cat([tensors.x_train, tensors.x_test])).numpy()


def umap_default(features: np.ndarray, seed: int) -> np.ndarray:
    import umap

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # umap's note that random_state disables parallelism
        return umap.UMAP(random_state=seed).fit_transform(features)


def speed_and_quality(quick: bool, seed: int = 0) -> dict[str, float]:
    """Both views warm (each computed once on the same features first), then timed interleaved; trustworthiness
    (scikit-learn, 5 neighbours) of each view of the features."""
    features = digits_features()
    views = {"project": embed.embed_2d(features, "umap", seed), "default": umap_default(features, seed)}
    t = interleave({
        "project": lambda: seconds(lambda: views.update(project=embed.embed_2d(features, "umap", seed)), CPU),
        "default": lambda: seconds(lambda: views.update(default=umap_default(features, seed)), CPU),
    }, rounds=3 if quick else 5)
    trust = {name: trustworthiness(features, view) for name, view in views.items()}
    return {"embed_speedup_vs_umap_default": median_ratio(t["default"], t["project"]),
            "trustworthiness_delta": trust["project"] - trust["default"],
            "trustworthiness_project": trust["project"], "trustworthiness_umap_default": trust["default"],
            "embed_s": float(np.median(t["project"])), "umap_default_s": float(np.median(t["default"]))}


def view_scaling(quick: bool, sizes=(2_000, 10_000, 50_000), seed: int = 0) -> dict[str, float]:
    """Seconds of a UMAP view of n points of 256-d features (10 Gaussian clusters), warm. Above
    embed.MAX_FIT_POINTS['umap'] points the view is fitted on a subsample and the rest are placed by exact kNN."""
    embed.warm_up()
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(10, 256)) * 2
    points = {n: (centers[rng.integers(0, 10, n)] + rng.normal(size=(n, 256))).astype(np.float32) for n in sizes}
    t = interleave({n: lambda n=n: seconds(lambda: embed.embed_2d(points[n], "umap", seed), CPU) for n in sizes},
                   rounds=1 if quick else 3)
    return {f"view_s_{n // 1000}k": float(np.median(t[n])) for n in sizes}
