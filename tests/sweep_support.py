"""Shared by the sweep tests: an in-thread executor (the real trainer, no worker processes) and a poll helper."""
from __future__ import annotations

import threading
import time
from typing import Callable

from core.sweeps.executors.base import Executor
from core.sweeps.driver import SweepDriver, create_sweep
from core.sweeps.trial import TrialResult, TrialTask, run_trial

QUICK = {"method.generations": 1, "train.epochs": 1}  # fixed overrides for trials that only need to exist


class InlineExecutor(Executor):
    """Runs each trial in the driver's thread when submitted, one at a time: a double of the executor boundary
    for tests about the driver, the store and the page, where worker processes only add start-up time."""

    name = "inline"

    def __init__(self) -> None:
        self.done: list[TrialResult] = []
        self.submitted: list[str] = []

    def start(self) -> None:
        pass

    def free_slots(self) -> int:
        return 0 if self.done else 1

    def submit(self, task: TrialTask) -> None:
        self.submitted.append(task.run_id)
        self.done.append(run_trial(task, lambda: False, "inline"))

    def poll(self, timeout: float) -> list[TrialResult]:
        out, self.done = self.done, []
        return out

    def stop(self, run_id: str) -> None:
        pass

    def close(self) -> None:
        pass


def wait_for(predicate: Callable[[], object], timeout: float = 120.0, every: float = 0.1) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(every)
    return False


def start_in_thread(store, spec, executor) -> tuple[str, threading.Thread, dict]:
    """Create a sweep and drive it in a daemon thread; ``out`` receives the driver's report when it ends."""
    sweep_id = create_sweep(store, spec)
    out: dict = {}
    thread = threading.Thread(target=lambda: out.update(SweepDriver(store, sweep_id, executor).run()), daemon=True)
    thread.start()
    return sweep_id, thread, out
