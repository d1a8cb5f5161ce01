"""``python -m core sweep``: run, resume, stop, list and show sweeps. Bad specs exit 2 with one line."""
from __future__ import annotations

import argparse
import json
import math
import os
import signal
import sys

from core.cli.errors import UsageError
from core.config import ConfigError, parse_assignments
from core.sweeps.executors.base import EXECUTORS
from core.sweeps.executors.factory import exposure_warning, make_executor
from core.storage.run_store import RunStore
from core.sweeps.spec import OBJECTIVES, SAMPLERS, SweepSpec, parse_grid, parse_range
from core.sweeps.store import SweepError, SweepNotFound, SweepStore


def add_sweep_parser(sub) -> None:
    """The ``sweep`` sub-command and its options."""
    p = sub.add_parser("sweep", help="many small runs over a grid or a search space, on local workers or Dask")
    p.add_argument("--preset", default="dry-run", help="base preset of every trial")
    p.add_argument("--grid", action="append", default=[], metavar="KEY=V1,V2,...",
                   help="values of a config key, e.g. --grid method.alpha=0.5,1.0 (repeatable)")
    p.add_argument("--range", dest="ranges", action="append", default=[], metavar="KEY=LOW:HIGH[:log]",
                   help="a numeric range for random or tpe, e.g. --range train.lr=1e-4:1e-2:log (repeatable)")
    p.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="fix a config key in every trial (repeatable)")
    p.add_argument("--sampler", choices=SAMPLERS, default="grid", help="grid (default), random or tpe (Optuna)")
    p.add_argument("--trials", type=int, help="points to evaluate (grid: the whole grid; random/tpe: 10)")
    p.add_argument("--seeds", type=int, default=1, help="runs per point; the objective is their mean")
    p.add_argument("--objective", choices=list(OBJECTIVES), default="best_val_accuracy",
                   help="to maximise, measured on the validation split (never on test)")
    p.add_argument("--executor", choices=EXECUTORS, default="local",
                   help="local worker processes (default) or a running Dask cluster")
    p.add_argument("--address", help="Dask scheduler, e.g. tcp://127.0.0.1:8786 (default $SDLAB_DASK_ADDRESS)")
    p.add_argument("--workers", type=int, help="local worker processes (default: one per core)")
    p.add_argument("--json", action="store_true", help="print the sweep's report as one JSON object")
    action = p.add_mutually_exclusive_group()
    action.add_argument("--resume", metavar="SWEEP_ID", help="go on with an interrupted or stopped sweep")
    action.add_argument("--stop", metavar="SWEEP_ID", help="ask a running sweep (any process) to stop")
    action.add_argument("--show", metavar="SWEEP_ID", help="print a stored sweep's report")
    action.add_argument("--list", action="store_true", help="list the sweeps in the store")
    p.add_argument("--store", default=argparse.SUPPRESS, help=argparse.SUPPRESS)


def build_spec(args) -> SweepSpec:
    """The spec from the command line; ConfigError (exit 2) when it is not valid."""
    params = tuple(parse_grid(g) for g in args.grid) + tuple(parse_range(r) for r in args.ranges)
    return SweepSpec(params=params, preset=args.preset, overrides=parse_assignments(args.sets),
                     sampler=args.sampler, trials=args.trials, seeds=args.seeds, objective=args.objective)


def _executor(args, total_runs: int):
    """The executor the options ask for; local workers default to one per core, at most one per run."""
    from core.sweeps.driver import DASK_ADDRESS_ENV

    address = args.address or (os.environ.get(DASK_ADDRESS_ENV) if args.executor == "dask" else None)
    workers = args.workers
    if args.executor == "local" and workers is None:
        workers = min(os.cpu_count() or 1, total_runs)
    try:
        executor = make_executor(args.executor, workers=workers, address=address)
    except ValueError as exc:
        raise UsageError(f"error: {exc}") from None
    if args.executor == "dask" and exposure_warning(address):
        print(f"warning: {exposure_warning(address)}", file=sys.stderr)
    return executor


def _fmt(value) -> str:
    return "-" if value is None or (isinstance(value, float) and math.isnan(value)) else f"{value:.4f}"


def report_text(report: dict) -> str:
    """A plain-text table of the trials and the best point."""
    lines = [f"sweep {report['sweep_id']}: {report['status']}, objective {report['objective']}"]
    for t in report["trials"]:
        params = " ".join(f"{k}={v}" for k, v in t["params"].items())
        lines.append(f"  {t['run_id']}  {params}  seed={t['seed']}  {t['status']:<9}  {_fmt(t['objective'])}"
                     f"  {t['worker'] or ''}")
    best = report["best"]
    if best["params"] is not None:
        shown = " ".join(f"{k}={v}" for k, v in best["params"].items())
        lines.append(f"best: {shown}  ({report['objective']} {_fmt(best['objective'])}, mean over seeds)")
    return "\n".join(lines)


def _print_report(report: dict, as_json: bool) -> None:
    print(json.dumps(report) if as_json else report_text(report))


def _run(args, store: RunStore, spec: SweepSpec, sweep_id: str | None) -> int:
    from tqdm import tqdm

    from core.sweeps.driver import SweepDriver, create_sweep

    executor = _executor(args, spec.total_runs())
    bar = tqdm(total=spec.total_runs(), file=sys.stderr, unit="trial", dynamic_ncols=True, leave=False)
    bar.set_description("warming workers")

    def progress(state: dict) -> None:
        bar.set_description("sweep")
        bar.n = state["done"]
        bar.set_postfix({"best": _fmt(state["best"])}, refresh=False)
        bar.refresh()

    try:
        executor.start()
        driver = SweepDriver(store, sweep_id or create_sweep(store, spec), executor, progress)
        previous = signal.signal(signal.SIGINT, lambda *_: _on_interrupt(driver))
        try:
            report = driver.run()
        finally:
            signal.signal(signal.SIGINT, previous)
    except ConnectionError as exc:
        raise UsageError(f"error: {exc}") from None
    finally:
        bar.close()
        executor.close()
    _print_report(report, args.json)
    return 0 if report["status"] == "finished" else 1


def _on_interrupt(driver) -> None:
    """First Ctrl-C: stop the sweep in order (queued dropped, running stopped); a second one aborts."""
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print("stopping the sweep (Ctrl-C again to abort)", file=sys.stderr)
    driver.stop()


def cmd_sweep(args, store: RunStore) -> int:
    sweeps = SweepStore(store)
    try:
        if args.list:
            for s in sweeps.list():
                print(f"{s['id']}  {s['status']:<11}  {SweepSpec.from_dict(s['spec']).describe()}")
            return 0
        if args.show:
            _print_report(sweeps.report(args.show), args.json)
            return 0
        if args.stop:
            sweeps.request_stop(args.stop)
            print(f"asked sweep {args.stop} to stop", file=sys.stderr)
            return 0
        if args.resume:
            from core.sweeps.driver import check_resumable

            return _run(args, store, check_resumable(store, args.resume), args.resume)
    except (SweepError, SweepNotFound) as exc:
        raise UsageError(f"error: {exc}") from None
    try:
        spec = build_spec(args)
    except ConfigError as exc:
        raise UsageError(f"error: {exc}") from None
    return _run(args, store, spec, None)
