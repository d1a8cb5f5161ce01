"""Seeds together (issue 14): 8 seeds of ``digits-ban-noisy`` trained one after another against the same 8 seeds
trained as one stacked group (core.methods.ban_batched), in one process, interleaved; plus the arithmetic floor
of the group and the peak memory of a whole 8-seed group run.

    python -m bench.seed_batch [--quick]      # prints name: value lines (bench/run.py runs it as "seeds")

Training only (no views, no evaluation): every generation of every seed, generation k+1 against generation k's
frozen model, exactly as a run trains them. --quick caps each generation at 15 epochs (the ratio barely depends on
the epoch count: every epoch is the same work).
"""
from __future__ import annotations

import argparse
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.flops import forward_flops, generation_flops, matmul_rate  # noqa: E402
from bench.measure import interleave, median_ratio, seconds  # noqa: E402
from core.data.splits import load_dataset  # noqa: E402
from core.engine.context import GenerationContext, Tensors  # noqa: E402
from core.engine.devices import configure_cpu  # noqa: E402
from core.engine.seed_group import _threads, seed_configs  # noqa: E402
from core.methods import ban, ban_batched  # noqa: E402
from core.models.inference import freeze  # noqa: E402
from core.presets import get_preset  # noqa: E402

SEEDS = 8
PRESET = "digits-ban-noisy"


def _configs(quick: bool, device: torch.device):
    base = get_preset(PRESET).config({"eval.embedding": "none", "train.device": device.type, "seed": 11,
                                      **({"train.epochs": 15} if quick else {})})
    configs = seed_configs(base, SEEDS)
    datasets = [load_dataset(c.data, c.seed) for c in configs]
    return configs, datasets, [Tensors.from_dataset(d, device) for d in datasets]


def _contexts(configs, datasets, tensors, device, generation):
    ctxs, models = [], []
    for config, data, t in zip(configs, datasets, tensors):
        torch.manual_seed(config.seed * 1000 + generation)
        models.append(ban.build_model(config, data).to(device))
        ctxs.append(GenerationContext(generation, config, data, t, device, lambda e, m: None, lambda: False))
    return ctxs, models


def sequential(configs, datasets, tensors, device) -> None:
    """Each seed's generations in turn, on the thread count a single run picks (1 for this MLP)."""
    configure_cpu(1)
    for k in range(len(configs)):
        teacher = None
        for generation in range(configs[0].method.generations):
            ctxs, models = _contexts(configs[k:k + 1], datasets[k:k + 1], tensors[k:k + 1], device, generation)
            ban.train_generation(ctxs[0], models[0], teacher)
            teacher = freeze(models[0])


def batched(configs, datasets, tensors, device) -> None:
    """All seeds' generation g together, then g + 1, as core.engine.seed_group does."""
    teachers = [None] * len(configs)
    for generation in range(configs[0].method.generations):
        ctxs, models = _contexts(configs, datasets, tensors, device, generation)
        configure_cpu(_threads(len(configs), models[0], configs[0].train.batch_size))
        errors = ban_batched.train_generations(ctxs, models, teachers)
        assert errors == [None] * len(configs), errors
        teachers = [freeze(m) for m in models]
    configure_cpu(1)


def speedup(quick: bool, device: torch.device) -> dict[str, float]:
    configs, datasets, tensors = _configs(quick, device)
    cfg = configs[0]
    model = ban.build_model(cfg, datasets[0])
    per_sample = forward_flops(model, tensors[0].x_train)
    n_train, n_test = len(datasets[0].x_train), len(datasets[0].x_test)
    flops = SEEDS * sum(generation_flops(per_sample, n_train, n_test, cfg.train.epochs, g > 0)
                        for g in range(cfg.method.generations))
    threads = _threads(SEEDS, model, cfg.train.batch_size)

    def rate_seconds() -> float:  # seconds per FLOP at the group's thread setting
        configure_cpu(threads)
        return 1 / matmul_rate(device)

    t = interleave({
        "sequential": lambda: seconds(lambda: sequential(configs, datasets, tensors, device), device),
        "batched": lambda: seconds(lambda: batched(configs, datasets, tensors, device), device),
        "rate": rate_seconds,
    }, rounds=2 if quick else 3)
    floors = [flops * s for s in t["rate"]]
    return {"seed_batch_speedup": median_ratio(t["sequential"], t["batched"]),
            "seed_batch_sequential_s": float(np.median(t["sequential"])),
            "seed_batch_batched_s": float(np.median(t["batched"])),
            "seed_batch_floor_s": float(np.median(floors)),
            "seed_batch_achieved_over_floor": median_ratio(t["batched"], floors),
            "seed_batch_threads": float(threads)}


def peak_memory(quick: bool) -> dict[str, float]:
    """Peak RSS (MB) of a fresh process that runs a whole 8-seed group of the preset (training, evaluation, no
    2-D views, no store writes beyond a temporary folder)."""
    epochs = ", 'train.epochs': 15" if quick else ""
    code = ("import resource, sys, tempfile; sys.path.insert(0, '.');"
            "from core.presets import get_preset; from core.engine.seed_group import execute_group;"
            "from core.storage.run_store import RunStore;"
            f"c = get_preset('{PRESET}').config({{'eval.embedding': 'none', 'seed': 11{epochs}}});"
            f"r = execute_group(c, {SEEDS}, RunStore(tempfile.mkdtemp()));"
            "assert all(s['status'] == 'finished' for s in r['summaries']), r['summaries'][0]['error'];"
            "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=1800)
    if result.returncode != 0:
        return {"seed_batch_group_peak_rss_mb": f"failed: {result.stderr.strip()[-200:]}"}
    return {"seed_batch_group_peak_rss_mb": float(result.stdout.strip().splitlines()[-1])}


def run(quick: bool, device: torch.device) -> dict:
    return {**speedup(quick, device), **(peak_memory(quick) if device.type == "cpu" else {})}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    for name, value in run(args.quick, torch.device("cpu")).items():
        print(f"{name}: {value}", flush=True)
    print(f"bench_process_peak_rss_mb: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
