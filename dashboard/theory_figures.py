"""Plotly figures for the kernel-ridge self-distillation page: arrays in, figure out (no streamlit)."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

__all__ = ["error_figure", "fit_figure", "shrink_figure"]

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
