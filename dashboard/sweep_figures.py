"""Tables and plotly figures of a sweep: the trials (as the store reports them) in, frames and figures out.

No streamlit here, so tests call every builder directly. The parallel-coordinates view is Optuna's own,
drawn from a study rebuilt from the points' mean objectives; the heatmap averages the seeds of each cell.
"""
from __future__ import annotations

import math
from typing import Any

import optuna
import pandas as pd
import plotly.graph_objects as go
from optuna.trial import create_trial

from core.config import RunConfig
from core.sweeps.spec import SweepSpec
from core.sweeps.store import point_means
from core.sweeps.driver import distributions

__all__ = ["trials_frame", "points_frame", "parallel_figure", "heatmap_figure", "launch_query"]

MAX_HEATMAP_VALUES = 12  # per axis; beyond it (ranges) the two parameters are shown as a scatter


def trials_frame(trials: list[dict], keys: list[str]) -> pd.DataFrame:
    """One row per run: point, one column per swept key, seed, status, objective, worker, run id, error."""
    rows = [{"point": t["point"], **{k: t["params"].get(k) for k in keys}, "seed": t["seed"],
             "status": t["status"], "objective": t["objective"], "worker": t["worker"], "run_id": t["run_id"],
             "error": t["error"]} for t in trials]
    columns = ["point", *keys, "seed", "status", "objective", "worker", "run_id", "error"]
    return pd.DataFrame(rows, columns=columns)


def points_frame(trials: list[dict], keys: list[str]) -> pd.DataFrame:
    """One row per point: its parameters, the mean objective over its finished seeds and how many finished."""
    rows = [{"point": p["point"], **{k: p["params"].get(k) for k in keys}, "objective": p["objective"],
             "seeds_finished": p["finished"]} for p in point_means(trials)]
    return pd.DataFrame(rows, columns=["point", *keys, "objective", "seeds_finished"])


def parallel_figure(points: pd.DataFrame, spec: SweepSpec) -> go.Figure:
    """Optuna's parallel-coordinates plot of the points that have a mean objective."""
    study = optuna.create_study(direction="maximize")
    space = distributions(spec)
    for row in points.dropna(subset=["objective"]).to_dict("records"):
        params = {k: _plain(row[k]) for k in spec.keys()}
        study.add_trial(create_trial(params=params, distributions=space, value=float(row["objective"])))
    fig = optuna.visualization.plot_parallel_coordinate(study, params=spec.keys(), target_name=spec.objective)
    fig.update_layout(title=None, margin={"t": 40, "b": 30})
    return fig


def heatmap_figure(points: pd.DataFrame, x_key: str, y_key: str, objective: str) -> go.Figure:
    """Mean objective over seeds for each (x, y) pair; a scatter coloured by it when the values are too many."""
    scored = points.dropna(subset=["objective"])
    hover = f"{x_key}=%{{x}}<br>{y_key}=%{{y}}<br>{objective}=%{{VALUE:.4f}}<extra></extra>"
    colorbar = {"title": {"text": objective}}
    if scored[x_key].nunique() > MAX_HEATMAP_VALUES or scored[y_key].nunique() > MAX_HEATMAP_VALUES:
        marker = {"color": scored["objective"], "colorscale": "Viridis", "size": 12, "showscale": True,
                  "colorbar": colorbar}
        fig = go.Figure(go.Scatter(x=scored[x_key], y=scored[y_key], mode="markers", marker=marker,
                                   hovertemplate=hover.replace("VALUE", "marker.color")))
    else:
        grid = scored.pivot_table(index=y_key, columns=x_key, values="objective", aggfunc="mean")
        text = [[("" if math.isnan(v) else f"{v:.3f}") for v in row] for row in grid.to_numpy()]
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(c) for c in grid.columns],
                                   y=[str(i) for i in grid.index], text=text, texttemplate="%{text}",
                                   colorscale="Viridis", colorbar=colorbar, hovertemplate=hover.replace("VALUE", "z")))
        fig.update_xaxes(type="category")
        fig.update_yaxes(type="category")
    fig.update_layout(xaxis_title=x_key, yaxis_title=y_key, margin={"t": 30, "b": 40})
    return fig


def launch_query(spec: SweepSpec, params: dict[str, Any]) -> dict[str, str]:
    """Query parameters that open the Launch page on ``params``: ``preset`` plus dotted config keys.

    The sweep's own defaults (no weights, PCA view) are left out: a run launched from there is a full run.
    A sweep on a custom config (no preset) passes every key.
    """
    if spec.preset is not None:
        return {"preset": spec.preset, **{k: _text(v) for k, v in {**spec.overrides, **params}.items()}}
    config = RunConfig.from_dict(spec.base).override({**spec.overrides, **params})
    return {k: _text(v) for k, v in config.flat().items()}


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        short = f"{value:g}"
        return short if float(short) == value else repr(value)
    return str(value)


def _plain(value: Any) -> Any:
    """numpy scalars from a DataFrame back to Python values (Optuna's distributions compare by type)."""
    return value.item() if hasattr(value, "item") else value

