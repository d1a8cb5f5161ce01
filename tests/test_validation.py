"""The validation split (stratified, seeded, disjoint, noisy like training, scaled with training statistics only)
and choosing the best generation on it, never on test."""
import math

import numpy as np
import pytest
import torch

from core.config import DataConfig, RunConfig
from core.data.files import DataError
from core.data.splits import load_dataset, samples_needed_per_class
from core.engine import generations as trainer
from core.engine.sinks import Sink
from core.evaluation.selection import best_generation, selection_metric
from core.models import build_model
from core.presets import get_preset


def _id_csv(tmp_path, counts: list[int]):
    """A CSV whose first feature is the row's id (0..n-1), so every part's rows can be traced back."""
    labels = np.repeat(np.arange(len(counts)), counts)
    rng = np.random.default_rng(0)
    rows = ["id,other,label"] + [f"{i},{rng.normal():.4f},{c}" for i, c in enumerate(labels)]
    path = tmp_path / "ids.csv"
    path.write_text("\n".join(rows))
    return path, labels


def _ids(column: np.ndarray, all_columns: list[np.ndarray]) -> np.ndarray:
    """Undo the (increasing, affine) standardisation: every id 0..n-1 appears once across the parts."""
    ordered = np.sort(np.concatenate(all_columns))
    step = (ordered[-1] - ordered[0]) / (len(ordered) - 1)
    return np.rint((column - ordered[0]) / step).astype(int)


def test_split_is_stratified_disjoint_and_seeded(tmp_path):
    path, labels = _id_csv(tmp_path, [60, 100, 40])
    cfg = DataConfig(name="file", path=str(path), val_fraction=0.25)
    data = load_dataset(cfg, seed=0)
    parts = [data.x_train[:, 0], data.x_val[:, 0], data.x_test[:, 0]]
    train, val, test = (_ids(p, parts) for p in parts)
    assert sorted(np.concatenate([train, val, test]).tolist()) == list(range(200))  # disjoint, nothing lost
    assert np.array_equal(labels[val], data.y_val_clean) and np.array_equal(labels[train], data.y_train_clean)
    # stratified: each class's share of the validation split is its share of the training pool (within 1 sample)
    pool = np.bincount(labels[np.concatenate([train, val])], minlength=3)
    np.testing.assert_allclose(np.bincount(labels[val], minlength=3), 0.25 * pool, atol=1)
    again = load_dataset(cfg, seed=0)
    assert np.array_equal(again.x_val, data.x_val)
    other = load_dataset(cfg, seed=1)
    assert not np.array_equal(np.sort(other.x_val[:, 0]), np.sort(data.x_val[:, 0]))


def test_scaling_statistics_come_from_the_training_part_only(tmp_path):
    path, _ = _id_csv(tmp_path, [60, 100, 40])
    data = load_dataset(DataConfig(name="file", path=str(path), val_fraction=0.25), seed=0)
    parts = [data.x_train[:, 0], data.x_val[:, 0], data.x_test[:, 0]]
    train_ids, val_ids = _ids(parts[0], parts), _ids(parts[1], parts)
    mean, std = train_ids.mean(), train_ids.std()
    np.testing.assert_allclose(data.x_train[:, 0], (train_ids - mean) / std, atol=1e-5)
    np.testing.assert_allclose(data.x_val[:, 0], (val_ids - mean) / std, atol=1e-5)
    pooled = np.concatenate([train_ids, val_ids])  # had validation leaked into the statistics, these would hold
    assert abs(pooled.mean() - mean) > 1e-3 or abs(pooled.std() - std) > 1e-3


def test_validation_labels_carry_the_training_noise():
    data = load_dataset(DataConfig(label_noise=0.4), seed=0)
    clean = load_dataset(DataConfig(), seed=0)
    assert np.array_equal(data.y_val_clean, clean.y_val) and np.array_equal(data.x_val, clean.x_val)
    assert int(np.sum(data.y_val != data.y_val_clean)) == round(0.4 * len(data.y_val))
    assert len(data.flipped) == round(0.4 * len(data.y_train))
    assert np.array_equal(data.y_test, clean.y_test)  # the test split stays clean


