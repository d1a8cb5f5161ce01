"""Pure figure builders for the generation-insight panel: confusion matrices and their difference, the soft-target
explorer, neighbour churn. Arrays in, plotly figures out; nothing here imports streamlit.

The soft-target explorer's temperature slider runs in the browser: the figure carries the logits (in
``layout.meta``) and one precomputed animation frame per temperature of ``T_GRID``, so moving the slider swaps
bars with no server round trip. The frames are softmax(logits / T) for each T on the grid, computed here once.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from core.reports.template import TEMPLATE

MUTED = "#D9DCE1"
LABEL_COLOR = "#2E9E5B"
TEACHER_COLOR = "#1F77B4"
OUTPUT_COLOR = "#111111"
T_GRID = tuple(round(t, 2) for t in (0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 6, 8, 10))
START_T = 4.0
_LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=50, b=10))


def softmax_rows(logits: np.ndarray, temperature: float) -> np.ndarray:
    """softmax(logits / T) per row, shifted by each row's maximum (no overflow at small T)."""
    z = np.asarray(logits, dtype=np.float64) / temperature
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def confusion_figure(confusion_from: Sequence[Sequence[int]], confusion_to: Sequence[Sequence[int]],
                     gen_from: int, gen_to: int) -> go.Figure:
    """Three heat maps side by side: generation A's confusion, B's, and B − A off the diagonal (the diagonal, the
    correct predictions, is drawn muted: its change is the accuracy change, shown as text there)."""
    a, b = np.asarray(confusion_from, dtype=float), np.asarray(confusion_to, dtype=float)
    classes = [str(k) for k in range(a.shape[0])]
    diff = b - a
    off = diff.copy()
    np.fill_diagonal(off, np.nan)
    diagonal = np.full_like(diff, np.nan)
    np.fill_diagonal(diagonal, np.diag(diff))
    limit = max(1.0, float(np.nanmax(np.abs(off))) if np.isfinite(off).any() else 1.0)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.06, subplot_titles=(
        f"generation {gen_from}", f"generation {gen_to}", f"difference {gen_to} − {gen_from} (diagonal muted)"))
    for col, (z, name) in enumerate(((a, f"gen {gen_from}"), (b, f"gen {gen_to}")), start=1):
        fig.add_trace(go.Heatmap(z=z, x=classes, y=classes, colorscale="Blues", showscale=False, name=name,
                                 text=z.astype(int), texttemplate="%{text}",
                                 hovertemplate="true %{y}, predicted %{x}: %{z:.0f}<extra>" + name + "</extra>"),
                      row=1, col=col)
    fig.add_trace(go.Heatmap(z=off, x=classes, y=classes, colorscale="RdBu_r", zmid=0, zmin=-limit, zmax=limit,
                             name="difference", text=off, texttemplate="%{text:+.0f}", showscale=True,
                             colorbar=dict(len=0.8, thickness=12),
                             hovertemplate="true %{y}, predicted %{x}: %{z:+.0f}<extra>difference</extra>"),
                  row=1, col=3)
    fig.add_trace(go.Heatmap(z=diagonal, x=classes, y=classes, colorscale=[[0, MUTED], [1, MUTED]], showscale=False,
                             name="diagonal (muted)", text=diagonal, texttemplate="%{text:+.0f}",
                             hovertemplate="class %{y} right: %{z:+.0f}<extra>diagonal</extra>"), row=1, col=3)
    for col in (1, 2, 3):
        fig.update_xaxes(title_text="predicted", type="category", row=1, col=col)
        fig.update_yaxes(title_text="true" if col == 1 else None, type="category", autorange="reversed",
                         row=1, col=col)
    return fig.update_layout(_LAYOUT, height=380)


