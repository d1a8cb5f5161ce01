"""The worker side of a sweep: run one trial and hand back everything the trainer reported.

Trials never touch the store. A ``RecordingSink`` keeps (or forwards) each report as a plain tuple of picklable
values; the driver replays them into a ``StoreSink``. Weights travel as numpy arrays and only when asked for.
"""
from __future__ import annotations

import os
import socket
import time
import traceback
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch
from threadpoolctl import threadpool_limits

from core.engine import generations as trainer
from core.config import RunConfig
from core.presets import get_preset
from core.engine.sinks import Sink

Event = tuple  # (hook name, *arguments), e.g. ("on_epoch", 0, 3, {"loss": 0.4})


@dataclass(frozen=True)
class TrialTask:
    """One run to do: its id in the driver's store and its config as a plain dict."""

    run_id: str
    config: dict


@dataclass
class TrialResult:
    """What a worker sends back: the trainer's summary, the reports not yet forwarded, and who ran it."""

    run_id: str
    summary: dict
    worker: str
    events: list[Event] = field(default_factory=list)
    seconds: float = 0.0  # time inside the worker, start to end of the trial


def process_name() -> str:
    """``host:pid`` of this process."""
    return f"{socket.gethostname()}:{os.getpid()}"


def limit_threads() -> None:
    """One compute thread per worker process: several trials side by side share a few cores. The variable
    caps the trainer's own per-model choice of threads (core.engine.context.choose_threads) in this process."""
    os.environ["SDLAB_MAX_THREADS"] = "1"
    torch.set_num_threads(1)
    threadpool_limits(limits=1)


def warm_up() -> None:
    """Pay the imports and first-call costs (torch, scikit-learn, the trainer) before the first trial."""
    limit_threads()
    tiny = get_preset("dry-run").config({"method.generations": 1, "train.epochs": 1, "eval.linear_probe": True})
    trainer.run(tiny)


class RecordingSink(Sink):
    """Turns every trainer report into an Event and hands it to ``forward``; weights only if ``keep_weights``."""

    def __init__(self, forward: Callable[[Event], None], keep_weights: bool):
        self.forward, self.keep_weights = forward, keep_weights

    def on_start(self, info: dict, arrays: dict) -> None:
        self.forward(("on_start", info, arrays))

    def on_baselines(self, baselines: dict) -> None:
        self.forward(("on_baselines", baselines))

    def on_epoch(self, generation: int, epoch: int, metrics: dict) -> None:
        self.forward(("on_epoch", generation, epoch, metrics))

    def on_generation(self, generation: int, metrics: dict, arrays: dict, state_dict: dict) -> None:
        weights = {k: v.numpy() for k, v in state_dict.items()} if self.keep_weights else {}
        self.forward(("on_generation", generation, metrics, arrays, weights))

    def on_label_efficiency(self, results: dict) -> None:
        self.forward(("on_label_efficiency", results))


def run_trial(task: TrialTask, should_stop: Callable[[], bool], worker: str,
              forward: Callable[[Event], None] | None = None) -> TrialResult:
    """Run ``task``; reports go to ``forward`` as they happen, or into the result's events. Never raises."""
    started = time.perf_counter()
    events: list[Event] = []
    if should_stop():
        return TrialResult(task.run_id, _ended(task, "cancelled", "cancelled before it started"), worker)
    try:
        config = RunConfig.from_dict(task.config)
        limit_threads()
        summary = trainer.run(config, RecordingSink(forward or events.append, config.eval.save_weights), should_stop)
    except Exception as exc:  # a bug or bad data fails this trial only; the sweep goes on
        summary = {**_ended(task, "failed", f"{type(exc).__name__}: {exc}"),
                   "traceback": traceback.format_exc(limit=8)}
    return TrialResult(task.run_id, summary, worker, events, time.perf_counter() - started)


def _ended(task: TrialTask, status: str, error: str) -> dict:
    """The summary of a trial that ended without the trainer's own."""
    return {"status": status, "error": error, "generations": [], "config": task.config, "warnings": []}


def replay(events: list[Event], sink) -> None:
    """Feed recorded events into ``sink`` (a trainer Sink), weights turned back into tensors."""
    for name, *args in events:
        if name == "on_generation":
            args[-1] = {k: torch.from_numpy(np.asarray(v)) for k, v in args[-1].items()}
        getattr(sink, name)(*args)
