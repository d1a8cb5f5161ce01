"""Sweeps in core: spec validation, objectives, the driver with the real trainer and store, local worker
processes (stop, a killed worker) and resuming a sweep whose driver died."""
import json
import os
import signal
import subprocess
import sys

import pytest

from core.config import ConfigError
from core.sweeps.executors.local import LocalExecutor, _EventBatch
from core.storage.run_store import RunStore
from core.sweeps.spec import SWEEP_DEFAULTS, Param, SweepSpec, objective_value, parse_grid, parse_range
from core.sweeps.store import SweepError, SweepStore, best_point, point_means
from core.sweeps.driver import DROPPED, SweepDriver, create_sweep, request_stop, resume_sweep, run_sweep
from tests.sweep_support import QUICK, InlineExecutor, start_in_thread, wait_for

ALPHAS = Param("method.alpha", values=(0.5, 1.0))


# ---- the spec ------------------------------------------------------------------
def test_grid_values_are_parsed_to_the_keys_types():
    assert parse_grid("method.alpha=0.5,1").values == (0.5, 1.0)
    assert all(isinstance(v, float) for v in parse_grid("method.alpha=0.5,1").values)
    assert parse_grid("method.generations=2, 3").values == (2, 3)
    assert parse_grid("model.batch_norm=true,false").values == (True, False)
    assert parse_grid("model.name=mlp,cnn").values == ("mlp", "cnn")
    lr = parse_range("train.lr=1e-4:1e-2:log")
    assert (lr.low, lr.high, lr.log, lr.is_range) == (1e-4, 1e-2, True, True)


BAD_SPECS = [
    (lambda: parse_grid("method.alpa=0.5,1"), "unknown config key 'method.alpa'"),
    (lambda: parse_grid("method.alpha"), "expected KEY=V1,V2"),
    (lambda: parse_grid("method.alpha=high,low"), "must be a number"),
    (lambda: parse_range("train.lr=1e-4"), "expected KEY=LOW:HIGH"),
    (lambda: parse_range("train.lr=1e-4:1e-2:ln"), "expected KEY=LOW:HIGH"),
    (lambda: parse_range("data.name=a:b"), "not numeric"),
    (lambda: SweepSpec(params=(Param("method.alpha", values=(0.5, 1.5)),)), "method.alpha=1.5: must be <= 1"),
    (lambda: SweepSpec(params=(Param("train.lr", low=1e-4, high=1e-2, log=True),)), "grid sampler needs a list"),
    (lambda: SweepSpec(params=(Param("train.lr", low=1e-2, high=1e-4),), sampler="random"), "must be below"),
    (lambda: SweepSpec(params=(Param("train.weight_decay", low=0.0, high=0.1, log=True),), sampler="tpe"),
     "log range needs low > 0"),
    (lambda: SweepSpec(params=(Param("method.alpha", low=0.5, high=2.0),), sampler="random"), "must be <= 1"),
    (lambda: SweepSpec(params=(Param("seed", values=(1, 2)),)), "seed cannot be swept"),
    (lambda: SweepSpec(params=(ALPHAS, ALPHAS)), "swept twice"),
    (lambda: SweepSpec(params=(Param("method.alpha", values=(0.5, 0.5)),)), "listed twice"),
    (lambda: SweepSpec(params=(ALPHAS,), overrides={"method.alpha": 0.3}), "both swept and fixed"),
    (lambda: SweepSpec(params=()), "at least one parameter"),
    (lambda: SweepSpec(params=(ALPHAS,), trials=3), "the grid has only 2 points"),
    (lambda: SweepSpec(params=(ALPHAS,), sampler="bayes"), "sampler 'bayes'"),
    (lambda: SweepSpec(params=(ALPHAS,), objective="loss"), "objective 'loss'"),
    (lambda: SweepSpec(params=(ALPHAS,), seeds=0), "seeds=0"),
    (lambda: SweepSpec(params=(ALPHAS,), preset="mnist"), "unknown preset 'mnist'"),
    (lambda: SweepSpec(params=(ALPHAS,), objective="born_again_val_gain", overrides={"method.generations": 1}),
     "needs method.generations >= 2"),
    (lambda: SweepSpec(params=(Param("method.generations", values=(1, 3)),), objective="born_again_val_gain"),
     "needs method.generations >= 2"),
    (lambda: SweepSpec(params=(Param("method.name", values=("ban", "dino")),)), "method dino reports no validation accuracy"),
]


