"""Benchmarks of the Self-Distillation Lab, measured in one process; prints one ``name: value`` line per figure
and writes the table to bench/RESULTS.md.

    python bench/run.py [--quick] [--only SECTION[,SECTION]] [--all] [--out PATH]

The machine is shared and noisy, so each speed figure is a ratio against a baseline timed in the same process,
interleaved (A, B, A, B ...), as the median of the per-round ratios. With a CUDA device the device-bound sections
run again on it and fill a second column.
"""
from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402

from bench import embed_speed, flops, trainer_speed  # noqa: E402
from bench import seed_batch  # noqa: E402
from bench.measure import load_average, machine  # noqa: E402
from bench.preset_runs import QUICK_CAPS  # noqa: E402
from core.presets import PRESETS  # noqa: E402

GOALS = {  # figure: (comparison, threshold)
    "trainer_speedup_vs_dataloader": (">=", 2.0),
    "embed_speedup_vs_umap_default": (">=", 3.0),
    "trustworthiness_delta": (">=", -0.01),
    "view_s_2k": ("<", 10.0), "view_s_10k": ("<", 10.0), "view_s_50k": ("<", 10.0),
    # --all: bench/dashboard_speed.py (issue 4) and bench/sweep_speed.py (issue 7)
    "first_paint_s": ("<", 3.0), "launch_to_first_loss_s": ("<", 2.0), "generation_slider_ms": ("<", 300.0),
    "color_by_ms": ("<", 300.0), "speedup": (">=", 1.7), "overhead_per_trial_s": ("<", 0.1),
    "end_to_page_s_max": ("<", 2.0),  # issue 15: bench/watchers.py, 10 pages watching one run
    "first_visit_s": ("<", 3.0), "watched_over_unwatched": ("<", 1.1),  # issue 13
    "seed_batch_speedup": (">=", 3.0), "seed_batch_group_peak_rss_mb": ("<", 1024.0),  # issue 14
}
LEADING_NUMBER = re.compile(r"^\s*(-?[\d.]+(?:e-?\d+)?)")
# Other engineers' benches, run with --all where present; the arguments are their lighter settings (--quick).
EXTRAS = {"dashboard_speed.py": ["--repeats", "2"], "sweep_speed.py": ["--repeats", "1"], "watchers.py": []}
LINE = re.compile(r"^(\w+): (.+)$")


def _flops(quick: bool, device: torch.device) -> dict:
    config, data, tensors = trainer_speed.digits(1, device)
    model = trainer_speed.fresh_model(config, data, device)
    return {"trainer_forward_mflops_per_sample": flops.forward_flops(model, tensors.x_train) / 1e6,
            "matmul_gflops": flops.matmul_rate(device) / 1e9}


def _presets(quick: bool, device: torch.device) -> dict:
    """Every preset in a child process (its memory is its own); --quick caps their epochs and generations."""
    command = [sys.executable, "-m", "bench.preset_runs", "--device", device.type, *PRESETS]
    result = subprocess.run(command + (["--quick"] if quick else []), cwd=ROOT, capture_output=True, text=True,
                            timeout=900 if quick else 3600)
    figures = _parse(result.stdout)
    if result.returncode != 0:
        figures["preset_runs"] = f"failed (exit {result.returncode}): {result.stderr.strip()[-200:]}"
    suffix = f"_{device.type}"
    return {k[: -len(suffix)] if k.endswith(suffix) else k: v for k, v in figures.items()}


def _parse(text: str) -> dict[str, float | str]:
    """The ``name: value`` lines of another bench script (numbers as floats)."""
    figures: dict[str, float | str] = {}
    for match in filter(None, map(LINE.match, text.splitlines())):
        try:
            figures[match.group(1)] = float(match.group(2))
        except ValueError:
            figures[match.group(1)] = match.group(2)
    return figures


# section: (function of (quick, device), runs on CUDA too)
SECTIONS: dict[str, tuple[Callable[[bool, torch.device], dict], bool]] = {
    "flops": (_flops, True),
    "trainer": (trainer_speed.speedup, True),
    "threads": (lambda quick, _device: trainer_speed.threads(quick), False),
    "floor": (trainer_speed.floor, True),
    "embed": (lambda quick, _device: embed_speed.speed_and_quality(quick), False),
    "scaling": (trainer_speed.epoch_scaling, True),
    "views": (lambda quick, _device: embed_speed.view_scaling(quick), False),
    "presets": (_presets, True),
    "seeds": (seed_batch.run, False),  # issue 14: bench/seed_batch.py
}


def show(value) -> str:
    if isinstance(value, float):
        return f"{value:.0f}" if abs(value) >= 100 else f"{value:#.3g}"
    return str(value)


