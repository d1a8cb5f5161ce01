"""Hostile links and unexpected failures never show a visitor a traceback (the real app, through AppTest)."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from core.presets import get_preset
from core.storage.run_store import ACTIVE, RunStore

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
HOSTILE = {"train.epochs": "1e400", "model.hidden": "99999999999999999999999999", "train.lr": "nan", "seed": "-1"}


def _texts(at: AppTest, kind: str) -> list[str]:
    return [e.value for e in at.get(kind)]


def test_a_hostile_link_is_refused_key_by_key_and_the_form_keeps_the_preset(app_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({**HOSTILE, "method.alpha": "0.25"})  # one good value among the bad ones
    at.run()
    assert not at.exception, at.exception  # was: OverflowError: cannot convert float infinity to integer
    warning = " ".join(_texts(at, "warning"))
    for key in HOSTILE:
        assert key in warning
    defaults = get_preset("digits-ban-noisy").config()
    assert at.number_input(key="train.epochs").value == defaults.train.epochs
    assert at.number_input(key="model.hidden").value == defaults.model.hidden
    assert at.number_input(key="train.lr").value == pytest.approx(defaults.train.lr)
    assert at.number_input(key="method.alpha").value == pytest.approx(0.25)  # the good one is kept
    assert not at.button(key="launch").disabled


def test_an_unknown_preset_in_the_link_falls_back_to_the_default(app_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"preset": "mnist-huge"})
    at.run()
    assert not at.exception, at.exception
    assert "unknown preset 'mnist-huge'" in " ".join(_texts(at, "warning"))
    assert at.selectbox(key="preset").value == "digits-ban-noisy"


def test_a_non_ascii_point_in_the_link_is_ignored(app_store):
    from core.engine.runner import execute

    store = RunStore(app_store)
    run_id = execute(get_preset("dry-run").config({"eval.embedding": "none"}), store, label="dry-run")["run_id"]
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("views/runs.py")
    at.query_params.update({"run": run_id, "point": "²"})  # int("²") raised ValueError
    at.run()
    assert not at.exception, at.exception
    assert store.get_run(run_id)["status"] not in ACTIVE


def test_an_unexpected_failure_shows_an_error_id_not_a_traceback(app_store, monkeypatch, caplog):
    monkeypatch.delenv("SDLAB_RAISE_ERRORS")  # as a visitor's server runs
    from dashboard import tables

    def broken(*_args, **_kwargs):
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(tables, "runs_frame", broken)
    store = RunStore(app_store)
    store.create_run(get_preset("dry-run").config().to_dict(), label="dry-run")
    at = AppTest.from_file(APP, default_timeout=90)
    at.switch_page("views/runs.py")
    at.run()
    assert not at.exception
    shown = " ".join(_texts(at, "error"))
    assert "Something went wrong on this page (error " in shown
    assert "secret internal detail" not in shown and "Traceback" not in shown
    error_id = shown.split("(error ", 1)[1].split(")", 1)[0]
    assert any(error_id in r.getMessage() and r.exc_info for r in caplog.records)  # the log has the traceback


def test_too_few_samples_to_split_disable_launch_with_the_reason(app_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"preset": "dry-run", "data.name": "blobs", "data.n_samples": "50",
                            "data.test_fraction": "0.05"})
    at.run()
    assert not at.exception, at.exception
    assert any("every class needs about" in e.value for e in at.error)
    assert at.button(key="launch").disabled
