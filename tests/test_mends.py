"""Issue 13, item 9: the mends, each checked on the real app (AppTest), the real store or the pure builders."""
from __future__ import annotations

import os
import sqlite3
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.presets import get_preset
from core.storage.run_store import RunStore, wall_seconds
from core.sweeps.spec import Param, SweepSpec
from dashboard import tables
from dashboard.sweep_figures import colour_range, heatmap_figure, parallel_figure, points_frame, trials_frame

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _app() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    return at


def _walk(node, out):
    out.append(node)
    for child in getattr(node, "children", {}).values():
        _walk(child, out)
    return out


# ---- uploads: no preset noise, no preset label, the box under the dataset choice --------------------------------
def _csv() -> bytes:
    rows = [f"{x:.3f},{y:.3f},{int(x > 0)}" for x, y in np.random.default_rng(0).normal(size=(60, 2))]
    return ("x,y,label\n" + "\n".join(rows)).encode()


def test_an_upload_gets_no_preset_noise_and_no_preset_label(app_store):
    at = _app()
    assert at.selectbox(key="preset").value == "digits-ban-noisy"
    assert at.number_input(key="data.label_noise").value == pytest.approx(0.4)  # the preset's noise
    at.selectbox(key="data.name").set_value("file").run()
    assert at.number_input(key="data.label_noise").value == 0.0
    order = [getattr(n, "key", None) or getattr(n, "value", None) for n in _walk(at.main, [])]
    upload = order.index("upload")
    assert order.index("data.name") < upload < order.index("**Model**")  # in the Data box, under the choice
    at.file_uploader[0].set_value(("points.csv", _csv(), "text/csv")).run()
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    run = RunStore(app_store).get_run(at.query_params["run"])
    RunStore(app_store).request_cancel(run["id"])
    assert run["config"]["data"]["label_noise"] == 0.0 and run["config"]["data"]["name"] == "file"
    assert run["label"] is None and run["name"] == "upload points.csv"


def test_noise_the_user_sets_on_an_upload_is_kept(app_store):
    at = _app()
    at.selectbox(key="data.name").set_value("file").run()
    at.number_input(key="data.label_noise").set_value(0.2).run()
    at.file_uploader[0].set_value(("points.csv", _csv(), "text/csv")).run()
    assert at.number_input(key="data.label_noise").value == pytest.approx(0.2)
    assert any("--set data.label_noise=0.2" in c.value for c in at.code)


# ---- an interrupted run ------------------------------------------------------------------------------------------
def _interrupted(store: RunStore, work_s: float, downtime_s: float, epochs: int = 3) -> str:
    """A run whose process died: it worked ``work_s`` seconds (its epochs' times), then the server was down for
    ``downtime_s`` seconds before anyone read the store."""
    run_id = store.create_run(get_preset("dry-run").config().to_dict(), label="dry-run")
    store.claim(run_id)
    for epoch in range(epochs):
        store.add_epoch(run_id, 0, epoch, {"loss": 1.0 / (epoch + 1)})
    now = time.time()
    start = now - work_s - downtime_s
    with sqlite3.connect(store.db_path) as db:
        db.execute("UPDATE runs SET started = ?, pid = ? WHERE id = ?", (start, 2**22 + os.getpid(), run_id))
        for epoch in range(epochs):  # epochs evenly over the working time, the last at its end
            db.execute("UPDATE epochs SET time = ? WHERE run_id = ? AND epoch = ?",
                       (start + work_s * (epoch + 1) / epochs, run_id, epoch))
    return run_id


def test_wall_time_of_an_interrupted_run_excludes_the_downtime(tmp_path):
    store = RunStore(tmp_path)
    run_id = _interrupted(store, work_s=42.0, downtime_s=3600.0)
    store.get_run(run_id)  # read now: the dead owner makes it interrupted, finished = now (in the file)
    run = store.get_run(run_id)
    assert run["status"] == "interrupted" and run["finished"] - run["started"] > 3600
    assert store.summary(run_id)["wall_seconds"] == pytest.approx(42.0, abs=0.01)
    finished = dict(run, status="finished")  # a run that ended normally counts up to its end
    assert wall_seconds(finished, None) == pytest.approx(run["finished"] - run["started"], abs=0.01)


