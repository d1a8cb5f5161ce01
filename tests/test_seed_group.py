"""Seed groups (core.engine.seed_group, ``run --seeds N``): the CLI contract, the summary, single-run equality,
cancel and bad input, on the real trainer and a real SQLite store."""
from __future__ import annotations

import json
import statistics
import threading

import pytest

from core.cli.main import main
from core.engine.seed_group import execute_group, summarize
from core.engine.sinks import Sink
from core.presets import get_preset
from core.storage.run_store import RunStore


def _cli(capsys, *argv) -> tuple[int, str]:
    code = main(list(argv))
    return code, capsys.readouterr().out


@pytest.mark.slow  # ~45 s on shared cores: 5 runs with their evaluation
def test_dry_run_group_of_four_seeds_matches_single_runs(tmp_path, capsys):
    """The issue's done-when: seeds 3-6, all finished, means are the runs' means, seed 5 = a single seed-5 run
    to within one test point per generation; ``list --json`` shows the group."""
    store = str(tmp_path)
    code, out = _cli(capsys, "--store", store, "run", "--preset", "dry-run", "--set", "seed=3", "--seeds", "4",
                     "--json")
    assert code == 0
    group = json.loads(out)
    assert set(group) == {"group_id", "runs", "summary"}
    assert [r["config"]["seed"] for r in group["runs"]] == [3, 4, 5, 6]
    assert all(r["status"] == "finished" for r in group["runs"])
    assert set(group["runs"][0]) >= {"run_id", "status", "config", "generations", "best_generation", "baselines"}
    rows = group["summary"]["generations"]
    assert [row["generation"] for row in rows] == [0, 1]
    for row in rows:
        for metric in ("test_accuracy", "knn_accuracy", "val_accuracy", "test_nll"):
            values = [r["generations"][row["generation"]][metric] for r in group["runs"]]
            assert row[metric]["mean"] == pytest.approx(statistics.fmean(values), abs=1e-12)
            assert row[metric]["std"] == pytest.approx(statistics.stdev(values), abs=1e-12)
            assert (row[metric]["min"], row[metric]["max"]) == (min(values), max(values))
    code, out = _cli(capsys, "--store", store, "run", "--preset", "dry-run", "--set", "seed=5", "--json")
    single = json.loads(out)
    seed5 = group["runs"][2]
    one_point = 1 / 360 + 1e-9
    for mine, theirs in zip(seed5["generations"], single["generations"]):
        assert abs(mine["test_accuracy"] - theirs["test_accuracy"]) <= one_point
    assert seed5["best_generation"] == single["best_generation"]
    listed = json.loads(_cli(capsys, "--store", store, "list", "--json")[1])
    grouped = {r["run_id"]: r["group_id"] for r in listed}
    assert {grouped[r["run_id"]] for r in group["runs"]} == {group["group_id"]}
    assert grouped[single["run_id"]] is None


@pytest.mark.slow
def test_sequential_fallback_agrees_with_the_batched_group(tmp_path):
    """The one-after-another path (every model the batched step does not cover) gives the same runs."""
    store = RunStore(tmp_path)
    config = get_preset("dry-run").config({"seed": 11, "eval.embedding": "none"})
    batched = execute_group(config, 2, store)
    sequential = execute_group(config, 2, store, batched=False)
    for a, b in zip(batched["summaries"], sequential["summaries"]):
        assert a["status"] == b["status"] == "finished"
        for ga, gb in zip(a["generations"], b["generations"]):
            assert abs(ga["test_accuracy"] - gb["test_accuracy"]) <= 1 / 360 + 1e-9
    assert batched["group_id"] != sequential["group_id"]


def test_summary_by_hand():
    """Three finished runs 0.9, 0.8, 1.0 at generation 0: mean 0.9, sample std 0.1, min 0.8, max 1.0; a failed
    run is left out; one run has no std."""
    runs = [{"status": "finished", "config": {"seed": s}, "generations": [{"generation": 0, "test_accuracy": v}]}
            for s, v in ((0, 0.9), (1, 0.8), (2, 1.0))]
    runs.append({"status": "failed", "config": {"seed": 3}, "generations": [{"generation": 0, "test_accuracy": 0.0}]})
    row = summarize(runs)["generations"][0]["test_accuracy"]
    assert row["mean"] == pytest.approx(0.9) and row["std"] == pytest.approx(0.1)
    assert (row["min"], row["max"]) == (0.8, 1.0)
    assert summarize(runs)["seeds"] == [0, 1, 2]
    assert summarize(runs[:1])["generations"][0]["test_accuracy"]["std"] is None


class _CancelOther(Sink):
    """Asks the store to cancel another run of the group at the first epoch (as the Runs page's Cancel does)."""

    def __init__(self, store: RunStore, holder: dict):
        self.store, self.holder, self.done = store, holder, False

    def on_epoch(self, generation, epoch, metrics) -> None:
        if not self.done:
            self.done = True
            group = [r for r in self.store.list_runs() if r.get("group_id")]
            self.store.request_cancel(group[-1]["id"])
            threading.Event().wait(0.6)  # past the throttle of the store's cancel check


def test_cancelling_one_run_cancels_the_group(tmp_path):
    store = RunStore(tmp_path)
    config = get_preset("dry-run").config({"train.epochs": 30, "eval.embedding": "none"})
    sinks = iter([_CancelOther(store, {}), None, None])
    result = execute_group(config, 3, store, sink_factory=lambda c: next(sinks))
    assert [s["status"] for s in result["summaries"]] == ["cancelled"] * 3
    assert {store.get_run(s["run_id"])["status"] for s in result["summaries"]} == {"cancelled"}
    assert result["summary"]["generations"] == []


def test_bad_seed_count_exits_2_before_any_run(tmp_path, capsys):
    for bad in ("0", "1000"):
        assert main(["--store", str(tmp_path), "run", "--preset", "dry-run", "--seeds", bad]) == 2
        assert "--seeds" in capsys.readouterr().err
    assert main(["--store", str(tmp_path), "run", "--preset", "dry-run", "--seeds", "two"]) == 2
    assert RunStore(tmp_path).list_runs() == []


@pytest.mark.slow
def test_a_sweep_point_s_seeds_are_one_group(tmp_path):
    """A sweep with 2 seeds per point tags each point's runs with one group id (Runs and Compare show the spread)."""
    from core.sweeps.driver import run_sweep
    from core.sweeps.spec import Param, SweepSpec
    from tests.sweep_support import QUICK, InlineExecutor

    store = RunStore(tmp_path)
    spec = SweepSpec(params=(Param("method.alpha", values=(0.5, 1.0)),), seeds=2, overrides=QUICK)
    report = run_sweep(store, spec, InlineExecutor())
    groups: dict[str, set] = {}
    for trial in report["trials"]:
        groups.setdefault(store.get_run(trial["run_id"])["group_id"], set()).add(trial["params"]["method.alpha"])
    assert len(groups) == 2 and all(len(alphas) == 1 for alphas in groups.values())
