"""Runs page: every run in the store, newest first; the selected one (``?run=<id>`` in the URL) in full below."""
from __future__ import annotations

import hashlib
from functools import partial

import streamlit as st

from dashboard import group_panel, presentation, run_manage, run_panel, state, tables


def _pick(ids: list[str], key: str) -> None:
    """A row was clicked in the run list: show that run (and put it in the URL)."""
    rows = st.session_state[key]["selection"]["rows"]
    if rows:
        st.query_params["run"] = ids[rows[0]]
        st.query_params.pop("point", None)


if not presentation.active():  # presenting: the run's own name is the heading
    st.title("Runs")
runs = state.store().list_runs()
if not runs:
    st.info("No runs in this store yet. Launch one: `digits-ban-noisy` shows self-distillation cleaning up noisy "
            "labels within a few minutes; `dry-run` finishes in seconds.", icon=":material/science:")
    st.page_link("views/launch.py", label="Go to Launch", icon=":material/rocket_launch:")
    st.stop()

ids = [run["id"] for run in runs]
asked = st.query_params.get("run")
if asked is not None and asked not in ids:
    st.warning(f"There is no run {asked!r} in this store; showing the newest run instead.")
selected = asked if asked in ids else ids[0]
st.query_params["run"] = selected
if presentation.active():  # ?present=1: this run's key charts full screen, one line per run, no list
    presentation.show(runs, selected)
    st.stop()

listed = run_manage.search(runs)
listed_ids = [run["id"] for run in listed]
frame = tables.runs_frame(listed)
key = "runs_table_" + hashlib.md5(f"{selected}|{'|'.join(listed_ids)}".encode()).hexdigest()[:10]
st.dataframe(frame, key=key, on_select=partial(_pick, listed_ids, key), selection_mode="single-row",
             selection_default={"selection": {"rows": [listed_ids.index(selected)] if selected in listed_ids else []}},
             hide_index=True, width="stretch", placeholder="—",
             height=min(36 * (len(listed) + 1) + 4, 440), column_config={
                 "run": st.column_config.TextColumn(width="medium"),
                 "name": st.column_config.TextColumn(width="medium"),
                 "noise": st.column_config.NumberColumn(format="percent"),
                 "test acc": st.column_config.NumberColumn(format="percent"),
                 "ensemble acc": st.column_config.NumberColumn(format="percent"),
                 "k-NN acc": st.column_config.NumberColumn(format="percent"),
                 "started": st.column_config.DatetimeColumn(format="YYYY-MM-DD HH:mm:ss")})
st.caption("Click a row to show that run. Final metrics are those of the last generation."
           + ("" if len(listed) == len(runs) else f" {len(listed)} of {len(runs)} runs match the search."))
run_manage.panel(next(run for run in runs if run["id"] == selected))
group_panel.show(next(run for run in runs if run["id"] == selected), runs)  # its seed group, if any
run_panel.show(next(run for run in runs if run["id"] == selected))