@pytest.mark.parametrize("make, message", BAD_SPECS)
def test_bad_specs_are_refused_with_a_clear_message(make, message):
    with pytest.raises(ConfigError, match=None) as info:
        make()
    assert message in str(info.value)


def test_spec_round_trip_and_trial_configs():
    spec = SweepSpec(params=(ALPHAS, Param("train.lr", low=1e-4, high=1e-2, log=True)), sampler="tpe",
                     trials=5, seeds=3, overrides={"train.epochs": 2})
    again = SweepSpec.from_dict(json.loads(json.dumps(spec.to_dict())))
    assert again == spec and spec.total_runs() == 15
    config = spec.trial_config({"method.alpha": 0.5, "train.lr": 0.003}, 2)
    assert (config.method.alpha, config.train.lr, config.train.epochs, config.seed) == (0.5, 0.003, 2, 2)
    assert config.eval.save_weights is SWEEP_DEFAULTS["eval.save_weights"] is False
    assert config.eval.embedding == "pca"
    kept = SweepSpec(params=(ALPHAS,), overrides={"eval.embedding": "umap"}).trial_config({"method.alpha": 1.0}, 0)
    assert kept.eval.embedding == "umap"  # the sweep's defaults give way to the user's
    whole = SweepSpec(params=(Param("method.temperature", values=(1, 4)), Param("method.generations", values=(2, 3))))
    assert [type(v) for p in whole.params for v in p.values] == [float, float, int, int]


def test_objectives_read_validation_never_test():
    gens = [{"val_accuracy": 0.50, "val_knn_accuracy": 0.61, "test_accuracy": 0.99, "knn_accuracy": 0.99},
            {"val_accuracy": 0.72, "val_knn_accuracy": 0.64, "test_accuracy": 0.10, "knn_accuracy": 0.10},
            {"val_accuracy": 0.66, "val_knn_accuracy": 0.70, "test_accuracy": 0.99, "knn_accuracy": 0.99}]
    assert objective_value("best_val_accuracy", gens) == 0.72
    assert objective_value("born_again_val_gain", gens) == pytest.approx(0.22)
    assert objective_value("final_val_knn_accuracy", gens) == 0.70
    assert objective_value("born_again_val_gain", gens[:1]) is None
    assert objective_value("final_val_knn_accuracy", []) is None
    assert objective_value("best_val_accuracy", [{"test_accuracy": 0.5}]) is None  # no validation: no value


def test_a_stored_sweep_with_a_test_objective_resumes_on_validation():
    spec = SweepSpec(params=(ALPHAS,)).to_dict()
    spec["objective"] = "best_test_accuracy"
    assert SweepSpec.from_dict(spec).objective == "best_val_accuracy"


def test_best_point_is_the_highest_mean_over_finished_seeds():
    def trial(point, value, status="finished"):
        return {"point": point, "params": {"method.alpha": [0.5, 1.0, 0.2][point]}, "status": status,
                "objective": value}

    trials = [trial(0, 0.8), trial(0, 0.6), trial(1, 0.9), trial(1, 0.4), trial(1, 0.99, "failed"),
              trial(2, None, "cancelled")]
    means = {p["point"]: (p["objective"], p["finished"]) for p in point_means(trials)}
    assert means == {0: (pytest.approx(0.7), 2), 1: (pytest.approx(0.65), 2), 2: (None, 0)}
    assert best_point(trials) == {"params": {"method.alpha": 0.5}, "objective": pytest.approx(0.7)}
    assert best_point([trial(2, None, "failed")]) == {"params": None, "objective": None}


