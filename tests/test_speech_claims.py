"""The speech presets' texts are claims: checked here on seeds that tuned nothing (100-102), through the real CLI
(espeak-ng synthesis, real trainer, real store). Slow: minutes per preset. The figures each test prints are the
ones bench/RESULTS.md and bench/TUNING.md quote."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
SEEDS = (100, 101, 102)


def _run(preset: str, seed: int, tmp_path) -> dict:
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    done = subprocess.run([sys.executable, "-m", "core", "run", "--preset", preset, "--set", f"seed={seed}", "--json",
                           "--store", str(tmp_path / "store")], capture_output=True, text=True, env=env, timeout=900)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_speech_ban_noisy_lowers_wer_on_unheard_voices(tmp_path):
    gains = []
    for seed in SEEDS:
        s = _run("speech-ban-noisy", seed, tmp_path)
        voices = s["dataset"]
        assert set(voices["test_voices"]).isdisjoint(voices["train_voices"] + voices["val_voices"])
        wers = [g["test_wer"] for g in s["generations"]]
        vals = [g["val_accuracy"] for g in s["generations"]]
        best = s["best_generation"]
        assert best == max(range(len(vals)), key=lambda g: (vals[g], -g))  # chosen on validation, never test
        later_best = min(range(1, len(vals)), key=lambda g: (-vals[g], g))  # the best later generation, on val
        gains.append(wers[0] - wers[later_best])
        print(f"speech-ban-noisy seed {seed}: WER per generation {[round(w, 3) for w in wers]}, val acc "
              f"{[round(v, 3) for v in vals]}, chosen {best}, wall {s['wall_seconds']:.0f} s")
        # the text: generation 0 at 26-28%, lower at every generation, 14-18% by generation 2, generation 2 chosen
        assert 0.24 <= wers[0] <= 0.30 and all(b < a for a, b in zip(wers, wers[1:]))
        assert 0.12 <= wers[2] <= 0.20 and best == 2
    print(f"speech-ban-noisy: WER of generation 0 minus the best later generation (on validation): {gains}")
    assert sum(gains) / len(gains) > 0  # the bar: lower WER than generation 0 on average


def test_speech_dino_text_probe_beats_raw_knn_but_mfcc_beats_both(tmp_path):
    """The text's claims. The issue's bar (k-NN on the features below raw log-mel k-NN) is NOT met (TUNING.md)."""
    for seed in SEEDS[:2]:
        s = _run("speech-dino", seed, tmp_path)
        g = s["generations"][-1]
        raw_wer = 1 - s["baselines"]["raw_knn_accuracy"]
        mfcc_wer = 1 - s["baselines"]["mfcc_knn_accuracy"]
        print(f"speech-dino seed {seed}: k-NN WER {g['knn_wer']:.3f}, probe WER {g['linear_probe_wer']:.3f}, "
              f"raw log-mel k-NN WER {raw_wer:.3f}, MFCC k-NN WER {mfcc_wer:.3f}, untrained "
              f"{1 - s['baselines']['random_init_knn_accuracy']:.3f}, wall {s['wall_seconds']:.0f} s")
        assert 0.19 <= g["linear_probe_wer"] <= 0.27 and g["linear_probe_wer"] < raw_wer  # "21-25%"
        assert 0.39 <= raw_wer <= 0.47  # "41-45%"
        assert abs(g["knn_wer"] - raw_wer) <= 0.07  # "level with k-NN on the raw images"
        assert mfcc_wer < min(raw_wer, g["knn_wer"]) and 0.20 <= mfcc_wer <= 0.26  # "MFCC beats it, 22-24%"
