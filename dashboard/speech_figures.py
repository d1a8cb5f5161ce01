"""The accuracy-per-generation chart of a speech run, in word error rates (lower is better), as speech papers
report it. dashboard/figures.py's accuracy_figure hands over to ``wer_figure`` when the generations carry WERs."""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

import plotly.graph_objects as go
from plotly.colors import qualitative

from core import metric_names
from core.reports.template import TEMPLATE

if TYPE_CHECKING:
    import pandas as pd

WER_METRICS = metric_names.labels(("test_wer", "knn_wer", "linear_probe_wer"))
# label-free references: the k-NN WER of raw log-mel and of MFCC features (1 − their k-NN accuracy)
WER_REFERENCES = {"raw_knn_accuracy": "k-NN WER on raw log-mel", "mfcc_knn_accuracy": "k-NN WER on MFCC"}
Y_TITLE = "WER (lower is better)"
REFERENCE_COLOR = "#8A8F98"


def is_speech(generations: "pd.DataFrame") -> bool:
    return any(c in generations for c in WER_METRICS)


def _reference(fig: go.Figure, x_range: tuple[float, float], level: float, name: str, dash: str) -> None:
    fig.add_scatter(x=list(x_range), y=[level, level], mode="lines", name=name,
                    line=dict(color=REFERENCE_COLOR, dash=dash, width=1.5),
                    hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")


def wer_figure(generations: "pd.DataFrame", baselines: Mapping[str, float] | None, supervised: bool,
               best_generation: int | None, layout: dict, height: int) -> go.Figure:
    """WER per generation; generation 0's WER (supervised) or the raw log-mel and MFCC k-NN WERs as references,
    and a ring around the generation chosen on validation."""
    fig = go.Figure().update_layout(**layout, height=height, xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(title=Y_TITLE, tickformat=".1%", rangemode="tozero"),
                                    hovermode="x unified")
    frame = generations.sort_values("generation")
    x = frame["generation"].to_numpy()
    for i, (column, name) in enumerate(WER_METRICS.items()):
        if column in frame and frame[column].notna().any():
            fig.add_scatter(x=x, y=frame[column], mode="lines+markers", name=name,
                            line=dict(color=qualitative.D3[i], width=2.5 if column == "test_wer" else 1.8),
                            marker=dict(size=8), hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")
    x_range = (float(x.min()) - 0.25, float(x.max()) + 0.25)
    if supervised and "test_wer" in frame and frame["generation"].iloc[0] == 0:
        _reference(fig, x_range, float(frame["test_wer"].iloc[0]), "generation 0 (first teacher)", "dot")
    if not supervised:
        for key, name in WER_REFERENCES.items():
            if baselines and baselines.get(key) is not None:
                _reference(fig, x_range, 1.0 - float(baselines[key]), name, "dot" if key.startswith("raw") else "dash")
    column = "test_wer" if supervised else "knn_wer"
    chosen = frame[frame["generation"] == best_generation]
    if best_generation is not None and not chosen.empty and column in chosen:
        fig.add_scatter(x=[best_generation], y=[float(chosen[column].iloc[0])], mode="markers",
                        name="chosen on validation", marker=dict(size=20, symbol="circle-open", color="#111111",
                                                                 line=dict(width=2)),
                        hovertemplate="generation %{x}: chosen on validation<extra></extra>")
    return fig
