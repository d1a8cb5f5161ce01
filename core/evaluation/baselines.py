"""The run's baselines: what its features must beat, all scored like the features (k-NN on the test split with
the run's k-NN settings, clean training labels), fitted on the training split only.

- ``raw_knn_accuracy``: the (scaled) inputs themselves;
- ``pca_knn_accuracy``: their first min(32, n_features) principal components;
- ``random_init_knn_accuracy``: the same network untrained, its batch-norm statistics estimated on the training
  inputs (with the initial statistics, 0 and 1, batch norm would do nothing);
- ``invariant_knn_accuracy`` (image runs): |FFT| magnitudes, invariant to circular shifts of the image;
- ``autoencoder_knn_accuracy`` (label-free runs only, since it costs a training run): the same backbone trained
  to reconstruct its input (core.evaluation.autoencoder);
- ``mfcc_knn_accuracy`` (speech runs): MFCC means and standard deviations over time (core/data/logmel.py);
- ``raw_kmeans_nmi``: k-means cluster quality of the raw inputs;
- ``random_init_effective_rank``: the effective rank of the untrained network's test features (the reference of
  the dimensional-collapse monitor).
"""
from __future__ import annotations

import copy
from typing import Callable

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn

from core import catalog
from core.config import RunConfig
from core.data.logmel import mfcc_features
from core.data.splits import Dataset
from core.engine.context import Tensors
from core.evaluation import metrics as evaluate
from core.evaluation.autoencoder import train_autoencoder
from core.models.inference import predict_features

PCA_COMPONENTS = 32
FeaturePair = tuple[np.ndarray, np.ndarray]  # (training features, test features)


def knn(config: RunConfig, train_features, train_labels, test_features, test_labels) -> float:
    """The run's k-NN evaluation (its k and vote temperature)."""
    return evaluate.knn_accuracy(train_features, train_labels, test_features, test_labels,
                                 k=config.eval.knn_k, temperature=config.eval.knn_temperature)


def pca_features(x_train: np.ndarray, x_test: np.ndarray, seed: int) -> FeaturePair:
    """Projections on the first min(32, n_features) principal components of the training inputs."""
    n = min(PCA_COMPONENTS, x_train.shape[1], len(x_train))
    pca = PCA(n_components=n, random_state=seed).fit(x_train)
    return pca.transform(x_train), pca.transform(x_test)


def fft_magnitudes(x: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """|FFT2| of each flat image row, flattened: the same for every circular shift of an image."""
    images = x.reshape(len(x), *image_shape)
    return np.abs(np.fft.fft2(images)).reshape(len(x), -1)


@torch.no_grad()
def with_batchnorm_statistics(model: nn.Module, x: torch.Tensor, batch_size: int = 256) -> nn.Module:
    """A copy of ``model`` whose batch-norm running statistics are the cumulative average over forward passes
    of ``x`` in training mode (momentum None), returned in eval mode; the model itself is untouched."""
    model = copy.deepcopy(model)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for norm in norms:
        norm.reset_running_stats()
        norm.momentum = None
    if norms:
        model.train()
        batches = [b for b in x.split(batch_size) if len(b) > 1] or [x]
        for batch in batches:
            model.features(batch)
    return model.eval()


def features_of(model: nn.Module, t: Tensors) -> FeaturePair:
    return predict_features(model, t.x_train).cpu().numpy(), predict_features(model, t.x_test).cpu().numpy()


def reference_features(config: RunConfig, data: Dataset, t: Tensors, model: nn.Module, supervised: bool,
                       check_stop: Callable[[], None] = lambda: None) -> dict[str, FeaturePair]:
    """Every baseline's (train, test) features by name: raw, pca, random_init, invariant, autoencoder."""
    out = {"raw": (data.x_train, data.x_test), "pca": pca_features(data.x_train, data.x_test, config.seed),
           "random_init": features_of(with_batchnorm_statistics(model, t.x_train), t)}
    if data.image_shape is not None:
        out["invariant"] = (fft_magnitudes(data.x_train, data.image_shape),
                            fft_magnitudes(data.x_test, data.image_shape))
    if catalog.dataset(data.name).speech:  # the classic fixed-length features of a spoken word
        out["mfcc"] = mfcc_features(data.x_train, data.x_test, data.image_shape)
    if not supervised:
        out["autoencoder"] = features_of(train_autoencoder(config, data, t.x_train, check_stop), t)
    return out


def baselines(config: RunConfig, data: Dataset, t: Tensors, model: nn.Module, supervised: bool,
              check_stop: Callable[[], None] = lambda: None) -> tuple[dict[str, float], dict[str, FeaturePair]]:
    """The baselines' numbers and their features (the label-efficiency probes reuse them). ``model`` is the
    untrained generation-0 network; it is copied, never changed."""
    features = reference_features(config, data, t, model, supervised, check_stop)
    scores = {f"{name}_knn_accuracy": knn(config, train, data.y_train_clean, test, data.y_test)
              for name, (train, test) in features.items()}
    scores["raw_kmeans_nmi"] = evaluate.kmeans_nmi(data.x_test, data.y_test, data.n_classes, seed=config.seed)
    scores["random_init_effective_rank"] = evaluate.effective_rank(features["random_init"][1])
    return scores, features
