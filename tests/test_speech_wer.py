"""Word error rate: the definition on hand-worked cases, a real speech run reporting it per generation (real
espeak-ng, real trainer, real SQLite store), and the dashboard's chart and table saying WER."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core import metric_names
from core.config import RunConfig
from core.data import spoken
from core.engine.runner import execute
from core.evaluation.wer import edit_distance, isolated_word_error_rate, wer_metrics, word_error_rate
from core.storage.run_store import RunStore
from dashboard import figures, tables


def test_edit_distance_hand_worked():
    assert edit_distance("the cat sat down".split(), "the cat sat".split()) == 1  # one insertion
    assert edit_distance("a cat sat".split(), "the cat sat".split()) == 1  # one substitution
    assert edit_distance("cat".split(), "the cat sat".split()) == 2  # two deletions
    assert edit_distance("kitten".split(), "sitting".split()) == 1  # words, not letters
    assert edit_distance(list("kitten"), list("sitting")) == 3  # the textbook Levenshtein case


def test_corpus_wer_is_edits_over_reference_words():
    # 1 insertion over 3 words + 1 substitution over 2 words = 2 / 5
    assert word_error_rate([["the", "cat", "sat", "down"], ["no", "dog"]],
                           [["the", "cat", "sat"], ["a", "dog"]]) == pytest.approx(0.4)


def test_isolated_words_wer_is_the_share_misrecognised():
    assert isolated_word_error_rate(np.array([1, 2, 3, 4]), np.array([1, 2, 0, 0])) == 0.5
    probs = np.eye(10)[[3, 3, 5, 7]]
    out = wer_metrics({"knn_accuracy": 0.8, "linear_probe_accuracy": None}, probs, np.array([3, 4, 5, 7]))
    assert out == pytest.approx({"test_wer": 0.25, "knn_wer": 0.2})


def test_speech_chart_and_table_say_wer():
    generations = pd.DataFrame({"generation": [0, 1], "test_accuracy": [0.6, 0.7], "test_wer": [0.4, 0.3],
                                "knn_accuracy": [0.5, 0.55], "knn_wer": [0.5, 0.45]})
    fig = figures.accuracy_figure(generations, {"raw_knn_accuracy": 0.5}, True, 1)
    assert fig.layout.yaxis.title.text == "WER (lower is better)"
    lines = {t.name: list(t.y) for t in fig.data}
    assert lines["word error rate (lower is better)"] == [0.4, 0.3]
    assert lines["generation 0 (first teacher)"] == [0.4, 0.4]
    free = figures.accuracy_figure(generations.drop(columns=["test_wer"]),
                                   {"raw_knn_accuracy": 0.5, "mfcc_knn_accuracy": 0.75}, False, 0)
    refs = {t.name: t.y[0] for t in free.data}
    assert refs["k-NN WER on raw log-mel"] == pytest.approx(0.5) and refs["k-NN WER on MFCC"] == pytest.approx(0.25)
    plain = figures.accuracy_figure(generations.drop(columns=["test_wer", "knn_wer"]), None, True, 1)
    assert plain.layout.yaxis.title.text == "accuracy"  # other runs keep their accuracy chart
    frame = tables.generation_frame(generations.to_dict("records"))
    assert "WER" in frame.columns
    assert "lower is better" in tables.generation_caption(list(frame.columns), noisy=False)


def test_a_speech_run_reports_wer_per_generation_and_keeps_its_audio(monkeypatch, tmp_path):
    monkeypatch.setattr(spoken, "VOICES", tuple(f"{a}+{v}" for a in ("en", "en-us") for v in ("m1", "m3", "f2", "f4",
                                                                                               "m6")))
    monkeypatch.setattr(spoken, "TAKES", 1)
    monkeypatch.setenv("SDLAB_DATA_CACHE", str(tmp_path / "cache"))
    config = RunConfig().override({"data.name": "spoken-digits", "data.test_fraction": 0.2,
                                   "data.val_fraction": 0.15, "method.generations": 2, "train.epochs": 3,
                                   "model.hidden": 32, "eval.embedding": "pca", "eval.linear_probe": False})
    store = RunStore(tmp_path / "store")
    summary = execute(config, store)
    assert summary["status"] == "finished", summary.get("error")
    for g in summary["generations"]:
        assert g["test_wer"] == pytest.approx(1 - g["test_accuracy"])
        assert g["knn_wer"] == pytest.approx(1 - g["knn_accuracy"])
    assert "mfcc_knn_accuracy" in summary["baselines"]
    stored = store.summary(summary["run_id"])
    assert [g["test_wer"] for g in stored["generations"]] == [g["test_wer"] for g in summary["generations"]]
    arrays = store.load_arrays(summary["run_id"], "run")
    assert arrays["test_audio"].dtype == np.int16 and int(arrays["audio_rate"]) == 8000
    assert arrays["test_audio"].shape == (len(arrays["y_test"]), 8000) == (20, 8000)  # 2 test voices × 10 words
    assert "test_wer" in metric_names.GENERATION_TABLE
