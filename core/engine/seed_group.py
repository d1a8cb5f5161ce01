"""Seed groups: seeds S, S+1, …, S+N−1 of one config run as one group, each stored as its own run (tagged with the
group's ``group_id``, so every view, export and CLI command keeps working on it) and summarised as spreads.

    result = execute_group(config, n_seeds, store)   # {"group_id", "summaries": [...], "summary": {...}}

Training: a born-again plain MLP trains its N seeds in one stacked model (core.methods.ban_batched), generation
by generation; each seed is built, evaluated and reported exactly as core.engine.generations does for one run, so
seed k of a group is the single run with seed k up to float round-off. Every other method or model (batch norm,
CNNs, DINO) runs its seeds one after another through core.engine.runner.execute: the same results, no speed-up.
A cancel of any run of the group cancels the group; a NaN in one seed fails that seed only.
"""
from __future__ import annotations

import secrets
import threading
import time
import traceback
from typing import Callable

import numpy as np
import torch
from torch import nn

from core import catalog
from core.config import RunConfig
from core.data.splits import load_dataset
from core.engine import generations as loop
from core.engine.budget import BUDGET_ENV, run_budget
from core.engine.context import GenerationContext, RunCancelled, Tensors
from core.engine.control import control_config, train_compute_control
from core.engine.devices import configure_cpu, faster_thread_count, pick_device, usable_cores
from core.engine.runner import _record_end, execute, store_cancel_check
from core.engine.sinks import FanOut, Sink, StoreSink
from core.evaluation.baselines import baselines, features_of
from core.evaluation.generation import evaluate_generation
from core.evaluation.label_efficiency import label_efficiency
from core.evaluation.selection import best_generation, selection_metric
from core.models.inference import freeze
from core.storage.run_store import RunStore

MAX_SEEDS = 64
STACKED_PROBE_WORK = 1e7  # above it a probe decides whether the stacked step runs on every core (_threads)
SinkFactory = Callable[[RunConfig], "Sink | None"]


def seed_configs(config: RunConfig, n_seeds: int) -> list[RunConfig]:
    """The group's configs: ``config`` with seed S, S+1, …, S+N−1 (S = config.seed)."""
    if not isinstance(n_seeds, int) or not 1 <= n_seeds <= MAX_SEEDS:
        raise ValueError(f"--seeds {n_seeds!r}: must be an integer from 1 to {MAX_SEEDS}")
    return [config.override({"seed": config.seed + k}) for k in range(n_seeds)]


def new_group_id() -> str:
    return "g" + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


def spread(values: list[float]) -> dict:
    """mean, sample std (None for one value), min and max."""
    arr = np.asarray(values, dtype=float)
    return {"mean": float(arr.mean()), "std": float(arr.std(ddof=1)) if len(arr) > 1 else None,
            "min": float(arr.min()), "max": float(arr.max())}


def summarize(summaries: list[dict]) -> dict:
    """Per generation, the spread over the group's finished runs of every numeric per-generation metric."""
    done = [s for s in summaries if s.get("status") == "finished"]
    by_generation: dict[int, dict[str, list[float]]] = {}
    for summary in done:
        for row in summary.get("generations") or []:
            metrics = by_generation.setdefault(int(row["generation"]), {})
            for key, value in row.items():
                if key != "generation" and isinstance(value, (int, float)) and not isinstance(value, bool) \
                        and np.isfinite(value):
                    metrics.setdefault(key, []).append(float(value))
    rows = [{"generation": g, **{k: spread(v) for k, v in sorted(metrics.items())}}
            for g, metrics in sorted(by_generation.items())]
    return {"generations": rows, "seeds": [s["config"]["seed"] for s in done]}


def execute_group(config: RunConfig, n_seeds: int, store: RunStore, label: str | None = None,
                  sink_factory: SinkFactory = lambda c: None, stop_event: threading.Event | None = None,
                  batched: bool = True) -> dict:
    """Run the group into the store; returns {"group_id", "summaries" (one per seed, in seed order), "summary"}.
    Never raises for a failed run (its error is in its summary)."""
    configs = seed_configs(config, n_seeds)
    group_id = new_group_id()
    run_ids = [store.create_run(c.to_dict(), label=label) for c in configs]
    for run_id in run_ids:
        store.set_group(run_id, group_id)
    summaries = execute_runs(configs, run_ids, store, sink_factory, stop_event, batched)
    return {"group_id": group_id, "summaries": summaries, "summary": summarize(summaries)}


def execute_runs(configs: list[RunConfig], run_ids: list[str], store: RunStore,
                 sink_factory: SinkFactory = lambda c: None, stop_event: threading.Event | None = None,
                 batched: bool = True) -> list[dict]:
    """Train a group whose runs already exist in the store (the job queue stores them when it queues the group):
    batched where the stacked step exists, else one after another. One summary per run; never raises."""
    if batched and _batchable(configs[0]):
        return _execute_batched(configs, run_ids, store, sink_factory, stop_event)
    return _execute_sequential(configs, run_ids, store, sink_factory, stop_event)


