"""The Dask executor: trials on a running cluster, reached by its scheduler address.

The workers must be able to import this repository (run them from its root, or with it on PYTHONPATH).
A worker plugin warms every worker, present and future, before it takes a trial. Stopping uses a
distributed ``Event`` per trial, checked between epochs (``future.cancel()`` cannot stop a running task).
When a worker dies, Dask would run its task again elsewhere; the trial notices it was started before and
fails with the dead worker's address instead, so a lost trial is reported once, and the sweep goes on.
"""
from __future__ import annotations

import asyncio
import time

from distributed import Client, Event, Future, Variable, WorkerPlugin, get_worker, wait

from core.engine.stopping import throttled
from core.sweeps.executors.base import Executor, failed_result
from core.sweeps.trial import TrialResult, TrialTask, run_trial, warm_up

STOP_CHECK_EVERY_S = 0.5


def _names(run_id: str) -> tuple[str, str, str]:
    """Names of the trial's stop event, started event and worker variable on the scheduler."""
    return f"sdlab-stop-{run_id}", f"sdlab-started-{run_id}", f"sdlab-worker-{run_id}"


class TrialLost(RuntimeError):
    """Raised by a trial that Dask started a second time because its first worker died."""

    def __str__(self) -> str:
        return f"worker {self.args[0]} died while running this trial (not retried)"


class WarmUp(WorkerPlugin):
    """Imports and a tiny run on each worker as it joins, off the worker's event loop."""

    async def setup(self, worker) -> None:
        await asyncio.get_running_loop().run_in_executor(None, warm_up)


def dask_trial(task: TrialTask) -> TrialResult:
    """The task each trial runs on a worker."""
    stop_name, started_name, worker_name = _names(task.run_id)
    address = get_worker().address
    started, where = Event(started_name), Variable(worker_name)
    if started.is_set():
        raise TrialLost(where.get(timeout=10))
    where.set(address)
    started.set()
    return run_trial(task, throttled(Event(stop_name).is_set, STOP_CHECK_EVERY_S), address)


class DaskExecutor(Executor):
    """Trials as tasks on the cluster at ``address``; as many in flight as the cluster has threads."""

    name = "dask"

    def __init__(self, address: str, connect_timeout_s: float = 10.0):
        self.address, self.connect_timeout_s = address, connect_timeout_s
        self.client: Client | None = None
        self._futures: dict[str, Future] = {}
        self._threads = (0.0, 0)  # (checked at, total worker threads)

    def describe(self) -> str:
        return f"dask ({self.address})"

    def start(self) -> None:
        if self.client is not None:
            return
        try:
            self.client = Client(self.address, timeout=self.connect_timeout_s, set_as_default=False)
        except OSError as exc:  # includes timeouts
            raise ConnectionError(f"no Dask scheduler answers at {self.address}: {exc}") from None
        self.client.register_plugin(WarmUp(), name="sdlab-warm-up")

    def threads(self) -> int:
        """Worker threads in the cluster (asked at most once a second; workers may come and go)."""
        checked, count = self._threads
        if time.monotonic() - checked > 1.0:
            count = sum(self.client.nthreads().values())
            self._threads = (time.monotonic(), count)
        return count

    def free_slots(self) -> int:
        return max(0, self.threads() - len(self._futures))

    def submit(self, task: TrialTask) -> None:
        self._futures[task.run_id] = self.client.submit(dask_trial, task, key=f"sdlab-trial-{task.run_id}",
                                                        pure=False, retries=0)

    def stop(self, run_id: str) -> None:
        if run_id in self._futures:
            Event(_names(run_id)[0], client=self.client).set()

    def poll(self, timeout: float) -> list[TrialResult]:
        if not self._futures:
            time.sleep(timeout)
            return []
        try:
            with self.client.as_current():  # wait() takes no client; ours is not the process default
                done, _ = wait(list(self._futures.values()), timeout=timeout, return_when="FIRST_COMPLETED")
        except TimeoutError:
            return []
        by_future = {f.key: run_id for run_id, f in self._futures.items()}
        out = [self._result(by_future[future.key], future) for future in done]
        for result in out:
            self._forget(result.run_id)
        return out

    def _result(self, run_id: str, future: Future) -> TrialResult:
        if future.status == "finished":
            return future.result()
        if future.status == "error":
            exc = future.exception()
            worker = exc.args[0] if isinstance(exc, TrialLost) else str(getattr(exc, "last_worker", "") or "?")
            return failed_result(run_id, worker, str(exc) or type(exc).__name__)
        return failed_result(run_id, "?", f"the Dask task ended as {future.status}")

    def _forget(self, run_id: str) -> None:
        """Drop the trial's future and its names on the scheduler."""
        self._futures.pop(run_id, None)
        stop_name, started_name, worker_name = _names(run_id)
        Event(stop_name, client=self.client).clear()
        Event(started_name, client=self.client).clear()
        Variable(worker_name, client=self.client).delete()

    def close(self) -> None:
        if self.client is None:
            return
        for run_id in list(self._futures):
            self.stop(run_id)
        self.client.close()
        self.client = None
        self._futures = {}
