"""The live charts of a run, built once per new data and shared by every session watching it.

A live view redraws every second. Building a plotly figure trace by trace costs a tenth of a second or more on a
busy machine (plotly validates each trace), and every watching page redraws: with ten pages open the server spent
its whole time redrawing the same charts, and the end of a run took minutes to reach them. Here a figure is built
once per (run, data version, display options) and shared read-only: ``st.plotly_chart`` only serialises it.
The data version changes with each stored epoch or generation, so a cached figure is never stale.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
import streamlit as st

from core.reports.charts import epoch_accuracy_figure as _epoch_accuracy_figure
from dashboard import figures

CACHE_ENTRIES = 256  # a few hundred figures: a handful of runs watched with a few option sets each


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def _epochs_at(root: str, run_id: str, count: int, _store) -> list[dict]:
    return _store.epochs(run_id)


def shared_epochs(store, run_id: str) -> list[dict]:
    """The run's stored epochs, read once per new epoch count for every session watching it (read-only: shared).

    Each watching session polls; reading and decoding thousands of epochs per poll per session was, with ten
    pages open, a large part of what the server did (bench/watchers.py)."""
    return _epochs_at(str(store.root), run_id, store.epoch_count(run_id), store)


MAX_POINTS_PER_GENERATION = 600  # a chart a few hundred pixels wide shows no more; long runs store thousands


def thinned(epochs: Sequence[Mapping]) -> list[Mapping]:
    """At most MAX_POINTS_PER_GENERATION epochs of each generation, evenly spaced, its first and last kept.

    Every watching session serialises the live charts on every poll, and its browser parses them: with a
    10,000-epoch run that was most of the server's time with ten pages open (bench/watchers.py)."""
    by_generation: dict = {}
    for row in epochs:
        by_generation.setdefault(row["generation"], []).append(row)
    kept: list[Mapping] = []
    for rows in by_generation.values():
        if len(rows) <= MAX_POINTS_PER_GENERATION:
            kept.extend(rows)
            continue
        step = (len(rows) - 1) / (MAX_POINTS_PER_GENERATION - 1)
        kept.extend(rows[round(i * step)] for i in range(MAX_POINTS_PER_GENERATION))
    return kept


def epochs_version(epochs: Sequence[Mapping]) -> tuple:
    """What identifies a run's stored epochs: epochs are only appended, so their count and the last one do."""
    if not epochs:
        return (0,)
    last = epochs[-1]
    return len(epochs), last.get("generation"), last.get("epoch")


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def loss_figure(run_id: str, version: tuple, parts: tuple[str, ...], smoothing: float, n_generations: int,
                log_y: bool, _epochs: Sequence[Mapping]):
    return figures.loss_figure(pd.DataFrame(_epochs), list(parts), smoothing, n_generations, log_y)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def accuracy_figure(run_id: str, version: tuple, supervised: bool, best: int | None,
                    _generations: Sequence[Mapping], _baselines: Mapping | None):
    """``version`` must change with the generations and the baselines (see ``generations_version``)."""
    return figures.accuracy_figure(pd.DataFrame(_generations), _baselines, supervised, best)


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def epoch_accuracy_figure(run_id: str, version: tuple, n_generations: int, _epochs: Sequence[Mapping]):
    return _epoch_accuracy_figure(_epochs, n_generations, height=figures.CHART_HEIGHT)  # the page gives the title


@st.cache_resource(max_entries=CACHE_ENTRIES, show_spinner=False)
def monitor_figure(run_id: str, version: tuple, _epochs: Sequence[Mapping]):
    return figures.monitor_figure(pd.DataFrame(_epochs))


def generations_version(generations: Sequence[Mapping], baselines: Mapping | None) -> tuple:
    """Generations are appended one by one; baselines are written once, after the first generation."""
    return len(generations), bool(baselines)
