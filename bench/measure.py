"""Timing on a noisy shared machine: interleaved rounds, medians of per-round ratios, a note on the machine."""
from __future__ import annotations

import os
import platform
import statistics
import time
from typing import Callable

import torch


def sync(device: torch.device) -> None:
    """Wait for queued device work, so a clock read after it covers the work."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def seconds(fn: Callable[[], object], device: torch.device) -> float:
    """Wall time of one call of ``fn`` (device work included)."""
    sync(device)
    started = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - started


def interleave(timers: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Call every timer once per round, in the same order (A, B, A, B ...); each returns the seconds it measured."""
    times: dict[str, list[float]] = {name: [] for name in timers}
    for _ in range(rounds):
        for name, timer in timers.items():
            times[name].append(timer())
    return times


def median_ratio(numerators: list[float], denominators: list[float]) -> float:
    """Median over rounds of numerator/denominator: load that hits one round hits both sides of its ratio."""
    return statistics.median(n / d for n, d in zip(numerators, denominators))


def machine() -> str:
    """CPU model, cores, load, torch version and GPU (if any), in one line."""
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as info:
            model = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return f"{model}, {os.cpu_count()} cores (load average {load_average()}), torch {torch.__version__}, {gpu}"


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: how busy the shared machine was."""
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
