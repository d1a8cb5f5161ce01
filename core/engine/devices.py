"""Where and on how many threads a run computes."""
from __future__ import annotations

import os
import time

import torch
from threadpoolctl import threadpool_limits
from torch import nn


def pick_device(name: str) -> torch.device:
    """``auto`` takes CUDA when available; asking for cuda without one is an error."""
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError("train.device=cuda but no CUDA device is available; use auto or cpu")
    if name == "cpu" or not torch.cuda.is_available():
        return torch.device("cpu")
    return torch.device("cuda")


def choose_threads(model: nn.Module, batch_size: int) -> int:
    """Intra-op threads for this model: small steps run faster on one thread (no fork/join per op, and no
    spinning when other processes share the cores); large ones use every core."""
    work = batch_size * sum(p.numel() for p in model.parameters())  # ~ multiply-adds per step / 3
    return 1 if work < 5e7 else usable_cores()


def usable_cores() -> int:
    """Cores a run may compute on: ``SDLAB_MAX_THREADS`` when set (sweep workers set it to 1), else every core."""
    return int(os.environ.get("SDLAB_MAX_THREADS", 0)) or os.cpu_count() or 1


def configure_cpu(threads: int) -> None:
    """CPU settings for a run, process-wide: ``threads`` threads for torch's intra-op work and for the BLAS/OpenMP
    pools of numpy, SciPy and scikit-learn (the evaluation's linear probe, k-NN, views), and denormal floats flushed
    to zero. On shared cores the small BLAS calls of the probe run much slower on several threads than on one,
    and the last epochs of a long run slow down on denormals with no gain in accuracy (bench/RESULTS.md)."""
    torch.set_num_threads(threads)
    threadpool_limits(limits=threads)
    torch.set_flush_denormal(True)


def faster_thread_count(work, cores: int, repeats: int = 5, margin: float = 1.25) -> int:
    """``cores`` when ``work()`` (a few milliseconds of the step's largest matmul) runs at least ``margin`` times
    faster on them than on one thread right now, else 1. Measured, not guessed: on idle cores a large step runs
    ~1.6× faster on two threads, but when another process is busy on one of them every op of a 2-thread step
    waits at a barrier for the descheduled thread and the step runs 5-10× slower (bench/RESULTS.md, seeds)."""
    if cores <= 1:
        return 1
    timings: dict[int, list[float]] = {1: [], cores: []}
    for _ in range(repeats):  # interleaved, so a burst of load hits both counts alike
        for threads in timings:
            torch.set_num_threads(threads)
            started = time.perf_counter()
            work()
            timings[threads].append(time.perf_counter() - started)
    one, many = sorted(timings[1])[repeats // 2], sorted(timings[cores])[repeats // 2]
    return cores if one >= margin * many else 1
