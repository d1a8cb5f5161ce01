"""A warm worker process that trains the job queue's runs, so that training never shares a Python interpreter
(and its GIL) with the web server: a page redrawing every second cannot slow a run down, and a run cannot make
the pages wait.

    worker = WorkerProcess("sdlab-worker-0")
    worker.start()                                   # spawns, imports torch, takes a tiny run: warm
    reason = worker.run(store_root, run_id, config)  # blocks until the run ends; a reason if the process died

The process writes everything to the store itself (SQLite in WAL mode serves many processes); a cancel reaches
it through the store's cancel flag, which the run polls. If it dies mid-run, ``run`` says so and the next job
gets a fresh process.
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project folder, for ``python -m core.engine.worker``

UMAP_QUIET_S = 15.0  # with no run starting this long after the warm-up, UMAP's one-off compile goes ahead


class WorkerProcess:
    """One worker process, started on demand and replaced when it dies.

    It is a plain ``python -m core.engine.worker`` child talking over a socket pair, not a multiprocessing
    Process: spawning through multiprocessing re-imports the parent's main module in the child, which under a
    test harness that runs the app as ``__main__`` would run the whole app again there."""

    def __init__(self, name: str):
        self.name = name
        self._process: subprocess.Popen | None = None
        self._conn: Connection | None = None
        self._lock = threading.Lock()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def start(self) -> None:
        """Start the process if none is alive (it warms itself up in the background)."""
        with self._lock:
            if self._process is not None and self._process.poll() is None:
                return
            ours, theirs = socket.socketpair()
            path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
            env = {**os.environ, "PYTHONPATH": path}
            self._process = subprocess.Popen([sys.executable, "-m", "core.engine.worker", str(theirs.fileno())],
                                             pass_fds=[theirs.fileno()], env=env, cwd=ROOT)
            theirs.close()
            self._conn = Connection(ours.detach())

    def run(self, store_root: str, run_id: str | list[str], config: dict | list[dict]) -> str | None:
        """Run one job to its end (one run, or a seed group: lists of run ids and configs); None when it ended
        normally (the store has its outcome), else why not."""
        self.start()
        try:
            self._conn.send((store_root, run_id, config))
        except OSError:  # the process died while idle: a fresh one takes the job
            self._process = None
            self.start()
            self._conn.send((store_root, run_id, config))
        while True:
            try:
                message = self._conn.recv()  # EOF when the process dies: its end of the socket closes
            except (EOFError, OSError):
                code = self._process.wait()
                self._process = None
                return f"the worker process running it died (exit code {code})"
            if message[0] == "done":
                return None  # else "ready": the warm-up finished

    def close(self) -> None:
        with self._lock:
            if self._process is None:
                return
            try:
                self._conn.send(None)
                self._process.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                self._process.kill()
                self._process.wait()
            self._process = None


def _exit_with_parent(parent: int) -> None:
    """End this process when the one that started it is gone, even in the middle of a run."""
    while os.getppid() == parent:
        time.sleep(1.0)
    os._exit(0)


def _compile_umap_when_quiet(go_ahead: threading.Event) -> None:
    """UMAP's first call compiles for seconds while holding the GIL: wait until a run has its first epoch on
    screen (or nothing started for UMAP_QUIET_S), then compile, well before the run's first 2-D view is due."""
    go_ahead.wait(UMAP_QUIET_S)
    from core.evaluation import embed

    embed.warm_up()


def _main(conn: Connection) -> None:
    """The worker: warm up, then run each job it is sent until told to stop (None) or the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C stops the server, which ends this process
    threading.Thread(target=_exit_with_parent, args=(os.getppid(),), daemon=True).start()
    from core.config import RunConfig
    from core.engine.runner import execute, warm_up
    from core.engine.sinks import Sink
    from core.storage.run_store import RunStore

    class FirstEpoch(Sink):
        """Sets ``first_epoch`` at a run's first epoch: the cue for UMAP's compile to go ahead."""

        def on_epoch(self, *_) -> None:
            first_epoch.set()

    warm_up()
    try:
        conn.send(("ready", os.getpid()))
    except OSError:
        return
    first_epoch = threading.Event()
    threading.Thread(target=_compile_umap_when_quiet, args=(first_epoch,), daemon=True).start()
    stores: dict[str, RunStore] = {}
    while True:
        try:
            job = conn.recv()
        except (EOFError, OSError):  # the queue's side closed: nothing more to do
            break
        if job is None:
            break
        root, run_id, config = job
        store = stores.setdefault(root, RunStore(root))
        started = time.monotonic()
        if isinstance(run_id, list):  # a seed group: trained together (core.engine.seed_group)
            from core.engine.seed_group import execute_runs

            execute_runs([RunConfig.from_dict(c) for c in config], run_id, store, lambda c: FirstEpoch())
        else:
            execute(RunConfig.from_dict(config), store, run_id, sink=FirstEpoch())
        try:
            conn.send(("done", run_id, round(time.monotonic() - started, 3)))
        except OSError:
            break


if __name__ == "__main__":  # started by WorkerProcess.start with the file descriptor of its socket
    _main(Connection(int(sys.argv[1])))
