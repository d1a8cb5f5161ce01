"""The Runs page's 2-D view of a run, built once per version of its stored views and shared by every watcher.

While a run is active the views fragment polls every two seconds. Before, each poll rebuilt every generation's
points and the whole animated figure (thousands of points per frame), and sent a figure the browser then drew
again, although a generation's view never changes once stored: a watched run ran much slower than an unwatched
one. Here the points and the figure are built once per (run, stored view files and their times, start frame,
classes); a poll with nothing new serialises the same figure, which the browser leaves as drawn.
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import streamlit as st

from dashboard import figures, tables


@st.cache_resource(max_entries=32, show_spinner=False)
def embedding_view(run_id: str, version: tuple, n_classes: int, start: int, seed: int,
                   _loaded: Mapping[int, Mapping[str, np.ndarray]], _labels: np.ndarray):
    """(points per generation, figure); ``version`` must change whenever a view file is (re)written."""
    views = {g: tables.embedding_points(a["embedding"], _labels, a.get("probs"), seed=seed)
             for g, a in _loaded.items()}
    return views, figures.embedding_figure(views, n_classes, start)


def views_version(folder, generations) -> tuple:
    """Each generation's view file and its modification time (a rewritten file gives a new version)."""
    stamps = []
    for g in sorted(generations):
        try:
            stamps.append((g, (folder / f"gen{g}.npz").stat().st_mtime_ns))
        except FileNotFoundError:
            stamps.append((g, None))
    return tuple(stamps)