def test_a_sweep_worker_keeps_large_models_on_one_thread(monkeypatch):
    import torch
    from threadpoolctl import threadpool_limits

    from core.sweeps.trial import limit_threads
    from core.engine.devices import choose_threads

    big = torch.nn.Linear(2048, 2048)  # 4.2M parameters: the trainer alone would use every core
    monkeypatch.delenv("SDLAB_MAX_THREADS", raising=False)
    assert choose_threads(big, 64) == (os.cpu_count() or 1)
    threads = torch.get_num_threads()
    try:
        with threadpool_limits(limits=None):  # puts the BLAS pools back as they were on leaving
            limit_threads()
            assert choose_threads(big, 64) == 1 and torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(threads)
        monkeypatch.delenv("SDLAB_MAX_THREADS", raising=False)


# ---- the driver, in-thread -------------------------------------------------------
def test_grid_sweep_writes_ordinary_runs_and_the_true_best(tmp_path):
    store = RunStore(tmp_path)
    spec = SweepSpec(params=(ALPHAS,), seeds=2, overrides={"train.epochs": 2})
    seen = []
    report = run_sweep(store, spec, InlineExecutor(), progress=seen.append)
    assert report["status"] == "finished" and report["objective"] == "best_val_accuracy"
    assert [s["done"] for s in seen] == [1, 2, 3, 4] and seen[-1]["total"] == 4
    runs = {r["id"]: r for r in store.list_runs(sweep_id=report["sweep_id"])}
    assert len(runs) == 4 == len(report["trials"])
    assert sorted((t["params"]["method.alpha"], t["seed"]) for t in report["trials"]) == \
        [(0.5, 0), (0.5, 1), (1.0, 0), (1.0, 1)]
    means = {}
    for t in report["trials"]:
        run = runs[t["run_id"]]
        assert run["status"] == t["status"] == "finished" and t["worker"] == "inline"
        assert run["config"]["method"]["alpha"] == t["params"]["method.alpha"] and run["config"]["seed"] == t["seed"]
        generations = store.generations(t["run_id"])
        assert len(generations) == 2 and len(store.epochs(t["run_id"])) == 4  # replayed into the store
        assert t["objective"] == max(g["val_accuracy"] for g in generations)  # chosen on validation
        assert not list(store.artifact_dir(t["run_id"]).glob("*.pt"))  # sweeps keep no weights by default
        means.setdefault(t["params"]["method.alpha"], []).append(t["objective"])
    best_alpha = max(means, key=lambda a: sum(means[a]) / 2)
    assert report["best"]["params"] == {"method.alpha": best_alpha}
    assert report["best"]["objective"] == pytest.approx(sum(means[best_alpha]) / 2)
    assert SweepStore(store).report(report["sweep_id"]) == report  # the store reads back what the driver returned


def test_random_and_tpe_sample_within_the_range(tmp_path):
    store = RunStore(tmp_path)
    for sampler in ("random", "tpe"):
        spec = SweepSpec(params=(Param("train.lr", low=1e-4, high=1e-2, log=True),
                                 Param("method.generations", low=1, high=3)), sampler=sampler, trials=3,
                         overrides={"train.epochs": 1})
        report = run_sweep(store, spec, InlineExecutor())
        assert report["status"] == "finished" and len(report["trials"]) == 3
        lrs = [t["params"]["train.lr"] for t in report["trials"]]
        assert all(1e-4 <= lr <= 1e-2 for lr in lrs) and len(set(lrs)) == 3
        assert all(t["params"]["method.generations"] in (1, 2, 3) for t in report["trials"])
        assert all(isinstance(t["params"]["method.generations"], int) for t in report["trials"])


