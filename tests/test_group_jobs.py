"""A seed group through the job queue (issue 14): one job, trained together in the worker process, cancelled
together, a NaN failing one seed only; and the Launch and Runs pages driving it (AppTest, real queue and store)."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch
from streamlit.testing.v1 import AppTest

from core.engine.jobs import JobQueue
from core.presets import get_preset
from core.storage.run_store import ACTIVE, RunStore

from tests.test_jobs import FAST, wait_for

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _seeds(config, n):
    return [config.override({"seed": config.seed + k}) for k in range(n)]


@pytest.fixture
def job_queue(tmp_path):
    queue = JobQueue(RunStore(tmp_path), cap=1)
    yield queue
    queue.close()


@pytest.mark.slow  # ~30 s: a 3-seed group and a single run in the worker process
def test_a_group_is_one_job_trained_together_in_the_worker(job_queue):
    """3 seeds queued as one job: one group id, all three running at once under a cap of 1 (one job), a single
    run behind them waits; each seed equals the same seed run alone to within one test point."""
    store = job_queue.store
    config = get_preset("dry-run").config({**FAST, "seed": 7})
    group_id, run_ids = job_queue.submit_group(_seeds(config, 3), label="dry-run")
    single = job_queue.submit(config.override({"seed": 8}))
    assert [store.get_run(r)["group_id"] for r in run_ids] == [group_id] * 3
    assert [store.get_run(r)["config"]["seed"] for r in run_ids] == [7, 8, 9]
    assert wait_for(lambda: all(store.get_run(r)["status"] == "running" for r in run_ids))
    assert store.get_run(single)["status"] == "queued"  # the cap counts the group as one job
    job_queue.join()
    assert [store.get_run(r)["status"] for r in run_ids] == ["finished"] * 3
    assert store.get_run(single)["status"] == "finished" and store.get_run(single)["group_id"] is None
    started = [store.get_run(r)["started"] for r in run_ids]
    assert max(started) - min(started) < 1.0  # claimed together, not one after another
    grouped, alone = store.generations(run_ids[1]), store.generations(single)  # both seed 8
    assert len(grouped) == len(alone) == 2
    for a, b in zip(grouped, alone):
        assert abs(a["test_accuracy"] - b["test_accuracy"]) <= 1 / 360 + 1e-9
    assert job_queue.active() == []


@pytest.mark.slow
def test_cancelling_one_seed_cancels_the_whole_group(job_queue):
    """Cancel on the last seed's id (as the Runs page does) while the group trains: every seed ends cancelled;
    a group still waiting behind it is cancelled whole before it starts."""
    store = job_queue.store
    long = get_preset("dry-run").config({**FAST, "train.epochs": 5000})
    _, running = job_queue.submit_group(_seeds(long, 3))
    _, waiting = job_queue.submit_group(_seeds(long.override({"seed": 20}), 2))
    assert wait_for(lambda: store.epochs(running[0]))
    job_queue.cancel(running[2])
    job_queue.cancel(waiting[0])
    assert [store.get_run(r)["status"] for r in waiting] == ["cancelled"] * 2  # queued: at once
    job_queue.join()
    assert [store.get_run(r)["status"] for r in running] == ["cancelled"] * 3
    assert all(store.epochs(r) == [] for r in waiting)


@pytest.mark.slow
def test_a_cancel_from_another_handle_stops_the_group(job_queue, tmp_path):
    """The CLI or another app process sets one seed's cancel flag in the store: the worker stops the group."""
    store = job_queue.store
    _, run_ids = job_queue.submit_group(_seeds(get_preset("dry-run").config({**FAST, "train.epochs": 5000}), 2))
    assert wait_for(lambda: store.epochs(run_ids[1]))
    RunStore(tmp_path).request_cancel(run_ids[1])
    job_queue.join()
    assert [store.get_run(r)["status"] for r in run_ids] == ["cancelled"] * 2



