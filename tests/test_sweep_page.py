"""The Sweep page headless (AppTest): the launch form and its validation, a stored sweep reopened with its
table, figures and best point, and a sweep launched, watched and stopped from the page on real workers."""
from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from core.storage.run_store import RunStore
from core.sweeps.spec import Param, SweepSpec
from core.sweeps.store import SweepStore
from core.sweeps.driver import run_sweep
from dashboard.sweep_figures import launch_query
from tests.sweep_support import QUICK, InlineExecutor, wait_for

VIEWS = Path(__file__).resolve().parents[1] / "dashboard" / "views"
PAGE = str(VIEWS / "sweep.py")


@pytest.fixture
def store(tmp_path, monkeypatch):
    monkeypatch.setenv("SDLAB_STORE", str(tmp_path))
    monkeypatch.delenv("SDLAB_DASK_ADDRESS", raising=False)
    yield RunStore(tmp_path)
    st.cache_resource.clear()  # releases the page's SweepService: its sweep stops, its workers exit


def _page(**query) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def test_empty_store_shows_the_form_and_how_to_start(store):
    at = _page()
    assert at.title[0].value == "Sweep"
    assert "No sweeps yet" in at.info[0].value
    assert at.multiselect(key="sweep_keys").value == ["method.temperature", "method.alpha"]
    assert at.text_input(key="sweep_values_method.temperature").value == "1, 4, 8"
    assert any("6 points × 1 seed(s) = 6 runs" in c.value for c in at.caption)
    assert not at.button(key="sweep_launch").disabled


def test_bad_values_are_explained_and_block_the_launch(store):
    at = _page()
    at.text_input(key="sweep_values_method.alpha").set_value("0.5, 1.5").run()
    assert "method.alpha=1.5: must be <= 1" in at.error[0].value
    assert at.button(key="sweep_launch").disabled
    at.text_input(key="sweep_values_method.alpha").set_value("0.5").run()
    at.radio(key="sweep_mode_method.temperature").set_value("range").run()
    assert "grid sampler needs a list" in at.error[0].value  # a range needs random or TPE
    at.radio(key="sweep_sampler").set_value("tpe").run()
    assert not at.error and not at.button(key="sweep_launch").disabled
    assert SweepStore(store).list() == []  # nothing was launched


def test_a_stored_sweep_reopens_with_its_table_figures_and_best(store):
    spec = SweepSpec(params=(Param("method.alpha", values=(0.5, 1.0)), Param("method.temperature", values=(2.0, 4.0))),
                     overrides=QUICK)
    report = run_sweep(store, spec, InlineExecutor())
    other = run_sweep(store, SweepSpec(params=(Param("method.alpha", values=(0.3,)),), overrides=QUICK),
                      InlineExecutor())
    at = _page()
    assert at.selectbox(key="sweep").value == other["sweep_id"]  # the newest first
    at = _page(sweep=report["sweep_id"])  # a link reopens a given sweep
    assert at.selectbox(key="sweep").value == report["sweep_id"]
    shown = _metrics(at)
    assert shown["Status"] == "finished" and shown["Runs ended"] == "4 / 4"
    assert shown["Best best_val_accuracy"] == f"{report['best']['objective']:.4f}"
    table = at.dataframe[0].value
    assert len(table) == 4 and set(table["status"]) == {"finished"}
    assert sorted(zip(table["method.alpha"], table["method.temperature"])) == \
        [(0.5, 2.0), (0.5, 4.0), (1.0, 2.0), (1.0, 4.0)]
    assert len(at.get("plotly_chart")) == 2  # parallel coordinates and the two-parameter heatmap
    best = report["best"]["params"]
    assert f"method.alpha = {best['method.alpha']}, method.temperature = {best['method.temperature']}" in \
        at.success[0].value
    assert at.button(key="sweep_open_best")


def test_launch_watch_and_stop_a_sweep_from_the_page(store):
    at = _page()
    at.selectbox(key="sweep_preset").set_value("dry-run").run()
    at.multiselect(key="sweep_keys").set_value(["train.epochs"]).run()
    at.text_input(key="sweep_values_train.epochs").set_value("300").run()
    at.number_input(key="sweep_seeds").set_value(3).run()
    at.button(key="sweep_launch").click().run()
    assert not at.exception, at.exception
    sweeps = SweepStore(store)
    (sweep,) = sweeps.list()
    assert sweep["status"] == "running" and "local" in sweep["executor"]
    assert wait_for(lambda: sum(bool(store.epochs(t["run_id"])) for t in sweeps.trials(sweep["id"])) == 2,
                    timeout=150)
    at.run()
    assert _metrics(at)["Status"] == "running"
    assert sorted(at.dataframe[0].value["status"]) == ["queued", "running", "running"]  # filled as it goes
    at.button(key="sweep_stop").click().run()
    assert wait_for(lambda: sweeps.get(sweep["id"])["status"] == "cancelled", timeout=60)
    at.run()
    assert _metrics(at)["Status"] == "cancelled"
    assert set(at.dataframe[0].value["status"]) == {"cancelled"}
    at.button(key="sweep_resume").click().run()  # on the same warm workers
    assert not at.exception, at.exception
    assert sweeps.get(sweep["id"])["status"] == "running"
    assert wait_for(lambda: len(store.list_runs(sweep_id=sweep["id"])) == 6, timeout=30)  # cancelled runs run anew


def test_the_best_point_opens_in_the_launch_page(store):
    """The query that "Open the best in Launch" passes is read by the Launch page's form."""
    spec = SweepSpec(params=(Param("method.temperature", values=(1.0, 8.0)), Param("model.batch_norm",
                     values=(True, False))), preset="dry-run", overrides={"train.lr": 0.003})
    at = AppTest.from_file(str(VIEWS / "launch.py"), default_timeout=60)
    at.query_params.update(launch_query(spec, {"method.temperature": 8.0, "model.batch_norm": True}))
    at.run()
    assert not at.exception, at.exception
    assert at.selectbox(key="preset").value == "dry-run"
    assert at.number_input(key="method.temperature").value == 8.0
    assert at.number_input(key="train.lr").value == 0.003 and at.toggle(key="model.batch_norm").value is True
    assert at.number_input(key="train.epochs").value == SweepSpec(params=spec.params, preset="dry-run") \
        .base_config().train.epochs  # the rest from the preset
