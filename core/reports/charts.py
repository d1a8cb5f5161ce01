"""Plotly figures of one stored run that need no server: the per-epoch accuracy (also drawn live on the Runs page)
and the static charts of an offline report.

They live in core, not in dashboard/, because ``python -m core report`` builds them and core never imports the
dashboard. Rows (lists of dicts, as the store returns them) in, figures out; nothing here imports streamlit.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

from core import metric_names
from core.reports.template import TEMPLATE

GREY = "#8A8F98"
LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=40, b=10),
              legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
# Per-epoch accuracies: the split, its label, its dash. The training accuracy is scored on the given (possibly
# noisy) labels, so its climb above the test accuracy is memorisation seen epoch by epoch.
EPOCH_ACCURACIES = {"test_accuracy": ("test", "solid"), "val_accuracy": ("validation (given labels)", "dash"),
                    "train_accuracy": ("training (given labels)", "dot")}
LOSS_PARTS = {"loss": "total", "ce": "CE", "kd": "KD", "dino": "DINO"}


def generation_colors(n: int) -> list[str]:
    """One colour per generation, dark blue to green (the Runs page's colours)."""
    return sample_colorscale("Viridis", list(np.linspace(0.0, 0.8, n)) if n > 1 else [0.0])


def _by_generation(epochs: Sequence[Mapping]) -> dict[int, list[Mapping]]:
    out: dict[int, list[Mapping]] = {}
    for row in sorted(epochs, key=lambda r: (r["generation"], r["epoch"])):
        out.setdefault(int(row["generation"]), []).append(row)
    return out


def _waiting(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color=GREY))
    return fig


def epoch_accuracy_figure(epochs: Sequence[Mapping], n_generations: int | None = None, height: int = 300,
                          title: str | None = None) -> go.Figure:
    """Test, validation and training accuracy after every epoch: one colour per generation, one dash per split.

    Generation 0 on noisy labels shows memorisation here: its test accuracy peaks early, then falls while its
    training accuracy on the flipped labels keeps climbing. A label-free run records none of these: the figure
    says so instead of drawing empty axes.
    """
    fig = go.Figure().update_layout(**LAYOUT, height=height, hovermode="closest", title=title,
                                    xaxis_title="epoch", yaxis=dict(title="accuracy", tickformat=".0%"))
    rows = [dict(r) for r in epochs]
    groups = _by_generation(rows)
    keys = [k for k in EPOCH_ACCURACIES if any(r.get(k) is not None for r in rows)]
    if not keys:
        fig.update_yaxes(range=[0, 1])
        return _waiting(fig, "no per-epoch accuracy in this run (label-free runs have none)" if rows
                        else "waiting for the first epoch…")
    colors = generation_colors(max(n_generations or 0, max(groups) + 1))
    for g, gen_rows in groups.items():
        x = [r["epoch"] + 1 for r in gen_rows]
        for i, key in enumerate(keys):
            name, dash = EPOCH_ACCURACIES[key]
            y = [r.get(key) for r in gen_rows]
            fig.add_scatter(x=x, y=y, mode="lines", name=f"gen {g}", legendgroup=f"gen{g}", showlegend=i == 0,
                            meta=key, line=dict(color=colors[g], dash=dash,
                                                width=1.4 if key == "train_accuracy" else 2),
                            hovertemplate=f"gen {g} · {name}<br>epoch %{{x}}: %{{y:.1%}}<extra></extra>")
    for key in keys:  # a legend key for each split's dash
        name, dash = EPOCH_ACCURACIES[key]
        fig.add_scatter(x=[None], y=[None], mode="lines", name=name, line=dict(color=GREY, dash=dash, width=2))
    return fig


def loss_figure(epochs: Sequence[Mapping], parts: Sequence[str], n_generations: int | None = None,
                height: int = 360) -> go.Figure:
    """Per-epoch loss of every part the run reports: one colour per generation, one dash per part."""
    fig = go.Figure().update_layout(**LAYOUT, height=height, title="Loss per epoch", xaxis_title="epoch",
                                    yaxis_title="loss", hovermode="closest")
    groups = _by_generation(epochs)
    if not groups:
        return _waiting(fig, "no epoch recorded")
    colors = generation_colors(max(n_generations or 0, max(groups) + 1))
    dashes = ("solid", "dash", "dot", "dashdot")
    for g, rows in groups.items():
        shown = False
        for i, part in enumerate(parts):
            y = [r.get(part) for r in rows]
            if all(v in (None, 0) for v in y):  # a part this generation does not use (KD without a teacher)
                continue
            label = LOSS_PARTS.get(part, part)
            fig.add_scatter(x=[r["epoch"] + 1 for r in rows], y=y, mode="lines", name=f"gen {g}",
                            legendgroup=f"gen{g}", showlegend=not shown,
                            line=dict(color=colors[g], dash=dashes[i % 4], width=2),
                            hovertemplate=f"gen {g} · {label}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>")
            shown = True
    for i, part in enumerate(parts if len(parts) > 1 else ()):  # a legend key for each part's dash
        fig.add_scatter(x=[None], y=[None], mode="lines", name=LOSS_PARTS.get(part, part),
                        line=dict(color=GREY, dash=dashes[i % 4], width=2))
    return fig