def _batchable(config: RunConfig) -> bool:
    """Born-again on a plain MLP (no batch norm): the hand-derived stacked step exists for it."""
    return config.method.name == "ban" and config.model.name == "mlp" and not config.model.batch_norm


def _execute_sequential(configs, run_ids, store, sink_factory, stop_event) -> list[dict]:
    """One seed after another through the runner; a cancel of any run of the group (watched in a thread, so a
    cancel of a later seed stops the one training now) stops the one running and cancels the rest."""
    group_stop, done = threading.Event(), threading.Event()
    asked = _GroupStop(store, run_ids, stop_event, budget=False)

    def watch() -> None:
        while not done.wait(0.25):
            if asked():
                group_stop.set()
                return
    threading.Thread(target=watch, name="sdlab-group-cancel", daemon=True).start()
    summaries = []
    try:
        for config, run_id in zip(configs, run_ids):
            if group_stop.is_set() or (summaries and summaries[-1]["status"] == "cancelled"):
                store.request_cancel(run_id)
                summaries.append({**store.summary(run_id), "status": "cancelled",
                                  "error": "the group was cancelled", "run_id": run_id})
                store.finish(run_id, "cancelled", "the group was cancelled", summaries[-1])
                continue
            summaries.append(execute(config, store, run_id=run_id, sink=sink_factory(config), stop_event=group_stop))
    finally:
        done.set()
    return summaries


class _GroupStop:
    """The group's stop check: the caller's event, a cancel of any of its runs (read from the store, throttled),
    or this server's run budget (``SDLAB_MAX_RUN_SECONDS``) spent."""

    def __init__(self, store: RunStore, run_ids: list[str], stop_event: threading.Event | None, budget: bool = True):
        self.budget, self.started = run_budget() if budget else None, time.monotonic()
        self.checks = [store_cancel_check(store, run_id) for run_id in run_ids]
        self.stop_event = stop_event

    def over_budget(self) -> bool:
        return self.budget is not None and time.monotonic() - self.started > self.budget

    def __call__(self) -> bool:
        return (self.stop_event is not None and self.stop_event.is_set()) or any(c() for c in self.checks) \
            or self.over_budget()


def _execute_batched(configs, run_ids, store, sink_factory, stop_event) -> list[dict]:
    for run_id in run_ids:
        store.claim(run_id)
    should_stop = _GroupStop(store, run_ids, stop_event)
    sinks = [FanOut(StoreSink(store, run_id, c.eval.save_weights), sink_factory(c)) for c, run_id in
             zip(configs, run_ids)]
    try:
        summaries = run_batched(configs, sinks, should_stop)
    except Exception as exc:  # a bug must still leave every run readable, marked failed
        summaries = []
        for config, run_id in zip(configs, run_ids):
            summary = store.summary(run_id)
            summary.update(status="failed", error=f"{type(exc).__name__}: {exc}",
                           traceback=traceback.format_exc(limit=8))
            metric = selection_metric(catalog.method(config.method.name).supervised)
            summary["best_generation"] = best_generation(summary["generations"], metric)
            summaries.append(summary)
    for summary, run_id in zip(summaries, run_ids):
        if summary["status"] == "cancelled" and should_stop.over_budget():
            summary["error"] = (f"stopped after {should_stop.budget:g} s: over this server's budget ({BUDGET_ENV});"
                                f" the generations it finished are kept")
        summary["run_id"] = run_id
        _record_end(store, run_id, summary)
    return summaries


class _Seed:
    """One seed's state through the generation loop (what core.engine.generations keeps in locals)."""

    def __init__(self, config: RunConfig, sink: Sink, device: torch.device, entry: catalog.Method):
        self.config, self.sink = config, sink
        self.data = load_dataset(config.data, config.seed)
        self.tensors = Tensors.from_dataset(self.data, device)
        self.summary: dict = {"status": "running", "config": config.to_dict(), "generations": [], "baselines": {},
                              "best_generation": None, "label_efficiency": None, "warnings": [], "error": None}
        self.teacher: nn.Module | None = None
        self.history: list[np.ndarray] = []
        self.reference, self.reference_features = None, {}
        sink.on_start(loop._run_info(config, self.data, entry), loop._run_arrays(self.data))


