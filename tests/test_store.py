"""The run store: round trips, concurrent readers, interrupted runs, weights loaded safely."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest
import torch

from core.storage.run_store import RunNotFound, RunStore


def test_run_lifecycle_round_trip(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({"seed": 1}, label="dry-run")
    assert store.get_run(run_id)["status"] == "queued"
    store.claim(run_id)
    store.add_epoch(run_id, 0, 0, {"loss": 2.5})
    store.add_epoch(run_id, 0, 1, {"loss": 1.5})
    store.add_generation(run_id, 0, {"test_accuracy": 0.9})
    store.save_arrays(run_id, "gen0", {"embedding": np.ones((3, 2), np.float32)})
    store.finish(run_id, "finished", summary={"warnings": ["w"], "generations": []})
    run = store.get_run(run_id)
    assert run["status"] == "finished" and run["label"] == "dry-run" and run["warnings"] == ["w"]
    assert [e["loss"] for e in store.epochs(run_id)] == [2.5, 1.5]
    assert store.generations(run_id) == [{"test_accuracy": 0.9, "generation": 0}]
    assert store.load_arrays(run_id, "gen0")["embedding"].shape == (3, 2)
    assert store.load_arrays(run_id, "gen9") == {}
    assert RunStore(tmp_path).list_runs()[0]["id"] == run_id  # a second handle sees the same file


def test_unknown_run_and_bad_status(tmp_path):
    store = RunStore(tmp_path)
    with pytest.raises(RunNotFound, match="no run 'nope'"):
        store.get_run("nope")
    run_id = store.create_run({})
    with pytest.raises(ValueError, match="status"):
        store.finish(run_id, "done")


def test_weights_round_trip_with_weights_only(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    state = {"w": torch.arange(6.0).reshape(2, 3)}
    store.save_weights(run_id, 0, state)
    assert torch.equal(torch.load(store.artifact_dir(run_id) / "gen0.pt", weights_only=True)["w"], state["w"])


def test_weights_loader_refuses_pickled_objects(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    torch.save({"evil": object()}, store.artifact_dir(run_id) / "gen0.pt")
    with pytest.raises(Exception, match="[Ww]eights only"):
        torch.load(store.artifact_dir(run_id) / "gen0.pt", weights_only=True)


def test_run_of_dead_process_reads_as_interrupted(tmp_path):
    store = RunStore(tmp_path)
    code = ("import sys; from core.storage.run_store import RunStore; s = RunStore(sys.argv[1]); r = s.create_run({}); "
            "s.claim(r); s.add_generation(r, 0, {'test_accuracy': 0.5}); print(r)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    run_id = out.stdout.strip()
    run = store.get_run(run_id)
    assert run["status"] == "interrupted" and "stopped" in run["error"]
    assert store.generations(run_id)[0]["test_accuracy"] == 0.5
    assert store.get_run(run_id)["status"] == "interrupted"  # written back, stable


def test_live_run_of_this_process_stays_running(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.claim(run_id)
    assert store.get_run(run_id)["status"] == "running"


def test_readers_work_while_a_writer_writes(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    errors = []

    def write():
        for epoch in range(300):
            store.add_epoch(run_id, 0, epoch, {"loss": float(epoch)})

    def read():
        try:
            for _ in range(300):
                rows = store.epochs(run_id)
                assert [r["epoch"] for r in rows] == list(range(len(rows)))
        except Exception as exc:  # surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=write), threading.Thread(target=read)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(store.epochs(run_id)) == 300


def test_cancel_of_queued_run_is_immediate(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.request_cancel(run_id)
    assert store.get_run(run_id)["status"] == "cancelled" and store.cancel_requested(run_id)


def test_a_store_from_before_label_efficiency_gains_the_column(tmp_path):
    import sqlite3

    db = sqlite3.connect(tmp_path / "runs.sqlite")
    db.executescript("""CREATE TABLE runs (
        id TEXT PRIMARY KEY, status TEXT NOT NULL, config TEXT NOT NULL, created REAL NOT NULL,
        started REAL, finished REAL, error TEXT, pid INTEGER, pid_start TEXT, host TEXT,
        info TEXT, baselines TEXT, warnings TEXT, summary TEXT, sweep_id TEXT, label TEXT,
        cancel_requested INTEGER NOT NULL DEFAULT 0);
        INSERT INTO runs (id, status, config, created, started, finished)
        VALUES ('old', 'finished', '{}', 1.0, 10.0, 12.5);""")
    db.commit()
    db.close()
    store = RunStore(tmp_path)
    old = store.summary("old")
    assert old["label_efficiency"] is None and old["best_generation"] is None
    assert old["wall_seconds"] == old["wall_time_s"] == 2.5  # from its start and end
    store.set_label_efficiency("old", {"raw": {"1": 0.5}})
    assert store.get_run("old")["label_efficiency"] == {"raw": {"1": 0.5}}
    assert RunStore(tmp_path).summary("old")["label_efficiency"] == {"raw": {"1": 0.5}}  # reopening is fine


def test_summary_keeps_what_the_run_ended_with(tmp_path):
    store = RunStore(tmp_path)
    run_id = store.create_run({})
    store.finish(run_id, "finished", summary={"best_generation": 2, "wall_time_s": 3.25, "warnings": []})
    summary = store.summary(run_id)
    assert summary["best_generation"] == 2 and summary["wall_seconds"] == 3.25 and summary["wall_time_s"] == 3.25


def test_epoch_count_counts_the_runs_own_epochs(tmp_path):
    store = RunStore(tmp_path / "store")
    a = store.create_run({"seed": 0})
    b = store.create_run({"seed": 1})
    assert store.epoch_count(a) == 0
    for epoch in range(3):
        store.add_epoch(a, 0, epoch, {"loss": 1.0})
    store.add_epoch(b, 0, 0, {"loss": 1.0})
    assert (store.epoch_count(a), store.epoch_count(b)) == (3, 1) == (len(store.epochs(a)), len(store.epochs(b)))
