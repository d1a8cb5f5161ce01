"""Each born-again teaching preset shows the phenomenon it claims, on 3 seeds (slow: minutes)."""
import numpy as np
import pytest

from core.engine import generations as trainer
from core.presets import get_preset

SEEDS = (0, 1, 2)
FAST_EVAL = {"eval.embedding": "none", "eval.linear_probe": "false"}


def accuracies(preset: str, seed: int, variant: int = 0) -> tuple[list[float], list[float]]:
    config = get_preset(preset).configs({"seed": str(seed), **FAST_EVAL})[variant]
    summary = trainer.run(config)
    assert summary["status"] == "finished", summary["error"]
    return ([g["test_accuracy"] for g in summary["generations"]],
            [g["memorized_noise"] for g in summary["generations"]])


def gain(acc: list[float]) -> float:
    """Best later generation minus generation 0."""
    return max(acc[1:]) - acc[0]


def test_teaching_preset_for_noisy_labels_is_the_noisy_preset():
    assert get_preset("teach-noisy-labels").config() == get_preset("digits-ban-noisy").config()


@pytest.mark.slow
def test_noisy_labels_born_again_gain_and_memorised_noise_falls():
    runs = [accuracies("digits-ban-noisy", seed) for seed in SEEDS]
    assert np.mean([gain(acc) for acc, _ in runs]) >= 0.015
    for _, memorised in runs:
        assert memorised[-1] < memorised[0] - 0.1  # later generations reproduce far fewer flipped labels


@pytest.mark.slow
def test_clean_digits_little_or_no_gain():
    runs = [accuracies("teach-clean-digits", seed)[0] for seed in SEEDS]
    assert np.mean([acc[0] for acc in runs]) > 0.95
    assert abs(np.mean([gain(acc) for acc in runs])) < 0.015


@pytest.mark.slow
def test_higher_temperature_memorises_less_noise():
    preset = get_preset("teach-temperature")
    temperatures = [v["method.temperature"] for v in preset.variants]
    assert temperatures == [1.0, 2.0, 4.0, 8.0]
    last_memorised = {t: np.mean([accuracies("teach-temperature", seed, i)[1][-1] for seed in SEEDS])
                      for i, t in enumerate(temperatures)}
    assert last_memorised[1.0] > last_memorised[2.0] > last_memorised[4.0]
    assert last_memorised[1.0] - last_memorised[8.0] >= 0.05
