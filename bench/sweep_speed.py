"""Sweep speed on this machine: 8 trials on 2 warm local workers against the same 8 one after another.

    .venv/bin/python bench/sweep_speed.py [--trials 8] [--epochs 40] [--repeats 3]

Each trial is the dry-run preset (2 generations) at ``--epochs`` epochs per generation, about 1 s on an idle core.
Both sweeps run through the same driver and store, on workers warmed before the clock starts; the one-by-one
side is one warm worker. Each round also runs the same trials' training in a bare warm 2-process pool, one by one
and two at a time: ``plain_pool_speedup`` is what this machine gives two such processes at that moment (two
vCPUs of a shared host: it swings from round to round), and ``sweep_over_plain_pool_speedup`` is the part of it
the sweep keeps (1.0: the sweep machinery costs no parallelism). Prints ``name: value`` lines; speed-ups are
medians of the per-round ratios. Overhead per trial is the one-by-one sweep's wall time minus the time the
trials spent inside the trainer, over the number of trials: submitting, messaging, replaying every report into
SQLite and asking Optuna for the next point.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.engine import generations as trainer  # noqa: E402
from core.config import RunConfig  # noqa: E402
from core.sweeps.executors.local import LocalExecutor  # noqa: E402
from core.storage.run_store import RunStore  # noqa: E402
from core.sweeps.spec import Param, SweepSpec  # noqa: E402
from core.sweeps.trial import warm_up  # noqa: E402
from core.sweeps.driver import run_sweep  # noqa: E402


def _spec(trials: int, epochs: int) -> SweepSpec:
    alphas = tuple(round(0.3 + 0.7 * i / max(1, trials - 1), 4) for i in range(trials))
    return SweepSpec(params=(Param("method.alpha", values=alphas),), preset="dry-run",
                     overrides={"train.epochs": epochs})


def _plain_trial(config: dict) -> None:
    """One trial's training in a plain pool process: what the same work costs with no sweep machinery."""
    trainer.run(RunConfig.from_dict(config))


def _plain_seconds(pool, configs: list[dict], parallel: bool) -> float:
    """The same trials in a plain warm 2-process pool, one after another or two at a time."""
    started = time.perf_counter()
    if parallel:
        pool.map(_plain_trial, configs, chunksize=1)
    else:
        for config in configs:
            pool.apply(_plain_trial, (config,))
    return time.perf_counter() - started


def _timed_sweep(store: RunStore, spec: SweepSpec, executor: LocalExecutor) -> tuple[float, float]:
    """(wall seconds, seconds spent inside the trainer summed over the trials)."""
    started = time.perf_counter()
    report = run_sweep(store, spec, executor)
    wall = time.perf_counter() - started
    if report["status"] != "finished" or any(t["status"] != "finished" for t in report["trials"]):
        raise RuntimeError(f"benchmark sweep did not finish: {report}")
    inside = sum(store.get_run(t["run_id"])["summary"]["wall_time_s"] for t in report["trials"])
    return wall, inside


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=8)
    parser.add_argument("--epochs", type=int, default=40, help="epochs per generation of each dry-run trial")
    parser.add_argument("--repeats", type=int, default=3,
                        help="rounds of (sweep one by one, sweep 2 at a time, plain pool both ways); medians shown")
    args = parser.parse_args()
    spec = _spec(args.trials, args.epochs)
    configs = [spec.trial_config({"method.alpha": a}, 0).to_dict() for a in spec.params[0].values]
    store = RunStore(tempfile.mkdtemp(prefix="sdlab-bench-"))
    one, two = LocalExecutor(1), LocalExecutor(2)
    started = time.perf_counter()
    two.start()
    warm_two = time.perf_counter() - started
    one.start()
    sequential, parallel, plain = [], [], []
    try:
        with mp.get_context("spawn").Pool(2, initializer=warm_up) as pool:  # idle (no CPU) while the sweeps run
            _timed_sweep(store, _spec(2, 1), two)  # the first trials of a fresh worker pay a few first calls
            _timed_sweep(store, _spec(1, 1), one)
            _plain_seconds(pool, configs[:2], parallel=True)
            for _ in range(args.repeats):
                sequential.append(_timed_sweep(store, spec, one))
                parallel.append(_timed_sweep(store, spec, two))
                plain.append((_plain_seconds(pool, configs, False), _plain_seconds(pool, configs, True)))
    finally:
        one.close()
        two.close()
    speedups = [s / p for (s, _), (p, _) in zip(sequential, parallel)]
    ceilings = [s / p for s, p in plain]
    seq_inside = statistics.median(inside for _, inside in sequential)
    print(f"load_average_1min_at_end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores: other work competes)")
    print(f"trials: {args.trials}")
    print(f"epochs_per_trial: {2 * args.epochs}")
    print(f"warm_up_2_workers_s: {warm_two:.2f}")
    print(f"trial_in_trainer_mean_s: {seq_inside / args.trials:.3f}")
    print(f"sequential_1_worker_s: {statistics.median(wall for wall, _ in sequential):.2f}")
    print(f"parallel_2_workers_s: {statistics.median(wall for wall, _ in parallel):.2f}")
    print(f"speedup: {statistics.median(speedups):.2f}")
    print(f"speedup_fastest_rounds: {min(sequential)[0] / min(parallel)[0]:.2f}")
    print(f"plain_pool_speedup: {statistics.median(ceilings):.2f} (the same trials in a bare 2-process pool)")
    print(f"sweep_over_plain_pool_speedup: {statistics.median(s / c for s, c in zip(speedups, ceilings)):.2f}")
    print(f"overhead_per_trial_s: {statistics.median(w - i for w, i in sequential) / args.trials:.3f}")
    print(f"all_rounds_speedup: {', '.join(f'{x:.2f}' for x in speedups)}")
    print(f"all_rounds_plain_pool_speedup: {', '.join(f'{x:.2f}' for x in ceilings)}")


if __name__ == "__main__":
    main()
