"""The run's baselines against independent computations: batch-norm statistics estimated on the training inputs,
PCA, |FFT| features, k-means NMI, the autoencoder; and the compute-matched control."""
import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from core.config import ConfigError
from core.data.splits import load_dataset
from core.engine import generations as trainer
from core.engine.context import Tensors
from core.engine.control import control_config, train_compute_control
from core.engine.sinks import Sink
from core.evaluation import metrics as ev
from core.evaluation.autoencoder import train_autoencoder
from core.evaluation.baselines import baselines, fft_magnitudes, pca_features, with_batchnorm_statistics
from core.methods import ban
from core.models.inference import predict_features
from core.presets import get_preset

CPU = torch.device("cpu")


def _setup(updates: dict):
    config = get_preset("dry-run").config({"eval.embedding": "none", **updates})
    data = load_dataset(config.data, config.seed)
    torch.manual_seed(0)
    return config, data, Tensors.from_dataset(data, CPU), ban.build_model(config, data)


def _knn(config, train, data, test):
    return ev.knn_accuracy(train, data.y_train_clean, test, data.y_test, k=config.eval.knn_k,
                           temperature=config.eval.knn_temperature)


def test_batchnorm_statistics_are_the_cumulative_average_over_training_batches():
    config, data, t, model = _setup({"model.batch_norm": True, "model.depth": 1})
    x = t.x_train[:512]  # two equal batches of 256
    estimated = with_batchnorm_statistics(model, x, batch_size=256)
    linear, norm = model.body[0], model.body[1]
    assert torch.equal(norm.running_mean, torch.zeros_like(norm.running_mean))  # the model itself is untouched
    with torch.no_grad():
        pre = (x @ linear.weight.T + linear.bias).double().numpy()
    batches = [pre[:256], pre[256:]]
    mean = np.mean([b.mean(0) for b in batches], axis=0)
    var = np.mean([b.var(0, ddof=1) for b in batches], axis=0)  # momentum None: the plain average over batches
    np.testing.assert_allclose(estimated.body[1].running_mean.numpy(), mean, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(estimated.body[1].running_var.numpy(), var, rtol=1e-4, atol=1e-7)
    assert not estimated.training


def test_random_init_knn_uses_the_estimated_statistics():
    config, data, t, model = _setup({"model.batch_norm": True, "model.depth": 1})
    scores, _ = baselines(config, data, t, model, supervised=True)
    linear = model.body[0]
    with torch.no_grad():
        pre_train = (t.x_train @ linear.weight.T + linear.bias).double().numpy()
        pre_test = (t.x_test @ linear.weight.T + linear.bias).double().numpy()
    # one pass in batches of 256 (the last one smaller): the average of the batch statistics
    batches = [pre_train[i:i + 256] for i in range(0, len(pre_train), 256)]
    mean = np.mean([b.mean(0) for b in batches], axis=0)
    var = np.mean([b.var(0, ddof=1) for b in batches], axis=0)
    relu_bn = lambda p: np.maximum((p - mean) / np.sqrt(var + 1e-5), 0)  # noqa: E731 (initial scale 1, shift 0)
    expected = _knn(config, relu_bn(pre_train), data, relu_bn(pre_test))
    assert scores["random_init_knn_accuracy"] == pytest.approx(expected)
    initial = _knn(config, predict_features(model, t.x_train), data, predict_features(model, t.x_test))
    assert scores["random_init_knn_accuracy"] != initial  # with statistics 0 and 1 batch norm did nothing


def test_pca_baseline_matches_an_independent_svd():
    config, data, t, model = _setup({})
    x_train, x_test = data.x_train.astype(np.float64), data.x_test.astype(np.float64)
    mean = x_train.mean(0)
    _, _, vt = np.linalg.svd(x_train - mean, full_matrices=False)
    train, test = (x_train - mean) @ vt[:32].T, (x_test - mean) @ vt[:32].T
    ours_train, ours_test = pca_features(data.x_train, data.x_test, seed=0)
    np.testing.assert_allclose(np.abs(ours_train), np.abs(train), atol=1e-3)  # components up to their sign
    scores, _ = baselines(config, data, t, model, supervised=True)
    assert scores["pca_knn_accuracy"] == pytest.approx(_knn(config, train, data, test))
    assert scores["raw_knn_accuracy"] == pytest.approx(_knn(config, x_train, data, x_test))
    assert pca_features(data.x_train[:, :5], data.x_test[:, :5], 0)[0].shape[1] == 5  # min(32, n_features)


def test_fft_magnitudes_are_invariant_to_circular_shifts():
    rng = np.random.default_rng(0)
    images = rng.random((6, 8, 8))
    shifted = np.roll(images, shift=(3, -2), axis=(1, 2))
    a, b = fft_magnitudes(images.reshape(6, -1), (8, 8)), fft_magnitudes(shifted.reshape(6, -1), (8, 8))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-12)  # exact in arithmetic; equal to rounding in floats
    assert a.shape == (6, 64) and a[0, 0] == pytest.approx(images[0].sum())  # |DC term| = the pixel sum
    changed = images.copy()
    changed[:, 0, 0] += 1.0
    assert not np.allclose(a, fft_magnitudes(changed.reshape(6, -1), (8, 8)))  # other changes do change them