def test_interrupted_run_page_says_interrupted_not_waiting(app_store):
    store = RunStore(app_store)
    run_id = _interrupted(store, work_s=42.0, downtime_s=3600.0)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["run"] = run_id
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    import json

    charts = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    notes = [a["text"] for spec in charts.values() for a in spec["layout"].get("annotations", [])]
    assert "this run was interrupted before generation 0 finished" in notes
    assert not any("waiting for the first generation" in n for n in notes)
    assert {m.label: m.value for m in at.metric}["wall time"] == "42 s"


# ---- Sweep page ---------------------------------------------------------------------------------------------------
GRID = SweepSpec(params=(Param("method.alpha", values=(0.5, 1.0)), Param("method.temperature", values=(2.0, 4.0))),
                 seeds=2)


def _trial(point, alpha, temperature, seed_index, objective, status="finished"):
    return {"run_id": f"r{point}{seed_index}", "point": point, "params": {"method.alpha": alpha,
            "method.temperature": temperature}, "seed": GRID.base_config().seed + seed_index,
            "seed_index": seed_index, "status": status, "error": None, "objective": objective, "worker": "w"}


def test_the_live_table_lists_the_runs_not_started_yet():
    trials = [_trial(0, 0.5, 2.0, 0, 0.8), _trial(0, 0.5, 2.0, 1, None, "running"), _trial(1, 1.0, 4.0, 0, None,
                                                                                          "queued")]
    frame = trials_frame(trials, GRID.keys(), GRID)
    assert len(frame) == GRID.total_runs() == 8
    queued = frame[frame["status"] == "queued"]
    assert len(queued) == 6  # point 1's second seed and both seeds of the two grid points never asked for
    combos = {(r["method.alpha"], r["method.temperature"]) for _, r in queued.iterrows()}
    assert combos == {(1.0, 4.0), (0.5, 4.0), (1.0, 2.0)}
    random_spec = SweepSpec(params=(Param("method.alpha", low=0.1, high=1.0),), sampler="random", trials=5)
    unsampled = trials_frame([], random_spec.keys(), random_spec)
    assert len(unsampled) == 5 and unsampled["method.alpha"].isna().all()


def test_the_sweep_table_prints_a_dash_for_missing_values_and_has_a_worker_control(app_store):
    at = _app()
    at.switch_page("views/sweep.py").run()
    assert not at.exception, at.exception
    workers = at.number_input(key="sweep_workers")
    assert workers.value == min(os.cpu_count() or 1, 32) and workers.min == 1
    source = (Path(APP).parent / "views" / "sweep.py").read_text()
    assert 'key="sweep_table", placeholder="—"' in source  # Streamlit draws None cells as the placeholder


def test_service_takes_a_new_worker_count_between_sweeps(tmp_path):
    from core.sweeps.service import SweepService

    service = SweepService(RunStore(tmp_path))
    try:
        service.set_workers(3)
        assert service.workers == 3 and service._executor("local").workers == 3  # noqa: SLF001
        service.set_workers(1)
        assert service._executor("local").workers == 1  # noqa: SLF001
    finally:
        service.close()


def test_parallel_coordinates_ticks_are_distinct():
    """Objectives 0.8500..0.8530 (one seed's noise): rounded to 3 digits, ticks read 0.85, 0.851, 0.851, ..."""
    trials = [_trial(i, a, t, 0, 0.8500 + 0.001 * i) for i, (a, t) in enumerate(
        [(0.5, 2.0), (0.5, 4.0), (1.0, 2.0), (1.0, 4.0)])]
    fig = parallel_figure(points_frame(trials, GRID.keys()), GRID)
    for dim in fig.data[0].dimensions:
        assert len(set(dim.ticktext)) == len(dim.ticktext) == len(set(dim.tickvals)), dim.label
    objective = fig.data[0].dimensions[-1]
    assert objective.range[1] - objective.range[0] == pytest.approx(0.05)


