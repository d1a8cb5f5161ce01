"""The app's sweep runner: one sweep at a time in a background thread, on executors kept warm between sweeps.

    service = SweepService(store)            # kept by the page in st.cache_resource
    sweep_id = service.launch(spec)          # returns at once; the page polls the store
    service.stop(); service.close()

It never calls streamlit. The Dask address comes from ``$SDLAB_DASK_ADDRESS`` only.
"""
from __future__ import annotations

import os
import threading

from core.sweeps.executors.base import Executor
from core.sweeps.executors.factory import make_executor
from core.storage.run_store import RunStore
from core.sweeps.spec import SweepSpec
from core.sweeps.store import SweepError
from core.sweeps.driver import DASK_ADDRESS_ENV, SweepDriver, check_resumable, create_sweep


class SweepService:
    """For the app: one sweep at a time in a background thread, on executors kept warm between sweeps."""

    def __init__(self, store: RunStore, workers: int | None = None):
        self.store, self.workers = store, workers
        self.sweep_id: str | None = None
        self.error: str | None = None
        self._executors: dict[str, Executor] = {}
        self._driver: SweepDriver | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @staticmethod
    def dask_address() -> str | None:
        return os.environ.get(DASK_ADDRESS_ENV) or None

    def busy(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def launch(self, spec: SweepSpec, executor: str = "local") -> str:
        """Start a new sweep in the background; returns its id at once."""
        with self._lock:
            self._check_idle()
            sweep_id = create_sweep(self.store, spec)
            self._start(sweep_id, executor)
        return sweep_id

    def resume(self, sweep_id: str, executor: str = "local") -> None:
        with self._lock:
            self._check_idle()
            check_resumable(self.store, sweep_id)
            self._start(sweep_id, executor)

    def set_workers(self, workers: int | None) -> None:
        """Use ``workers`` local processes from the next sweep on; the warm ones go when the count changes."""
        with self._lock:
            self._check_idle()
            if workers != self.workers:
                old = self._executors.pop("local", None)
                if old is not None:
                    old.close()
                self.workers = workers

    def stop(self) -> None:
        if self._driver is not None:
            self._driver.stop()

    def close(self) -> None:
        """Stop the sweep, wait for its thread, and shut the workers down."""
        self.stop()
        if self._thread is not None:
            self._thread.join(timeout=60)
        for executor in self._executors.values():
            executor.close()
        self._executors.clear()

    def _check_idle(self) -> None:
        if self.busy():
            raise SweepError(f"sweep {self.sweep_id} is still running: stop it or wait for it to finish")

    def _executor(self, kind: str) -> Executor:
        if kind not in self._executors:
            if kind == "dask":
                self._executors[kind] = make_executor("dask", address=self.dask_address())
            else:
                self._executors[kind] = make_executor(kind, workers=self.workers)
        return self._executors[kind]

    def _start(self, sweep_id: str, kind: str) -> None:
        executor = self._executor(kind)
        self._driver = SweepDriver(self.store, sweep_id, executor)
        self._driver.sweeps.claim(sweep_id, executor.describe())  # reads as running before the thread starts
        self.sweep_id, self.error = sweep_id, None
        self._thread = threading.Thread(target=self._run, args=(self._driver,), name="sdlab-sweep", daemon=True)
        self._thread.start()

    def _run(self, driver: SweepDriver) -> None:
        try:
            driver.run()
        except Exception as exc:  # the store write of the ending failed too; keep it for the page
            self.error = f"{type(exc).__name__}: {exc}"
