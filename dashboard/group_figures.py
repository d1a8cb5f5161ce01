"""Pure builders for a seed group (issue 14): every curve as the mean over seeds with a min–max band and each seed
as a faint line; accuracy per generation as the mean with per-seed dots; the per-generation table as mean ± std.

One run is one draw: on digits-ban-noisy the born-again gain moved from +0.8 to +4.1 points between seeds. These
builders show the spread, so a lesson is read off the mean and the band rather than off one seed.
Nothing here imports streamlit; tests check the traces' numbers against numpy.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core import metric_names
from core.reports.template import TEMPLATE

MEAN_COLOR = "#1F5FAD"
BAND_COLOR = "rgba(31, 95, 173, 0.18)"
SEED_COLOR = "rgba(90, 90, 100, 0.28)"
_LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=10, b=10), height=380,
               legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def epoch_matrix(epochs_by_seed: Mapping[int, Sequence[Mapping]], metric: str) -> tuple[np.ndarray, np.ndarray]:
    """(x, values [seeds, steps]): the metric at every (generation, epoch) step that every seed has reached, in
    order; x is the running epoch count (generation · epochs + epoch + 1 for equal-length generations)."""
    frames = [pd.DataFrame(list(rows)) for rows in epochs_by_seed.values()]
    frames = [f for f in frames if not f.empty and metric in f]
    if not frames:
        return np.zeros(0), np.zeros((0, 0))
    keys = set.intersection(*(set(zip(f["generation"], f["epoch"])) for f in frames))
    order = sorted(keys)
    values = np.array([[f.set_index(["generation", "epoch"])[metric].get(k, np.nan) for k in order] for f in frames],
                      dtype=float)
    return np.arange(1, len(order) + 1, dtype=float), values


def _band(fig: go.Figure, x: np.ndarray, values: np.ndarray, name: str, seeds: Sequence[int], fmt: str) -> go.Figure:
    """Faint per-seed lines, the min–max band and the mean line."""
    for seed, row in zip(seeds, values):
        fig.add_scatter(x=x, y=row, mode="lines", name=f"seed {seed}", line=dict(color=SEED_COLOR, width=1),
                        legendgroup="seeds", showlegend=False,
                        hovertemplate=f"seed {seed}: %{{y:{fmt}}}<extra></extra>")
    fig.add_scatter(x=x, y=np.nanmax(values, axis=0), mode="lines", line=dict(width=0), name="max over seeds",
                    showlegend=False, hoverinfo="skip")
    fig.add_scatter(x=x, y=np.nanmin(values, axis=0), mode="lines", line=dict(width=0), fill="tonexty",
                    fillcolor=BAND_COLOR, name="min–max over seeds", hoverinfo="skip")
    fig.add_scatter(x=x, y=np.nanmean(values, axis=0), mode="lines", name=f"mean {name}",
                    line=dict(color=MEAN_COLOR, width=2.5), hovertemplate=f"mean: %{{y:{fmt}}}<extra></extra>")
    return fig


def epoch_band_figure(epochs_by_seed: Mapping[int, Sequence[Mapping]], metric: str, title: str,
                      percent: bool = False) -> go.Figure:
    """One per-epoch metric (a loss part or an accuracy) over the whole run, as mean, band and faint seeds."""
    x, values = epoch_matrix(epochs_by_seed, metric)
    fig = go.Figure().update_layout(**_LAYOUT, xaxis=dict(title="epoch (all generations in a row)"),
                                    yaxis=dict(title=title, tickformat=".0%" if percent else None))
    if not len(x):
        return fig.add_annotation(text="waiting for the first epoch of every seed…", showarrow=False, xref="paper",
                                  yref="paper", x=0.5, y=0.5)
    return _band(fig, x, values, title, list(epochs_by_seed), ".1%" if percent else ".3f")


def generation_matrix(generations_by_seed: Mapping[int, Sequence[Mapping]], metric: str
                      ) -> tuple[np.ndarray, np.ndarray]:
    """(generations that every seed finished, values [seeds, generations])."""
    rows = [{int(g["generation"]): g.get(metric) for g in gens} for gens in generations_by_seed.values()]
    if not rows:
        return np.zeros(0), np.zeros((0, 0))
    common = sorted(set.intersection(*(set(r) for r in rows)))
    values = np.array([[np.nan if r[g] is None else r[g] for g in common] for r in rows], dtype=float)
    return np.array(common, dtype=float), values


def generation_spread_figure(generations_by_seed: Mapping[int, Sequence[Mapping]], metric: str = "test_accuracy"
                             ) -> go.Figure:
    """Accuracy per generation: the mean over seeds (line), the min–max band, and one dot per seed."""
    label = metric_names.METRICS[metric].label if metric in metric_names.METRICS else metric
    x, values = generation_matrix(generations_by_seed, metric)
    fig = go.Figure().update_layout(**_LAYOUT, xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(title=label, tickformat=".1%"))
    if not len(x):
        return fig.add_annotation(text="waiting for generation 0 of every seed…", showarrow=False, xref="paper",
                                  yref="paper", x=0.5, y=0.5)
    seeds = list(generations_by_seed)
    fig.add_scatter(x=x, y=np.nanmax(values, axis=0), mode="lines", line=dict(width=0), showlegend=False,
                    hoverinfo="skip", name="max over seeds")
    fig.add_scatter(x=x, y=np.nanmin(values, axis=0), mode="lines", line=dict(width=0), fill="tonexty",
                    fillcolor=BAND_COLOR, name="min–max over seeds", hoverinfo="skip")
    jitter = np.linspace(-0.08, 0.08, len(seeds)) if len(seeds) > 1 else np.zeros(1)
    fig.add_scatter(x=np.concatenate([x + j for j in jitter]), y=values.reshape(-1), mode="markers",
                    name="each seed", marker=dict(size=7, color=SEED_COLOR.replace("0.28", "0.6")),
                    customdata=np.repeat(seeds, len(x)), hovertemplate="seed %{customdata}: %{y:.1%}<extra></extra>")
    fig.add_scatter(x=x, y=np.nanmean(values, axis=0), mode="lines+markers", name=f"mean {label}",
                    line=dict(color=MEAN_COLOR, width=2.5), marker=dict(size=9),
                    hovertemplate="mean: %{y:.1%}<extra></extra>")
    return fig


def spread_table(generations_by_seed: Mapping[int, Sequence[Mapping]]) -> pd.DataFrame:
    """Per generation, "mean ± std" (sample std over seeds) of every metric of the per-generation table, and the
    number of seeds counted; percentages for accuracies, three decimals otherwise."""
    headers = metric_names.shorts(metric_names.GENERATION_TABLE)
    percent = set(metric_names.percent_headers(metric_names.GENERATION_TABLE))
    rows = []
    for metric, header in headers.items():
        x, values = generation_matrix(generations_by_seed, metric)
        for i, generation in enumerate(x):
            column = values[:, i][~np.isnan(values[:, i])] if values.size else np.zeros(0)
            if not len(column):
                continue
            scale, unit, digits = (100, "%", 1) if header in percent else (1, "", 3)
            text = f"{column.mean() * scale:.{digits}f}{unit}"
            if len(column) > 1:
                text += f" ± {column.std(ddof=1) * scale:.{digits}f}"
            rows.append({"generation": int(generation), "header": header, "text": text, "n": len(column)})
    if not rows:
        return pd.DataFrame(columns=["generation", "seeds"])
    frame = pd.DataFrame(rows)
    table = frame.pivot(index="generation", columns="header", values="text")
    table = table[[h for h in headers.values() if h in table.columns]]
    table.insert(0, "seeds", frame.groupby("generation")["n"].max())
    return table.reset_index()
