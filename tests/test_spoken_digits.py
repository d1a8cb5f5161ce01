"""spoken-digits: real espeak-ng synthesis (a few voices for speed), the voice split, the cache, the missing-binary
error, and the dataset's shapes through the same split code every run uses."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from core.config import RunConfig
from core.data import spoken, spoken_audio
from core.data.files import DataError
from core.data.splits import dataset_facts, load_dataset

SMALL = ("en+m1", "en-us+f2", "en-gb-scotland+m3", "en-029+f5", "en-us-nyc+m7")


@pytest.fixture
def small(monkeypatch, tmp_path):
    """Five voices, one take each: 50 clips, a couple of seconds of espeak-ng; a fresh cache folder."""
    monkeypatch.setattr(spoken, "VOICES", SMALL)
    monkeypatch.setattr(spoken, "TAKES", 1)
    monkeypatch.setenv("SDLAB_DATA_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_espeak_output_is_cut_into_the_ten_words_in_order():
    words = spoken_audio.synthesize(spoken_audio.espeak_path(), "en-us+m2", 160, 50)
    assert len(words) == 10
    lengths = np.array([len(w) for w in words]) / spoken_audio.RATE
    assert ((lengths > 0.15) & (lengths < 1.2)).all(), lengths  # each a spoken word, none two words glued
    # "seven" has two syllables, "one" one: at the same speed it is longer (a check that the order is kept)
    assert lengths[7] > lengths[1]


def test_synthesis_is_deterministic_per_seed_and_differs_across_seeds():
    voices = ["en+f1", "en-us+m4"]
    a_waves, a_labels, a_voices = spoken_audio.takes(voices, 1, seed=3)
    b_waves, b_labels, _ = spoken_audio.takes(voices, 1, seed=3)
    c_waves, _, _ = spoken_audio.takes(voices, 1, seed=4)
    assert a_waves.shape == (20, spoken_audio.CLIP) and a_waves.dtype == np.int16
    np.testing.assert_array_equal(a_waves, b_waves)
    np.testing.assert_array_equal(a_labels, b_labels)
    assert not np.array_equal(a_waves, c_waves)
    np.testing.assert_array_equal(a_labels, np.tile(np.arange(10), 2))
    np.testing.assert_array_equal(a_voices, np.repeat([0, 1], 10))
    assert (np.abs(a_waves).max(axis=1) > 1000).all()  # every clip holds a word, not just silence


@pytest.mark.parametrize("seed", [0, 1, 100])
@pytest.mark.parametrize("fractions", [(0.2, 0.1), (0.3, 0.0), (0.05, 0.5)])
def test_voice_split_is_disjoint_and_complete(seed, fractions):
    cfg = RunConfig().override({"data.name": "spoken-digits", "data.test_fraction": fractions[0],
                                "data.val_fraction": fractions[1]}).data
    train, val, test = spoken.voice_split(cfg, seed)
    assert not set(train) & set(test) and not set(train) & set(val) and not set(val) & set(test)
    assert sorted([*train, *val, *test]) == list(range(len(spoken.VOICES)))
    assert len(test) == round(fractions[0] * 96)
    assert (len(val) > 0) == (fractions[1] > 0)
    facts = dataset_facts(cfg, seed)
    assert set(facts["test_voices"]).isdisjoint(facts["train_voices"] + facts["val_voices"])
    assert len(facts["train_voices"]) == len(train)


def test_dataset_rows_follow_the_voice_split_and_are_cached(small):
    cfg = RunConfig().override({"data.name": "spoken-digits", "data.test_fraction": 0.2,
                                "data.val_fraction": 0.25}).data
    first = spoken.clips(seed=5)
    assert first["synthesis_seconds"] > 0
    path = spoken.cache_path(5)
    assert path.exists() and path.parent == small
    with np.load(path, allow_pickle=False) as f:  # plain arrays: loads without pickles
        assert f["waves"].dtype == np.int16
    again = spoken.clips(seed=5)
    assert again["synthesis_seconds"] == 0.0
    np.testing.assert_array_equal(again["waves"], first["waves"])

    data = load_dataset(cfg, seed=5)
    train, val, test = spoken.voice_split(cfg, 5)
    assert (len(data.x_train), len(data.x_val), len(data.x_test)) == (10 * len(train), 10 * len(val), 10 * len(test))
    assert data.image_shape == (32, 32) and data.x_test.shape[1] == 32 * 32
    assert data.n_classes == 10 and data.x_train.min() >= 0 and data.x_train.max() == pytest.approx(1.0)
    # the test rows are exactly the test voices' clips: recompute them from the cached waveforms
    test_rows = spoken.split_indices(cfg, 5)[2]
    assert set(first["voice_ids"][test_rows]) == set(test)
    np.testing.assert_allclose(data.x_test_raw, spoken.features(first["waves"][test_rows]), rtol=1e-6)
    np.testing.assert_array_equal(spoken.test_waveforms(cfg, 5), first["waves"][test_rows])


def test_missing_espeak_is_one_clear_error(monkeypatch, small, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(DataError, match=r"Debian package espeak-ng \(sudo apt-get install espeak-ng\)"):
        spoken.clips(seed=11)


def test_cli_without_espeak_exits_2_with_one_line(tmp_path):
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "PATH": str(tmp_path / "empty"),
           "SDLAB_DATA_CACHE": str(tmp_path / "cache")}
    done = subprocess.run([sys.executable, "-m", "core", "run", "--preset", "dry-run", "--set",
                           "data.name=spoken-digits", "--store", str(tmp_path / "store")],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "espeak-ng" in lines[0] and "apt-get install espeak-ng" in lines[0]


@pytest.mark.slow
def test_cli_json_lists_disjoint_voices_and_synthesis_fits_the_budget(tmp_path):
    """The default size, synthesized from scratch: <= 60 s (the issue's budget), then a tiny run's --json."""
    env = {**os.environ, "PYTHONPATH": os.getcwd(), "SDLAB_DATA_CACHE": str(tmp_path / "cache")}
    timing = subprocess.run([sys.executable, "-c", "from core.data import spoken; "
                             "print(spoken.clips(7)['synthesis_seconds'])"],
                            capture_output=True, text=True, env=env, timeout=300)
    assert float(timing.stdout.strip()) <= 60.0
    done = subprocess.run([sys.executable, "-m", "core", "run", "--preset", "dry-run", "--set",
                           "data.name=spoken-digits", "--set", "seed=7", "--set", "train.epochs=1", "--json",
                           "--store", str(tmp_path / "store")], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    voices = summary["dataset"]
    assert voices["test_voices"] and voices["train_voices"]
    assert set(voices["test_voices"]).isdisjoint(voices["train_voices"])
    assert all("test_wer" in g for g in summary["generations"])
