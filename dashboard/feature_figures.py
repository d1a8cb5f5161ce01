"""Pure figure builders for the quality of features: the learned features against fair baselines, and accuracy
when only a few labels are available. Dicts in, plotly figures out; no streamlit, so tests call them directly."""
from __future__ import annotations

from typing import Mapping, Sequence

import plotly.graph_objects as go
from plotly.colors import qualitative

from core import metric_names
from core.reports.template import TEMPLATE

LEARNED_COLOR = qualitative.D3[0]
CONTROL_COLOR = qualitative.D3[1]
BASELINE_COLOR = "#8A8F98"
HANDMADE_COLOR = "#B9A36B"
HANDMADE = ("invariant_knn_accuracy",)  # features a person designed for the nuisance, not learned ones
CONTROL = ("compute_matched_knn_accuracy",)
SOURCE_LABELS = {"features": "learned features (last generation)", "raw": "raw inputs", "pca": "PCA",
                 "random_init": "random-init network", "autoencoder": "autoencoder",
                 "invariant": "hand-made invariant (|FFT|)"}
_LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=10, b=10))
BASELINES_CAPTION = (
    "Every bar is the accuracy of a weighted k-NN (cosine, k = eval.knn_k) on the test split, using that "
    "representation of the training split with its clean labels, which training never used. Raw inputs and PCA "
    "cost nothing; the random-init network is the same architecture untrained (its BatchNorm statistics estimated "
    "on the training inputs); the autoencoder is the same backbone trained to reconstruct its input for as many "
    "epochs as one generation; |FFT| is a hand-made shift-invariant feature; the compute-matched control is one "
    "generation trained for all generations' epochs. Right: a linear probe trained on 1, 5 or 10 labelled "
    "examples per class (mean of 5 draws).")


def _label(key: str) -> str:
    return metric_names.METRICS[key].label if key in metric_names.METRICS else key.replace("_", " ")


def baselines_figure(generations: Sequence[Mapping], baselines: Mapping[str, float],
                     best_generation: int | None = None) -> go.Figure:
    """k-NN accuracy of each generation's features beside every baseline, as horizontal bars, best on top.

    The learned features are blue, the compute-matched control orange, hand-made features tan and the other
    baselines grey, so the eye finds at once what training bought over what was there for free."""
    bars: list[tuple[str, float, str]] = []
    for g in generations:
        if g.get("knn_accuracy") is not None:
            chosen = " (chosen on validation)" if g["generation"] == best_generation else ""
            bars.append((f"generation {g['generation']} features{chosen}", float(g["knn_accuracy"]), LEARNED_COLOR))
    for key, value in baselines.items():
        if value is None or not key.endswith("knn_accuracy"):
            continue
        color = CONTROL_COLOR if key in CONTROL else HANDMADE_COLOR if key in HANDMADE else BASELINE_COLOR
        bars.append((_label(key), float(value), color))
    bars.sort(key=lambda bar: bar[1])
    fig = go.Figure(go.Bar(x=[b[1] for b in bars], y=[b[0] for b in bars], orientation="h",
                           marker_color=[b[2] for b in bars], text=[f"{b[1]:.1%}" for b in bars],
                           textposition="outside", hovertemplate="%{y}: %{x:.1%}<extra></extra>"))
    low = min((b[1] for b in bars), default=0.0)
    return fig.update_layout(**_LAYOUT, height=60 + 32 * max(len(bars), 1), showlegend=False,
                             xaxis=dict(title="k-NN accuracy on the test split", tickformat=".0%",
                                        range=[max(0.0, low - 0.1), 1.04]))


def label_efficiency_figure(efficiency: Mapping[str, Mapping[str, float]]) -> go.Figure:
    """Test accuracy of a linear probe trained on n labelled examples per class, one line per feature source."""
    fig = go.Figure().update_layout(**_LAYOUT, height=360, hovermode="x unified",
                                    xaxis=dict(title="labelled training examples per class", type="log",
                                               tickvals=[1, 2, 5, 10, 20, 50]),
                                    yaxis=dict(title="test accuracy of a linear probe", tickformat=".0%"),
                                    legend=dict(orientation="h", yanchor="top", y=-0.2, x=0))
    palette = {"features": LEARNED_COLOR, "invariant": HANDMADE_COLOR}
    for i, (source, points) in enumerate(efficiency.items()):
        shots = sorted(points, key=float)
        name = SOURCE_LABELS.get(source, source)
        fig.add_scatter(x=[float(n) for n in shots], y=[points[n] for n in shots], mode="lines+markers", name=name,
                        line=dict(color=palette.get(source, qualitative.Set2[i % len(qualitative.Set2)]),
                                  width=3 if source == "features" else 1.6,
                                  dash="solid" if source == "features" else "dot"),
                        marker=dict(size=9 if source == "features" else 6),
                        hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")
    return fig