def generation_accuracy_figure(generations: Sequence[Mapping], title: str = "Accuracy per generation",
                               height: int = 360) -> go.Figure:
    """Every accuracy the run measured per generation (test, ensemble, k-NN, linear probe)."""
    fig = go.Figure().update_layout(**LAYOUT, height=height, title=title, hovermode="x unified",
                                    xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(title="accuracy", tickformat=".1%"))
    rows = sorted(generations, key=lambda r: r["generation"])
    for i, (key, label) in enumerate(metric_names.labels(metric_names.ACCURACIES).items()):
        if any(r.get(key) is not None for r in rows):
            fig.add_scatter(x=[r["generation"] for r in rows], y=[r.get(key) for r in rows], mode="lines+markers",
                            name=label, line=dict(color=qualitative.D3[i], width=2.5 if i == 0 else 1.8),
                            marker=dict(size=8), hovertemplate=f"{label}: %{{y:.1%}}<extra></extra>")
    if not fig.data:
        fig.update_yaxes(range=[0, 1])
        _waiting(fig, "no generation finished")
    return fig


def baselines_figure(generations: Sequence[Mapping], baselines: Mapping[str, float]) -> go.Figure:
    """k-NN accuracy of each generation's features beside the baselines the run measured, best on top."""
    bars = [(f"generation {r['generation']} features", float(r["knn_accuracy"]), qualitative.D3[0])
            for r in generations if r.get("knn_accuracy") is not None]
    bars += [(metric_names.METRICS[k].label if k in metric_names.METRICS else k, float(v), GREY)
             for k, v in baselines.items() if v is not None and k.endswith("knn_accuracy")]
    bars.sort(key=lambda b: b[1])
    fig = go.Figure(go.Bar(x=[b[1] for b in bars], y=[b[0] for b in bars], orientation="h",
                           marker_color=[b[2] for b in bars], text=[f"{b[1]:.1%}" for b in bars],
                           textposition="outside", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    return fig.update_layout(**{**LAYOUT, "legend": {}}, title="Features against baselines (k-NN, test split)",
                             height=100 + 32 * max(len(bars), 1), showlegend=False,
                             xaxis=dict(tickformat=".0%", range=[max(0.0, min((b[1] for b in bars), default=0)
                                                                     - 0.1), 1.04]))


def label_efficiency_figure(efficiency: Mapping[str, Mapping[str, float]]) -> go.Figure:
    """Linear-probe test accuracy with 1, 5 or 10 labels per class, one line per feature source."""
    fig = go.Figure().update_layout(**LAYOUT, height=360, title="A linear probe with few labels",
                                    xaxis=dict(title="labelled examples per class", type="log"),
                                    yaxis=dict(title="test accuracy", tickformat=".0%"))
    for i, (source, points) in enumerate(efficiency.items()):
        shots = sorted(points, key=float)
        fig.add_scatter(x=[float(n) for n in shots], y=[points[n] for n in shots], mode="lines+markers",
                        name=source.replace("_", " "), line=dict(color=qualitative.D3[i % 10]))
    return fig


def monitor_figure(epochs: Sequence[Mapping]) -> go.Figure:
    """Label-free collapse monitor: the teacher's mean entropy per epoch against log K (uniform collapse)."""
    rows = sorted((r for r in epochs if r.get("teacher_entropy") is not None),
                  key=lambda r: (r["generation"], r["epoch"]))
    fig = go.Figure().update_layout(**LAYOUT, height=320, title="Collapse monitor",
                                    xaxis_title="epoch (all generations in order)",
                                    yaxis_title="teacher entropy (nats)")
    x = list(range(1, len(rows) + 1))
    fig.add_scatter(x=x, y=[r["teacher_entropy"] for r in rows], mode="lines", name="teacher entropy")
    if any("log_k" in r for r in rows):
        fig.add_scatter(x=x, y=[r.get("log_k") for r in rows], mode="lines", name="log K (uniform: collapse)",
                        line=dict(color=GREY, dash="dash"))
    return fig
