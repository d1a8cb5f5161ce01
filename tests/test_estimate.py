"""The run-time estimate is measured on this machine, scales with the work, and a server budget refuses or stops
runs over it with a clear message."""
from __future__ import annotations

import time

import pytest

from core.engine.estimate import estimate
from core.engine.generations import run
from core.engine.jobs import JobQueue, OverBudget
from core.engine.runner import execute
from core.presets import get_preset
from core.storage.run_store import RunStore

FAST = {"eval.embedding": "none", "eval.linear_probe": "false"}


def test_the_estimate_scales_with_epochs_and_generations():
    base = estimate(get_preset("dry-run").config(FAST))
    more = estimate(get_preset("dry-run").config({**FAST, "train.epochs": "40", "method.generations": "4"}))
    assert more.steps == base.steps * 20  # 10× the epochs, 2× the generations
    assert more.train_seconds > 5 * base.train_seconds  # timing noise allowed, the order of magnitude not
    assert "on this machine" in more.describe()


def test_the_estimate_is_within_a_factor_of_a_few_of_the_real_time():
    config = get_preset("dry-run").config({**FAST, "train.epochs": "20"})
    expected = estimate(config).total_seconds
    started = time.perf_counter()
    assert run(config)["status"] == "finished"
    actual = time.perf_counter() - started
    assert actual / 5 < expected < actual * 5, (expected, actual)


def test_a_run_over_the_budget_is_refused_before_it_exists(tmp_path, monkeypatch):
    monkeypatch.setenv("SDLAB_MAX_RUN_SECONDS", "5")
    queue = JobQueue(RunStore(tmp_path))
    with pytest.raises(OverBudget, match="over this server's budget of 5 s \\(SDLAB_MAX_RUN_SECONDS\\)"):
        queue.submit(get_preset("digits-ban-noisy").config({"train.epochs": "5000"}))
    assert queue.store.list_runs() == []


def test_a_run_that_outlives_the_budget_is_stopped_with_its_reason(tmp_path, monkeypatch):
    monkeypatch.setenv("SDLAB_MAX_RUN_SECONDS", "2")
    store = RunStore(tmp_path)
    summary = execute(get_preset("dry-run").config({**FAST, "train.epochs": "5000"}), store)
    assert summary["status"] == "cancelled"
    assert "stopped after 2 s: over this server's budget (SDLAB_MAX_RUN_SECONDS)" in summary["error"]
    assert store.get_run(summary["run_id"])["error"] == summary["error"]


def test_a_bad_budget_value_is_a_clear_error(monkeypatch):
    from core.engine.budget import run_budget

    monkeypatch.setenv("SDLAB_MAX_RUN_SECONDS", "soon")
    with pytest.raises(ValueError, match="SDLAB_MAX_RUN_SECONDS='soon': must be a number of seconds"):
        run_budget()