def test_kmeans_nmi_of_a_perfect_clustering_is_one():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1, 2], 30)
    x = np.eye(3)[labels] * 50 + rng.normal(size=(90, 3))
    assert ev.kmeans_nmi(x, labels, 3, seed=0) == pytest.approx(1.0)
    assert normalized_mutual_info_score(labels, (labels + 1) % 3) == pytest.approx(1.0)  # names do not matter
    assert ev.kmeans_nmi(rng.normal(size=(90, 3)), labels, 3, seed=0) < 0.2  # no structure: near 0


def test_which_baselines_a_run_gets():
    config, data, t, model = _setup({"train.epochs": 1})
    supervised, _ = baselines(config, data, t, model, supervised=True)
    assert {"raw_knn_accuracy", "pca_knn_accuracy", "random_init_knn_accuracy", "invariant_knn_accuracy",
            "raw_kmeans_nmi"} <= set(supervised)
    assert "autoencoder_knn_accuracy" not in supervised  # it costs a training run: label-free runs only
    label_free, features = baselines(config, data, t, model, supervised=False)
    assert 0.0 < label_free["autoencoder_knn_accuracy"] <= 1.0 and "autoencoder" in features
    config, data, t, model = _setup({"data.name": "moons", "data.n_samples": 200, "train.epochs": 1})
    assert "invariant_knn_accuracy" not in baselines(config, data, t, model, supervised=True)[0]  # not images


def test_autoencoder_is_seeded_and_leaves_the_global_random_state_alone():
    config, data, t, _ = _setup({"train.epochs": 2})
    state = torch.get_rng_state()
    first = predict_features(train_autoencoder(config, data, t.x_train), t.x_test)
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(first, predict_features(train_autoencoder(config, data, t.x_train), t.x_test))
    torch.manual_seed(config.seed * 1000 + 777)
    untrained = predict_features(ban.build_model(config, data), t.x_test)
    assert not torch.allclose(first, untrained)  # it did train


def test_compute_control_trains_generations_times_epochs():
    config, data, t, _ = _setup({"method.generations": 3, "train.epochs": 2})
    epochs = []
    scores, _ = train_compute_control(config, data, t, CPU, lambda: False, on_epoch=lambda e, m: epochs.append(e))
    assert epochs == list(range(6))
    assert 0.0 < scores["compute_matched_knn_accuracy"] <= 1 and 0.0 < scores["compute_matched_test_accuracy"] <= 1
    with pytest.raises(ConfigError, match="over the limit"):
        control_config(config.override({"method.generations": 20, "train.epochs": 1000}))


class Recorder(Sink):
    def __init__(self):
        self.epochs, self.baselines = [], []

    def on_epoch(self, generation, epoch, metrics):
        self.epochs.append(generation)

    def on_baselines(self, baselines):
        self.baselines.append(dict(baselines))


def test_a_one_generation_control_is_generation_zero_again():
    """Same method, same seed, generations × epochs = epochs: the control must reproduce generation 0."""
    config = get_preset("dry-run").config({"method.generations": 1, "train.epochs": 3, "eval.embedding": "none",
                                           "eval.compute_control": True})
    sink = Recorder()
    summary = trainer.run(config, sink)
    assert summary["status"] == "finished", summary["error"]
    gen0, base = summary["generations"][0], summary["baselines"]
    assert base["compute_matched_knn_accuracy"] == gen0["knn_accuracy"]
    assert base["compute_matched_test_accuracy"] == gen0["test_accuracy"]
    assert sink.epochs == [0, 0, 0]  # the control's epochs are not reported as a generation
    assert "compute_matched_knn_accuracy" not in sink.baselines[0] and sink.baselines[-1] == base
