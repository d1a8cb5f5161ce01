"""Tables and plotly figures of a sweep: the trials (as the store reports them) in, frames and figures out.

No streamlit here, so tests call every builder directly. The parallel coordinates and the heatmap show each
point's mean objective over its seeds, on a colour scale no narrower than MIN_COLOUR_SPAN.
"""
from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.config import RunConfig
from core.sweeps.spec import SweepSpec
from core.sweeps.store import point_means

__all__ = ["trials_frame", "points_frame", "parallel_figure", "heatmap_figure", "launch_query"]

MAX_HEATMAP_VALUES = 12  # per axis; beyond it (ranges) the two parameters are shown as a scatter


def trials_frame(trials: list[dict], keys: list[str], spec: SweepSpec | None = None) -> pd.DataFrame:
    """One row per run: point, one column per swept key, seed, status, objective, worker, run id, error.

    With ``spec``, the runs not started yet are listed too, as ``queued``: the driver asks the sampler for a
    point only when a worker is free, so they have no row in the store. A grid's remaining points are known
    (their values are shown); a random or TPE point is not sampled yet (its values are empty)."""
    rows = [{"point": t["point"], **{k: t["params"].get(k) for k in keys}, "seed": t["seed"],
             "status": t["status"], "objective": t["objective"], "worker": t["worker"], "run_id": t["run_id"],
             "error": t["error"]} for t in trials]
    if spec is not None:
        rows += _not_started(trials, keys, spec)
    columns = ["point", *keys, "seed", "status", "objective", "worker", "run_id", "error"]
    return pd.DataFrame(rows, columns=columns)


def _not_started(trials: list[dict], keys: list[str], spec: SweepSpec) -> list[dict]:
    """Rows for the runs of ``spec`` that have no trial yet, status ``queued``."""
    blank = {"objective": None, "worker": None, "run_id": None, "error": None, "status": "queued"}
    base_seed = spec.base_config().seed
    seen: dict[tuple, set[int]] = {}
    for t in trials:
        seen.setdefault(tuple(t["params"].get(k) for k in keys), set()).add(t["seed_index"])
    rows = []
    for combo, indices in seen.items():  # a sampled point whose other seeds have not started
        point = next(t["point"] for t in trials if tuple(t["params"].get(k) for k in keys) == combo)
        rows += [{"point": point, **dict(zip(keys, combo)), "seed": base_seed + i, **blank}
                 for i in range(spec.seeds) if i not in indices]
    if spec.sampler == "grid" and all(not p.is_range for p in spec.params):
        for combo in itertools.product(*(p.values for p in spec.params)):
            if combo not in seen:
                rows += [{"point": None, **dict(zip(keys, combo)), "seed": base_seed + i, **blank}
                         for i in range(spec.seeds)]
    else:
        missing = spec.total_runs() - len(trials) - len(rows)
        rows += [{"point": None, **{k: None for k in keys}, "seed": None, **blank} for _ in range(max(missing, 0))]
    return rows


def points_frame(trials: list[dict], keys: list[str]) -> pd.DataFrame:
    """One row per point: its parameters, the mean objective over its finished seeds and how many finished."""
    rows = [{"point": p["point"], **{k: p["params"].get(k) for k in keys}, "objective": p["objective"],
             "seeds_finished": p["finished"]} for p in point_means(trials)]
    return pd.DataFrame(rows, columns=["point", *keys, "objective", "seeds_finished"])


def parallel_figure(points: pd.DataFrame, spec: SweepSpec) -> go.Figure:
    """Parallel coordinates of the points that have a mean objective: one axis per swept key, then the objective,
    each line coloured by the objective. Every axis gets its own ticks, labelled with just enough digits that no
    two read the same (Optuna's own plot rounded 0.8504 and 0.8508 both to 0.851); a log-range key is drawn on a
    log10 axis labelled with the values."""
    scored = points.dropna(subset=["objective"])
    dimensions = [_dimension(key, scored[key].tolist(), _log_key(spec, key)) for key in spec.keys()]
    objective = scored["objective"].astype(float).tolist()
    low, high = colour_range(objective)
    dimensions.append({"label": spec.objective, "values": objective, "range": [low, high],
                       **_ticks(list(np.linspace(low, high, 5)))})
    line = {"color": objective, "colorscale": "Viridis", "cmin": low, "cmax": high, "showscale": True,
            "colorbar": {"title": {"text": spec.objective}}}
    fig = go.Figure(go.Parcoords(dimensions=dimensions, line=line))
    fig.update_layout(margin={"t": 50, "b": 30, "l": 70, "r": 40})
    return fig


