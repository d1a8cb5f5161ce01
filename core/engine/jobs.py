"""The job queue: submit / cancel / status, with a concurrency cap.

Each slot of the cap is a dispatcher thread here and a warm worker process (core.engine.worker) that trains:
the process is spawned and warmed when the queue starts, so a run starts at once, and it never shares the
caller's interpreter, so a web server polling the store stays quick and cannot slow training down. Everything
a run produces goes to the store, which the pages read. ``processes=False`` runs jobs in the dispatcher
threads instead (for scripts that want no extra process).
"""
from __future__ import annotations

import os
import queue
import threading
import weakref

from typing import TYPE_CHECKING

from core.config import RunConfig
from core.engine.budget import BUDGET_ENV, run_budget
from core.engine.worker import WorkerProcess
from core.storage.run_store import ACTIVE, RunStore

if TYPE_CHECKING:
    from core.engine.estimate import Estimate

DEFAULT_CAP = int(os.environ.get("SDLAB_MAX_JOBS", "1"))  # one run at a time fills 2 cores
MAX_WAITING = 20  # runs queued behind the running ones; a page cannot pile up thousands
_OPEN: "weakref.WeakSet[JobQueue]" = weakref.WeakSet()  # for close_all: a harness making many queues


def close_all() -> None:
    """Stop the worker processes of every queue made in this process (tests make one per app session; each idle
    worker holds a few hundred MB of torch)."""
    for job_queue in list(_OPEN):
        job_queue.close()


class QueueFull(RuntimeError):
    """The queue already holds MAX_WAITING runs waiting to start."""


class OverBudget(RuntimeError):
    """The run's estimated time is over this server's budget (``SDLAB_MAX_RUN_SECONDS``)."""


