"""Pure table builders for the pages: run lists, per-generation metrics, 2-D points, config diffs, seed groups."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from core import metric_names
from core.config import flatten
from core.storage.export import run_row

GENERATION_COLUMNS = {"generation": "generation", **metric_names.shorts(metric_names.GENERATION_TABLE)}
PERCENT_COLUMNS = metric_names.percent_headers(metric_names.GENERATION_TABLE)
MAX_POINTS = 3000


def run_name(run: Mapping) -> str:
    """A short human name: the run's name, else its label (preset), then the id."""
    head = run.get("name") or run.get("label")
    return f"{head} · {run['id']}" if head else run["id"]


def runs_frame(runs: Sequence[Mapping]) -> pd.DataFrame:
    """One row per run, newest first as given: what it is, how it went, and when it started."""
    rows = []
    for run in runs:
        row = run_row(run)
        started = run.get("started") or run["created"]
        rows.append({"run": row["run_id"], "name": row["name"], "preset": row["preset"], "status": row["status"],
                     "method": row["method"], "data": row["data"], "noise": row["label_noise"],
                     "gens": row["generations"], "epochs": row["epochs"], "seed": row["seed"],
                     "test acc": row.get("test_accuracy"), "ensemble acc": row.get("ensemble_accuracy"),
                     "k-NN acc": row.get("knn_accuracy"), "started": datetime.fromtimestamp(started)})
    return pd.DataFrame(rows, columns=["run", "name", "preset", "status", "method", "data", "noise", "gens", "epochs",
                                       "seed", "test acc", "ensemble acc", "k-NN acc", "started"])


CAPTIONS = {
    "ECE (calibration)": "ECE: expected calibration error (lower is better calibrated).",
    "agrees with teacher": "Agrees with teacher: share of test inputs where this generation predicts the class its "
                           "teacher (the previous generation) predicts.",
    "memorized noise": "Memorized noise: share of flipped training labels the generation reproduces.",
    "WER": "WER: word error rate, the share of misrecognised spoken words (lower is better).",
}
CLEAN_LABELS_NOTE = ("k-NN and probe accuracies are scored with the clean labels, which training never saw; the "
                     "training itself used the noisy ones.")


def generation_caption(columns: Sequence[str], noisy: bool) -> str:
    """The table's legend: only the columns it shows, and where labels were noisy, which labels score what."""
    parts = [text for column, text in CAPTIONS.items() if column in columns]
    if noisy and any(c in columns for c in ("k-NN acc", "probe acc")):
        parts.append(CLEAN_LABELS_NOTE)
    return " ".join(parts)


def generation_frame(generations: Sequence[Mapping]) -> pd.DataFrame:
    """Per-generation metrics with readable column names; metrics the run lacks are left out."""
    frame = pd.DataFrame(list(generations))
    keep = [c for c in GENERATION_COLUMNS if c in frame]
    return frame[keep].rename(columns=GENERATION_COLUMNS)


def embedding_points(embedding: np.ndarray, labels: np.ndarray, probs: np.ndarray | None = None,
                     limit: int = MAX_POINTS, seed: int = 0) -> pd.DataFrame:
    """Test points of one generation's 2-D view: index, x, y, label (+ prediction, correct with probs).

    The view is centred and scaled to a root-mean-square radius of 1: a 2-D embedding's scale carries no
    meaning, and this way every generation fills the same frame; the rotation that aligns the generations
    is kept, so directions match across frames. Above ``limit`` points a seeded subsample is kept, the same
    one for every generation of a run.
    """
    centred = embedding - embedding.mean(0)
    view = centred / (np.sqrt((centred**2).sum(1).mean()) or 1.0)
    index = np.arange(len(labels))
    if len(index) > limit:
        index = np.sort(np.random.default_rng(seed).choice(len(index), size=limit, replace=False))
    frame = pd.DataFrame({"index": index, "x": view[index, 0], "y": view[index, 1], "label": labels[index]})
    if probs is not None:
        frame["prediction"] = probs[index].argmax(1)
        frame["correct"] = frame["prediction"] == frame["label"]
    return frame


def telling_point(probs: Sequence[np.ndarray], labels: np.ndarray) -> tuple[int, str]:
    """A test input worth a first look, and why: the first one generation 0 gets wrong and the last gets right,
    else the first whose prediction changes between them, else input 0."""
    if len(probs) >= 2:
        first, last = probs[0].argmax(1), probs[-1].argmax(1)
        fixed = np.flatnonzero((first != labels) & (last == labels))
        if len(fixed):
            return int(fixed[0]), "generation 0 gets it wrong, the last generation right"
        changed = np.flatnonzero(first != last)
        if len(changed):
            return int(changed[0]), "its prediction changes across generations"
    return 0, "the first test input"




def config_diff(configs: Mapping[str, Mapping]) -> pd.DataFrame:
    """Keys whose values differ between the named configs (rows), one column per config."""
    flat = {name: flatten(config) for name, config in configs.items()}
    keys = sorted(set().union(*flat.values())) if flat else []
    differing = [k for k in keys if len({json.dumps(f.get(k)) for f in flat.values()}) > 1]
    return pd.DataFrame({name: [f.get(k) for k in differing] for name, f in flat.items()}, index=differing,
                        dtype=object).rename_axis("key")


def seed_groups(runs: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    """Runs grouped by their config without the seed, named by their first member and the seeds they span."""
    groups: dict[str, list[Mapping]] = {}
    for run in runs:
        config = {k: v for k, v in flatten(run["config"]).items() if k != "seed"}
        groups.setdefault(json.dumps(config, sort_keys=True), []).append(run)
    named = {}
    for members in groups.values():
        first = run_name(members[0])
        if len(members) > 1:
            seeds = ", ".join(str(m["config"]["seed"]) for m in members)
            first = f"{members[0].get('label') or members[0]['id']} · {len(members)} seeds ({seeds})"
        named[first] = members
    return named


def metric_by_generation(groups: Mapping[str, Sequence[Sequence[Mapping]]], metric: str) -> pd.DataFrame:
    """Mean, sample std (NaN for one run) and count of ``metric`` per generation, per named group.

    ``groups`` maps a name to the generation lists of its runs; a generation only some runs reached
    averages over those runs.
    """
    rows = []
    for name, members in groups.items():
        values: dict[int, list[float]] = {}
        for generations in members:
            for row in generations:
                if row.get(metric) is not None:
                    values.setdefault(int(row["generation"]), []).append(float(row[metric]))
        for generation, vals in sorted(values.items()):
            rows.append({"name": name, "generation": generation, "mean": float(np.mean(vals)),
                         "std": float(np.std(vals, ddof=1)) if len(vals) > 1 else float("nan"), "n": len(vals)})
    return pd.DataFrame(rows, columns=["name", "generation", "mean", "std", "n"])


def mean_std_table(series: pd.DataFrame) -> pd.DataFrame:
    """``metric_by_generation`` as text, one row per group and one column per generation: 0.912 ± 0.004."""
    if series.empty:
        return pd.DataFrame()
    text = series.apply(lambda r: f"{r['mean']:.3f}" + (f" ± {r['std']:.3f}" if r["n"] > 1 else ""), axis=1)
    table = series.assign(text=text).pivot(index="name", columns="generation", values="text")
    table.columns = [f"gen {g}" for g in table.columns]
    return table.rename_axis(None)
