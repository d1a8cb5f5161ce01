"""``python -m core run ... --seeds N``: each config of the preset runs as one seed group (core.engine.seed_group).

With ``--json`` each group prints one line ``{"group_id", "runs": [run objects as without --seeds], "summary":
{"generations": [{"generation", "test_accuracy": {"mean", "std", "min", "max"}, ...}], "seeds": [...]}}``;
without it, each run's report and then the group's mean ± std per generation."""
from __future__ import annotations

from core import metric_names
from core.cli import strict_json
from core.cli.errors import UsageError
from core.cli.progress import ProgressSink
from core.config import RunConfig
from core.storage import export as exporter
from core.storage.run_store import RunStore


def group_object(result: dict, run_keys: tuple[str, ...]) -> dict:
    """The group as ``--json`` prints it."""
    return {"group_id": result["group_id"], "runs": [{k: s.get(k) for k in run_keys} for s in result["summaries"]],
            "summary": result["summary"]}


def group_text(result: dict) -> str:
    """The group's id, its seeds' statuses and mean ± std (min–max) of the shown metrics per generation."""
    lines = [f"group {result['group_id']}: " + ", ".join(
        f"seed {s['config']['seed']} {s['status']}" for s in result["summaries"])]
    for row in result["summary"]["generations"]:
        cells = []
        for key in metric_names.SUMMARY:
            if key in row:
                s = row[key]
                std = "" if s["std"] is None else f" ± {s['std']:.4f}"
                cells.append(f"{key} {s['mean']:.4f}{std} ({s['min']:.4f}–{s['max']:.4f})")
        lines.append(f"generation {row['generation']}: " + "; ".join(cells))
    return "\n".join(lines)


def run_groups(configs: list[RunConfig], n_seeds: int, store: RunStore, label: str | None, as_json: bool,
               run_keys: tuple[str, ...]) -> int:
    """Run each config as a group of ``n_seeds`` seeds; exit code 0 when every run finished, else 1."""
    from core.engine.seed_group import MAX_SEEDS, execute_group

    if not 1 <= n_seeds <= MAX_SEEDS:  # refused before any run exists
        raise UsageError(f"error: --seeds {n_seeds}: must be an integer from 1 to {MAX_SEEDS}")
    statuses = []
    for config in configs:
        bars: list[ProgressSink] = []

        def progress(c: RunConfig) -> ProgressSink | None:  # one bar, for the group's first seed
            if bars:
                return None
            bars.append(ProgressSink(c))
            return bars[0]
        try:
            result = execute_group(config, n_seeds, store, label=label, sink_factory=progress)
        finally:
            for bar in bars:
                bar.close()
        statuses += [s["status"] for s in result["summaries"]]
        if as_json:
            print(strict_json.dumps(group_object(result, run_keys)), flush=True)
        else:
            for summary in result["summaries"]:
                print(exporter.summary_text(summary), flush=True)
            print(group_text(result), flush=True)
    return 0 if all(s == "finished" for s in statuses) else 1
