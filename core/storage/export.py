"""Turn stored runs into files (CSV, JSON) and plain-text tables for the CLI."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from core import metric_names
from core.storage.run_store import RunStore

SUMMARY_COLUMNS = metric_names.SUMMARY


def embedding_frame(store: RunStore, run_id: str, generation: int) -> pd.DataFrame | None:
    """x, y, label, prediction (where the run has one), correct — one row per test point; None without a view."""
    arrays = store.load_arrays(run_id, f"gen{generation}")
    if "embedding" not in arrays:
        return None
    labels = store.load_arrays(run_id, "run")["y_test"]
    frame = pd.DataFrame({"x": arrays["embedding"][:, 0], "y": arrays["embedding"][:, 1], "label": labels})
    if "probs" in arrays:
        frame["prediction"] = arrays["probs"].argmax(1)
        frame["correct"] = frame["prediction"] == frame["label"]
    else:
        frame["correct"] = np.nan
    return frame


def export_run(store: RunStore, run_id: str, out: Path) -> list[Path]:
    """Write metrics.csv, generations.csv, config.json, embedding_gen{k}.csv (and attention_gen{k}.npz for a ViT);
    return the paths."""
    run = store.get_run(run_id)
    out.mkdir(parents=True, exist_ok=True)
    written = [out / "metrics.csv", out / "generations.csv", out / "config.json"]
    pd.DataFrame(store.epochs(run_id)).to_csv(written[0], index=False)
    generations = store.generations(run_id)
    pd.DataFrame(generations).to_csv(written[1], index=False)
    written[2].write_text(json.dumps(run["config"], indent=2, sort_keys=True))
    for row in generations:
        frame = embedding_frame(store, run_id, row["generation"])
        if frame is not None:
            path = out / f"embedding_gen{row['generation']}.csv"
            frame.to_csv(path, index=False)
            written.append(path)
        written += _export_attention(store, run_id, row["generation"], out)
    return written


def _export_attention(store: RunStore, run_id: str, generation: int, out: Path) -> list[Path]:
    """attention_gen{k}.npz for a ViT run: heads (N, heads, gh, gw), their mean (N, gh, gw), the test labels."""
    maps = store.load_arrays(run_id, f"gen{generation}").get("attention")
    if maps is None:
        return []
    path = out / f"attention_gen{generation}.npz"
    np.savez_compressed(path, heads=maps, mean=maps.mean(axis=1), labels=store.load_arrays(run_id, "run")["y_test"])
    return [path]


def run_row(run: dict) -> dict:
    """One line of the run list: id, status, method, key hyperparameters, final metrics."""
    config, summary = run["config"], run.get("summary") or {}
    last = (summary.get("generations") or [{}])[-1]
    return {"run_id": run["id"], "name": run.get("name") or "", "preset": run.get("label") or "",
            "status": run["status"], "method": config["method"]["name"],
            "data": config["data"]["name"], "label_noise": config["data"]["label_noise"],
            "generations": config["method"]["generations"], "epochs": config["train"]["epochs"],
            "seed": config["seed"], "created": run["created"],
            **{k: last[k] for k in SUMMARY_COLUMNS if k in last}}


def runs_table(runs: list[dict]) -> str:
    if not runs:
        return "no runs in this store yet: try `python -m core run --preset dry-run`"
    # a name or a note may be long: cut it in the table (``list --json`` and ``show`` give it whole)
    frame = pd.DataFrame([run_row(r) for r in runs]).drop(columns=["created"])
    frame["name"] = [n if len(n) <= 24 else n[:23] + "…" for n in frame["name"]]
    return frame.to_string(index=False)


def summary_text(summary: dict) -> str:
    """A short human-readable report of one run."""
    lines = [f"run {summary.get('run_id')}: {summary['status']}"]
    lines += [f"{key}: {summary[key]}" for key in ("name", "note") if summary.get(key)]
    if summary.get("error"):
        lines.append(f"error: {summary['error']}")
    for key, value in (summary.get("baselines") or {}).items():
        lines.append(f"baseline {key}: {value:.4f}")
    if summary.get("best_generation") is not None:
        lines.append(f"best generation (chosen on validation): {summary['best_generation']}")
    if summary.get("generations"):
        frame = pd.DataFrame(summary["generations"])
        keep = ["generation"] + [c for c in SUMMARY_COLUMNS if c in frame.columns]
        lines.append(frame[keep].to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    lines += [f"warning: {w}" for w in summary.get("warnings") or []]
    return "\n".join(lines)