@pytest.mark.slow
def test_a_group_without_the_stacked_step_is_cancelled_whole_too(job_queue, tmp_path):
    """Batch norm: no stacked step, the seeds train one after another in the worker. A cancel of the LAST seed
    (still waiting its turn) stops seed 0 mid-training and cancels all three."""
    store = job_queue.store
    config = get_preset("dry-run").config({**FAST, "train.epochs": 5000, "model.batch_norm": True})
    _, run_ids = job_queue.submit_group(_seeds(config, 3))
    assert wait_for(lambda: store.epochs(run_ids[0]))
    assert store.epochs(run_ids[2]) == []  # one after another: seed 2 has not started
    RunStore(tmp_path).request_cancel(run_ids[2])
    job_queue.join()
    assert [store.get_run(r)["status"] for r in run_ids] == ["cancelled"] * 3
    assert len(store.epochs(run_ids[0])) < 5000

def test_a_nan_in_one_seed_fails_that_seed_only_through_the_queue(tmp_path, monkeypatch):
    """The queue's dispatcher running the group in-process (processes=False, so the model can be poisoned here):
    seed 1's weights made infinite before its first step; it ends failed with the reason, seeds 0 and 2 finish."""
    from core.methods import ban_batched

    real = ban_batched.train_generations

    def poisoned(ctxs, models, teachers):
        if ctxs[0].generation == 0:
            with torch.no_grad():
                models[1].head.weight.fill_(float("inf"))
        return real(ctxs, models, teachers)

    monkeypatch.setattr(ban_batched, "train_generations", poisoned)
    queue = JobQueue(RunStore(tmp_path), processes=False)
    _, run_ids = queue.submit_group(_seeds(get_preset("dry-run").config({**FAST, "train.epochs": 2}), 3))
    queue.join()
    runs = [queue.store.get_run(r) for r in run_ids]
    assert [r["status"] for r in runs] == ["finished", "failed", "finished"]
    assert "loss became" in runs[1]["error"]
    assert len(queue.store.generations(run_ids[0])) == len(queue.store.generations(run_ids[2])) == 2
    assert queue.store.generations(run_ids[1]) == []


@pytest.mark.slow  # ~60 s: the app, its worker process and a 3-seed group
def test_launch_three_seeds_runs_one_group_and_cancel_on_runs_cancels_it(app_store):
    """Launch a teaching preset with its default 3 seeds: 3 runs with one group id, trained as one job (claimed
    together), all finished. Then a second, long group: Cancel on one seed's Runs page cancels all three."""
    at = AppTest.from_file(APP, default_timeout=120).run()
    at.selectbox(key="preset").set_value("teach-clean-digits").run()
    assert at.number_input(key="seeds_teach-clean-digits").value == 3
    for key, value in (("method.generations", 2), ("train.epochs", 1)):
        at.number_input(key=key).set_value(value).run()
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    store = RunStore(app_store)
    runs = store.list_runs()
    seeds = sorted(r["config"]["seed"] for r in runs)
    assert seeds == [seeds[0], seeds[0] + 1, seeds[0] + 2]
    assert len({r["group_id"] for r in runs}) == 1 and runs[0]["group_id"]
    assert wait_for(lambda: all(r["status"] not in ACTIVE for r in store.list_runs()), 300)
    runs = store.list_runs()
    assert {r["status"] for r in runs} == {"finished"}
    started = [r["started"] for r in runs]
    assert max(started) - min(started) < 1.0

    at.switch_page("views/launch.py").run()
    at.selectbox(key="preset").set_value("teach-clean-digits").run()
    at.number_input(key="train.epochs").set_value(5000).run()
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    group = [r for r in store.list_runs() if r["group_id"] != runs[0]["group_id"]]
    assert len(group) == 3
    assert wait_for(lambda: store.epochs(group[0]["id"]), 120)
    at.query_params["run"] = group[1]["id"]
    at.switch_page("views/runs.py").run()
    at.button(key="cancel").click().run()
    assert wait_for(lambda: all(store.get_run(r["id"])["status"] not in ACTIVE for r in group), 60)
    assert {store.get_run(r["id"])["status"] for r in group} == {"cancelled"}