def test_a_class_too_small_for_every_part_is_a_clear_data_error(tmp_path):
    path, _ = _id_csv(tmp_path, [40, 40, 3])
    needed = samples_needed_per_class(0.2, 0.1)
    assert needed == math.ceil(1 / (0.8 * 0.1))  # a tenth of the 80% left after the test split
    with pytest.raises(DataError, match=f"about {needed} samples"):
        load_dataset(DataConfig(name="file", path=str(path), val_fraction=0.1), seed=0)
    data = load_dataset(DataConfig(name="file", path=str(path), val_fraction=0.0), seed=0)  # no validation: fine
    assert data.x_val is None and not data.has_validation


def test_best_generation_is_the_argmax_with_ties_to_the_earlier():
    rows = [{"generation": 0, "val_accuracy": 0.80, "test_accuracy": 0.99},
            {"generation": 1, "val_accuracy": 0.90, "test_accuracy": 0.10},
            {"generation": 2, "val_accuracy": 0.90, "test_accuracy": 0.50},
            {"generation": 3, "val_accuracy": float("nan")},
            {"generation": 4}]
    assert best_generation(rows, "val_accuracy") == 1  # the tie with generation 2 goes to the earlier one
    assert best_generation(rows, "test_accuracy") == 0  # (test would have chosen differently)
    assert best_generation([{"generation": 0}, {"generation": 1}], "val_accuracy") is None
    assert best_generation([], "val_accuracy") is None
    assert selection_metric(True) == "val_accuracy" and selection_metric(False) == "val_knn_accuracy"


class Recorder(Sink):
    def __init__(self):
        self.epochs, self.states = [], []

    def on_epoch(self, generation, epoch, metrics):
        self.epochs.append(metrics)

    def on_generation(self, generation, metrics, arrays, state_dict):
        self.states.append(state_dict)


def test_a_run_reports_validation_numbers_and_chooses_on_them():
    config = get_preset("dry-run").config({"method.generations": 3, "train.epochs": 2, "eval.embedding": "none"})
    sink = Recorder()
    summary = trainer.run(config, sink)
    assert summary["status"] == "finished", summary["error"]
    assert all("val_accuracy" in m and "test_accuracy" in m for m in sink.epochs)  # per epoch, beside test
    val = [g["val_accuracy"] for g in summary["generations"]]
    assert summary["best_generation"] == int(np.argmax(val))  # numpy's argmax also takes the first maximum
    # generation 0's val_accuracy, recomputed from its stored weights against the given validation labels
    data = load_dataset(config.data, config.seed)
    model = build_model(config.model, data.n_features, data.n_classes, data.image_shape)
    model.load_state_dict(sink.states[0])
    with torch.no_grad():
        preds = model.eval()(torch.from_numpy(data.x_val)).argmax(1).numpy()
    assert val[0] == pytest.approx(np.mean(preds == data.y_val))
    for g in summary["generations"]:
        assert 0.0 <= g["val_knn_accuracy"] <= 1.0


def test_without_a_validation_split_every_val_metric_is_absent():
    config = get_preset("dry-run").config({"data.val_fraction": 0.0, "method.generations": 1, "train.epochs": 1,
                                           "eval.embedding": "none"})
    sink = Recorder()
    summary = trainer.run(config, sink)
    assert summary["status"] == "finished", summary["error"]
    assert summary["best_generation"] is None
    assert not any(k.startswith("val_") for g in summary["generations"] for k in g)
    assert not any(k.startswith("val_") for m in sink.epochs for k in m)


def test_label_free_runs_choose_on_the_validation_knn():
    config = RunConfig().override({"method.name": "dino", "method.generations": 2, "train.epochs": 1,
                                   "model.hidden": 16, "model.batch_norm": True, "method.out_dim": 16,
                                   "train.batch_size": 256, "method.local_views": 0, "eval.embedding": "none",
                                   "eval.linear_probe": False})
    sink = Recorder()
    summary = trainer.run(config, sink)
    assert summary["status"] == "finished", summary["error"]
    assert all("val_knn_accuracy" in m and "knn_accuracy" in m for m in sink.epochs)
    val = [g["val_knn_accuracy"] for g in summary["generations"]]
    assert summary["best_generation"] == int(np.argmax(val))