def _log_key(spec: SweepSpec, key: str) -> bool:
    return any(p.key == key and p.is_range and p.log for p in spec.params)


def _dimension(key: str, values: list, log: bool) -> dict:
    """One axis: numbers as they are (log10 for a log range), anything else as categories 0..n-1."""
    if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
        numbers = [float(v) for v in values]
        if log and min(numbers) > 0:
            shown = sorted(set(numbers)) if len(set(numbers)) <= MAX_HEATMAP_VALUES else list(
                np.geomspace(min(numbers), max(numbers), 5))
            ticks = _ticks(shown)
            return {"label": f"{key} (log)", "values": list(np.log10(numbers)),
                    "tickvals": list(np.log10(ticks["tickvals"])), "ticktext": ticks["ticktext"]}
        shown = sorted(set(numbers)) if len(set(numbers)) <= MAX_HEATMAP_VALUES else list(
            np.linspace(min(numbers), max(numbers), 5))
        return {"label": key, "values": numbers, **_ticks(shown)}
    names = sorted({str(v) for v in values})
    return {"label": key, "values": [names.index(str(v)) for v in values], "tickvals": list(range(len(names))),
            "ticktext": names}


def _ticks(values: list[float]) -> dict:
    """Tick positions (duplicates dropped) and labels with the fewest significant digits that tell them apart."""
    unique = sorted(set(float(v) for v in values))
    for digits in range(2, 10):
        text = [f"{v:.{digits}g}" for v in unique]
        if len(set(text)) == len(text):
            break
    return {"tickvals": unique, "ticktext": text}


MIN_COLOUR_SPAN = 0.05  # an objective spread over less than this is drawn on this wide a scale


def colour_range(values: list[float]) -> tuple[float, float]:
    """The colour (and objective axis) range: the values' own when they spread over MIN_COLOUR_SPAN or more, else
    MIN_COLOUR_SPAN centred on them (kept inside [0, 1] when the values are), so that points 0.003 apart, one
    seed's noise, do not span the whole scale from dark to bright."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return 0.0, 1.0
    low, high = min(finite), max(finite)
    if high - low >= MIN_COLOUR_SPAN:
        return low, high
    centre = (low + high) / 2
    low, high = centre - MIN_COLOUR_SPAN / 2, centre + MIN_COLOUR_SPAN / 2
    if 0.0 <= min(finite) and max(finite) <= 1.0:  # a share: keep the scale inside [0, 1]
        shift = max(0.0 - low, 0.0) - max(high - 1.0, 0.0)
        low, high = low + shift, high + shift
    return low, high


def heatmap_figure(points: pd.DataFrame, x_key: str, y_key: str, objective: str) -> go.Figure:
    """Mean objective over seeds for each (x, y) pair; a scatter coloured by it when the values are too many."""
    scored = points.dropna(subset=["objective"])
    hover = f"{x_key}=%{{x}}<br>{y_key}=%{{y}}<br>{objective}=%{{VALUE:.4f}}<extra></extra>"
    colorbar = {"title": {"text": objective}}
    if scored[x_key].nunique() > MAX_HEATMAP_VALUES or scored[y_key].nunique() > MAX_HEATMAP_VALUES:
        low, high = colour_range(scored["objective"].astype(float).tolist())
        marker = {"color": scored["objective"], "colorscale": "Viridis", "size": 12, "showscale": True,
                  "colorbar": colorbar, "cmin": low, "cmax": high}
        fig = go.Figure(go.Scatter(x=scored[x_key], y=scored[y_key], mode="markers", marker=marker,
                                   hovertemplate=hover.replace("VALUE", "marker.color")))
    else:
        grid = scored.pivot_table(index=y_key, columns=x_key, values="objective", aggfunc="mean")
        zmin, zmax = colour_range(grid.to_numpy().ravel().tolist())
        text = [[("" if math.isnan(v) else f"{v:.3f}") for v in row] for row in grid.to_numpy()]
        fig = go.Figure(go.Heatmap(z=grid.to_numpy(), x=[str(c) for c in grid.columns],
                                   y=[str(i) for i in grid.index], text=text, texttemplate="%{text}",
                                   colorscale="Viridis", colorbar=colorbar, hovertemplate=hover.replace("VALUE", "z"),
                                   zmin=zmin, zmax=zmax))
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
