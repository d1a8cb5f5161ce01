"""Sweeps on Dask: a LocalCluster (the grid, stopping), and a cluster of separate processes started here
(`dask scheduler` plus two `dask worker`, all on 127.0.0.1): trials on both workers, and one worker killed."""
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from distributed import Client, LocalCluster

from core.sweeps.executors.dask_cluster import DaskExecutor
from core.storage.run_store import RunStore
from core.sweeps.spec import Param, SweepSpec
from core.sweeps.driver import DROPPED, request_stop, run_sweep
from tests.net_support import LOOPBACK_V4, LOOPBACK_V6, listening_addresses
from tests.sweep_support import start_in_thread, wait_for

ROOT = Path(__file__).resolve().parents[1]
DASK = str(Path(sys.executable).parent / "dask")
GRID = SweepSpec(params=(Param("method.alpha", values=(0.5, 1.0)), Param("method.temperature", values=(2.0, 4.0))))
SLOW_EPOCHS = 300  # long enough to be caught mid-trial: a few seconds a generation
SLOW = SweepSpec(params=(Param("method.alpha", values=(0.5,)),), seeds=3, overrides={"train.epochs": SLOW_EPOCHS})


def _check_grid(report, store, workers):
    assert report["status"] == "finished"
    assert sorted((t["params"]["method.alpha"], t["params"]["method.temperature"]) for t in report["trials"]) == \
        sorted(itertools.product((0.5, 1.0), (2.0, 4.0)))
    for t in report["trials"]:
        assert t["status"] == "finished"
        assert t["objective"] == max(g["val_accuracy"] for g in store.generations(t["run_id"]))  # validation
        config = GRID.trial_config(t["params"], 0)  # every report replayed into the store by the driver:
        assert len(store.epochs(t["run_id"])) == config.method.generations * config.train.epochs
    assert report["best"]["objective"] == max(t["objective"] for t in report["trials"])
    assert {t["worker"] for t in report["trials"]} == set(workers)  # both workers ran trials


def _processing(client) -> dict[str, list[str]]:
    """Worker address -> run ids of the trials it is running."""
    return {w: [k.removeprefix("sdlab-trial-") for k in keys] for w, keys in client.processing().items() if keys}


# ---- LocalCluster ----------------------------------------------------------------
@pytest.fixture(scope="module")
def local_cluster():
    with LocalCluster(host="127.0.0.1", dashboard_address=None, processes=True, n_workers=2,
                      threads_per_worker=1) as cluster:
        executor = DaskExecutor(cluster.scheduler_address)
        executor.start()
        yield cluster, executor
        executor.close()


def test_grid_on_a_local_cluster(tmp_path, local_cluster):
    cluster, executor = local_cluster
    store = RunStore(tmp_path)
    report = run_sweep(store, GRID, executor)
    _check_grid(report, store, cluster.scheduler_info["workers"])


def test_stopping_a_sweep_on_dask(tmp_path, local_cluster):
    cluster, executor = local_cluster
    store = RunStore(tmp_path)
    sweep_id, thread, out = start_in_thread(store, SLOW, executor)
    with Client(cluster.scheduler_address, set_as_default=False) as watcher:
        assert wait_for(lambda: len(_processing(watcher)) == 2, timeout=120)
    time.sleep(2.0)  # inside the trials' first generation
    request_stop(store, sweep_id)
    thread.join(timeout=60)
    assert not thread.is_alive() and out["status"] == "cancelled"
    runs = store.list_runs(sweep_id=sweep_id)
    stopped = [r for r in runs if r["error"] != DROPPED]
    assert len(runs) == 3 and len(stopped) == 2
    for run in stopped:  # future.cancel() cannot do this: the trials saw the stop event between epochs
        assert run["status"] == "cancelled" and "cancelled during generation" in run["error"]
        assert len(store.epochs(run["id"])) < 2 * SLOW_EPOCHS
    dropped = [r for r in runs if r["error"] == DROPPED]
    assert len(dropped) == 1 and dropped[0]["status"] == "cancelled" and not store.epochs(dropped[0]["id"])


# ---- a cluster of separate processes -----------------------------------------------
def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@pytest.fixture(scope="module")
def process_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started: list[subprocess.Popen] = []

    def spawn(*args, name):
        log = open(folder / f"{name}.log", "w")
        started.append(subprocess.Popen([DASK, *args], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
        return started[-1]

    try:
        scheduler_file = folder / "scheduler.json"
        # The README's commands: every listening socket, the HTTP ones included, on loopback.
        spawn("scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
              "--scheduler-file", str(scheduler_file), name="scheduler")
        assert wait_for(scheduler_file.exists, timeout=60)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        workers = {name: spawn("worker", address, "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0",
                               "--nthreads", "1", "--no-nanny", "--name", name, name=name) for name in ("w1", "w2")}
        with Client(address, set_as_default=False) as waiter:
            waiter.wait_for_workers(2, timeout=120)
        executor = DaskExecutor(address)
        executor.start()  # both workers are in: the warm-up plugin runs on each before start returns
        yield address, {"scheduler": started[0], **workers}, executor
        executor.close()
    finally:
        for process in reversed(started):
            _stop(process)


def test_the_readme_commands_listen_on_loopback_only(process_cluster):
    _, processes, _ = process_cluster
    for name, process in processes.items():
        addresses = listening_addresses(process.pid)
        assert len(addresses) >= 1 and addresses <= {LOOPBACK_V4, LOOPBACK_V6}, (name, addresses)
    readme = (ROOT / "README.md").read_text()
    assert "dask scheduler --host 127.0.0.1 --port 8786 --dashboard-address 127.0.0.1:8787" in readme
    assert "--host 127.0.0.1 --dashboard-address 127.0.0.1:0" in readme


def test_trials_run_on_both_worker_processes(tmp_path, process_cluster):
    address, _, executor = process_cluster
    store = RunStore(tmp_path)
    report = run_sweep(store, GRID, executor)
    _check_grid(report, store, executor.client.scheduler_info()["workers"])


def test_a_killed_dask_worker_fails_its_trial_and_the_sweep_goes_on(tmp_path, process_cluster):
    address, workers, executor = process_cluster
    store = RunStore(tmp_path)
    sweep_id, thread, out = start_in_thread(store, SLOW, executor)
    with Client(address, set_as_default=False) as watcher:
        assert wait_for(lambda: len(_processing(watcher)) == 2, timeout=120)
        time.sleep(1.0)
        victim_address, (victim,) = next(iter(_processing(watcher).items()))
        name = watcher.scheduler_info()["workers"][victim_address]["name"]
    workers[name].send_signal(signal.SIGKILL)  # "workers" holds the scheduler too: names differ
    thread.join(timeout=180)
    assert not thread.is_alive() and out["status"] == "finished"
    by_id = {t["run_id"]: t for t in out["trials"]}
    assert by_id[victim]["status"] == "failed" and by_id[victim]["worker"] == victim_address
    assert store.get_run(victim)["error"] == f"worker {victim_address} died while running this trial (not retried)"
    others = [t for t in out["trials"] if t["run_id"] != victim]
    assert [t["status"] for t in others] == ["finished", "finished"]
    assert all(t["worker"] != victim_address for t in others)
