"""Every claim a preset's text makes, checked on seeds that tuned nothing (100 and up; tuning used 0 and 1).

The texts quote the spread these runs show; the thresholds here are the texts' words, with the margin the
spread needs. Slow: whole preset runs, one seed per core at once (11-16 minutes in all on 2 cores)."""
from __future__ import annotations

import numpy as np
import pytest

from core.presets import get_preset
from tests.claim_support import preset_runs, runs_of

FAST = {"eval.embedding": "none"}
# whole preset runs: up to ~5 minutes a test here, and twice that on a slow CI machine (the global 600 s guards hangs)
LONG = pytest.mark.timeout(1800)


def _runs(preset: str, seeds, **updates) -> list[dict]:
    return preset_runs(preset, seeds, {**FAST, **updates})  # one seed per core at once, each in its own process


def _column(summary: dict, key: str) -> list[float]:
    return [g[key] for g in summary["generations"]]


@pytest.mark.slow
@LONG
def test_noisy_labels_generation_0_copies_part_of_the_noise_and_later_ones_copy_less():
    """teach-noisy-labels / digits-ban-noisy: generation 0 reproduces about a third to a half of the flipped
    labels; every later generation fewer; the test accuracy of the generation chosen on validation stays within a
    few points of generation 0, either way."""
    for summary in _runs("teach-noisy-labels", (100, 101, 102), **{"eval.linear_probe": "false"}):
        memorized = _column(summary, "memorized_noise")
        assert 0.25 <= memorized[0] <= 0.55, memorized
        assert all(b <= a + 0.01 for a, b in zip(memorized, memorized[1:])), memorized
        assert memorized[-1] < memorized[0] - 0.1, memorized
        test = _column(summary, "test_accuracy")
        chosen = summary["best_generation"]
        assert abs(test[chosen] - test[0]) <= 0.03, (chosen, test)


@pytest.mark.slow
@LONG
def test_clean_digits_later_generations_stay_near_generation_0():
    """teach-clean-digits: generation 0 reaches about 97% and later generations stay within about a point."""
    for summary in _runs("teach-clean-digits", (100, 101, 102), **{"eval.linear_probe": "false"}):
        test = _column(summary, "test_accuracy")
        assert test[0] > 0.95, test
        assert max(abs(t - test[0]) for t in test[1:]) <= 0.02, test


@pytest.mark.slow
@LONG
def test_a_higher_temperature_copies_less_noise():
    """teach-temperature: the last generation's memorised share falls as T rises (mean of seeds 100-102)."""
    preset = get_preset("teach-temperature")
    temperatures = [v["method.temperature"] for v in preset.variants]
    memorized = {t: [] for t in temperatures}
    jobs = [{**FAST, **variant, "seed": str(seed), "eval.linear_probe": "false"}
            for seed in (100, 101, 102) for variant in preset.variants]
    for job, summary in zip(jobs, runs_of("teach-temperature", jobs)):
        memorized[job["method.temperature"]].append(summary["generations"][-1]["memorized_noise"])
    means = {t: float(np.mean(v)) for t, v in memorized.items()}
    assert means[1.0] > means[2.0] > means[4.0], means
    assert means[1.0] - means[8.0] >= 0.05, means


@pytest.mark.slow
@LONG
def test_on_centred_8x8_digits_label_free_features_land_level_with_raw_pixels():
    """teach-dino-features / digits-dino: k-NN on the learned features within about two points of raw pixels
    (there is little for features to win on digits that are already centred), with a healthy teacher."""
    for summary in _runs("teach-dino-features", (100, 101), **{"eval.linear_probe": "false"}):
        learned, raw = summary["generations"][-1]["knn_accuracy"], summary["baselines"]["raw_knn_accuracy"]
        assert abs(learned - raw) <= 0.02, (learned, raw)
        assert not any("collapse" in w for w in summary["warnings"]), summary["warnings"]


@pytest.mark.slow
@LONG
def test_without_centering_the_teacher_collapses_on_every_seed():
    """teach-dino-collapse: a one-hot collapse warning, and the backbone's features left about where they
    started (k-NN within three points of the untrained network's)."""
    # Seeds 103-104: at 20 epochs seed 100's collapse was still incomplete (one output for 88% of inputs), so the
    # preset now trains 40; seeds 100-102 saw that decision and no longer count as unseen for this claim.
    for summary in _runs("teach-dino-collapse", (103, 104)):
        assert any("one-hot collapse" in w for w in summary["warnings"]), summary["warnings"]
        learned = summary["generations"][-1]["knn_accuracy"]
        assert abs(learned - summary["baselines"]["random_init_knn_accuracy"]) <= 0.03, summary["baselines"]