def soft_target_figure(logits: np.ndarray, generations: Sequence[int], label: int, what: str,
                       clean_label: int | None = None, start_t: float = START_T) -> go.Figure:
    """One row per generation: its output softened at T (bars, the slider sets T in the browser), its output at
    T = 1 (black ticks: what it predicts as a student), and the one-hot label (green outline)."""
    logits = np.asarray(logits, dtype=np.float64)  # (G, K)
    finite = np.isfinite(logits)  # log(0) of runs stored with probabilities only: far below, and valid JSON
    logits = np.where(finite, logits, (logits[finite].min() if finite.any() else 0.0) - 100.0)
    n_gen, n_classes = logits.shape
    classes = list(range(n_classes))
    grid = sorted(set(T_GRID) | {float(start_t)})
    start = grid.index(float(start_t))
    fig = make_subplots(rows=n_gen, cols=1, shared_xaxes=True, vertical_spacing=min(0.09, 0.5 / max(n_gen - 1, 1)),
                        subplot_titles=[f"generation {g}" + (" (teaches the next)" if i < n_gen - 1 else "")
                                        for i, g in enumerate(generations)])
    one_hot = np.eye(n_classes)[label]
    for row, g in enumerate(generations, start=1):
        first = row == 1
        fig.add_trace(go.Bar(x=classes, y=softmax_rows(logits[row - 1], grid[start]), name="softened at T",
                             marker_color=TEACHER_COLOR, legendgroup="soft", showlegend=first,
                             hovertemplate=f"gen {g}, class %{{x}}: %{{y:.3f}}<extra>at T</extra>"), row=row, col=1)
    for row, g in enumerate(generations, start=1):
        first = row == 1
        fig.add_trace(go.Bar(x=classes, y=one_hot, name=f"label {label} (one-hot)", marker_color="rgba(0,0,0,0)",
                             marker_line=dict(color=LABEL_COLOR, width=2.5), legendgroup="label", showlegend=first,
                             hoverinfo="skip"), row=row, col=1)
        fig.add_trace(go.Scatter(x=classes, y=softmax_rows(logits[row - 1], 1.0), mode="markers",
                                 marker=dict(symbol="line-ew-open", size=22, color=OUTPUT_COLOR,
                                             line=dict(width=3)),
                                 name="its output (T = 1)", legendgroup="out", showlegend=first,
                                 hovertemplate=f"gen {g} output, class %{{x}}: %{{y:.3f}}<extra>T = 1</extra>"),
                      row=row, col=1)
    soft_traces = list(range(n_gen))
    frames = [go.Frame(name=f"{t:g}", traces=soft_traces,
                       data=[go.Bar(y=softmax_rows(logits[i], t)) for i in range(n_gen)]) for t in grid]
    step = {"mode": "immediate", "frame": {"duration": 0, "redraw": True}, "transition": {"duration": 0}}
    title = f"{what} · label {label}" + (f" (clean label {clean_label})" if clean_label is not None else "")
    fig.update_layout(
        _LAYOUT, height=140 + 150 * n_gen, barmode="overlay", title=title, bargap=0.25,
        legend=dict(orientation="h", yanchor="bottom", y=1.02, x=0.45),
        meta={"logits": logits.tolist(), "generations": list(generations), "temperatures": grid},
        margin=dict(l=10, r=10, t=90, b=90),
        sliders=[dict(active=start, x=0.05, len=0.9, y=0, yanchor="top", pad=dict(t=30),
                      currentvalue=dict(prefix="temperature T = ", font=dict(size=13)),
                      steps=[dict(label=f"{t:g}", method="animate", args=[[f"{t:g}"], step]) for t in grid])])
    fig.frames = frames
    fig.update_yaxes(range=[0, 1.05], title_text=None)
    fig.update_xaxes(type="category")
    return fig


def churn_figure(churn: Mapping[int, np.ndarray]) -> go.Figure:
    """One box per generation g ≥ 1: the spread of each test point's share of changed neighbours since g − 1,
    with its mean (dashed)."""
    fig = go.Figure()
    for g in sorted(churn):
        fig.add_trace(go.Box(y=np.asarray(churn[g]), name=f"{g - 1}→{g}", boxmean=True, marker_color=TEACHER_COLOR,
                             showlegend=False, hovertemplate="%{y:.0%}<extra></extra>"))
    return fig.update_layout(_LAYOUT, height=320, title="neighbour churn per generation (k = 10, cosine)",
                             yaxis=dict(title="share of neighbours changed", range=[0, 1.02], tickformat=".0%"),
                             xaxis=dict(title="generation"))


def churn_view_figure(embedding: np.ndarray, churn: np.ndarray, labels: np.ndarray, generation: int) -> go.Figure:
    """The 2-D view of a generation coloured by each point's churn since the previous one; click a point to open
    it in the inspector (customdata = [test index, label])."""
    index = np.arange(len(churn))
    fig = go.Figure(go.Scatter(
        x=embedding[:, 0], y=embedding[:, 1], mode="markers", customdata=np.stack([index, labels], axis=1),
        marker=dict(color=churn, colorscale="Viridis", cmin=0, cmax=1, size=7, colorbar=dict(title="churn")),
        hovertemplate="test %{customdata[0]} · label %{customdata[1]}<br>churn %{marker.color:.0%}<extra></extra>"))
    return fig.update_layout(_LAYOUT, height=420, title=f"generation {generation}, coloured by neighbour churn",
                             clickmode="event+select", xaxis=dict(showticklabels=False, zeroline=False),
                             yaxis=dict(showticklabels=False, zeroline=False))
