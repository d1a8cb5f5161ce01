"""Presentation mode (``?present=1``, or the sidebar toggle): for a projector in front of a class.

The sidebar and the Launch form are hidden (Launch sends the presenter to Runs), text and charts are larger, one
run's key charts fill the screen, and every run gets its result in one line, computed from the store
(core/reports/summary.py). The mode lives in the URL, so a link opens straight into it and Exit leaves it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Mapping, Sequence

import streamlit as st

from dashboard import state

if TYPE_CHECKING:  # app.py imports this module on every page: what only presenting needs is imported there
    import plotly.graph_objects as go

PARAM = "present"
FONT_SIZE = 20
SCALE = 1.7  # markers and lines
CHART_HEIGHT = 540
LIVE_EVERY_S = 2.0
MAX_LISTED = 12
# Hide the sidebar (and the button that reopens it) and the header's toolbar; larger text everywhere.
CSS = """<style>
section[data-testid="stSidebar"], div[data-testid="stSidebarCollapsedControl"],
button[data-testid="stExpandSidebarButton"], div[data-testid="stToolbar"] {display: none !important;}
html {font-size: 20px;}
div[data-testid="stMainBlockContainer"], .block-container {max-width: 100%; padding: 1.2rem 2rem 2rem 2rem;}
</style>"""


def active() -> bool:
    return st.query_params.get(PARAM) == "1"


def _enter() -> None:
    st.query_params[PARAM] = "1"


def _exit() -> None:
    st.query_params.pop(PARAM, None)


def navigate(pages: Sequence, runs_title: str = "Runs"):
    """The page to run: the navigation, hidden while presenting; Launch (the form) sends a presenter to Runs.

    Outside presentation mode the sidebar holds the toggle that enters it."""
    presenting = active()
    if not presenting:
        st.sidebar.toggle("Presentation mode", value=False, key="present_toggle", on_change=_enter,
                          help="large charts and text for a projector; the sidebar and the form are hidden")
    page = st.navigation(pages, position="hidden" if presenting else "sidebar")
    if presenting:
        st.markdown(CSS, unsafe_allow_html=True)
        if page.title == "Launch":
            runs_page = next(p for p in pages if p.title == runs_title)
            st.switch_page(runs_page, query_params=st.query_params.to_dict())
        if page.title != runs_title:  # Runs has its own Exit beside the run's name; elsewhere, one at the top
            st.button("Exit presentation", key="present_exit_page", on_click=_exit, icon=":material/close_fullscreen:")
    return page


def enlarge(fig: go.Figure, height: int = CHART_HEIGHT) -> go.Figure:
    """The figure for a projector: larger fonts, markers and lines, a taller plot (changed in place)."""
    fig.update_layout(font=dict(size=FONT_SIZE), height=height, legend=dict(font=dict(size=FONT_SIZE)),
                      hoverlabel=dict(font_size=FONT_SIZE), title_font_size=FONT_SIZE + 4,
                      margin=dict(t=60 if fig.layout.title.text else 10))
    for trace in fig.data:
        if trace.type != "scatter":
            continue
        if trace.marker is not None and trace.marker.size is not None:
            trace.marker.size = trace.marker.size * SCALE
        elif "markers" in (trace.mode or ""):
            trace.marker.size = 6 * SCALE
        trace.line.width = (trace.line.width or 2) * SCALE
    for annotation in fig.layout.annotations:
        annotation.font.size = FONT_SIZE
    return fig


def run_sentence(run: Mapping, generations: list[dict]) -> str:
    """The run's result in one line (label-free runs: the k-NN accuracy of their features)."""
    from core import catalog
    from core.reports.summary import result_sentence

    supervised = catalog.method(run["config"]["method"]["name"]).supervised
    best = (run.get("summary") or {}).get("best_generation")
    return result_sentence(generations, supervised, run.get("baselines"), best)


def _charts(run_id: str, was_active: bool) -> None:
    """The run's key charts, side by side, filling the screen; polled while the run trains."""
    import pandas as pd

    from core import catalog
    from core.reports.charts import epoch_accuracy_figure
    from core.storage.run_store import ACTIVE
    from dashboard import figures

    store = state.store()
    run, epochs, generations = store.get_run(run_id), store.epochs(run_id), store.generations(run_id)
    if was_active and run["status"] not in ACTIVE:
        st.rerun()  # the run ended: redraw the page once, without polling
    config = run["config"]
    supervised = catalog.method(config["method"]["name"]).supervised
    st.markdown(f"## {run_sentence(run, generations)}")
    n_gen = config["method"]["generations"]
    parts = (run["info"] or {}).get("loss_parts") or ["loss"]
    best = (run.get("summary") or {}).get("best_generation")
    left, right = st.columns(2, gap="large")
    with left:
        if supervised:
            st.plotly_chart(enlarge(epoch_accuracy_figure(epochs, n_gen, title="Accuracy per epoch")),
                            key="present_epoch_chart", theme=None)
        else:
            fig = figures.loss_figure(pd.DataFrame(epochs), parts, 0.0, n_gen)
            st.plotly_chart(enlarge(fig.update_layout(title="Loss per epoch")), key="present_loss_chart", theme=None)
    with right:
        fig = figures.accuracy_figure(pd.DataFrame(generations), run["baselines"], supervised, best)
        st.plotly_chart(enlarge(fig.update_layout(title="Accuracy per generation")), key="present_accuracy_chart",
                        theme=None)  # the figure's own (enlarged) fonts, not the app theme's
    if run["status"] in ACTIVE:
        st.caption(f"{run['status']}: {len(generations)} of {n_gen} generations finished")


def _one_line_each(runs: Sequence[Mapping]) -> None:
    from dashboard import tables

    store = state.store()
    lines = [f"- **{tables.run_name(run)}** ({run['status']}): {run_sentence(run, store.generations(run['id']))}"
             for run in runs[:MAX_LISTED]]
    st.markdown("#### Every run\n" + "\n".join(lines))


def _pick(key: str) -> None:
    st.query_params["run"] = st.session_state[key]


def show(runs: Sequence[Mapping], selected: str) -> None:
    """Presentation of ``selected``: its name, its result, its key charts; then one line per run."""
    from core.storage.run_store import ACTIVE
    from dashboard import tables

    run = next(r for r in runs if r["id"] == selected)
    title_col, pick_col, exit_col = st.columns([6, 3, 1], vertical_alignment="bottom")
    title_col.header(tables.run_name(run))
    ids = [r["id"] for r in runs]
    names = {r["id"]: tables.run_name(r) for r in runs}
    pick_col.selectbox("run", ids, index=ids.index(selected), format_func=names.get, key="present_run",
                       on_change=_pick, args=("present_run",), label_visibility="collapsed")
    exit_col.button("Exit", key="present_exit", on_click=_exit, icon=":material/close_fullscreen:",
                    help="leave presentation mode")
    live = run["status"] in ACTIVE
    st.fragment(_charts, run_every=LIVE_EVERY_S if live else None)(selected, live)
    _one_line_each(runs)