def test_a_run_cancelled_from_the_runs_page_before_it_starts_is_skipped(tmp_path):
    store = RunStore(tmp_path)
    spec = SweepSpec(params=(Param("method.alpha", values=(0.5,)),), seeds=2, overrides=QUICK)
    sweep_id = create_sweep(store, spec)
    executor = InlineExecutor()
    driver = SweepDriver(store, sweep_id, executor)
    original = executor.submit

    def cancel_the_other_then_submit(task):  # the Runs page cancels the second run while the first runs
        for run in store.list_runs(sweep_id=sweep_id):
            if run["status"] == "queued":
                store.request_cancel(run["id"])
        original(task)

    executor.submit = cancel_the_other_then_submit
    report = driver.run()
    assert sorted(t["status"] for t in report["trials"]) == ["cancelled", "finished"]
    assert len(executor.submitted) == 1 and report["status"] == "finished"


# ---- local worker processes ------------------------------------------------------
@pytest.fixture(scope="module")
def workers():
    executor = LocalExecutor(2)
    executor.start()
    yield executor
    executor.close()


SLOW = {"train.epochs": 300}  # long enough to be caught mid-trial: a few seconds a generation


def _running_with_epochs(store, sweep_id, count):
    """The sweep's running runs once at least ``count`` of them have reported two epochs (else an empty list)."""
    runs = [r for r in store.list_runs(sweep_id=sweep_id)
            if r["status"] == "running" and len(store.epochs(r["id"])) >= 2]
    return runs if len(runs) >= count else []


def test_stopping_a_sweep_cancels_running_trials_and_drops_queued_ones(tmp_path, workers):
    store = RunStore(tmp_path)
    spec = SweepSpec(params=(Param("method.alpha", values=(0.5,)),), seeds=3, overrides=SLOW)
    sweep_id, thread, out = start_in_thread(store, spec, workers)
    assert wait_for(lambda: _running_with_epochs(store, sweep_id, 2), timeout=120)
    request_stop(store, sweep_id)  # through the store, as another process (the CLI's --stop) would
    thread.join(timeout=60)
    assert not thread.is_alive() and out["status"] == "cancelled"
    runs = {r["id"]: r for r in store.list_runs(sweep_id=sweep_id)}
    ran = [r for r in runs.values() if store.epochs(r["id"])]
    dropped = [r for r in runs.values() if not store.epochs(r["id"])]
    assert len(ran) == 2 and len(dropped) == 1
    for run in ran:
        assert run["status"] == "cancelled" and "cancelled during generation" in run["error"]
        assert len(store.epochs(run["id"])) < 2 * SLOW["train.epochs"]
    assert dropped[0]["status"] == "cancelled" and dropped[0]["error"] == DROPPED
    SweepStore(store).claim(sweep_id, "another driver")  # now a live process drives it: no second driver
    with pytest.raises(SweepError, match="still running"):
        resume_sweep(store, sweep_id, InlineExecutor())


def test_a_killed_worker_fails_its_trial_and_the_sweep_goes_on(tmp_path, workers):
    store = RunStore(tmp_path)
    spec = SweepSpec(params=(Param("method.alpha", values=(0.5,)),), seeds=3, overrides={"train.epochs": 30})
    sweep_id, thread, out = start_in_thread(store, spec, workers)
    assert wait_for(lambda: _running_with_epochs(store, sweep_id, 1), timeout=120)
    victim = _running_with_epochs(store, sweep_id, 1)[0]["id"]
    pid = workers.worker_pid(victim)
    os.kill(pid, signal.SIGKILL)
    thread.join(timeout=180)
    assert not thread.is_alive() and out["status"] == "finished"
    by_id = {t["run_id"]: t for t in out["trials"]}
    assert by_id[victim]["status"] == "failed" and by_id[victim]["worker"].endswith(f":{pid}")
    assert f"died (exit code {-signal.SIGKILL})" in store.get_run(victim)["error"]
    assert store.epochs(victim)  # what it reported before dying stays readable
    assert sorted(t["status"] for t in out["trials"]) == ["failed", "finished", "finished"]
    assert out["best"]["objective"] is not None
    assert pid not in workers.worker_pids() and len(workers.worker_pids()) == 2  # a fresh worker took its place