def goal_text(name: str, values: dict) -> tuple[str, str]:
    if name not in GOALS:
        return "", ""
    op, threshold = GOALS[name]
    numbers = [float(m.group(1)) for m in (LEADING_NUMBER.match(str(v)) for v in values.values()) if m]
    met = all(v >= threshold if op == ">=" else v < threshold for v in numbers)
    return f"{op} {threshold:g}", ("met" if met else "not met") if numbers else ""


def extras(quick: bool) -> dict[str, dict]:
    """Figures printed by the other engineers' bench scripts that exist (--all)."""
    out: dict[str, dict] = {}
    for name, quick_args in EXTRAS.items():
        script = ROOT / "bench" / name
        if not script.exists():
            continue
        result = subprocess.run([sys.executable, str(script), *(quick_args if quick else [])], cwd=ROOT,
                                capture_output=True, text=True, timeout=1800)
        figures = _parse(result.stdout) if result.returncode == 0 else {script.stem: f"failed (exit "
                                                                                     f"{result.returncode})"}
        out.update({k: {"section": script.stem, "cpu": v} for k, v in figures.items()})
    return out


NOTES_HEADING = "## How the figures are measured"
NOTES = f"""\
How the presets were tuned (on validation, never on test): bench/TUNING.md. The ViT presets' times and
generation-by-generation numbers on 3 seeds: bench/TUNING.md, "The ViT presets"; the speech presets' (issue 17):
bench/TUNING.md, "Spoken digits".

{NOTES_HEADING}

- **trainer_speedup_vs_dataloader**: generation-0 training (plain cross-entropy) of the digits-ban MLP
  (64-256-256-10) on the digits training split, batch 64, Adam lr 1e-3, gradient clipping at 3.0 and test
  accuracy after every epoch in both loops, 5 epochs per run, 5 rounds (--quick) or 15. The project's loop is
  `core.methods.ban.train_generation` (tensors in memory, one seeded shuffle-and-gather per epoch, loss and
  accuracy read once per epoch, and for this plain MLP the hand-derived step of `core.methods.ban_step`: forward, loss
  gradient and backward without autograd, parameters and gradients in one flat buffer, so fused Adam, the norm
  and the clipping run once per step). The baseline is a tutorial-style loop: `DataLoader(TensorDataset,
  batch_size=64, shuffle=True)`, `torch.optim.Adam` with torch's default kernel, `loss.item()` every step.
  `..._fused_adam` gives the baseline the fused Adam kernel too, leaving the data feeding and the bookkeeping.
  **trainer_fast_step_over_autograd**: the project's loop with its autograd step (`fast_step=False`: fused Adam
  per parameter tensor, `clip_gradients`) over the same loop with the hand-derived step;
  **trainer_autograd_speedup_vs_dataloader**: that autograd loop against the baseline.
- Every CPU figure runs under the trainer's CPU settings (`core.engine.context.configure_cpu`: `choose_threads`
  threads, 1 for this model, for torch and for the BLAS/OpenMP pools; denormals flushed to zero), either loop
  alike. **trainer_2threads_over_1thread_time**: the project's loop on 2 torch threads over 1 (> 1: 2 is
  slower); **probe_2blas_threads_over_1_time**: the evaluation's linear probe (scikit-learn) on 2 BLAS threads
  over 1.
- **trainer_achieved_over_floor**: generations 0 and 1 (the second with a teacher) timed together, over their
  matmul FLOPs (counted from the Linear layers: 3 forwards per training sample per epoch, a test-split forward
  per epoch, one teacher forward over the training split) at the rate of a 1024×1024 float32 `torch.mm` timed in
  the same round at the same thread setting.
- **embed_speedup_vs_umap_default**, **trustworthiness_delta**: features of all 1,797 digits from a generation-0
  MLP trained 10 epochs; `core.evaluation.embed.embed_2d(features, "umap", 0)` against
  `umap.UMAP(random_state=0).fit_transform(features)`, each run once before timing (warm); trustworthiness is
  scikit-learn's with 5 neighbours.
- **epoch_s_***: one training epoch (generation 0) of the same MLP on 10 Gaussian clusters in 64 dimensions.
  **view_s_***: `embed_2d` of 256-d clustered points; above {embed_speed.embed.MAX_FIT_POINTS['umap']} points
  UMAP is fitted on a subsample and the others are placed from their exact nearest fitted neighbours.
- **preset_***: `core.engine.generations.run` of each preset (training, evaluation, 2-D views; the store is not written) in
  one child process with imports and UMAP's JIT warm, as in the app, after one tiny untimed run
  (preset_first_tiny_run_s: a process's first run pays torch.optim's first import). --quick caps every preset at
  {QUICK_CAPS['train.epochs']} epochs and {QUICK_CAPS['method.generations']} generations. cpu_s: the run's CPU
  seconds (every thread; on a loaded machine closer to what the run needs than the wall time). train_share: the
  part of the wall time spent in epochs; the rest is evaluation (k-NN, linear probe, 2-D views). Peak memory: the
  child's resident high-water mark during the run, reset before each (`/proc/self/clear_refs`), so torch's
  memory counts; preset_process_rss_mb is the warm process before the runs.
- **seed_batch_speedup** (section seeds, bench/seed_batch.py): training of 8 seeds of digits-ban-noisy (every
  generation, no views, no evaluation; --quick: 15 epochs per generation) one after another over the same 8 seeds
  as one stacked group (`core.methods.ban_batched`), interleaved in one process, median of per-round ratios.
  **seed_batch_floor_s**: the group's matmul FLOPs (as trainer_achieved_over_floor counts them, × 8 seeds) at the
  1024×1024 `torch.mm` rate timed in the same round on the group's threads (**seed_batch_threads**: the count the
  group's probe chose, `core.engine.devices.faster_thread_count`); **seed_batch_group_peak_rss_mb**: the
  resident high-water mark of a fresh process running a whole 8-seed group (training, evaluation, store writes).
- With --all, **dashboard_speed** (a real `streamlit run` server and Debian's headless Chromium; first paint and
  form from the server being healthy, Launch click to the first loss point drawn, slider and colour-button clicks
  to the chart redrawn; medians over the repeats; first_visit_s from the server healthy to the Launch button
  enabled; watched_over_unwatched: the same dry-run-sized run of over 15 s launched from the page twice in one
  server, watched on the Runs page or not, each run's wall_seconds) and **sweep_speed** (8 dry-run trials through the sweep driver
  on 2 warm local workers against 1, per-round medians, beside the same trials' training in a bare 2-process
  pool: what the machine gave two processes at that moment); their docstrings say more.
"""


