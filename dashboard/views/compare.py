"""Compare page: accuracy per generation and loss curves of several runs overlaid, and what differs in their configs.

Runs whose configs differ only by the seed are grouped as mean ± std (sample standard deviation over seeds).
While any chosen run is still queued or running, the comparison polls the store.
"""
from __future__ import annotations

import streamlit as st

from core.storage.run_store import ACTIVE
from dashboard import compare_data, figures, group_panel, report_download, state, tables

POLL_S = 2.0


def _controls(selected: list[dict], generations: dict[str, list[dict]]) -> tuple[str, bool, str, float]:
    present = {key for rows in generations.values() for row in rows for key in row}
    metrics = [m for m in figures.ACCURACY_METRICS if m in present] or ["test_accuracy"]
    parts = list(dict.fromkeys(p for run in selected for p in ["loss", *((run["info"] or {}).get("loss_parts")
                                                                         or [])]))
    c_metric, c_group, c_part, c_smooth = st.columns([2, 1, 1, 1])
    metric = c_metric.selectbox("accuracy to compare", metrics, format_func=figures.ACCURACY_METRICS.get,
                                key="compare_metric")
    group = c_group.toggle("group seeds", value=True, key="compare_group",
                           help="runs whose configs differ only by `seed` become one line with ± 1 std error bars")
    part = c_part.selectbox("loss part", parts, format_func=figures.part_label, key="compare_part")
    smoothing = c_smooth.slider("smoothing", 0.0, 0.95, 0.0, 0.05, key="compare_smoothing")
    return metric, group, part, smoothing


def _comparison(run_ids: list[str], was_active: bool) -> None:
    """Controls, charts and tables of the chosen runs."""
    store = state.store()
    selected = [store.get_run(run_id) for run_id in run_ids]
    if was_active and not any(run["status"] in ACTIVE for run in selected):
        st.rerun()  # every run has ended: redraw once more, without polling
    root = state.store_root()
    versions = {run["id"]: compare_data.version(run["id"]) for run in selected}  # cached reads per version
    generations = {run_id: compare_data.generations(root, v) for run_id, v in versions.items()}
    metric, group, part, smoothing = _controls(selected, generations)
    groups = tables.seed_groups(selected) if group else {tables.run_name(run): [run] for run in selected}
    series = tables.metric_by_generation({name: [generations[m["id"]] for m in members]
                                          for name, members in groups.items()}, metric)
    key = (root, tuple(versions.values()), tuple((n, tuple(m["id"] for m in ms)) for n, ms in groups.items()))
    acc_col, loss_col = st.columns(2, gap="large")
    with acc_col:
        st.subheader("Accuracy per generation")
        st.plotly_chart(compare_data.accuracy_figure((key, metric), figures.ACCURACY_METRICS[metric], series),
                        key="compare_accuracy_chart")
    with loss_col:
        st.subheader("Loss per epoch" + (" (mean over seeds)" if group and any(len(m) > 1 for m in groups.values())
                                         else ""))
        frames = {run_id: compare_data.epochs(root, v) for run_id, v in versions.items()}
        curves = compare_data.loss_curves(groups, frames, part, group)
        st.plotly_chart(compare_data.loss_figure((key, part, smoothing), part, smoothing, curves),
                        key="compare_loss_chart")
    if group and any(len(members) > 1 for members in groups.values()):
        st.subheader(f"{figures.ACCURACY_METRICS[metric]}: mean ± std over seeds")
        st.dataframe(tables.mean_std_table(series), width="stretch", placeholder="—")
    st.subheader("What differs")
    diff = tables.config_diff({tables.run_name(run): run["config"] for run in selected})
    if diff.empty:
        st.write("These runs have identical configs.")
    else:  # one row per run: a run's whole name fits in its first column (as column headers they were cut off)
        st.dataframe(diff.astype(str).T.rename_axis("run").reset_index(), width="stretch", hide_index=True,
                     column_config={"run": st.column_config.TextColumn(width="large", pinned=True)})
        st.caption("Only the keys whose values differ between the selected runs.")
    report_download.button(run_ids, key="compare_report")  # these runs in one offline HTML file


st.title("Compare runs")
runs = state.store().list_runs()
if len(runs) < 2:
    st.info("Comparing needs at least two runs in the store. Launch a few, e.g. the same preset with two seeds or "
            "two values of `method.alpha`.", icon=":material/compare_arrows:")
    st.page_link("views/launch.py", label="Go to Launch", icon=":material/rocket_launch:")
    st.stop()

by_name = {tables.run_name(run): run for run in runs}  # names hold the id, so they are unique and stable
finished = [name for name, run in by_name.items() if run["status"] == "finished"]
st.html("<style>.st-key-compare [data-baseweb='tag'] {max-width: none;}</style>")  # whole run names in the chips
chosen = st.multiselect("Runs to compare", list(by_name), default=(finished or list(by_name))[:2], key="compare",
                        bind="query-params", placeholder="pick two or more runs")
chosen = list(dict.fromkeys(chosen + group_panel.pick_groups(runs, tables.run_name)))  # whole seed groups
if len(chosen) < 2:
    st.info("Pick at least two runs.", icon=":material/touch_app:")
    st.stop()
active = any(by_name[name]["status"] in ACTIVE for name in chosen)
st.fragment(_comparison, run_every=POLL_S if active else None)([by_name[name]["id"] for name in chosen], active)
