"""Sweeps: many small runs over a grid or a search space, driven by one process that alone writes the store.

    spec = SweepSpec(preset="dry-run", params=(Param("method.alpha", values=(0.5, 1.0)),), seeds=2)
    report = run_sweep(store, spec)                                   # local worker processes
    report = run_sweep(store, spec, make_executor("dask", address="tcp://127.0.0.1:8786"))
    report = resume_sweep(store, report["sweep_id"])                  # after an interruption

The driver asks Optuna for points (ask/tell: grid, random, or TPE with a constant liar when trials run side by
side), turns each point into one run per seed, hands runs to the executor as workers free up, replays what the
workers report into the store, and tells Optuna each point's mean objective over its seeds.
"""
from __future__ import annotations

import os
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import TrialState, create_trial

from core.config import key_type
from core.sweeps.executors.base import Executor, Progress
from core.sweeps.executors.factory import make_executor
from core.sweeps.executors.local import LocalExecutor
from core.engine.sinks import StoreSink
from core.storage.run_store import RunStore
from core.sweeps.spec import Param, SweepSpec, objective_value
from core.sweeps.store import SweepError, SweepNotFound, SweepStore
from core.sweeps.trial import TrialResult, TrialTask, replay

__all__ = ["Param", "SweepSpec", "SweepStore", "SweepError", "SweepNotFound", "SweepDriver", "create_sweep",
           "run_sweep", "resume_sweep", "check_resumable", "request_stop", "make_executor"]

DASK_ADDRESS_ENV = "SDLAB_DASK_ADDRESS"
CHECK_EVERY_S = 0.5  # how often the driver reads stop and cancel requests from the store
DROPPED = "dropped: the sweep was stopped before this trial started"

optuna.logging.set_verbosity(optuna.logging.WARNING)


def distributions(spec: SweepSpec) -> dict[str, BaseDistribution]:
    """Optuna's search space: a list of values is categorical, a range is a float or int distribution."""
    out: dict[str, BaseDistribution] = {}
    for p in spec.params:
        if not p.is_range:
            out[p.key] = CategoricalDistribution(list(p.values))
        elif key_type(p.key) is int:
            out[p.key] = IntDistribution(int(p.low), int(p.high), log=p.log)
        else:
            out[p.key] = FloatDistribution(float(p.low), float(p.high), log=p.log)
    return out


class _AskTellGridSampler(optuna.samplers.GridSampler):
    """Optuna's grid sampler without its stop after the last point, which raises under ask/tell (optuna#5141).

    The driver counts the points itself, so nothing needs the study to stop.
    """

    def after_trial(self, study, trial, state, values) -> None:
        return None


def make_sampler(spec: SweepSpec, parallel: bool) -> optuna.samplers.BaseSampler:
    """Optuna's sampler for the spec; TPE uses a constant liar when several trials run at once."""
    if spec.sampler == "grid":
        return _AskTellGridSampler({p.key: list(p.values) for p in spec.params}, seed=spec.sampler_seed)
    if spec.sampler == "random":
        return optuna.samplers.RandomSampler(seed=spec.sampler_seed)
    return optuna.samplers.TPESampler(seed=spec.sampler_seed, constant_liar=parallel)


@dataclass
class _Point:
    params: dict
    values: dict[int, float | None] = field(default_factory=dict)  # seed index -> objective, once its run ended

    def mean(self) -> float | None:
        """Mean objective over the seeds that finished (None when none did)."""
        scored = [v for v in self.values.values() if v is not None]
        return sum(scored) / len(scored) if scored else None