def run_batched(configs: list[RunConfig], sinks: list[Sink], should_stop: Callable[[], bool] = lambda: False
                ) -> list[dict]:
    """core.engine.generations.run for N seeds of a born-again MLP, trained together; one summary per seed."""
    from core.methods import ban_batched

    started = time.perf_counter()
    config = configs[0]
    if config.eval.compute_control:
        control_config(config)
    device = pick_device(config.train.device)
    entry = catalog.method(config.method.name)
    method = catalog.load(entry)
    seeds = [_Seed(c, s, device, entry) for c, s in zip(configs, sinks)]
    live = list(seeds)
    try:
        for generation in range(config.method.generations):
            ctxs, models = [], []
            for seed in live:
                torch.manual_seed(seed.config.seed * 1000 + generation)
                model = method.build_model(seed.config, seed.data).to(device)
                if generation == 0:
                    configure_cpu(1)  # the baselines' small probes run fastest on one thread
                    stop = loop._stop_check(should_stop, "the baselines")
                    seed.summary["baselines"], seed.reference_features = baselines(
                        seed.config, seed.data, seed.tensors, model, True, stop)
                    seed.sink.on_baselines(seed.summary["baselines"])
                if seed.teacher is not None and seed.config.method.warm_start:
                    model.load_state_dict(seed.teacher.state_dict())
                ctxs.append(GenerationContext(generation, seed.config, seed.data, seed.tensors, device,
                                              lambda e, m, s=seed, g=generation: s.sink.on_epoch(g, e, m),
                                              should_stop, seed.summary["baselines"]))
                models.append(model)
            configure_cpu(_threads(len(live), models[0], config.train.batch_size))
            if ban_batched.supports(ctxs, models):
                errors = ban_batched.train_generations(ctxs, models, [s.teacher for s in live])
            else:  # splits of unequal sizes do not stack: one seed after another
                errors = [_train_one(method, ctx, model, seed.teacher) for ctx, model, seed in zip(ctxs, models, live)]
            configure_cpu(1)
            for seed, ctx, model, error in zip(list(live), ctxs, models, errors):
                if error is not None:
                    seed.summary.update(status="failed", error=str(error))
                    live.remove(seed)
                    continue
                metrics, arrays = evaluate_generation(ctx, model, seed.teacher, seed.history, seed.reference, True)
                seed.reference = arrays.get("embedding")
                seed.summary["generations"].append(metrics)
                seed.sink.on_generation(generation, metrics, arrays,
                                        {k: v.detach().cpu() for k, v in model.state_dict().items()})
                seed.teacher = freeze(model)
        for seed in live:
            _finish_seed(seed, device, should_stop)
    except RunCancelled as exc:
        for seed in live:
            seed.summary.update(status="cancelled", error=str(exc))
    wall = round(time.perf_counter() - started, 3)
    for seed in seeds:
        metric = selection_metric(entry.supervised)
        seed.summary["best_generation"] = best_generation(seed.summary["generations"], metric)
        seed.summary["wall_time_s"] = seed.summary["wall_seconds"] = wall
    return [seed.summary for seed in seeds]


def _train_one(method, ctx: GenerationContext, model: nn.Module, teacher: nn.Module | None) -> Exception | None:
    from core.engine.context import TrainingDiverged

    try:
        method.train_generation(ctx, model, teacher)
    except TrainingDiverged as exc:
        return exc
    return None


def _finish_seed(seed: _Seed, device: torch.device, should_stop: Callable[[], bool]) -> None:
    """After the last generation: label efficiency and, when asked for, the compute-matched control."""
    feature_sets = {"features": features_of(seed.teacher, seed.tensors),
                    **{name: seed.reference_features[name] for name in loop.LABEL_EFFICIENCY_BASELINES
                       if name in seed.reference_features}}
    seed.summary["label_efficiency"] = label_efficiency(feature_sets, seed.data.y_train_clean, seed.data.y_test,
                                                        seed.config.seed)
    seed.sink.on_label_efficiency(seed.summary["label_efficiency"])
    if seed.config.eval.compute_control:
        scores, warnings = train_compute_control(seed.config, seed.data, seed.tensors, device, should_stop,
                                                 seed.summary["baselines"])
        seed.summary["baselines"].update(scores)
        seed.summary["warnings"] += [f"compute-matched control: {w}" for w in warnings]
        seed.sink.on_baselines(seed.summary["baselines"])
    seed.summary["status"] = "finished"


def _threads(n_seeds: int, model: nn.Module, batch_size: int) -> int:
    """Threads for the stacked step: one for a small step (fork/join per op costs more than it saves); for a larger
    one every core, if a probe of its largest matmul, timed now, runs clearly faster on them (a busy core makes a
    multi-threaded step far slower: core.engine.devices.faster_thread_count)."""
    weights = [p for p in model.parameters() if p.dim() == 2]
    work = n_seeds * batch_size * sum(p.numel() for p in model.parameters())
    cores = usable_cores()
    if work < STACKED_PROBE_WORK or cores == 1 or not weights:
        return 1
    rows, cols = max((p.shape for p in weights), key=lambda shape: shape[0] * shape[1])
    x, w = torch.randn(n_seeds, batch_size, cols), torch.randn(n_seeds, cols, rows)
    threads = faster_thread_count(lambda: [torch.bmm(x, w) for _ in range(3)], cores)
    torch.set_num_threads(1)
    return threads
