"""Where each generation of a ViT looks: the clicked test image with the class token's attention laid over it.

The run stores, per generation, the last block's attention from the class token to every patch
(``attention`` in gen<k>.npz, (N, heads, grid rows, grid cols); core.evaluation.attention). Here one row per
generation shows the head mean and then each head, each map spread over its patch's pixels and drawn
semi-transparent over the grey image, so the viewer sees which strokes fed the answer and how that changes from
generation to generation. Runs of models without attention store no maps and this panel shows nothing.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from core.reports.template import TEMPLATE
from dashboard import state

OVERLAY_OPACITY = 0.55
CAPTION = ("The class token's attention over the image patches in the last transformer block: brighter means that "
           "patch weighed more in the features the answer is read from. First column: the mean over heads; then each "
           "head. One row per generation. Each map shares the class token's attention with the token itself, so a "
           "map sums to at most 1.")


def spread(grid: np.ndarray, image_shape: Sequence[int]) -> np.ndarray:
    """A (gh, gw) patch map spread over an (H, W) image: each patch's weight repeated over its pixels."""
    h, w = image_shape
    gh, gw = grid.shape
    return np.kron(grid, np.ones((h // gh, w // gw)))


def attention_figure(image: np.ndarray, maps: Mapping[int, np.ndarray], index: int) -> go.Figure:
    """``maps``: generation → (heads, gh, gw) for one test input; ``image``: (H, W). Rows generations, columns the
    head mean then each head; one colour scale for the whole figure (0 to the largest weight shown)."""
    generations = sorted(maps)
    heads = next(iter(maps.values())).shape[0]
    titles = [f"gen {g}<br>{'mean' if c == 0 else f'head {c}'}" for g in generations for c in range(heads + 1)]
    fig = make_subplots(rows=len(generations), cols=heads + 1, subplot_titles=titles,
                        horizontal_spacing=0.02, vertical_spacing=0.12 / max(len(generations), 1))
    top = max(float(m.max()) for m in maps.values()) or 1.0
    for r, g in enumerate(generations, start=1):
        panels = [maps[g].mean(axis=0)] + list(maps[g])
        for c, grid in enumerate(panels, start=1):
            fig.add_trace(go.Heatmap(z=image, colorscale="Greys", showscale=False, hoverinfo="skip"), row=r, col=c)
            fig.add_trace(go.Heatmap(z=spread(grid, image.shape), colorscale="Inferno", zmin=0, zmax=top,
                                     opacity=OVERLAY_OPACITY, showscale=(r == 1 and c == 1),
                                     colorbar=dict(title="attention", orientation="h", y=-0.04, yanchor="top",
                                                   len=0.8, thickness=12),
                                     hovertemplate="row %{y}, col %{x}: %{z:.3f}<extra></extra>"), row=r, col=c)
    fig.update_xaxes(visible=False, constrain="domain")
    fig.update_yaxes(visible=False, autorange="reversed")
    for k in range(1, len(generations) * (heads + 1) + 1):
        fig.update_yaxes(scaleanchor=f"x{'' if k == 1 else k}", row=(k - 1) // (heads + 1) + 1,
                         col=(k - 1) % (heads + 1) + 1)
    fig.update_annotations(font_size=11)
    return fig.update_layout(template=TEMPLATE, title=f"where each generation looks · test input {index}",
                             height=110 + 120 * len(generations), margin=dict(l=0, r=0, t=60, b=50))


def show(run_id: str, index: int, generations: Sequence[int], image: np.ndarray) -> None:
    """The attention maps of test input ``index`` for every generation that stored them; nothing otherwise."""
    maps = {g: a["attention"][index] for g in generations
            if "attention" in (a := state.arrays(run_id, f"gen{g}")) and index < len(a["attention"])}
    if not maps:
        return
    st.plotly_chart(attention_figure(np.asarray(image, dtype=float), maps, index), key="point_attention")
    st.caption(CAPTION)
