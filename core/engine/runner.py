"""Run a config into the store: the one path that the CLI, the job queue and sweeps all take."""
from __future__ import annotations

import sys
import threading
import time
import traceback
from typing import Callable

from core import catalog
from core.config import RunConfig
from core.engine import generations
from core.engine.budget import BUDGET_ENV, run_budget
from core.engine.stopping import throttled
from core.engine.sinks import FanOut, Sink, StoreSink
from core.evaluation.selection import best_generation, selection_metric
from core.storage.run_store import DiskFull, RunStore


def warm_up() -> None:
    """One tiny run through the generation loop, with no store: the first real run then finds every code path
    imported and warm (torch's first optimizer alone imports for seconds)."""
    from core.presets import get_preset

    generations.run(get_preset("dry-run").config().override({
        "method.generations": 1, "train.epochs": 1, "eval.embedding": "none", "eval.save_weights": False}))


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
    budget, started = run_budget(), time.monotonic()
    over_budget = (lambda: time.monotonic() - started > budget) if budget is not None else (lambda: False)
    asked = (lambda: stop_event.is_set() or store_stop()) if stop_event is not None else store_stop
    should_stop = lambda: asked() or over_budget()  # noqa: E731
    try:
        summary = generations.run(config, FanOut(StoreSink(store, run_id, config.eval.save_weights), sink), should_stop)
    except Exception as exc:  # a bug or bad data must still leave the run readable, marked failed
        summary = store.summary(run_id)
        if isinstance(exc, DiskFull):  # expected on a full disk: its reason, no traceback
            summary.update(status="failed", error=f"{exc.strerror}; free some space and run it again")
        else:
            summary.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                           traceback=traceback.format_exc(limit=8))
        metric = selection_metric(catalog.method(config.method.name).supervised)
        summary["best_generation"] = best_generation(summary["generations"], metric)
    if summary["status"] == "cancelled" and over_budget():
        summary["error"] = (f"stopped after {budget:g} s: over this server's budget ({BUDGET_ENV}); the generations "
                            f"it finished are kept")
    summary["run_id"] = run_id
    _record_end(store, run_id, summary)
    return summary


def _record_end(store: RunStore, run_id: str, summary: dict) -> None:
    """Write the run's end; on a full disk, at least its status and reason (a few bytes), else say so on stderr
    (the run then reads back as interrupted once this process ends: never as running)."""
    try:
        store.finish(run_id, summary["status"], summary.get("error"), summary)
        return
    except DiskFull:
        store.release_reserve()  # the store's ballast: room for the end of a run
    try:
        store.finish(run_id, summary["status"], summary.get("error"), summary)
    except DiskFull:
        try:
            store.finish(run_id, "failed", summary.get("error") or "disk full: the run's end could not be written")
        except DiskFull:
            print(f"run {run_id}: the disk is full; its end could not be recorded", file=sys.stderr)
    store.keep_reserve()
