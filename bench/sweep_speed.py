"""Sweep speed on this machine: 8 trials on 2 warm local workers against the same 8 one after another.

    .venv/bin/python bench/sweep_speed.py [--trials 8] [--epochs 80] [--repeats 2]

Each trial is the dry-run preset (2 generations) at ``--epochs`` epochs per generation: about 2 s on an idle core,
still far shorter than a real sweep's trials (a digits-ban-noisy trial takes about 8 s). With much shorter trials
the fixed costs of each (the driver's SQLite writes and Optuna's ask, on the same 2 cores) weigh more: at 0.5 s
trials the speed-up measured 1.53x where 2 s trials gave 1.85x, one after the other on an idle machine.

Both sides run through the same driver and store, on workers warmed before the clock starts; the sequential
side is one warm worker. Prints ``name: value`` lines. Overhead per trial is the sequential sweep's wall time
minus the time the trials spent inside the trainer, divided by the number of trials: submitting, messaging,
replaying every report into SQLite and asking Optuna for the next point. The machine's ceiling (two pure-Python
processes side by side against one after the other) is measured after, to tell a slow sweep from a busy machine.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.executors import LocalExecutor  # noqa: E402
from core.store import RunStore  # noqa: E402
from core.sweep_spec import Param, SweepSpec  # noqa: E402
from core.sweeps import run_sweep  # noqa: E402


def _spec(trials: int, epochs: int) -> SweepSpec:
    alphas = tuple(round(0.3 + 0.7 * i / max(1, trials - 1), 4) for i in range(trials))
    return SweepSpec(params=(Param("method.alpha", values=alphas),), preset="dry-run",
                     overrides={"train.epochs": epochs})


def _burn(n: int) -> int:
    """Pure-Python work: no shared state, no I/O; what two processes can gain side by side at best."""
    return sum(i * i for i in range(n))


def _ceiling(n: int = 4_000_000) -> float:
    """Two burns one after another over two side by side, in two warm processes: the speed-up the machine
    allows at this moment (2 on two idle cores; less while other work holds the cores)."""
    with mp.get_context("spawn").Pool(2) as pool:
        pool.map(_burn, [1, 1])
        started = time.perf_counter()
        pool.map(_burn, [n])
        pool.map(_burn, [n])
        sequential = time.perf_counter() - started
        started = time.perf_counter()
        pool.map(_burn, [n, n], chunksize=1)
        return sequential / (time.perf_counter() - started)


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
    parser.add_argument("--epochs", type=int, default=80, help="epochs per generation of each dry-run trial")
    parser.add_argument("--repeats", type=int, default=2, help="alternating rounds; the fastest of each is kept")
    args = parser.parse_args()
    spec = _spec(args.trials, args.epochs)
    store = RunStore(tempfile.mkdtemp(prefix="sdlab-bench-"))
    one, two = LocalExecutor(1), LocalExecutor(2)
    started = time.perf_counter()
    two.start()
    warm_two = time.perf_counter() - started
    one.start()
    try:
        _timed_sweep(store, _spec(2, 1), two)  # the first trials of a fresh worker pay a few first calls
        _timed_sweep(store, _spec(1, 1), one)
        sequential, parallel = [], []
        for _ in range(args.repeats):
            sequential.append(_timed_sweep(store, spec, one))
            parallel.append(_timed_sweep(store, spec, two))
    finally:
        one.close()
        two.close()
    ceiling = _ceiling()
    seq_wall, seq_inside = min(sequential)
    par_wall, _ = min(parallel)
    print(f"load_average_1min_at_end: {os.getloadavg()[0]:.2f} (on {os.cpu_count()} cores: other work competes)")
    print(f"trials: {args.trials}")
    print(f"epochs_per_trial: {2 * args.epochs}")
    print(f"warm_up_2_workers_s: {warm_two:.2f}")
    print(f"trial_in_trainer_mean_s: {seq_inside / args.trials:.3f}")
    print(f"sequential_1_worker_s: {seq_wall:.2f}")
    print(f"parallel_2_workers_s: {par_wall:.2f}")
    print(f"speedup: {seq_wall / par_wall:.2f}")
    print(f"machine_ceiling_2_processes: {ceiling:.2f} (pure-Python burn, measured just after)")
    print(f"overhead_per_trial_s: {(seq_wall - seq_inside) / args.trials:.3f}")
    print(f"all_rounds_sequential_s: {', '.join(f'{w:.2f}' for w, _ in sequential)}")
    print(f"all_rounds_parallel_s: {', '.join(f'{w:.2f}' for w, _ in parallel)}")


if __name__ == "__main__":
    main()
