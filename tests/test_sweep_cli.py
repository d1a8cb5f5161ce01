"""``python -m core sweep`` end to end: a real grid on local worker processes into the real store, its JSON
report checked against the store, and bad specs refused with exit code 2 and one line, before anything runs."""
import itertools
import json
import os
import subprocess
import sys

import pytest

from core.cli.main import main
from core.storage.run_store import RunStore
from core.sweeps.store import SweepStore

ENV = {**os.environ, "PYTHONPATH": os.getcwd()}
ALPHAS, TEMPERATURES = (0.5, 1.0), (2.0, 4.0)


def sweep_cli(*args, store, timeout=300):
    return subprocess.run([sys.executable, "-m", "core", "sweep", *args, "--store", str(store)],
                          capture_output=True, text=True, env=ENV, timeout=timeout)


def test_grid_sweep_on_two_local_workers(tmp_path, capsys):
    out = sweep_cli("--preset", "dry-run", "--grid", "method.alpha=0.5,1", "--grid", "method.temperature=2,4",
                    "--workers", "2", "--json", store=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert set(report) == {"sweep_id", "status", "objective", "trials", "best"}
    assert report["status"] == "finished" and report["objective"] == "best_val_accuracy"
    assert "trial" in out.stderr  # the progress bar
    trials = report["trials"]
    assert sorted((t["params"]["method.alpha"], t["params"]["method.temperature"]) for t in trials) == \
        sorted(itertools.product(ALPHAS, TEMPERATURES))
    store = RunStore(tmp_path)
    for t in trials:
        assert set(t) == {"run_id", "params", "seed", "status", "objective", "worker"}
        assert t["status"] == "finished" and t["seed"] == 0
        run = store.get_run(t["run_id"])
        assert run["sweep_id"] == report["sweep_id"] and run["status"] == "finished"
        assert (run["config"]["method"]["alpha"], run["config"]["method"]["temperature"]) == \
            (t["params"]["method.alpha"], t["params"]["method.temperature"])
        assert t["objective"] == max(g["val_accuracy"] for g in store.generations(t["run_id"]))  # validation
    best = max(trials, key=lambda t: t["objective"])
    assert report["best"] == {"params": best["params"], "objective": best["objective"]}
    workers = {t["worker"] for t in trials}
    assert len(workers) == 2 and all(w.rsplit(":", 1)[1].isdigit() for w in workers)

    assert main(["--store", str(tmp_path), "sweep", "--show", report["sweep_id"], "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == report  # read back from the store as the dashboard reads it
    assert main(["--store", str(tmp_path), "sweep", "--list"]) == 0
    listed = capsys.readouterr().out
    assert report["sweep_id"] in listed and "finished" in listed and "grid over method.alpha" in listed


BAD = [
    (["--grid", "method.alpa=0.5,1"], "unknown config key 'method.alpa'"),
    (["--grid", "method.alpha=0.5,1.5"], "method.alpha=1.5: must be <= 1"),
    (["--range", "train.lr=1e-2:1e-4", "--sampler", "random"], "must be below"),
    (["--range", "train.lr=1e-4:1e-2"], "grid sampler needs a list"),
    (["--range", "train.lr=1e-4"], "expected KEY=LOW:HIGH"),
    (["--grid", "method.alpha=0.5", "--sampler", "bayes"], "invalid choice: 'bayes'"),
    (["--grid", "method.alpha=0.5", "--objective", "loss"], "invalid choice: 'loss'"),
    (["--grid", "method.alpha=0.5", "--trials", "many"], "invalid int value: 'many'"),
    (["--grid", "method.alpha=0.5", "--trials", "3"], "the grid has only 1 points"),
    (["--grid", "method.alpha=0.5", "--seeds", "0"], "seeds=0"),
    ([], "at least one parameter"),
    (["--preset", "mnist", "--grid", "method.alpha=0.5"], "unknown preset 'mnist'"),
    (["--grid", "method.alpha=0.5", "--address", "tcp://127.0.0.1:8786"], "--address names a Dask scheduler"),
    (["--grid", "method.alpha=0.5", "--executor", "dask"], "needs the scheduler address"),
    (["--grid", "method.alpha=0.5", "--executor", "dask", "--address", "tcp://127.0.0.1:8786", "--workers", "2"],
     "a Dask cluster brings its own workers"),
    (["--grid", "method.alpha=0.5", "--workers", "0"], "--workers 0: must be between 1 and 32"),
    (["--grid", "method.alpha=0.5", "--workers", "1000"], "--workers 1000: must be between 1 and 32"),
    (["--resume", "sweep-nope"], "no sweep 'sweep-nope'"),
    (["--show", "sweep-nope"], "no sweep 'sweep-nope'"),
]


@pytest.mark.parametrize("args, message", BAD)
def test_bad_specs_exit_2_with_one_line_and_leave_nothing(tmp_path, capsys, monkeypatch, args, message):
    monkeypatch.delenv("SDLAB_DASK_ADDRESS", raising=False)
    assert main(["--store", str(tmp_path), "sweep", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
    assert SweepStore(RunStore(tmp_path)).list() == [] and RunStore(tmp_path).list_runs() == []

