"""Runs train in the job queue's worker process, never in the caller's (the web server's) interpreter."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

from core.engine.jobs import JobQueue
from core.presets import get_preset
from core.storage.run_store import RunStore
from tests.conftest import ROOT
from tests.sweep_support import wait_for

FAST = {"eval.embedding": "none", "eval.linear_probe": "false"}


def test_a_run_trains_in_the_worker_process_not_in_the_caller(tmp_path):
    queue = JobQueue(RunStore(tmp_path))
    try:
        run_id = queue.submit(get_preset("dry-run").config(FAST))
        queue.join()
        run = queue.store.get_run(run_id)
        assert run["status"] == "finished", run["error"]
        assert run["pid"] not in (None, os.getpid())  # the store records the process that ran it
        assert run["pid"] == queue._processes[0].pid
    finally:
        queue.close()


def test_a_killed_worker_fails_its_run_and_a_fresh_one_takes_the_next(tmp_path):
    queue = JobQueue(RunStore(tmp_path))
    try:
        long = queue.submit(get_preset("dry-run").config({**FAST, "train.epochs": "5000"}))
        assert wait_for(lambda: queue.store.epochs(long), timeout=180)
        victim = queue._processes[0].pid
        os.kill(victim, signal.SIGKILL)
        assert wait_for(lambda: queue.store.get_run(long)["status"] == "failed", timeout=180)
        assert queue.store.get_run(long)["error"] == f"the worker process running it died (exit code {-signal.SIGKILL})"
        assert queue.store.epochs(long)  # what it reported before dying stays readable
        after = queue.submit(get_preset("dry-run").config(FAST))
        queue.join()
        assert queue.store.get_run(after)["status"] == "finished"
        assert queue._processes[0].pid != victim
    finally:
        queue.close()


def test_the_pages_modules_never_import_torch():
    code = ("import sys, json; import dashboard.state, dashboard.run_panel, dashboard.figures, dashboard.tables, "
            "dashboard.feature_figures, core.engine.jobs, core.storage.run_store, core.storage.export; "
            "print(json.dumps('torch' in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) is False