class JobQueue:
    """Runs submitted configs in at most ``cap`` worker processes, oldest first."""

    def __init__(self, store: RunStore, cap: int = DEFAULT_CAP, processes: bool = True):
        if cap < 1:
            raise ValueError(f"job cap {cap}: must be at least 1")
        self.store = store
        self._processes = [WorkerProcess(f"sdlab-worker-{i}") for i in range(cap)] if processes else None
        _OPEN.add(self)
        self._pending: queue.Queue[tuple[list[str], list[RunConfig]]] = queue.Queue()  # one run, or a group's
        self._stops: dict[str, threading.Event] = {}  # a group's runs share one event
        self._groups: dict[str, list[str]] = {}  # run id -> every run id of its seed group
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._work, args=(i,), name=f"sdlab-job-{i}", daemon=True)
                         for i in range(cap)]
        for worker in self._workers:
            worker.start()

    def submit(self, config: RunConfig, *, label: str | None = None, sweep_id: str | None = None) -> str:
        """Queue a run; returns its id at once (the run is in the store as ``queued``). QueueFull when
        ``MAX_WAITING`` runs already wait: nothing is stored then."""
        self._check_room(config)
        run_id = self.store.create_run(config.to_dict(), label=label, sweep_id=sweep_id)
        with self._lock:
            self._stops[run_id] = threading.Event()
        self._pending.put(([run_id], [config]))
        return run_id

    def submit_group(self, configs: list[RunConfig], *, label: str | None = None) -> tuple[str, list[str]]:
        """Queue the seeds of one seed group (issue 14) as ONE job: each stored at once as its own ``queued`` run
        tagged with one group id, all trained together by one worker (batched where the stacked step exists,
        core.engine.seed_group). The cap and the waiting limit count it as one job; cancelling any of its runs
        cancels the group. Returns (group id, run ids in seed order)."""
        from core.engine.seed_group import new_group_id

        self._check_room(configs[0])  # each seed takes about one run's time (the budget applies per group)
        group_id = new_group_id()
        run_ids = [self.store.create_run(c.to_dict(), label=label) for c in configs]
        stop = threading.Event()
        with self._lock:
            for run_id in run_ids:
                self.store.set_group(run_id, group_id)
                self._stops[run_id], self._groups[run_id] = stop, run_ids
        self._pending.put((run_ids, list(configs)))
        return group_id, run_ids

    def _check_room(self, config: RunConfig) -> None:
        """QueueFull or OverBudget before anything is stored."""
        if self._pending.qsize() >= MAX_WAITING:
            raise QueueFull(f"{MAX_WAITING} runs are already waiting to start; wait for them or cancel some "
                            f"on the Runs page")
        budget = run_budget()
        if budget is not None:
            expected = self.estimate(config)
            if expected.total_seconds > budget:
                raise OverBudget(f"this run would take {expected.describe()}, over this server's budget of "
                                 f"{budget:g} s ({BUDGET_ENV}); lower train.epochs or method.generations")

    def cancel(self, run_id: str) -> None:
        """Stop a run: a queued one never starts, a running one stops at its next step. A run of a seed group
        this queue runs stops with its whole group (every seed ends ``cancelled``)."""
        with self._lock:
            stop = self._stops.get(run_id)
            members = self._groups.get(run_id, [run_id])
        if stop is not None:
            stop.set()
        for member in members:
            self.store.request_cancel(member)

    def status(self, run_id: str) -> str:
        return self.store.get_run(run_id)["status"]

    def active(self) -> list[str]:
        """Ids of runs queued or running in this queue."""
        with self._lock:
            return list(self._stops)

    def start(self) -> None:
        """Spawn and warm the worker processes now (they otherwise start with the first run)."""
        for process in self._processes or ():
            process.start()

    def close(self) -> None:
        """Stop the worker processes (the queue's threads end with the calling process)."""
        for process in self._processes or ():
            process.close()

    def _work(self, slot: int) -> None:
        while True:
            run_ids, configs = self._pending.get()  # one run, or the runs of one seed group
            with self._lock:
                stop = self._stops[run_ids[0]]
            try:
                if not stop.is_set() and all(self.store.get_run(r)["status"] == "queued" for r in run_ids):
                    self._execute(slot, run_ids, configs, stop)
                elif len(run_ids) > 1:  # one seed cancelled while queued (from another handle): the whole group
                    for run_id in run_ids:
                        self.store.request_cancel(run_id)
            except Exception as exc:  # never lose the dispatcher: the runs are marked failed with the reason
                self._fail(run_ids, f"{type(exc).__name__}: {exc}")
            finally:
                with self._lock:
                    for run_id in run_ids:
                        self._stops.pop(run_id, None)
                        self._groups.pop(run_id, None)
                self._pending.task_done()

    def _execute(self, slot: int, run_ids: list[str], configs: list[RunConfig], stop: threading.Event) -> None:
        group = len(run_ids) > 1
        if self._processes is None:
            from core.engine.runner import execute
            from core.engine.seed_group import execute_runs

            if group:
                execute_runs(configs, run_ids, self.store, stop_event=stop)
            else:
                execute(configs[0], self.store, run_ids[0], stop_event=stop)
            return
        job = (run_ids, [c.to_dict() for c in configs]) if group else (run_ids[0], configs[0].to_dict())
        died = self._processes[slot].run(str(self.store.root), *job)
        if died is not None:
            self._fail(run_ids, died)

    def _fail(self, run_ids: list[str], reason: str) -> None:
        """Mark failed, with ``reason``, each of the runs that has not ended (a group's finished seeds stay)."""
        for run_id in run_ids:
            if len(run_ids) == 1 or self.store.get_run(run_id)["status"] in ACTIVE:
                self.store.finish(run_id, "failed", reason)

    @staticmethod
    def estimate(config: RunConfig) -> Estimate:
        """How long ``config`` would take here (a few timed steps of its model; see core.engine.estimate)."""
        from core.engine.estimate import estimate

        return estimate(config)

    def join(self) -> None:
        """Wait until every submitted run has ended (for tests and scripts)."""
        self._pending.join()
