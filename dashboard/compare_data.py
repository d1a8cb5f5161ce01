"""What the Compare page reads and draws, cached per run and per data version.

The page polls every two seconds while a chosen run is active and redraws on every widget change. Before, each
draw read every chosen run's epochs from SQLite (one JSON document per epoch row), rebuilt pandas frames and
rebuilt both plotly figures trace by trace, for every run, finished or not: with a dozen long runs chosen a draw
took many seconds. Here a run's rows are read once per version (its id, status and how many rows it holds, so
a new epoch or generation is read again, a finished run never), and the figures are built once per version of
their inputs and options.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import pandas as pd
import streamlit as st

from dashboard import figures, state


def version(run_id: str) -> tuple[str, int, int]:
    """The run's id and its row counts (epochs, generations): what changes when the run stores more."""
    with state.store().connect() as db:
        row = db.execute("SELECT (SELECT COUNT(*) FROM epochs WHERE run_id = ?) AS e, "
                         "(SELECT COUNT(*) FROM generations WHERE run_id = ?) AS g", (run_id, run_id)).fetchone()
    return run_id, int(row["e"]), int(row["g"])


@st.cache_data(max_entries=512, show_spinner=False)
def epochs(root: str, key: tuple[str, int, int]) -> pd.DataFrame:
    """A run's epoch rows as a frame (``key`` from ``version``; ``root`` keeps stores apart)."""
    return pd.DataFrame(state.store().epochs(key[0]))


@st.cache_data(max_entries=512, show_spinner=False)
def generations(root: str, key: tuple[str, int, int]) -> list[dict]:
    return state.store().generations(key[0])


def group_losses(frames: Sequence[pd.DataFrame], part: str) -> pd.DataFrame:
    """The seed group's loss curve: the mean of ``part`` over the members at each (generation, epoch) that
    every member reached (so a run still training does not drag the mean's tail about)."""
    kept = [f[["generation", "epoch", part]] for f in frames if not f.empty and part in f]
    if not kept:
        return pd.DataFrame(columns=["generation", "epoch", part])
    stacked = pd.concat(kept, keys=range(len(kept)), names=["member", None]).reset_index(level=0)
    counts = stacked.groupby(["generation", "epoch"])["member"].nunique()
    full = counts[counts == len(kept)].index
    mean = stacked.groupby(["generation", "epoch"])[part].mean()
    return mean.loc[full].reset_index() if len(full) else pd.DataFrame(columns=["generation", "epoch", part])


@st.cache_resource(max_entries=128, show_spinner=False)
def loss_figure(key: tuple, part: str, smoothing: float, _curves: Mapping[str, pd.DataFrame]):
    """Built once per (versions of the runs, grouping, part, smoothing); ``key`` must name all of them."""
    return figures.compare_loss_figure(dict(_curves), part, smoothing)


@st.cache_resource(max_entries=128, show_spinner=False)
def accuracy_figure(key: tuple, label: str, _series: pd.DataFrame):
    return figures.compare_accuracy_figure(_series, label)


def loss_curves(groups: Mapping[str, Sequence[Mapping]], frames: Mapping[str, pd.DataFrame], part: str,
                grouped: bool) -> dict[str, pd.DataFrame]:
    """One curve per run, or per seed group (their mean) when grouping is on."""
    if not grouped:
        return {name: frames[members[0]["id"]] for name, members in groups.items()}
    return {name: (frames[members[0]["id"]] if len(members) == 1 else
                   group_losses([frames[m["id"]] for m in members], part)) for name, members in groups.items()}

