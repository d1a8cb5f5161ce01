"""Where sweep trials run, behind one small interface: local worker processes, or a Dask cluster by address.

    executor = make_executor("local", workers=2)
    executor.start()                      # workers warmed: imports, torch start-up, one tiny run
    executor.submit(TrialTask(run_id, config_dict))
    for message in executor.poll(0.5):    # Progress of running trials and TrialResults as they finish
        ...
    executor.stop(run_id)                 # the trial stops at its next epoch (cooperative)
    executor.close()

Only the driver calls these; the executor never touches the store. A worker that dies mid-trial yields a
failed TrialResult naming the worker, and (locally) a fresh worker takes its place.
"""
from __future__ import annotations

from dataclasses import dataclass

from core.sweeps.trial import Event, TrialResult, TrialTask

EXECUTORS = ("local", "dask")


@dataclass(frozen=True)
class Progress:
    """A report of a running trial, streamed before its result."""

    run_id: str
    event: Event


class Executor:
    """The interface the sweep driver uses."""

    name = ""

    def start(self) -> None:
        """Start and warm the workers; blocks until they can take trials. Calling it again does nothing."""
        raise NotImplementedError

    def free_slots(self) -> int:
        """How many more trials can start right now."""
        raise NotImplementedError

    def submit(self, task: TrialTask) -> None:
        raise NotImplementedError

    def poll(self, timeout: float) -> list[Progress | TrialResult]:
        """Messages that arrived within ``timeout`` seconds (an empty list when none did)."""
        raise NotImplementedError

    def stop(self, run_id: str) -> None:
        """Ask a submitted trial to stop at its next epoch."""
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


def failed_result(run_id: str, worker: str, reason: str) -> TrialResult:
    """The result of a trial whose worker was lost."""
    summary = {"status": "failed", "error": reason, "generations": [], "warnings": []}
    return TrialResult(run_id, summary, worker)
