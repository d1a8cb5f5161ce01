"""The in-process job queue: runs end finished, cancelled or failed, one at a time by default."""
import time

import pytest

from core.config import RunConfig
from core.engine.jobs import JobQueue
from core.presets import get_preset
from core.storage.run_store import RunStore

FAST = {"eval.embedding": "none"}


def wait_for(predicate, timeout=180):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


def test_submit_returns_at_once_and_run_finishes(tmp_path):
    queue = JobQueue(RunStore(tmp_path))
    started = time.perf_counter()
    run_id = queue.submit(get_preset("dry-run").config(FAST), label="dry-run")
    assert time.perf_counter() - started < 1.0
    assert queue.status(run_id) in ("queued", "running")
    queue.join()
    assert queue.status(run_id) == "finished" and queue.active() == []
    assert len(queue.store.generations(run_id)) == 2


def test_cap_runs_one_at_a_time_and_cancel_queued_and_running(tmp_path):
    queue = JobQueue(RunStore(tmp_path), cap=1)
    long = get_preset("dry-run").config({**FAST, "train.epochs": "5000"})
    first, second = queue.submit(long), queue.submit(long)
    assert wait_for(lambda: queue.store.epochs(first))
    assert queue.status(second) == "queued"  # the cap holds it back
    queue.cancel(second)
    queue.cancel(first)
    queue.join()
    assert queue.status(first) == "cancelled" and queue.status(second) == "cancelled"
    assert queue.store.epochs(second) == []


def test_job_that_raises_ends_failed_with_its_message(tmp_path):
    queue = JobQueue(RunStore(tmp_path))
    config = RunConfig().override({"data.name": "file", "data.path": str(tmp_path / "missing.csv"), **FAST})
    run_id = queue.submit(config)
    queue.join()
    run = queue.store.get_run(run_id)
    assert run["status"] == "failed" and "missing.csv" in run["error"] and "does not exist" in run["error"]


def test_cancel_from_another_handle_stops_the_run(tmp_path):
    queue = JobQueue(RunStore(tmp_path))
    run_id = queue.submit(get_preset("dry-run").config({**FAST, "train.epochs": "5000"}))
    assert wait_for(lambda: queue.store.epochs(run_id))
    RunStore(tmp_path).request_cancel(run_id)  # as the CLI or another app process would
    queue.join()
    assert queue.status(run_id) == "cancelled"


def test_bad_cap():
    with pytest.raises(ValueError, match="at least 1"):
        JobQueue(RunStore.__new__(RunStore), cap=0)


def test_the_queue_refuses_runs_beyond_its_waiting_limit(tmp_path):
    from core.engine.jobs import MAX_WAITING, QueueFull

    queue = JobQueue(RunStore(tmp_path), cap=1)
    long = get_preset("dry-run").config({**FAST, "train.epochs": "5000"})
    first = queue.submit(long)
    assert wait_for(lambda: queue.store.epochs(first))  # running: no longer waiting
    waiting = [queue.submit(long) for _ in range(MAX_WAITING)]
    with pytest.raises(QueueFull, match=f"{MAX_WAITING} runs are already waiting"):
        queue.submit(long)
    assert len(queue.store.list_runs()) == MAX_WAITING + 1  # the refused run was never stored
    for run_id in [first, *waiting]:
        queue.cancel(run_id)
    queue.join()
