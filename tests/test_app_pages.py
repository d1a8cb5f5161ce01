"""The real app (dashboard/app.py) headless through Streamlit's AppTest: the real trainer, job queue and store.

Each test gets an empty temporary store through ``SDLAB_STORE`` (the ``app_store`` fixture).
"""
from __future__ import annotations

import json
import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from core.presets import get_preset
from core.storage.run_store import ACTIVE, RunStore

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")
RUN_TIMEOUT_S = 180


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    return at


def _wait_ended(store: RunStore, run_id: str) -> dict:
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while time.monotonic() < deadline:
        run = store.get_run(run_id)
        if run["status"] not in ACTIVE:
            return run
        time.sleep(0.25)
    raise TimeoutError(f"run {run_id} still {run['status']} after {RUN_TIMEOUT_S} s")


def _launch(at: AppTest, preset: str, **values) -> str:
    """Fill the Launch form, click Launch; return the id of the run shown on the Runs page."""
    at.selectbox(key="preset").set_value(preset).run()
    for key, value in values.items():
        at.number_input(key=key).set_value(value).run()
    assert not at.error, [e.value for e in at.error]
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    assert [t.value for t in at.title] == ["Runs"]  # switched to the live view at once
    return at.query_params["run"]


def _texts(at: AppTest, kind: str) -> list[str]:
    return [element.value for element in at.get(kind)]


def test_launch_form_defaults_to_the_noisy_preset_with_grouped_fields(app_store):
    at = _app()
    assert at.selectbox(key="preset").value == "digits-ban-noisy"
    assert {"**Data**", "**Model**", "**Method**", "**Training**", "**Evaluation**"} <= set(_texts(at, "markdown"))
    assert at.number_input(key="data.label_noise").value == pytest.approx(0.4)
    assert at.number_input(key="method.alpha").help.startswith("weight of the distillation term")
    keys = {w.key for w in at.number_input}
    assert "method.teacher_temp" not in keys  # dino-only keys stay hidden for a ban run
    at.selectbox(key="method.name").set_value("dino").run()
    keys = {w.key for w in at.number_input}
    assert "method.teacher_temp" in keys and "method.alpha" not in keys
    assert not at.button(key="launch").disabled


def test_form_starts_from_the_url(app_store):
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params.update({"preset": "dry-run", "method.alpha": "0.3", "train.epochs": "2"})
    at.run()
    assert not at.exception
    assert at.selectbox(key="preset").value == "dry-run"
    assert at.number_input(key="method.alpha").value == pytest.approx(0.3)
    assert at.number_input(key="train.epochs").value == 2
    assert "`method.alpha` = `0.3`" in " ".join(_texts(at, "markdown"))


def test_changing_preset_resets_the_form_to_its_values(app_store):
    at = _app()
    at.number_input(key="train.epochs").set_value(7).run()
    at.selectbox(key="preset").set_value("dry-run").run()
    dry = get_preset("dry-run").config()
    assert at.number_input(key="train.epochs").value == dry.train.epochs
    assert at.number_input(key="model.hidden").value == dry.model.hidden


