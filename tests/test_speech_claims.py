"""The speech presets' texts are claims: checked here on seeds that tuned nothing (100-102), through the real CLI
(espeak-ng synthesis, real trainer, real store). Slow: minutes per preset. The figures each test prints are the
ones bench/RESULTS.md and bench/TUNING.md quote."""
from __future__ import annotations

import json

import numpy as np
import pytest

from tests.claim_support import cli_runs

# whole preset runs: up to ~5 minutes a test here, and twice that on a slow CI machine
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]
SEEDS = (100, 101, 102)


def _runs(preset: str, tmp_path) -> list[dict]:
    """The CLI's JSON summary of ``preset`` on each of SEEDS (one seed per core at once: each trains on one thread)."""
    outputs = cli_runs([["run", "--preset", preset, "--set", f"seed={seed}", "--json"] for seed in SEEDS],
                       tmp_path / "store")
    return [json.loads(out.strip().splitlines()[-1]) for out in outputs]


def test_speech_ban_noisy_lowers_wer_on_unheard_voices(tmp_path):
    gains = []
    for seed, s in zip(SEEDS, _runs("speech-ban-noisy", tmp_path)):
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
        # the text: generation 0 at 26-28%, lower at every generation, 14-19% by generation 2, a later generation
        # chosen: generation 2, or generation 1 where the two tie on validation (seed 101 on one CI machine)
        assert 0.24 <= wers[0] <= 0.30 and all(b < a for a, b in zip(wers, wers[1:]))
        assert 0.135 <= wers[2] <= 0.195 and (best == 2 or (best == 1 and vals[1] == vals[2]))
    print(f"speech-ban-noisy: WER of generation 0 minus the best later generation (on validation): {gains}")
    assert sum(gains) / len(gains) > 0  # the bar: lower WER than generation 0 on average


def test_speech_dino_knn_beats_raw_logmel_but_not_the_untrained_network_mfcc_best(tmp_path):
    """Every claim of SPEECH_DINO_TEXT on seeds 100-102, which tuned nothing. The issue's bar, k-NN on the learned
    features below raw log-mel k-NN on average, is met; what was tried is in bench/TUNING.md (fourth pass)."""
    rows = []
    for seed, s in zip(SEEDS, _runs("speech-dino", tmp_path)):
        voices = s["dataset"]
        assert set(voices["test_voices"]).isdisjoint(voices["train_voices"] + voices["val_voices"])
        assert s["config"]["model"]["row_mean_norm"] and s["config"]["method"]["keep_best_val_knn"]
        g, b = s["generations"][-1], s["baselines"]
        row = {"knn": g["knn_wer"], "probe": g["linear_probe_wer"], "raw": 1 - b["raw_knn_accuracy"],
               "mfcc": 1 - b["mfcc_knn_accuracy"], "untrained": 1 - b["random_init_knn_accuracy"],
               "kept epoch": g["best_val_epoch"]}
        rows.append(row)
        print(f"speech-dino seed {seed}: k-NN WER {row['knn']:.3f}, probe WER {row['probe']:.3f}, raw log-mel k-NN "
              f"WER {row['raw']:.3f}, MFCC k-NN WER {row['mfcc']:.3f}, untrained network k-NN WER "
              f"{row['untrained']:.3f}, kept epoch {row['kept epoch']} (0-based), wall {s['wall_seconds']:.0f} s")
    col = {k: np.array([r[k] for r in rows]) for k in rows[0]}
    gap = col["knn"] - col["raw"]  # < 0: the features' k-NN misrecognises fewer words than raw log-mel k-NN
    for k, v in {**col, "k-NN minus raw": gap}.items():
        print(f"speech-dino over seeds {SEEDS}: {k} mean {v.mean():.3f}, std {v.std(ddof=1):.3f}, "
              f"min {v.min():.3f}, max {v.max():.3f}")
    # "k-NN on its features misrecognises 31-35% of the words, fewer than k-NN on the raw log-mel images (40-45%) on
    # every seed (6 to 13 points fewer, 9 on average)": the issue's bar is the mean
    assert all(0.305 <= v <= 0.355 for v in col["knn"]) and all(0.38 <= v <= 0.47 for v in col["raw"])
    assert gap.mean() < 0 and (gap < 0).all()
    assert all(-0.135 <= v <= -0.055 for v in gap) and -0.095 <= gap.mean() <= -0.085
    # "a linear probe on them 14-21%"
    assert all(0.135 <= v <= 0.215 for v in col["probe"])
    # "the same network untrained, reading the same normalised input, does as well or a little better on k-NN
    # (29-34%)"
    assert (col["untrained"] <= col["knn"] + 1e-9).all() and all(0.285 <= v <= 0.345 for v in col["untrained"])
    # "the validation voices chose one of its first four epochs out of ten" (0 and 2, or 0 and 3, by machine)
    assert all(0 <= v <= 3 for v in col["kept epoch"])
    # "MFCC features ... beat them all (k-NN WER 22-24%)"
    assert (col["mfcc"] < np.minimum.reduce([col["raw"], col["knn"], col["untrained"]])).all()
    assert all(0.215 <= v <= 0.245 for v in col["mfcc"])
