"""The mean-and-spread sentences of the teaching presets (issue 14), checked on a 3-seed group (core.engine.seed_group,
trained together as ``run --seeds 3`` does) on seeds 300-302: the texts quote seeds 200-202, and no preset was
tuned on either. The thresholds are the texts' words with the margin a spread over other seeds needs."""
from __future__ import annotations

import numpy as np
import pytest

from core.engine.seed_group import execute_group
from core.presets import get_preset
from core.storage.run_store import RunStore

HELD_OUT = 300  # seeds 300, 301, 302


def _group(preset: str, tmp_path) -> list[dict]:
    config = get_preset(preset).config({"seed": HELD_OUT, "eval.embedding": "none", "eval.linear_probe": False})
    result = execute_group(config, 3, RunStore(tmp_path))
    assert [s["status"] for s in result["summaries"]] == ["finished"] * 3, [s["error"] for s in result["summaries"]]
    return result["summaries"]


def _column(summary: dict, key: str) -> np.ndarray:
    return np.array([g[key] for g in summary["generations"]])


def _chosen_gain(summary: dict) -> float:
    """Test accuracy of the generation chosen on validation minus generation 0's, in points."""
    test = _column(summary, "test_accuracy")
    return 100 * (test[summary["best_generation"]] - test[0])


@pytest.mark.slow  # 1-4 min on shared cores: one batched 3-seed group of 4 generations × 60 epochs
def test_noisy_labels_mean_memorised_noise_falls_and_the_mean_gain_is_small_and_positive(tmp_path):
    """teach-noisy-labels: "generation 0 reproduces 37% of the flipped labels on average and generation 3 15%,
    falling on every seed (single seeds 36-38% and 13-17%); the chosen generation gains +2.4 points on average,
    single seeds from +0.6 to +3.3". Measured on 300-302: memorised 34.2-43.5% (mean 38.7%) at generation 0,
    13.7-18.4% (mean 15.5%) at generation 3; chosen gain +1.7, 0.0, +2.2 (mean +1.3)."""
    runs = _group("teach-noisy-labels", tmp_path)
    memorized = np.array([_column(s, "memorized_noise") for s in runs])  # [seed, generation]
    assert 0.30 <= memorized[:, 0].mean() <= 0.45, memorized
    assert 0.10 <= memorized[:, -1].mean() <= 0.20, memorized
    assert (memorized[:, -1] < memorized[:, 0] - 0.1).all(), memorized  # falling on every seed
    gains = [_chosen_gain(s) for s in runs]
    assert np.mean(gains) >= 0.0, gains  # the direction: a gain on average
    assert all(-1.5 <= g <= 4.5 for g in gains), gains  # small; the texts' seeds span -0.8 .. +3.3


@pytest.mark.slow  # ~1 min: one batched 3-seed group of 4 generations × 40 epochs
def test_clean_digits_mean_stays_level_with_generation_0(tmp_path):
    """teach-clean-digits: "generation 0 scores 97.7% on average (single seeds 96.9-98.9%) and generation 3
    97.4%, a mean change of -0.3 points (single seeds -0.6 to 0.0): the mean does not rise". Measured on 300-302:
    generation 0 97.2-97.5% (mean 97.3%), generation 3 96.1-97.5% (mean 96.8%), change 0.0 to -1.1 (mean -0.5);
    the validation split kept generation 0 on all three."""
    runs = _group("teach-clean-digits", tmp_path)
    test = np.array([_column(s, "test_accuracy") for s in runs])  # [seed, generation]
    assert test[:, 0].mean() >= 0.96 and test[:, 0].min() >= 0.95, test
    change = 100 * (test[:, 1:].mean(0) - test[:, 0].mean())  # mean over seeds, per later generation
    assert (change <= 0.5).all() and (change >= -1.0).all(), change  # level: no rise, under a point of loss
    assert (np.abs(test[:, -1] - test[:, 0]) <= 0.015).all(), test  # single seeds within about a point
    assert np.mean([_chosen_gain(s) for s in runs]) <= 0.5  # validation finds nothing to gain


@pytest.mark.slow  # 3-6 min: DINO seeds run one after another (no stacked step for batch norm)
def test_dino_features_level_with_raw_pixels_on_average_and_on_every_seed(tmp_path):
    """teach-dino-features: "the learned features' k-NN is 98.2% on average (single seeds 97.8-98.6%) against
    98.1% for raw pixels: level on average, and on every seed" (level: within the text's two points). Measured on
    300-302: learned 96.7-96.9% against raw 98.1%, differences -1.2, -1.4, -1.4 (mean -1.3); no collapse warning."""
    runs = _group("teach-dino-features", tmp_path)
    diffs = [100 * (s["generations"][-1]["knn_accuracy"] - s["baselines"]["raw_knn_accuracy"]) for s in runs]
    assert abs(np.mean(diffs)) <= 2.0 and all(abs(d) <= 2.0 for d in diffs), diffs
    assert np.mean([s["generations"][-1]["knn_accuracy"] for s in runs]) >= 0.95
    assert not any("collapse" in w for s in runs for w in s["warnings"])


@pytest.mark.slow  # 2-4 min: DINO seeds one after another
def test_dino_collapse_warns_on_every_seed_and_the_features_stay_where_they_started(tmp_path):
    """teach-dino-collapse: "the collapse warning appears on every seed, and the features' k-NN ends 0.2 points
    above the untrained network's on average (single seeds -0.9 to +0.8)" (the text's "about where they started":
    within three points). Measured on 300-302: a warning on every seed (from epochs 7, 7, 3); k-NN against the
    untrained network -1.4, +0.6, 0.0 points (mean -0.3)."""
    runs = _group("teach-dino-collapse", tmp_path)
    assert all(any("one-hot collapse" in w for w in s["warnings"]) for s in runs), [s["warnings"] for s in runs]
    diffs = [100 * (s["generations"][-1]["knn_accuracy"] - s["baselines"]["random_init_knn_accuracy"])
             for s in runs]
    assert abs(np.mean(diffs)) <= 3.0 and all(abs(d) <= 3.0 for d in diffs), diffs


@pytest.mark.slow  # 2-5 min: 4 batched 3-seed groups of 3 generations × 60 epochs
def test_temperature_mean_memorised_noise_falls_as_t_rises(tmp_path):
    """teach-temperature (its text already quotes means over seeds 100-102 and their spread): on seeds 300-302 too
    the mean share of flipped labels the last generation reproduces falls as T rises, and the chosen generation's
    test-accuracy change stays within the text's "-1.4 to +2.2" (with a margin). Measured on 300-302: means 0.240,
    0.199, 0.175, 0.168 at T = 1, 2, 4, 8 (0.21-0.27 at T = 1, 0.15-0.20 at T = 8); changes -0.3 to +2.2."""
    preset = get_preset("teach-temperature")
    means, gains = [], []
    for config in preset.configs({"seed": HELD_OUT, "eval.embedding": "none", "eval.linear_probe": False}):
        result = execute_group(config, 3, RunStore(tmp_path))
        runs = result["summaries"]
        assert [s["status"] for s in runs] == ["finished"] * 3
        last = [s["generations"][-1]["memorized_noise"] for s in runs]
        assert result["summary"]["generations"][-1]["memorized_noise"]["mean"] == pytest.approx(np.mean(last))
        means.append(np.mean(last))
        gains += [_chosen_gain(s) for s in runs]
    assert all(b < a for a, b in zip(means, means[1:])), means
    assert means[0] - means[-1] >= 0.04, means
    assert all(-2.0 <= g <= 3.0 for g in gains), gains