class SweepDriver:
    """Runs one stored sweep to its end on ``executor``; ``stop()`` may be called from any thread."""

    def __init__(self, store: RunStore, sweep_id: str, executor: Executor,
                 progress: Callable[[dict], None] | None = None):
        self.store, self.sweep_id, self.executor, self.progress = store, sweep_id, executor, progress
        self.sweeps = SweepStore(store)
        self.spec = SweepSpec.from_dict(self.sweeps.get(sweep_id)["spec"])
        self.space = distributions(self.spec)
        self.study: optuna.Study | None = None
        self.points: list[_Point] = []
        self.pending: deque[tuple[int, int, str]] = deque()  # (point, seed index, run id) not yet submitted
        self.running: dict[str, tuple[int, int, StoreSink]] = {}
        self.stopping = False
        self._stop = threading.Event()
        self._next_check = 0.0

    def stop(self) -> None:
        """Drop queued trials and stop running ones at their next epoch."""
        self._stop.set()

    def run(self) -> dict:
        """Drive the sweep until every trial has ended (or it is stopped); returns the sweep's report."""
        self.sweeps.claim(self.sweep_id, self.executor.describe())
        status, error = "interrupted", "the driver stopped before the sweep finished"
        try:
            self.executor.start()
            self.study = optuna.create_study(direction="maximize",
                                             sampler=make_sampler(self.spec, self.executor.free_slots() > 1))
            self._restore()
            self._loop()
            status, error = ("cancelled" if self.stopping else "finished"), None
        except Exception as exc:  # the sweep is marked failed and stays resumable; trials keep their results
            status, error = "failed", f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=6)}"
        finally:
            self._abandon(status)
            self.sweeps.finish(self.sweep_id, status, error)
        return self.sweeps.report(self.sweep_id)

    # ---- the loop ----------------------------------------------------------
    def _loop(self) -> None:
        while True:
            self._check_requests()
            self._fill()
            if not self.running and (self.stopping or (not self.pending and len(self.points) >= self.spec.trials)):
                return
            for message in self.executor.poll(0.2):
                self._handle(message)

    def _check_requests(self) -> None:
        """Stop on request (this object, or the store from any process); forward run cancels to the executor."""
        now = time.monotonic()
        if self._stop.is_set() and not self.stopping:
            self._begin_stop()
        if now < self._next_check:
            return
        self._next_check = now + CHECK_EVERY_S
        if self.sweeps.stop_requested(self.sweep_id):
            self._begin_stop()
        for run_id in self.store.cancel_requested_in_sweep(self.sweep_id):
            if run_id in self.running:
                self.executor.stop(run_id)

    def _begin_stop(self) -> None:
        if self.stopping:
            return
        self.stopping = True
        for run_id in self.running:
            self.executor.stop(run_id)
        while self.pending:
            index, seed, run_id = self.pending.popleft()
            self.store.finish(run_id, "cancelled", DROPPED)
            self._settle(index, seed, run_id, "cancelled", None)

    def _fill(self) -> None:
        """Submit runs while workers are free, asking the sampler for a new point when none is waiting."""
        while not self.stopping and self.executor.free_slots() > 0:
            if not self.pending:
                if len(self.points) >= self.spec.trials:
                    return
                self._ask()
                continue
            index, seed, run_id = self.pending.popleft()
            if self.store.get_run(run_id)["status"] != "queued":  # cancelled from the Runs page meanwhile
                self._settle(index, seed, run_id, "cancelled", None)
                continue
            config = self.spec.trial_config(self.points[index].params, seed)
            self.store.claim(run_id)  # the driver owns the run: it alone writes it
            self.running[run_id] = (index, seed, StoreSink(self.store, run_id, config.eval.save_weights))
            self.executor.submit(TrialTask(run_id, config.to_dict()))

    def _ask(self) -> None:
        trial = self.study.ask(self.space)
        index = len(self.points)
        attrs = next(t.system_attrs for t in self.study.get_trials(deepcopy=False) if t.number == trial.number)
        self.sweeps.add_point(self.sweep_id, index, trial.params, attrs)
        self.points.append(_Point(dict(trial.params)))
        for seed in range(self.spec.seeds):
            self._new_run(index, seed)

    def _new_run(self, index: int, seed: int) -> None:
        config = self.spec.trial_config(self.points[index].params, seed)
        run_id = self.store.create_run(config.to_dict(), sweep_id=self.sweep_id,
                                       label=f"{self.sweep_id} point {index} seed {seed}")
        self.sweeps.set_trial(self.sweep_id, index, seed, run_id)
        if self.spec.seeds > 1:  # a point's seeds are one seed group on Runs and Compare (trained one by one)
            self.store.set_group(run_id, f"{self.sweep_id}-p{index}")
        self.pending.append((index, seed, run_id))

    def _handle(self, message: Progress | TrialResult) -> None:
        if isinstance(message, Progress):
            entry = self.running.get(message.run_id)
            if entry is not None:
                replay([message.event], entry[2])
            return
        entry = self.running.pop(message.run_id, None)
        if entry is None:  # a trial of an earlier driver on a reused executor
            return
        index, seed, sink = entry
        run_id = message.run_id
        replay(message.events, sink)
        summary = dict(message.summary)
        status = summary["status"]
        if status != "finished":  # keep what the trial reported before it stopped
            summary = {**self.store.summary(run_id), **{k: v for k, v in summary.items() if k != "generations"}}
        summary.update(run_id=run_id, worker=message.worker)
        objective = objective_value(self.spec.objective, summary["generations"]) if status == "finished" else None
        self.store.finish(run_id, status, summary.get("error"), summary)
        self.sweeps.record_result(run_id, message.worker, objective)
        self._settle(index, seed, run_id, status, objective)

    def _settle(self, index: int, seed: int, run_id: str, status: str, objective: float | None) -> None:
        """A run has ended; once all seeds of its point have, tell the sampler the point's mean."""
        point = self.points[index]
        point.values[seed] = objective
        if len(point.values) == self.spec.seeds:
            mean = point.mean()
            self.study.tell(index, mean, state=TrialState.COMPLETE if mean is not None else TrialState.FAIL)
        if self.progress is not None:
            self.progress({"done": sum(len(p.values) for p in self.points), "total": self.spec.total_runs(),
                           "run_id": run_id, "status": status, "objective": objective, "best": self._best()})

    def _best(self) -> float | None:
        return max((m for m in (p.mean() for p in self.points) if m is not None), default=None)

    def _abandon(self, status: str) -> None:
        """Runs left when the loop ends early: stop and record the running ones (a resume runs them again);
        drop the queued ones."""
        for run_id in list(self.running):
            self.executor.stop(run_id)
            self.store.finish(run_id, "interrupted", f"the sweep's driver ended ({status}) while this trial ran")
        self.running.clear()
        while self.pending:
            self.store.finish(self.pending.popleft()[2], "cancelled", DROPPED)

    # ---- resuming ------------------------------------------------------------
    def _restore(self) -> None:
        """Rebuild the sampler's history from the store; runs that did not end are queued again as new runs."""
        by_point: dict[int, list[dict]] = {}
        for t in self.sweeps.trials(self.sweep_id):
            by_point.setdefault(t["point"], []).append(t)
        for stored in self.sweeps.points(self.sweep_id):
            index = len(self.points)
            point = _Point(stored["params"])
            self.points.append(point)
            done = {t["seed_index"]: t for t in by_point.get(stored["point"], [])
                    if t["status"] in ("finished", "failed")}
            for seed in range(self.spec.seeds):
                if seed in done:
                    point.values[seed] = done[seed]["objective"] if done[seed]["status"] == "finished" else None
                else:
                    self._new_run(index, seed)
            self.study.add_trial(self._frozen(point, stored["sampler_attrs"]))

    def _frozen(self, point: _Point, attrs: dict):
        """The point as Optuna's trial: running while seeds are missing, else complete (or failed: none finished)."""
        mean = point.mean() if len(point.values) == self.spec.seeds else None
        if len(point.values) < self.spec.seeds:
            state = TrialState.RUNNING
        else:
            state = TrialState.COMPLETE if mean is not None else TrialState.FAIL
        return create_trial(state=state, value=mean, params=point.params, distributions=self.space,
                            system_attrs=attrs)