@pytest.mark.slow
@LONG
def test_shifted_dino_features_beat_every_learned_or_linear_baseline():
    """shifted-dino: k-NN ≥ raw pixels + 20 points and ≥ the best of PCA, random network and autoencoder + 3
    (mean of two unseen seeds); every baseline and the label-efficiency curves are reported."""
    summaries = _runs("shifted-dino", (100, 101))
    for summary in summaries:
        assert {"raw_knn_accuracy", "pca_knn_accuracy", "random_init_knn_accuracy", "autoencoder_knn_accuracy",
                "invariant_knn_accuracy"} <= set(summary["baselines"])
        assert set(summary["label_efficiency"]["features"]) == {"1", "5", "10"}
    learned = np.mean([s["generations"][-1]["knn_accuracy"] for s in summaries])
    baseline = {k: np.mean([s["baselines"][k] for s in summaries]) for k in summaries[0]["baselines"]}
    assert learned >= baseline["raw_knn_accuracy"] + 0.20, (learned, baseline)
    best_other = max(baseline[k] for k in ("pca_knn_accuracy", "random_init_knn_accuracy",
                                           "autoencoder_knn_accuracy"))
    assert learned >= best_other + 0.03, (learned, baseline)
    ten_shot = np.mean([s["label_efficiency"]["features"]["10"] - s["label_efficiency"]["raw"]["10"]
                        for s in summaries])
    assert ten_shot >= 0.3, ten_shot  # with 10 labels a class, a probe on the features is far ahead of raw pixels


@pytest.mark.slow
@LONG
def test_shifted_invariance_lessons_the_hand_made_invariant_and_the_compute_control():
    """teach-shifted-invariance: training adds to the untrained network, |FFT| beats the learned features on pure
    translation, the second generation does no better on average than one generation trained for the same total
    epochs; and the group sentence's means (quoted from seeds 200-202), here over three other seeds."""
    summaries = _runs("teach-shifted-invariance", (100, 101, 102))
    for summary in summaries:
        knn, baselines = _column(summary, "knn_accuracy"), summary["baselines"]
        print(f"seed {summary['config']['seed']}: k-NN per generation {[round(k, 3) for k in knn]}, compute-matched "
              f"{baselines['compute_matched_knn_accuracy']:.3f}, |FFT| {baselines['invariant_knn_accuracy']:.3f}, "
              f"chosen {summary['best_generation']}")
        assert knn[0] >= baselines["random_init_knn_accuracy"] + 0.05, (knn, baselines)
        assert baselines["invariant_knn_accuracy"] > max(knn), (knn, baselines)
        efficiency = summary["label_efficiency"]
        assert efficiency["features"]["10"] >= efficiency["raw"]["10"] + 0.5, efficiency

    def mean(values) -> float:
        return 100 * float(np.mean(values))

    means = {"generation 0": mean([s["generations"][0]["knn_accuracy"] for s in summaries]),
             "generation 1": mean([s["generations"][1]["knn_accuracy"] for s in summaries]),
             **{k: mean([s["baselines"][k] for s in summaries]) for k in (
                 "raw_knn_accuracy", "random_init_knn_accuracy", "compute_matched_knn_accuracy",
                 "invariant_knn_accuracy")}}
    print("teach-shifted-invariance, seeds 100-102, mean k-NN %:", {k: round(v, 1) for k, v in means.items()})
    # "94.1% after generation 0 and 94.0% after generation 1 against 67.2% raw, 83.7% untrained, 95.8%
    # compute-matched, 96.7% |FFT|": each mean within the spread a 3-seed mean shows (±3 points; raw ±5)
    assert abs(means["generation 0"] - 94.1) <= 3 and abs(means["generation 1"] - 94.0) <= 3, means
    assert abs(means["raw_knn_accuracy"] - 67.2) <= 5 and abs(means["random_init_knn_accuracy"] - 83.7) <= 3, means
    assert abs(means["compute_matched_knn_accuracy"] - 95.8) <= 3, means
    # "no better on average than the compute-matched bar; on a single seed it can land a point above it"
    assert means["compute_matched_knn_accuracy"] >= means["generation 1"] - 0.5, means
    assert all(s["baselines"]["compute_matched_knn_accuracy"] >= s["generations"][1]["knn_accuracy"] - 0.025
               for s in summaries), [(s["generations"][1], s["baselines"]) for s in summaries]
    assert abs(means["invariant_knn_accuracy"] - 96.7) <= 3, means


@pytest.mark.slow
@LONG
def test_clutter_dino_beats_the_hand_made_invariant_where_it_fails():
    """clutter-dino: k-NN ≥ |FFT| + 5 points and ≥ raw pixels + 20 points (mean of two unseen seeds); above the
    untrained network and the autoencoder on every seed."""
    summaries = _runs("clutter-dino", (100, 101))
    learned = np.mean([s["generations"][-1]["knn_accuracy"] for s in summaries])
    invariant = np.mean([s["baselines"]["invariant_knn_accuracy"] for s in summaries])
    raw = np.mean([s["baselines"]["raw_knn_accuracy"] for s in summaries])
    assert learned >= invariant + 0.05 and learned >= raw + 0.20, (learned, invariant, raw)
    for s in summaries:
        knn = s["generations"][-1]["knn_accuracy"]
        assert knn > s["baselines"]["random_init_knn_accuracy"] + 0.1 and knn > s["baselines"][
            "autoencoder_knn_accuracy"] + 0.1, s["baselines"]


def test_the_noisy_teaching_preset_is_the_noisy_preset():
    assert get_preset("teach-noisy-labels").config() == get_preset("digits-ban-noisy").config()
