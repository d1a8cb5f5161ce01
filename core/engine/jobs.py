"""A job queue inside the calling process: submit / cancel / status, with a concurrency cap.

Workers are threads, so a run starts at once with imports and compiled code already warm. They never touch
a UI: everything they produce goes to the store, which the pages poll.
"""
from __future__ import annotations

import os
import queue
import threading

from core.config import RunConfig
from core.engine import generations
from core.engine.runner import execute
from core.storage.run_store import RunStore

DEFAULT_CAP = int(os.environ.get("SDLAB_MAX_JOBS", "1"))  # one run at a time fills 2 cores
MAX_WAITING = 20  # runs queued behind the running ones; a page cannot pile up thousands


class QueueFull(RuntimeError):
    """The queue already holds MAX_WAITING runs waiting to start."""


class JobQueue:
    """Runs submitted configs in at most ``cap`` worker threads, oldest first."""

    def __init__(self, store: RunStore, cap: int = DEFAULT_CAP):
        if cap < 1:
            raise ValueError(f"job cap {cap}: must be at least 1")
        self.store = store
        self._pending: queue.Queue[tuple[str, RunConfig]] = queue.Queue()
        self._stops: dict[str, threading.Event] = {}
        self._lock = threading.Lock()
        self._workers = [threading.Thread(target=self._work, name=f"sdlab-job-{i}", daemon=True)
                         for i in range(cap)]
        for worker in self._workers:
            worker.start()

    def submit(self, config: RunConfig, *, label: str | None = None, sweep_id: str | None = None) -> str:
        """Queue a run; returns its id at once (the run is in the store as ``queued``). QueueFull when
        ``MAX_WAITING`` runs already wait: nothing is stored then."""
        if self._pending.qsize() >= MAX_WAITING:
            raise QueueFull(f"{MAX_WAITING} runs are already waiting to start; wait for them or cancel some "
                            f"on the Runs page")
        run_id = self.store.create_run(config.to_dict(), label=label, sweep_id=sweep_id)
        with self._lock:
            self._stops[run_id] = threading.Event()
        self._pending.put((run_id, config))
        return run_id

    def cancel(self, run_id: str) -> None:
        """Stop a run: a queued one never starts, a running one stops at its next step."""
        with self._lock:
            stop = self._stops.get(run_id)
        if stop is not None:
            stop.set()
        self.store.request_cancel(run_id)

    def status(self, run_id: str) -> str:
        return self.store.get_run(run_id)["status"]

    def active(self) -> list[str]:
        """Ids of runs queued or running in this queue."""
        with self._lock:
            return list(self._stops)

    def _work(self) -> None:
        while True:
            run_id, config = self._pending.get()
            with self._lock:
                stop = self._stops[run_id]
            try:
                if not stop.is_set() and self.store.get_run(run_id)["status"] == "queued":
                    execute(config, self.store, run_id, stop_event=stop)
            finally:
                with self._lock:
                    self._stops.pop(run_id, None)
                self._pending.task_done()

    @staticmethod
    def warm_up() -> None:
        """One tiny run through the generation loop, with no store: the first real run then finds every code
        path imported and warm."""
        from core.presets import get_preset

        generations.run(get_preset("dry-run").config().override({
            "method.generations": 1, "train.epochs": 1, "eval.embedding": "none", "eval.save_weights": False}))

    def join(self) -> None:
        """Wait until every submitted run has ended (for tests and scripts)."""
        self._pending.join()
