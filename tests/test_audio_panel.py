"""The audio inspector: a speech run's clicked test clip plays on the Runs page (AppTest over a real stored run),
as a WAV that decodes back to the stored samples; other runs show no player."""
from __future__ import annotations

import io
import json
import wave
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.config import RunConfig
from core.data import spoken
from core.engine.runner import execute
from core.storage.run_store import RunStore
from dashboard.audio_panel import wav_bytes

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def test_wav_bytes_decode_to_the_same_samples():
    samples = np.array([0, 1000, -1000, 32767, -32768], dtype=np.int16)
    with wave.open(io.BytesIO(wav_bytes(samples, 8000))) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()) == (1, 2, 8000, 5)
        np.testing.assert_array_equal(np.frombuffer(w.readframes(5), dtype="<i2"), samples)


def _small_speech_run(store_root: Path, monkeypatch, cache: Path) -> dict:
    """A two-generation speech run on five voices, one take each (seconds, not the default set's minute)."""
    monkeypatch.setattr(spoken, "VOICES", ("en+m1", "en-us+f2", "en-029+m3", "en-gb-x-rp+f4", "en-us-nyc+m7"))
    monkeypatch.setattr(spoken, "TAKES", 1)
    monkeypatch.setenv("SDLAB_DATA_CACHE", str(cache))
    config = RunConfig().override({"data.name": "spoken-digits", "data.test_fraction": 0.4, "data.val_fraction": 0.34,
                                   "method.generations": 2, "train.epochs": 1, "model.hidden": 16,
                                   "eval.embedding": "pca", "eval.linear_probe": False})
    summary = execute(config, RunStore(store_root))
    assert summary["status"] == "finished", summary.get("error")
    return summary


def test_runs_page_plays_the_clicked_clip_of_a_speech_run(app_store, monkeypatch, tmp_path):
    summary = _small_speech_run(app_store, monkeypatch, tmp_path / "cache")
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.query_params["run"] = summary["run_id"]
    at.query_params["point"] = "3"
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    players = at.get("audio")
    assert len(players) == 1
    label = int(RunStore(app_store).load_arrays(summary["run_id"], "run")["y_test"][3])
    word = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")[label]
    assert any(f"the word “{word}”" in m.value for m in at.markdown)
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]
    assert any(t.startswith("test input 3") for t in titles)  # the log-mel image
    assert any("WER" in json.dumps(json.loads(c.proto.spec)["layout"].get("yaxis", {})) for c in at.get("plotly_chart"))


def test_runs_page_of_a_digits_run_has_no_player(app_store):
    summary = execute(RunConfig().override({"method.generations": 1, "train.epochs": 1, "model.hidden": 16,
                                            "eval.embedding": "pca", "eval.linear_probe": False}), RunStore(app_store))
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.query_params["run"] = summary["run_id"]
    at.query_params["point"] = "2"
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    assert len(at.get("audio")) == 0


@pytest.mark.browser
@pytest.mark.timeout(480)
def test_the_clicked_clip_plays_in_chromium(tmp_path, monkeypatch, browser):
    """Chromium itself decodes the served WAV: its duration is the stored clip's length over its rate."""
    from tests.conftest import start_server, stop_server, wait_healthy

    root = tmp_path / "store"
    run_id = _small_speech_run(root, monkeypatch, tmp_path / "cache")["run_id"]
    arrays = RunStore(root).load_arrays(run_id, "run")
    expected_s = len(arrays["test_audio"][3]) / int(arrays["audio_rate"])
    process, url = start_server(root, tmp_path / "server.log")
    try:
        wait_healthy(url, process)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(120_000)
        page.goto(f"{url}/runs?run={run_id}&point=3")
        page.locator("audio").first.wait_for(state="attached")
        page.wait_for_function("() => { const a = document.querySelector('audio');"
                               " return a && a.readyState >= 1 && isFinite(a.duration); }")
        duration = page.evaluate("() => document.querySelector('audio').duration")
        assert duration == pytest.approx(expected_s, abs=0.01)
        page.close()
    finally:
        stop_server(process)
