"""Run a config into the store: the one path that the CLI, the job queue and sweeps all take."""
from __future__ import annotations

import threading
import time
import traceback
from typing import Callable

from core.config import RunConfig
from core.engine import generations
from core.engine.stopping import throttled
from core.engine.sinks import FanOut, Sink, StoreSink
from core.storage.run_store import RunStore


def store_cancel_check(store: RunStore, run_id: str, every_s: float = 0.5) -> Callable[[], bool]:
    """A stop check that reads the store's cancel flag at most every ``every_s`` seconds (any process may set it)."""
    return throttled(lambda: store.cancel_requested(run_id), every_s)


def execute(config: RunConfig, store: RunStore, run_id: str | None = None, sink: Sink | None = None,
            stop_event: threading.Event | None = None, label: str | None = None) -> dict:
    """Run ``config`` as ``run_id`` (created, with ``label``, if not given) and record the outcome.

    Never raises for a failed run: the error is in the summary and the store."""
    run_id = run_id or store.create_run(config.to_dict(), label=label)
    store.claim(run_id)
    store_stop = store_cancel_check(store, run_id)
    should_stop = (lambda: stop_event.is_set() or store_stop()) if stop_event is not None else store_stop
    try:
        summary = generations.run(config, FanOut(StoreSink(store, run_id, config.eval.save_weights), sink), should_stop)
    except Exception as exc:  # a bug or bad data must still leave the run readable, marked failed
        summary = store.summary(run_id)
        summary.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                       traceback=traceback.format_exc(limit=8))
    summary["run_id"] = run_id
    store.finish(run_id, summary["status"], summary.get("error"), summary)
    return summary
