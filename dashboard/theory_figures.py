"""Plotly figures for the kernel-ridge self-distillation page: arrays in, figure out (no streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale
from plotly.subplots import make_subplots

__all__ = ["error_figure", "fit_figure", "rounds_figure", "shrink_figure"]

_TRUTH, _DATA, _BEST = "#444444", "#d62728", "#ff7f0e"
_LAYOUT = {"margin": {"t": 70, "b": 40}, "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"}}


def fit_figure(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_eval: np.ndarray,
    y_true: np.ndarray,
    predictions: np.ndarray,
    shown_round: int,
) -> go.Figure:
    """Data, truth and the fits of rounds 1..shown_round (earlier rounds faint, shown_round bold)."""
    if not 1 <= shown_round <= len(predictions):
        raise ValueError(f"shown_round must lie in [1, {len(predictions)}], got {shown_round}")
    fig = go.Figure()
    fig.add_scatter(x=x_eval, y=y_true, mode="lines", name="truth sin(2πx)", line={"color": _TRUTH, "dash": "dash"})
    fig.add_scatter(x=x_train, y=y_train, mode="markers", name="noisy labels", marker={"color": _DATA, "size": 8})
    colors = sample_colorscale("Viridis", np.linspace(0.0, 0.85, shown_round).tolist())
    for t in range(1, shown_round + 1):
        last = t == shown_round
        fig.add_scatter(
            x=x_eval, y=predictions[t - 1], mode="lines", name=f"round {t}", showlegend=last or t == 1,
            line={"color": colors[t - 1], "width": 3.5 if last else 1.2}, opacity=1.0 if last else 0.45,
        )
    fig.update_layout(xaxis_title="x", yaxis_title="f(x)", **_LAYOUT)
    return fig


def error_figure(errors: np.ndarray, selected_round: int, zero_error: float | None = None) -> go.Figure:
    """Mean squared error vs the truth per round, with the best and the selected round marked."""
    rounds = np.arange(1, len(errors) + 1)
    best = int(np.argmin(errors))
    fig = go.Figure()
    fig.add_scatter(x=rounds, y=errors, mode="lines+markers", name="error vs truth", line={"color": "#1f77b4"})
    fig.add_scatter(
        x=[best + 1], y=[errors[best]], mode="markers", name=f"best: round {best + 1}",
        marker={"color": _BEST, "size": 14, "symbol": "star"},
    )
    fig.add_vline(x=selected_round, line_dash="dot", line_color="#888888")
    if zero_error is not None:
        fig.add_hline(y=zero_error, line_dash="dash", line_color=_TRUTH, annotation_text="zero function")
    fig.update_layout(xaxis_title="round", yaxis_title="MSE vs truth", **_LAYOUT)
    return fig


def shrink_figure(shrink: np.ndarray, filtered: np.ndarray | None = None, label: str = "") -> go.Figure:
    """Bars of the one-round shrink factor per eigen-direction, optionally beside a cumulative filter."""
    directions = np.arange(1, len(shrink) + 1)
    fig = go.Figure()
    fig.add_bar(x=directions, y=shrink, name="one round: d/(d+λ)", marker_color="#9ecae1")
    if filtered is not None:
        fig.add_bar(x=directions, y=filtered, name=label or "filter", marker_color="#08519c")
    fig.update_layout(
        barmode="group", xaxis_title="eigen-direction (largest eigenvalue first)", yaxis_title="factor",
        yaxis_range=[0, 1.05], **_LAYOUT,
    )
    return fig


# Trace order of rounds_figure; ROUND_TRACES are the ones each frame replaces (the round's fit, its marker on the
# error curve and its filter), so a slider step sends three small arrays and redraws nothing else.
ROUNDS_TRACES = ("truth", "labels", "round 1", "round t", "error", "best", "round t error", "one round", "filter")
ROUND_TRACES = [ROUNDS_TRACES.index(name) for name in ("round t", "round t error", "filter")]
ROUND_STEP = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}


def _round_title(t: int, errors: np.ndarray) -> str:
    return f"round {t}: MSE vs truth {errors[t - 1]:.4f} ({errors[t - 1] - errors[0]:+.4f} vs round 1)"


def rounds_figure(x_train: np.ndarray, y_train: np.ndarray, x_eval: np.ndarray, y_true: np.ndarray,
                  predictions: np.ndarray, errors: np.ndarray, shrink: np.ndarray, filters: np.ndarray,
                  start_round: int, zero_error: float | None = None) -> go.Figure:
    """The fit, the error per round and the per-direction filter in one figure, with every round precomputed
    as an animation frame and a plotly slider over them: moving it redraws in the browser, with no server
    round trip. ``predictions`` and ``filters`` have one row per round (1..R); ``start_round`` is shown first."""
    rounds = len(predictions)
    if not 1 <= start_round <= rounds or len(errors) != rounds or len(filters) != rounds:
        raise ValueError(f"start_round must lie in [1, {rounds}] and errors, filters need {rounds} rows")
    # the gap between the rows holds the fit's x-axis title and the round slider
    fig = make_subplots(rows=2, cols=2, specs=[[{"colspan": 2}, None], [{}, {}]], vertical_spacing=0.26,
                        row_heights=[0.6, 0.4],
                        subplot_titles=("fit per round", "error vs truth per round", "shrink per eigen-direction"))
    best = int(np.argmin(errors))
    directions = np.arange(1, len(shrink) + 1)
    t0 = start_round

    def moving(t: int) -> list[dict]:
        return [{"type": "scatter", "y": predictions[t - 1].tolist()},
                {"type": "scatter", "x": [t], "y": [float(errors[t - 1])]},
                {"type": "bar", "y": filters[t - 1].tolist(), "name": f"after {t} round(s)"}]

    fit = {"row": 1, "col": 1}
    fig.add_scatter(x=x_eval, y=y_true, mode="lines", name="truth sin(2πx)",
                    line={"color": _TRUTH, "dash": "dash"}, **fit)
    fig.add_scatter(x=x_train, y=y_train, mode="markers", name="noisy labels", marker={"color": _DATA, "size": 8},
                    **fit)
    fig.add_scatter(x=x_eval, y=predictions[0], mode="lines", name="round 1", opacity=0.5,
                    line={"color": "#9ecae1", "width": 1.5}, **fit)
    fig.add_scatter(x=x_eval, y=predictions[t0 - 1], mode="lines", name="round t",
                    line={"color": "#08519c", "width": 3.5}, **fit)
    err = {"row": 2, "col": 1}
    fig.add_scatter(x=np.arange(1, rounds + 1), y=errors, mode="lines+markers", name="error vs truth",
                    line={"color": "#1f77b4"}, marker={"size": 4}, showlegend=False, **err)
    fig.add_scatter(x=[best + 1], y=[errors[best]], mode="markers", name=f"best: round {best + 1}",
                    marker={"color": _BEST, "size": 14, "symbol": "star"}, **err)
    fig.add_scatter(x=[t0], y=[errors[t0 - 1]], mode="markers", name="round t error", showlegend=False,
                    marker={"color": "#08519c", "size": 12, "line": {"color": "white", "width": 2}}, **err)
    if zero_error is not None:
        fig.add_hline(y=zero_error, line_dash="dash", line_color=_TRUTH, annotation_text="zero function", **err)
    bars = {"row": 2, "col": 2}
    fig.add_bar(x=directions, y=shrink, name="one round: d/(d+λ)", marker_color="#9ecae1", **bars)
    fig.add_bar(x=directions, y=filters[t0 - 1], name=f"after {t0} round(s)", marker_color="#08519c", **bars)
    fig.update_xaxes(title_text="x", row=1, col=1)
    fig.update_yaxes(title_text="f(x)", range=_padded_range(y_train, y_true), row=1, col=1)
    fig.update_xaxes(title_text="round", row=2, col=1)
    fig.update_yaxes(title_text="MSE vs truth", row=2, col=1)
    fig.update_xaxes(title_text="eigen-direction (largest eigenvalue first)", row=2, col=2)
    fig.update_yaxes(title_text="factor", range=[0, 1.05], row=2, col=2)
    fig.frames = [go.Frame(name=str(t), traces=ROUND_TRACES, data=moving(t),
                           layout={"title": {"text": _round_title(t, errors)}}) for t in range(1, rounds + 1)]
    fig.update_layout(
        height=860, barmode="group", margin={"t": 120, "b": 40},
        title={"text": _round_title(t0, errors), "y": 0.985, "yref": "container", "yanchor": "top"},
        legend={"orientation": "h", "x": 0, "y": 1.06, "yanchor": "bottom"},
        sliders=[{"active": t0 - 1, "x": 0.0, "len": 1.0, "y": 0.475, "yanchor": "top", "pad": {"t": 0},
                  "currentvalue": {"prefix": "round t = ", "font": {"size": 14}},
                  "steps": [{"label": str(t), "method": "animate", "args": [[str(t)], ROUND_STEP]}
                            for t in range(1, rounds + 1)]}],
    )
    return fig


def _padded_range(*arrays: np.ndarray) -> list[float]:
    """A fixed y range holding every label and the truth (so the fit axis does not jump between rounds)."""
    values = np.concatenate([np.ravel(a) for a in arrays])
    low, high = float(values.min()), float(values.max())
    pad = 0.1 * (high - low or 1.0)
    return [low - pad, high + pad]