def write_results(path: Path, results: dict[str, dict], columns: list[str], command: str, wall_s: float,
                  machine_line: str) -> None:
    header = ["section", "figure", *columns, "goal", ""]
    rows = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for name, values in results.items():
        goal, verdict = goal_text(name, {c: values[c] for c in columns if c in values})
        cells = [values["section"], name, *(show(values.get(c, "")) for c in columns), goal, verdict]
        rows.append("| " + " | ".join(cells) + " |")
    path.write_text(
        "# Benchmark results\n\n"
        f"- Machine: {machine_line}; load average at the end {load_average()}\n- Command: `{command}`\n"
        f"- Date: {time.strftime('%Y-%m-%d %H:%M %Z')}\n- Bench wall time: {wall_s:.0f} s\n\n"
        + "\n".join(rows) + "\n\n" + kept_notes(path))


def kept_notes(path: Path) -> str:
    """Everything below the table of an existing results file, from NOTES_HEADING on: the dated measurements
    written there by hand (with their commands) survive a new run. A new file starts from NOTES."""
    old = path.read_text() if path.exists() else ""
    return old[old.index(NOTES_HEADING):] if NOTES_HEADING in old else NOTES


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/run.py", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds, epochs and sizes: a few minutes")
    parser.add_argument("--only", type=lambda s: s.split(","), default=list(SECTIONS),
                        help=f"comma-separated sections: {', '.join(SECTIONS)}")
    parser.add_argument("--all", action="store_true", help=f"also run {', '.join(EXTRAS)} where present")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "RESULTS.md")
    args = parser.parse_args(argv)
    unknown = set(args.only) - set(SECTIONS)
    if unknown:
        parser.error(f"unknown section(s) {sorted(unknown)}; choose from {', '.join(SECTIONS)}")
    started, machine_line = time.perf_counter(), machine()
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    results: dict[str, dict] = {}  # figure -> {"section": ..., device: value}
    for section in args.only:
        fn, on_cuda = SECTIONS[section]
        for device in devices if on_cuda else devices[:1]:
            for name, value in fn(args.quick, device).items():
                results.setdefault(name, {"section": section})[device.type] = value
                suffix = "" if device.type == "cpu" else f"_{device.type}"
                print(f"{name}{suffix}: {show(value)}", flush=True)
    if args.all:
        for name, values in extras(args.quick).items():
            results[name] = values
            print(f"{name}: {show(values['cpu'])}", flush=True)
    command = "python bench/run.py " + " ".join(sys.argv[1:] if argv is None else argv)
    write_results(args.out, results, [d.type for d in devices], command.strip(), time.perf_counter() - started,
                  machine_line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
