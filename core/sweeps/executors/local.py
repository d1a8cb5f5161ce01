"""Local worker processes: warm once (imports, torch start-up, a tiny run), then run trials sent over a pipe.
A worker that dies mid-trial yields a failed result naming it, and a fresh worker takes its place."""
from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait

from core.sweeps.executors.base import Executor, Progress, failed_result
from core.sweeps.trial import TrialResult, TrialTask


def _worker_main(conn: Connection, stop) -> None:
    """A local worker process: warm up, say ready, then run the trials it is sent until told to quit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the driver, which stops trials in order
    from core.sweeps.trial import process_name, run_trial, warm_up

    warm_up()
    name = process_name()
    conn.send(("ready", name))
    while True:
        try:
            task = conn.recv()
        except EOFError:
            break
        if task is None:
            break
        batch = _EventBatch(lambda events, run_id=task.run_id: conn.send(("events", run_id, events)))
        result = run_trial(task, stop.is_set, name, forward=batch.add)
        batch.flush()
        conn.send(("done", result))
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # nothing left to save; skips seconds of interpreter teardown (torch, scikit-learn)


class _EventBatch:
    """A worker's reports, sent to the driver in batches: epoch reports at most every ``every_s`` seconds,
    anything else (a generation's end, with its arrays) at once. Each message wakes the driver, which shares the
    cores with the workers: with one message per epoch, a 2-worker sweep of 1 s trials ran 10-20% slower than the
    same trials in a bare process pool; batched, the driver's CPU time fell from ~0.5 s to ~0.3 s per 8 trials
    and the sweep kept level with the pool (bench/sweep_speed.py)."""

    def __init__(self, send, every_s: float = 0.25):
        self.send, self.every_s = send, every_s
        self.pending: list[Event] = []
        self.last = time.monotonic()

    def add(self, event: Event) -> None:
        self.pending.append(event)
        if event[0] != "on_epoch" or time.monotonic() - self.last >= self.every_s:
            self.flush()

    def flush(self) -> None:
        if self.pending:
            self.send(self.pending)
            self.pending = []
        self.last = time.monotonic()


@dataclass
class _Slot:
    process: mp.Process
    conn: Connection
    stop: object  # a multiprocessing Event, set to stop the trial running in this slot
    name: str = ""
    ready: bool = False
    run_id: str | None = None


class LocalExecutor(Executor):
    """Worker processes on this machine (spawned, so safe to start from any thread), one trial each at a time."""

    name = "local"

    def __init__(self, workers: int | None = None, warm_timeout_s: float = 300.0):
        self.workers = workers if workers is not None else (os.cpu_count() or 1)
        if self.workers < 1:
            raise ValueError(f"workers={self.workers}: must be at least 1")
        self.warm_timeout_s = warm_timeout_s
        self._ctx = mp.get_context("spawn")
        self._slots: list[_Slot] = []

    def describe(self) -> str:
        return f"local ({self.workers} worker process{'es' if self.workers > 1 else ''})"

    def _spawn(self) -> _Slot:
        parent, child = self._ctx.Pipe(duplex=True)
        stop = self._ctx.Event()
        process = self._ctx.Process(target=_worker_main, args=(child, stop), daemon=True, name="sdlab-sweep-worker")
        process.start()
        child.close()
        return _Slot(process, parent, stop)

    def start(self) -> None:
        if self._slots:
            return
        self._slots = [self._spawn() for _ in range(self.workers)]
        deadline = time.monotonic() + self.warm_timeout_s
        try:
            while not all(s.ready for s in self._slots):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"local workers not ready after {self.warm_timeout_s:.0f} s")
                self.poll(0.5)
        except BaseException:
            self.close()
            raise

    def worker_pids(self) -> list[int]:
        """Process ids of the current workers (a dead one's replacement included)."""
        return [s.process.pid for s in self._slots]

    def worker_pid(self, run_id: str) -> int | None:
        """The process id of the worker running ``run_id`` (None when no worker runs it)."""
        return next((s.process.pid for s in self._slots if s.run_id == run_id), None)

    def free_slots(self) -> int:
        return sum(s.ready and s.run_id is None for s in self._slots)

    def submit(self, task: TrialTask) -> None:
        slot = next((s for s in self._slots if s.ready and s.run_id is None), None)
        if slot is None:
            raise RuntimeError("no free worker: wait for free_slots() > 0 before submitting")
        slot.stop.clear()
        slot.run_id = task.run_id
        slot.conn.send(task)

    def stop(self, run_id: str) -> None:
        for slot in self._slots:
            if slot.run_id == run_id:
                slot.stop.set()

    def poll(self, timeout: float) -> list[Progress | TrialResult]:
        if not self._slots:
            raise RuntimeError("the local executor is not started")
        wait([s.conn for s in self._slots] + [s.process.sentinel for s in self._slots], timeout)
        out: list[Progress | TrialResult] = []
        for slot in list(self._slots):
            out += self._drain(slot)
            if not slot.process.is_alive():
                out += self._replace(slot)
        return out

    def _drain(self, slot: _Slot) -> list[Progress | TrialResult]:
        out: list[Progress | TrialResult] = []
        while True:
            try:
                if not slot.conn.poll():
                    return out
                message = slot.conn.recv()
            except (EOFError, OSError):
                return out
            if message[0] == "ready":
                slot.name, slot.ready = message[1], True
            elif message[0] == "events":
                out += [Progress(message[1], event) for event in message[2]]
            else:
                slot.run_id = None
                out.append(message[1])

    def _replace(self, slot: _Slot) -> list[TrialResult]:
        """A dead worker: fail its trial, start a fresh worker in its place (unless it died while warming up)."""
        slot.process.join(timeout=1)
        slot.conn.close()
        index = self._slots.index(slot)
        name = slot.name or f"pid {slot.process.pid}"
        if not slot.ready:
            self._slots.pop(index)
            if not self._slots:
                raise RuntimeError(f"local worker {name} exited with code {slot.process.exitcode} while warming up")
            return []
        self._slots[index] = self._spawn()
        if slot.run_id is None:
            return []
        reason = f"worker {name} died (exit code {slot.process.exitcode}) while running this trial"
        return [failed_result(slot.run_id, name, reason)]

    def close(self) -> None:
        """Stop running trials, let the workers exit (terminated after a few seconds if they do not)."""
        for slot in self._slots:
            slot.stop.set()
            try:
                slot.conn.send(None)
            except OSError:
                pass
        for slot in self._slots:
            slot.process.join(timeout=5)
            if slot.process.is_alive():
                slot.process.terminate()
                slot.process.join(timeout=5)
            slot.conn.close()
        self._slots = []
