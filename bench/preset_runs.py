"""Run presets end to end (training, evaluation, 2-D views) in one process with imports and UMAP's JIT warm,
as a job runs inside the app, and print each run's wall time, its CPU time (every thread of the process: on
a loaded machine the wall time overstates what the run needs, the CPU time does not), and the process's peak
memory during it.

    python -m bench.preset_runs [--quick] [--device cpu|cuda] NAME ...

Peak memory is the resident-set high-water mark (VmHWM), reset before each run through /proc/self/clear_refs,
so it covers torch's allocations, which tracemalloc cannot see. It includes the warm process (imports, UMAP's
compiled code, one tiny first run), printed first as preset_process_rss_mb. train_share is the part of the wall
time spent in the epochs; the rest is evaluation (k-NN, linear probe, 2-D views). The store is not written.
"""
from __future__ import annotations

import argparse
import resource
import sys
import time

import torch

from core.engine import generations as trainer
from core.engine.sinks import Sink
from core.presets import get_preset

QUICK_CAPS = {"train.epochs": 3, "method.generations": 2}  # --quick lowers every preset to at most these


class PhaseTimer(Sink):
    """A trainer sink that adds up the time spent in epochs (from the previous report to each epoch's end)."""

    def __init__(self) -> None:
        self.mark, self.train_s = time.perf_counter(), 0.0

    def on_baselines(self, *_) -> None:
        self.mark = time.perf_counter()

    def on_epoch(self, *_) -> None:
        now = time.perf_counter()
        self.train_s, self.mark = self.train_s + now - self.mark, now

    def on_generation(self, *_) -> None:
        self.mark = time.perf_counter()


def reset_peak_rss() -> None:
    """Restart the kernel's high-water mark at the current resident size (where Linux refuses, the peak stays the
    process's lifetime peak)."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def rss_mb(field: str) -> float:
    """VmHWM (peak) or VmRSS (now) of this process in MiB; the lifetime peak from getrusage without /proc."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith(field + ":")) / 1024
    except (OSError, StopIteration):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_preset(name: str, quick: bool, device: str) -> dict[str, float | str]:
    config = get_preset(name).config({"train.device": device})
    if quick:
        flat = config.flat()
        config = config.override({key: min(cap, flat[key]) for key, cap in QUICK_CAPS.items()})
    reset_peak_rss()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    timer, started, cpu_started = PhaseTimer(), time.perf_counter(), time.process_time()
    summary = trainer.run(config, timer)
    wall = time.perf_counter() - started
    out: dict[str, float | str] = {"s": wall, "cpu_s": time.process_time() - cpu_started,
                                   "train_share": timer.train_s / wall, "peak_rss_mb": rss_mb("VmHWM")}
    if device == "cuda":
        out["peak_gpu_mb"] = torch.cuda.max_memory_allocated() / 2**20
    if summary["status"] != "finished":
        out["status"] = f"{summary['status']}: {summary['error']}"
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.preset_runs")
    parser.add_argument("names", nargs="+")
    parser.add_argument("--quick", action="store_true", help=f"cap each preset at {QUICK_CAPS}")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    args = parser.parse_args(argv)
    from core.evaluation import embed

    embed.warm_up()
    suffix = "" if args.device == "cpu" else f"_{args.device}"
    started = time.perf_counter()  # a first run pays one-time costs (torch.optim's first use imports torch._dynamo)
    trainer.run(get_preset("dry-run").config({"method.generations": 1, "train.epochs": 1, "train.device": args.device}))
    print(f"preset_first_tiny_run_s{suffix}: {time.perf_counter() - started:.3g}", flush=True)
    print(f"preset_process_rss_mb{suffix}: {rss_mb('VmRSS'):.0f}", flush=True)
    for name in args.names:
        try:
            figures = run_preset(name, args.quick, args.device)
        except Exception as exc:  # one broken preset must not hide the others' figures
            figures = {"status": f"failed: {type(exc).__name__}: {exc}"}
        for key, value in figures.items():
            shown = f"{value:.3g}" if isinstance(value, float) else str(value).replace("\n", " ")
            print(f"preset_{name.replace('-', '_')}_{key}{suffix}: {shown}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