# ---- the public API -----------------------------------------------------------
def create_sweep(store: RunStore, spec: SweepSpec) -> str:
    """Register a sweep (status running until a driver ends it); returns its id."""
    return SweepStore(store).create(spec.to_dict())


def _default_executor(spec: SweepSpec) -> LocalExecutor:
    return LocalExecutor(min(os.cpu_count() or 1, spec.total_runs()))


def run_sweep(store: RunStore, spec: SweepSpec, executor: Executor | None = None,
              progress: Callable[[dict], None] | None = None) -> dict:
    """Create and drive a sweep to its end. Without ``executor``, local workers are started and closed here."""
    return _drive(store, create_sweep(store, spec), executor, progress)


def check_resumable(store: RunStore, sweep_id: str) -> SweepSpec:
    """The sweep's spec, or SweepError when it is running or already finished."""
    sweep = SweepStore(store).get(sweep_id)
    if sweep["status"] == "running":
        raise SweepError(f"sweep {sweep_id} is still running (process {sweep['pid']} on {sweep['host']})")
    if sweep["status"] == "finished":
        raise SweepError(f"sweep {sweep_id} is finished: nothing to resume")
    return SweepSpec.from_dict(sweep["spec"])


def resume_sweep(store: RunStore, sweep_id: str, executor: Executor | None = None,
                 progress: Callable[[dict], None] | None = None) -> dict:
    """Go on with an interrupted, cancelled or failed sweep: finished and failed trials are kept."""
    check_resumable(store, sweep_id)
    return _drive(store, sweep_id, executor, progress)


def _drive(store: RunStore, sweep_id: str, executor: Executor | None, progress) -> dict:
    owned = executor is None
    executor = executor or _default_executor(SweepSpec.from_dict(SweepStore(store).get(sweep_id)["spec"]))
    try:
        return SweepDriver(store, sweep_id, executor, progress).run()
    finally:
        if owned:
            executor.close()


def request_stop(store: RunStore, sweep_id: str) -> None:
    """Ask a sweep's driver, in whatever process, to stop."""
    SweepStore(store).request_stop(sweep_id)