def test_colour_range_is_padded_around_a_narrow_spread():
    assert colour_range([0.850, 0.853]) == pytest.approx((0.8265, 0.8765))  # centre 0.8515 ± 0.025
    assert colour_range([0.99, 1.0]) == pytest.approx((0.95, 1.0))  # kept inside [0, 1]
    assert colour_range([0.2, 0.9]) == (0.2, 0.9)  # a wide spread keeps its own range
    trials = [_trial(0, 0.5, 2.0, 0, 0.850), _trial(1, 1.0, 2.0, 0, 0.853)]
    heat = heatmap_figure(points_frame(trials, GRID.keys()), "method.alpha", "method.temperature", "acc").data[0]
    assert heat.zmax - heat.zmin == pytest.approx(0.05) and heat.zmin < 0.850 and heat.zmax > 0.853


# ---- Compare page -------------------------------------------------------------------------------------------------
def test_group_losses_is_the_mean_over_seeds_where_all_reached():
    from dashboard.compare_data import group_losses

    a = pd.DataFrame({"generation": [0, 0, 0], "epoch": [0, 1, 2], "loss": [2.0, 1.0, 0.5]})
    b = pd.DataFrame({"generation": [0, 0], "epoch": [0, 1], "loss": [4.0, 3.0]})  # still training
    mean = group_losses([a, b], "loss")
    assert mean.to_dict("list") == {"generation": [0, 0], "epoch": [0, 1], "loss": [3.0, 2.0]}


def _finished(store: RunStore, seed: int, alpha: float, losses: list[float]) -> str:
    config = get_preset("dry-run").config().override({"seed": seed, "method.alpha": alpha}).to_dict()
    run_id = store.create_run(config, label="dry-run")
    for epoch, loss in enumerate(losses):
        store.add_epoch(run_id, 0, epoch, {"loss": loss})
    store.add_generation(run_id, 0, {"test_accuracy": 0.5 + seed / 100})
    store.finish(run_id, "finished")
    return run_id


def test_compare_groups_the_loss_by_seed_and_reads_each_run_once(app_store, monkeypatch):
    import json

    store = RunStore(app_store)
    ids = [_finished(store, 0, 1.0, [2.0, 1.0]), _finished(store, 1, 1.0, [4.0, 3.0]),
           _finished(store, 0, 0.5, [1.0, 0.5])]
    reads = []
    original = RunStore.epochs
    monkeypatch.setattr(RunStore, "epochs", lambda self, run_id: reads.append(run_id) or original(self, run_id))
    at = _app()
    at.switch_page("views/compare.py").run()
    names = {run["id"]: tables.run_name(run) for run in store.list_runs()}
    at.multiselect(key="compare").set_value([names[i] for i in ids]).run()
    assert not at.exception, at.exception

    def loss_traces():
        spec = next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "loss" in json.dumps(
            json.loads(c.proto.spec)["layout"].get("yaxis", {})))
        return {t["name"]: t["y"] for t in spec["data"]}

    grouped = loss_traces()
    assert len(grouped) == 2  # two seeds of alpha = 1 are one line
    group_name = next(n for n in grouped if "2 seeds" in n)
    assert _decoded(grouped[group_name]) == [3.0, 2.0]  # the mean of 2,1 and 4,3
    assert sorted(reads) == sorted(ids)  # each run's epochs read once
    at.run()
    assert sorted(reads) == sorted(ids)  # a redraw reads nothing again
    at.toggle(key="compare_group").set_value(False).run()
    assert len(loss_traces()) == 3


def _decoded(y) -> list[float]:
    """A trace's y as sent to the browser: a list, or plotly's base64 typed array."""
    if isinstance(y, dict):
        import base64

        return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
    return list(y)