def test_dry_run_launches_finishes_and_shows_on_runs(app_store):
    at = _app()
    run_id = _launch(at, "dry-run", **{"method.alpha": 0.5})
    store = RunStore(app_store)
    run = _wait_ended(store, run_id)
    assert run["status"] == "finished" and run["label"] == "dry-run"
    assert run["config"]["method"]["alpha"] == 0.5
    at.run()  # the page polls the store; a rerun shows the finished run
    assert not at.exception, at.exception
    assert f"dry-run · {run_id}" in _texts(at, "header")
    assert at.dataframe[0].value["run"].tolist() == [run_id]
    assert at.dataframe[0].value["status"].tolist() == ["finished"]
    metrics = {m.label: m.value for m in at.metric}
    n_gen = run["config"]["method"]["generations"]
    assert metrics["generation"] == f"{n_gen - 1} of 0–{n_gen - 1}"  # numbered from 0, as in the legends
    subheaders = _texts(at, "subheader")
    assert {"Loss per epoch", "Accuracy per generation", "Per generation"} <= set(subheaders)
    assert "PCA view of the test features, generation by generation" in subheaders
    table = at.dataframe[1].value
    assert table["generation"].tolist() == list(range(n_gen))
    assert table["test acc"].tolist() == pytest.approx([g["test_accuracy"] for g in store.generations(run_id)])
    view = next(layout for layout in (json.loads(c.proto.spec)["layout"] for c in at.get("plotly_chart"))
                if "sliders" in layout)  # the 2-D view: coloured by label, recoloured by buttons in the browser
    assert view["legend"]["title"]["text"] == "true label"
    assert [b["label"] for b in view["updatemenus"][1]["buttons"]] == ["true label", "prediction", "correct / wrong"]
    assert {d.label for d in at.get("download_button")} >= {"epoch metrics (CSV)", "config (JSON)",
                                                             "2-D views (CSV)"}
    specs = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    bars = next(spec for spec in specs.values() if spec["data"] and spec["data"][0].get("orientation") == "h")
    assert "k-NN on raw inputs" in bars["data"][0]["y"]  # the features-vs-baselines chart
    baselines = store.get_run(run_id)["baselines"]
    assert dict(zip(bars["data"][0]["y"], bars["data"][0]["x"]))["k-NN on raw inputs"] == \
        pytest.approx(baselines["raw_knn_accuracy"])
    efficiency = next(spec for spec in specs.values() if spec["layout"].get("xaxis", {}).get("type") == "log")
    assert [t["name"] for t in efficiency["data"]][0] == "learned features (last generation)"
    assert "Features against baselines" in _texts(at, "subheader")


def test_runs_page_shows_the_point_named_in_the_url(app_store):
    at = _app()
    run_id = _launch(at, "dry-run")
    _wait_ended(RunStore(app_store), run_id)
    at.query_params["point"] = "7"
    at.run()
    assert not at.exception, at.exception
    titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "") for c in at.get("plotly_chart")]
    assert any(t.startswith("test input 7 · label") for t in titles)  # the digit's image
    assert any(t.startswith("class probabilities") for t in titles)
    assert not any("Showing test input" in c for c in _texts(at, "caption"))  # not the default pick


def test_compare_diff_shows_only_the_keys_that_differ(app_store):
    at = _app()
    first = _launch(at, "dry-run", **{"method.alpha": 0.5})
    at.switch_page("views/launch.py").run()
    second = _launch(at, "dry-run", **{"method.alpha": 0.8})
    store = RunStore(app_store)
    for run_id in (first, second):
        assert _wait_ended(store, run_id)["status"] == "finished"
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert {name.split(" · ")[-1] for name in at.multiselect(key="compare").value} == {first, second}
    diff = at.dataframe[-1].value  # one row per run, its whole name in the first column
    assert list(diff.columns) == ["run", "method.alpha"]
    assert sorted(diff["method.alpha"].tolist()) == ["0.5", "0.8"]
    assert {name.split(" · ")[-1] for name in diff["run"]} == {first, second}
    assert {"Accuracy per generation", "Loss per epoch", "What differs"} <= set(_texts(at, "subheader"))


def test_invalid_value_shows_the_config_error_and_launches_nothing(app_store):
    at = _app()
    at.number_input(key="method.temperature").set_value(0.0).run()
    assert any("method.temperature=0.0: must be > 0.0" in e for e in _texts(at, "error"))
    assert at.button(key="launch").disabled
    assert RunStore(app_store).list_runs() == []


def test_cnn_on_toy_data_is_refused_with_the_config_message(app_store):
    at = _app()
    at.selectbox(key="data.name").set_value("moons").run()
    at.selectbox(key="model.name").set_value("cnn").run()
    assert any("model.name='cnn' needs image-shaped inputs" in e for e in _texts(at, "error"))
    assert at.button(key="launch").disabled


def test_bad_upload_shows_a_clear_error_and_stores_nothing(app_store):
    at = _app()
    at.selectbox(key="data.name").set_value("file").run()
    assert at.button(key="launch").disabled  # no file yet
    at.file_uploader[0].set_value(("broken.csv", b"a,b\n1,2\n3,4\n", "text/csv")).run()
    assert not at.exception
    assert any("broken.csv: no label column 'label'" in e for e in _texts(at, "error"))
    assert at.button(key="launch").disabled
    assert not (app_store / "uploads").exists()
    assert RunStore(app_store).list_runs() == []


