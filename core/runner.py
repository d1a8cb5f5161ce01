"""Run a config into the store: the one path that the CLI, the job queue and sweeps all take."""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable

import numpy as np

from core import trainer
from core.config import RunConfig
from core.store import RunStore


class StoreSink(trainer.Sink):
    """Writes every report of the trainer into the store as it happens."""

    def __init__(self, store: RunStore, run_id: str, save_weights: bool = True):
        self.store, self.run_id, self.save_weights = store, run_id, save_weights

    def on_start(self, info: dict, arrays: dict[str, np.ndarray]) -> None:
        self.store.set_info(self.run_id, info)
        self.store.save_arrays(self.run_id, "run", arrays)

    def on_baselines(self, baselines: dict[str, float]) -> None:
        self.store.set_baselines(self.run_id, baselines)

    def on_epoch(self, generation: int, epoch: int, metrics: dict[str, float]) -> None:
        self.store.add_epoch(self.run_id, generation, epoch, metrics)

    def on_generation(self, generation: int, metrics: dict, arrays: dict, state_dict: dict) -> None:
        self.store.save_arrays(self.run_id, f"gen{generation}", arrays)
        if self.save_weights:
            self.store.save_weights(self.run_id, generation, state_dict)
        self.store.add_generation(self.run_id, generation, metrics)


class FanOut(trainer.Sink):
    """Forwards each report to several sinks in order."""

    def __init__(self, *sinks: trainer.Sink):
        self.sinks = [s for s in sinks if s is not None]

    def on_start(self, *a) -> None:
        for s in self.sinks:
            s.on_start(*a)

    def on_baselines(self, *a) -> None:
        for s in self.sinks:
            s.on_baselines(*a)

    def on_epoch(self, *a) -> None:
        for s in self.sinks:
            s.on_epoch(*a)

    def on_generation(self, *a) -> None:
        for s in self.sinks:
            s.on_generation(*a)


def store_cancel_check(store: RunStore, run_id: str, every_s: float = 0.5) -> Callable[[], bool]:
    """A stop check that reads the store's cancel flag at most every ``every_s`` seconds (any process may set it)."""
    state = {"next": 0.0, "stop": False}

    def check() -> bool:
        now = time.monotonic()
        if not state["stop"] and now >= state["next"]:
            state["stop"] = store.cancel_requested(run_id)
            state["next"] = now + every_s
        return state["stop"]

    return check


def execute(config: RunConfig, store: RunStore, run_id: str | None = None, sink: trainer.Sink | None = None,
            stop_event: threading.Event | None = None, label: str | None = None) -> dict:
    """Run ``config`` as ``run_id`` (created, with ``label``, if not given) and record the outcome.

    Never raises for a failed run: the error is in the summary and the store."""
    run_id = run_id or store.create_run(config.to_dict(), label=label)
    store.claim(run_id)
    store_stop = store_cancel_check(store, run_id)
    should_stop = (lambda: stop_event.is_set() or store_stop()) if stop_event is not None else store_stop
    try:
        summary = trainer.run(config, FanOut(StoreSink(store, run_id, config.eval.save_weights), sink), should_stop)
    except Exception as exc:  # a bug or bad data must still leave the run readable, marked failed
        summary = store.summary(run_id)
        summary.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc(limit=8))
    summary["run_id"] = run_id
    store.finish(run_id, summary["status"], summary.get("error"), summary)
    return summary