def test_a_sweep_whose_driver_died_resumes_where_it_stopped(tmp_path):
    driver_script = (
        "import sys\n"
        "from core.storage.run_store import RunStore\n"
        "from core.sweeps.spec import Param, SweepSpec\n"
        "from core.sweeps.driver import run_sweep\n"
        "from tests.sweep_support import InlineExecutor\n"
        "spec = SweepSpec(params=(Param('method.alpha', values=(0.2, 0.5, 1.0)),),\n"
        "                 overrides={'method.generations': 1, 'train.epochs': 40})\n"
        "run_sweep(RunStore(sys.argv[1]), spec, InlineExecutor())\n")
    driver = subprocess.Popen([sys.executable, "-c", driver_script, str(tmp_path)], cwd=os.getcwd(),
                              env={**os.environ, "PYTHONPATH": os.getcwd()}, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    store = RunStore(tmp_path)
    try:
        assert wait_for(lambda: any(r["status"] == "finished" for r in store.list_runs()), timeout=180)
    finally:
        driver.kill()  # the driver dies mid-sweep, as a killed terminal or a crashed app would
        driver.wait(timeout=30)
    sweeps = SweepStore(store)
    sweep_id = sweeps.list()[0]["id"]
    assert sweeps.get(sweep_id)["status"] == "interrupted"
    before = {t["run_id"]: t for t in sweeps.trials(sweep_id) if t["status"] == "finished"}
    executor = InlineExecutor()
    report = resume_sweep(store, sweep_id, executor)
    assert report["status"] == "finished" and len(report["trials"]) == 3
    assert all(t["status"] == "finished" for t in report["trials"])
    assert sorted(t["params"]["method.alpha"] for t in report["trials"]) == [0.2, 0.5, 1.0]
    kept = [t for t in report["trials"] if t["run_id"] in before]
    assert kept and all(t["objective"] == before[t["run_id"]]["objective"] for t in kept)
    assert len(executor.submitted) == 3 - len(kept)  # finished trials are not run again
    with pytest.raises(SweepError, match="finished: nothing to resume"):
        resume_sweep(store, sweep_id, InlineExecutor())


def test_worker_reports_reach_the_driver_in_order_with_epochs_batched():
    sent: list[list] = []
    batch = _EventBatch(sent.append, every_s=3600)  # epochs wait for the next other report or the end
    start, epochs, generation = ("on_start", {}, {}), [("on_epoch", 0, e, {"loss": 1.0}) for e in range(5)], \
        ("on_generation", 0, {}, {}, {})
    for event in [start, *epochs, generation, *epochs[:2]]:
        batch.add(event)
    assert sent == [[start], [*epochs, generation]]  # a generation's end goes out at once, epochs before it
    batch.flush()
    assert sent[-1] == epochs[:2] and len(sent) == 3
    batch.flush()
    assert len(sent) == 3  # nothing pending: nothing sent
    timed: list[list] = []
    every = _EventBatch(timed.append, every_s=0.0)  # no wait: every epoch goes out on its own
    for event in epochs:
        every.add(event)
    assert timed == [[e] for e in epochs]


@pytest.mark.parametrize("address, loopback", [
    ("tcp://127.0.0.1:8786", True), ("tcp://localhost:8786", True), ("tcp://[::1]:8786", True),
    ("tcp://127.3.2.1:1", True), ("tcp://0.0.0.0:8786", False), ("tcp://10.0.0.5:8786", False),
    ("tcp://scheduler.example:8786", False), ("127.0.0.1:8786", True),
])
def test_a_non_loopback_dask_address_gets_a_warning(address, loopback):
    from core.sweeps.executors.factory import exposure_warning, is_loopback

    assert is_loopback(address) is loopback
    assert (exposure_warning(address) is None) is loopback