def test_good_upload_is_stored_once_and_becomes_launchable(app_store):
    rows = [f"{x:.3f},{y:.3f},{int(x > 0)}" for x, y in np.random.default_rng(0).normal(size=(60, 2))]
    content = ("x,y,label\n" + "\n".join(rows)).encode()
    at = _app()
    at.selectbox(key="data.name").set_value("file").run()
    at.file_uploader[0].set_value(("points.csv", content, "text/csv")).run()
    assert any("60 rows × 2 features, 2 classes" in s for s in _texts(at, "success"))
    assert not at.button(key="launch").disabled
    stored = list((app_store / "uploads").iterdir())
    assert len(stored) == 1 and stored[0].read_bytes() == content


def test_cancel_stops_a_running_run(app_store):
    at = _app()
    run_id = _launch(at, "digits-ban", **{"train.epochs": 500})
    store = RunStore(app_store)
    deadline = time.monotonic() + RUN_TIMEOUT_S
    while store.get_run(run_id)["status"] != "running" and time.monotonic() < deadline:
        time.sleep(0.2)
    at.run()
    at.button(key="cancel").click().run()
    assert _wait_ended(store, run_id)["status"] == "cancelled"


def _fake_run(store: RunStore, status: str, error: str) -> str:
    """A run row as a crashed or failed process leaves it (written through the real store)."""
    run_id = store.create_run(get_preset("dry-run").config().to_dict(), label="dry-run")
    store.claim(run_id)
    if status == "failed":
        store.finish(run_id, "failed", error)
    else:  # the owner died: a pid that cannot exist
        with sqlite3.connect(store.db_path) as db:
            db.execute("UPDATE runs SET pid = ? WHERE id = ?", (2**22 + os.getpid(), run_id))
    return run_id


def test_failed_run_shows_its_error(app_store):
    store = RunStore(app_store)
    run_id = _fake_run(store, "failed", "TrainingDiverged: loss became nan at generation 0, epoch 3")
    at = _app()
    at.query_params["run"] = run_id
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    assert any("loss became nan" in e for e in _texts(at, "error"))


def test_interrupted_run_says_so_and_keeps_its_generations(app_store):
    store = RunStore(app_store)
    run_id = _fake_run(store, "interrupted", "")
    store.add_generation(run_id, 0, {"test_accuracy": 0.61, "knn_accuracy": 0.7})
    at = _app()
    at.query_params["run"] = run_id
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    assert any("interrupted" in w for w in _texts(at, "warning"))
    assert at.dataframe[1].value["test acc"].tolist() == [0.61]


def test_unknown_run_in_the_url_falls_back_to_the_newest(app_store):
    at = _app()
    run_id = _launch(at, "dry-run")
    at.query_params["run"] = "no-such-run"
    at.run()
    assert any("no run 'no-such-run'" in w for w in _texts(at, "warning"))
    assert at.query_params["run"] == run_id
    _wait_ended(RunStore(app_store), run_id)


def test_empty_store_points_to_launch(app_store):
    at = _app()
    at.switch_page("views/runs.py").run()
    assert any("No runs in this store yet" in i for i in _texts(at, "info"))
    at.switch_page("views/compare.py").run()
    assert any("at least two runs" in i for i in _texts(at, "info"))


def test_a_comparison_preset_launches_one_run_per_variant(app_store):
    at = _app()
    at.selectbox(key="preset").set_value("teach-temperature").run()
    at.number_input(key="seeds_teach-temperature").set_value(1).run()  # teaching presets default to 3 seeds
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    store = RunStore(app_store)
    runs = store.list_runs()
    for run in runs:  # seen what was submitted: stop them, a teaching run takes minutes
        store.request_cancel(run["id"])
    assert sorted(r["config"]["method"]["temperature"] for r in runs) == [1.0, 2.0, 4.0, 8.0]
    assert {r["label"] for r in runs} == {"teach-temperature"}
    assert at.query_params["run"] in {r["id"] for r in runs}
    for run in runs:
        assert _wait_ended(store, run["id"])["status"] == "cancelled"
