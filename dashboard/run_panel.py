"""One run on the Runs page: progress and charts (live while it runs), 2-D views, the clicked input, downloads.

While the run is queued or running, the live charts poll the store (a fragment's ``run_every``) and the status
badge is kept current by the page's own script (dashboard/status_beacon.py); when the run ends or a generation
finishes, a full rerun redraws the page, and an ended run's page polls no more. Everything is read from the store,
so a run started elsewhere (CLI, another tab) shows the same way.
"""
from __future__ import annotations

import json
import time
from typing import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from core.storage.export import embedding_frame
from core.presets import PRESETS
from core.storage.run_store import ACTIVE, RunStore, wall_seconds
from core import catalog
from dashboard import (access, attention_panel, audience, audio_panel, feature_figures, figures, insight_panel,
                       live_figures, report_download, state, status_beacon, tables, view_cache)
from dashboard.progress import format_duration, progress

STATUS_BADGES = {"queued": ("gray", ":material/schedule:"), "running": ("blue", ":material/directions_run:"),
                 "finished": ("green", ":material/check_circle:"), "failed": ("red", ":material/error:"),
                 "cancelled": ("orange", ":material/cancel:"), "interrupted": ("orange", ":material/bolt:")}
# One live redraw costs the browser ~0.3-0.5 s of CPU on a 2-core machine (mostly Streamlit's own re-rendering,
# bench/RESULTS.md): every 2 s leaves the training beside it its core, and the charts slow down as more pages watch
# the same run (dashboard/audience.py); the status reaches the page at once (dashboard/status_beacon.py).
FIRST_EPOCH_EVERY_S = 0.25  # until the first epoch is in: the first loss point shows as soon as it exists
FIRST_EPOCH_WAIT_S = 1.0  # the longest one poll holds on for a started run's first epoch (a click waits as long)
EMBEDDING_NAMES = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE"}


def show(run: Mapping) -> None:
    """The whole panel of one run."""
    active = run["status"] in ACTIVE
    _header(run)
    # A run just launched is drawn with its first epoch when that is moments away, and polls at the normal pace.
    started = bool(_await_first_epoch(state.store(), run["id"])[1]) if active else True
    live_every = audience.live_every(audience.watching(run["id"])) if active else None
    every = (live_every if started else FIRST_EPOCH_EVERY_S) if active else None
    # The 2-D views change only when a generation ends: the page reruns whole then (no polling here).
    drawn = len(state.store().generations(run["id"]))
    # The status reaches the page through its own small script (status_beacon), not through a script run: the
    # run's end or a finished generation shows at once, and the page then reruns whole.
    _status(run, drawn)
    st.fragment(_live, run_every=every)(run["id"], active, started, drawn, live_every)
    _per_generation(run)  # not polled: redrawn by the page rerun that each finished generation brings
    st.fragment(_views)(run["id"])
    insight_panel.show(run)  # what a generation changed (dashboard/insight_panel.py)
    _downloads(run)


def _summary_line(config: Mapping) -> str:
    d, m, mo, t = config["data"], config["method"], config["model"], config["train"]
    parts = [f"{d['name']}" + (f" with {d['label_noise']:.0%} label noise" if d["label_noise"] else ""),
             f"{mo['name'].upper()} {mo['hidden']}×{mo['depth']}",
             f"{m['name']}" + (f" T={m['temperature']:g} α={m['alpha']:g}" if m["name"] == "ban" else ""),
             f"{m['generations']} generations × {t['epochs']} epochs", f"lr {t['lr']:g}", f"seed {config['seed']}"]
    return " · ".join(parts)


def _header(run: Mapping) -> None:
    st.header(tables.run_name(run), divider="gray")
    if run.get("note"):
        st.caption(run["note"])
    st.caption(_summary_line(run["config"]))
    preset = PRESETS.get(run.get("label") or "")
    if preset is not None and preset.explanation:
        st.info(f"**What to look for.** {preset.explanation}", icon=":material/school:")


def _status(run: Mapping, generations: int) -> None:
    """The status badge (kept current by the page itself while the run is active) and its messages."""
    if run["status"] in ACTIVE:
        status_beacon.show(run, generations, STATUS_BADGES)
    else:
        color, icon = STATUS_BADGES.get(run["status"], ("gray", ""))
        st.badge(run["status"], icon=icon, color=color)
    if run["status"] == "failed":
        st.error(f"This run failed: {run['error']}")
        trace = (run.get("summary") or {}).get("traceback")
        if trace:
            with st.expander("traceback"):
                st.code(trace, language="text")
    elif run["status"] == "interrupted":
        st.warning(f"This run was interrupted ({run['error']}); the generations it finished are shown below.")
    elif run["status"] == "cancelled":
        st.warning("This run was cancelled; the generations it finished are shown below.")
    for warning in run["warnings"]:
        st.warning(warning, icon=":material/warning:")


def _progress(run: Mapping, epochs: list[dict]) -> None:
    config = run["config"]
    p = progress(config["method"]["generations"], config["train"]["epochs"], epochs, run["started"])
    cols = st.columns(4)
    cols[0].metric("generation", f"{p.generation} of 0–{p.generations - 1}")
    cols[1].metric("epoch", f"{p.epoch} / {p.epochs}")
    if run["status"] in ACTIVE:
        cols[2].metric("time left", format_duration(p.seconds_left))
        with cols[3]:
            if st.button("Cancel run", key="cancel", icon=":material/cancel:", width="stretch",
                         disabled=not access.may_act(), help=None if access.may_act() else "read-only server"):
                state.queue().cancel(run["id"])
                st.toast("Cancelling: the run stops at its next step.")
        st.progress(p.fraction, text=f"{p.fraction:.0%} of all epochs")
    elif run["started"] and run["finished"]:  # an interrupted run: up to its last stored epoch (no downtime)
        last = max((float(e["time"]) for e in epochs), default=None)
        cols[2].metric("wall time", format_duration(wall_seconds(run, last)),
                       help="until its last stored epoch" if run["status"] == "interrupted" else None)


def _loss_chart(run: Mapping, epochs: list[dict]) -> None:
    parts = ["loss", *((run["info"] or {}).get("loss_parts") or [])]
    left, middle, right = st.columns([5, 3, 4])
    chosen = left.pills("loss parts", parts, selection_mode="multi", default=parts[1:] or parts,
                        format_func=figures.part_label, key="loss_parts")
    with middle:
        st.write("")
        log_y = st.toggle("log y", key="loss_log")  # KD is scaled by T², so it can dwarf CE on a linear axis
    smoothing = right.slider("smoothing", 0.0, 0.95, 0.0, 0.05, key="smoothing",
                             help="exponential moving average weight w: s(t) = w·s(t−1) + (1−w)·loss(t)")
    figure = live_figures.loss_figure(run["id"], live_figures.epochs_version(epochs), tuple(chosen), smoothing,
                                      run["config"]["method"]["generations"], log_y, epochs)
    st.plotly_chart(figure, key="loss_chart")


def _await_first_epoch(store: RunStore, run_id: str) -> tuple[dict, list[dict]]:
    """The run and its epochs; a started run without an epoch yet is waited for, up to FIRST_EPOCH_WAIT_S.

    The first epoch of a started run is usually a fraction of a second away. Reading the store here every
    20 ms draws its loss point as soon as it exists, where the next poll would come a browser round trip and a
    poll interval later. A queued run is not waited for: it may be behind another run for minutes.
    """
    deadline = time.monotonic() + FIRST_EPOCH_WAIT_S
    run, epochs = store.get_run(run_id), store.epochs(run_id)
    while not epochs and run["status"] == "running" and time.monotonic() < deadline:
        time.sleep(0.02)
        run, epochs = store.get_run(run_id), store.epochs(run_id)
    return run, epochs


def _live(run_id: str, was_active: bool, had_epochs: bool, drawn_generations: int = 0,
          live_every: float | None = None) -> None:
    """Progress and the per-epoch charts (loss; accuracy, or the collapse monitor when label-free), polled while
    active. Only what changes every epoch is here: each poll costs the browser a re-render of all of it."""
    store = state.store()
    if was_active and not had_epochs:
        run, epochs = _await_first_epoch(store, run_id)
    else:
        run, epochs = store.get_run(run_id), live_figures.shared_epochs(store, run_id)
    if was_active and (run["status"] not in ACTIVE or len(store.generations(run_id)) != drawn_generations):
        st.rerun()  # the status script reruns the page for this at once; here in case it cannot reach the server
    if live_every is not None and audience.live_every(audience.watching(run_id)) > live_every:
        st.rerun()  # the audience has grown: take up the slower pace (a smaller one speeds up at the next rerun)
    _progress(run, epochs)
    epochs = live_figures.thinned(epochs)  # for the charts: the progress above counted every epoch
    loss_col, right_col = st.columns(2, gap="large")
    with loss_col:
        st.subheader("Loss per epoch")
        _loss_chart(run, epochs)
    with right_col:
        if catalog.method(run["config"]["method"]["name"]).supervised:
            # per-epoch test and validation accuracy: memorisation and early stopping show here
            st.subheader("Accuracy per epoch")
            st.plotly_chart(live_figures.epoch_accuracy_figure(run_id, live_figures.epochs_version(epochs),
                                                               run["config"]["method"]["generations"], epochs),
                            key="epoch_accuracy_chart")
        elif epochs:
            st.subheader("Collapse monitor")
            st.plotly_chart(live_figures.monitor_figure(run_id, live_figures.epochs_version(epochs), epochs),
                            key="monitor_chart")
    if was_active and epochs and not had_epochs:
        st.rerun()  # the first epoch is drawn: redraw the page to poll at the normal pace from now on


def _per_generation(run: Mapping) -> None:
    """Accuracy per generation and the per-generation table (and, label-free, the features against baselines)."""
    run_id = run["id"]
    generations = state.store().generations(run_id)
    supervised = catalog.method(run["config"]["method"]["name"]).supervised
    acc_col, table_col = st.columns(2, gap="large")
    with acc_col:
        st.subheader("Accuracy per generation")
        best = (run.get("summary") or {}).get("best_generation")
        version = live_figures.generations_version(generations, run["baselines"])
        ended_empty = not generations and run["status"] not in ACTIVE  # never "waiting" for a run that ended
        st.plotly_chart(figures.accuracy_figure(pd.DataFrame(), None, supervised, None, empty_text=f"this run was "
                                                f"{run['status']} before generation 0 finished") if ended_empty else
                        live_figures.accuracy_figure(run_id, version, supervised, best, generations, run["baselines"]),
                        key="accuracy_chart")
    with table_col:
        st.subheader("Per generation")
        if generations:
            frame = tables.generation_frame(generations)
            st.dataframe(frame, hide_index=True, width="stretch", placeholder="—", column_config={
                c: st.column_config.NumberColumn(format="percent") for c in tables.PERCENT_COLUMNS if c in frame} | {
                "ECE (calibration)": st.column_config.NumberColumn(format="%.3f"),
                "NLL": st.column_config.NumberColumn(format="%.3f")})
            st.caption(tables.generation_caption(list(frame.columns), run["config"]["data"]["label_noise"] > 0))
        else:
            st.caption("Filled in as each generation finishes.")
    if generations and run["baselines"]:
        _features_panel(run, generations)


def _point_detail(run_id: str, index: int, generations: list[int], run_arrays: dict, info: Mapping) -> None:
    label = int(run_arrays["y_test"][index])
    shape = info.get("image_shape")
    raw = run_arrays["x_test_raw"][index]
    if shape:
        st.plotly_chart(figures.digit_figure(raw.reshape(shape), f"test input {index} · label {label}"),
                        key="point_image")
    else:
        st.markdown(f"**test input {index}** · label {label}")
        st.dataframe(pd.DataFrame({"feature": np.arange(len(raw)), "value": raw}), hide_index=True, height=200)
    probs = [state.arrays(run_id, f"gen{g}").get("probs") for g in generations]
    if all(p is not None for p in probs) and probs:
        st.plotly_chart(figures.probability_figure(np.stack([p[index] for p in probs]), generations, label),
                        key="point_probs")
    else:
        st.caption("A label-free run has no class probabilities to show.")
    if shape:  # a ViT run's attention maps, every generation (nothing for other models)
        attention_panel.show(run_id, index, generations, raw.reshape(shape))
    audio_panel.show(run_arrays, index)  # a speech run's clip, to listen to (nothing for other datasets)


def _features_panel(run: Mapping, generations: list[dict]) -> None:
    """The learned features against fair baselines, and what a probe reaches with a few labels per class."""
    st.subheader("Features against baselines")
    best = (run.get("summary") or {}).get("best_generation")
    left, right = st.columns(2, gap="large")
    with left:
        st.plotly_chart(feature_figures.baselines_figure(generations, run["baselines"], best), key="baselines_chart")
    with right:
        efficiency = run.get("label_efficiency")
        if efficiency:
            st.plotly_chart(feature_figures.label_efficiency_figure(efficiency), key="label_efficiency_chart")
        else:
            st.caption("The label-efficiency chart appears when the run has finished.")
    st.caption(feature_figures.BASELINES_CAPTION)


def _clicked_point(event, n_points: int) -> int | None:
    """The point clicked now (also put in the URL as ?point=), else the one in the URL, else None."""
    points = (event or {}).get("selection", {}).get("points", [])
    data = points[0].get("customdata") if points else None  # [test index, label, (prediction)]
    if data:  # a row of a binary-encoded array reaches Python as {"0": index, "1": label, ...}
        st.query_params["point"] = str(int(data["0"] if isinstance(data, Mapping) else data[0]))
    text = st.query_params.get("point")
    if text is None or not (text.isascii() and text.isdigit()) or int(text) >= n_points:
        return None
    return int(text)


def _views(run_id: str) -> None:
    """The 2-D view of every finished generation, and the input behind a clicked point."""
    store = state.store()
    run = store.get_run(run_id)
    info = run["info"] or {}
    generations = [g["generation"] for g in store.generations(run_id)]
    run_arrays = state.arrays(run_id, "run")
    if run["config"]["eval"]["embedding"] == "none":
        return st.caption("This run stored no 2-D view (eval.embedding = none).")
    loaded = {g: state.arrays(run_id, f"gen{g}") for g in generations}
    loaded = {g: a for g, a in loaded.items() if "embedding" in a}
    if not loaded or "y_test" not in run_arrays:
        return st.caption("The 2-D view of the test features appears when generation 0 has finished.")
    labels = run_arrays["y_test"]
    supervised = all("probs" in a for a in loaded.values())
    method = EMBEDDING_NAMES.get(run["config"]["eval"]["embedding"], "2-D")
    st.subheader(f"{method} view of the test features, generation by generation")
    view_col, detail_col = st.columns([3, 2], gap="large")
    with view_col:
        start = max(loaded) if run["status"] in ACTIVE else min(loaded)
        n_classes = int(info.get("n_classes") or labels.max() + 1)
        version = view_cache.views_version(store.artifact_dir(run_id), loaded)  # built once per stored version
        views, figure = view_cache.embedding_view(run_id, version, n_classes, start, run["config"]["seed"], loaded,
                                                  labels)
        event = st.plotly_chart(figure,
                                key="embedding_chart", on_select="rerun", selection_mode="points",
                                config={"scrollZoom": True, "displaylogo": False})
        shown = len(next(iter(views.values())))
        noisy = run["config"]["data"]["label_noise"] > 0
        recolour = " The buttons above the view colour the points by true label, prediction or correct / wrong."
        no_flipped = (" Test labels are never flipped (label noise touches the training split only), so there is no "
                      "'flipped' colouring here: the memorized-noise column above tracks the flipped training labels.")
        st.caption(f"{shown:,} of {len(labels):,} test points" + (" (a seeded sample)" if shown < len(labels) else "")
                   + ". ▶ Play steps through the generations; the views are aligned, so a point moves only when its "
                   "features moved." + (recolour if supervised else "") + (no_flipped if noisy else ""))
    with detail_col:
        index = _clicked_point(event, len(labels))
        if index is None:
            probs = [loaded[g]["probs"] for g in sorted(loaded)] if supervised else []
            index, why = tables.telling_point(probs, labels)
            st.caption(f"Showing test input {index}: {why}. Click any point to see another.")
        _point_detail(run_id, index, sorted(loaded), run_arrays, info)


def _embeddings_csv(store: RunStore, run_id: str) -> str:
    """Every generation's 2-D view in one table (runs on Streamlit's download thread: no st.* here)."""
    frames = []
    for row in store.generations(run_id):
        frame = embedding_frame(store, run_id, row["generation"])
        if frame is not None:
            frames.append(frame.assign(generation=row["generation"]))
    return (pd.concat(frames) if frames else pd.DataFrame()).to_csv(index=False)


def _downloads(run: Mapping) -> None:
    store, run_id = state.store(), run["id"]
    st.subheader("Downloads")
    cols = st.columns(4)
    table_icon = ":material/table_view:"
    cols[0].download_button("epoch metrics (CSV)", lambda: pd.DataFrame(store.epochs(run_id)).to_csv(index=False),
                            file_name=f"{run_id}-epochs.csv", mime="text/csv", icon=table_icon, key="dl_epochs")
    cols[1].download_button("generation metrics (CSV)",
                            lambda: pd.DataFrame(store.generations(run_id)).to_csv(index=False),
                            file_name=f"{run_id}-generations.csv", mime="text/csv", icon=table_icon,
                            key="dl_generations")
    cols[2].download_button("config (JSON)", json.dumps(run["config"], indent=2, sort_keys=True),
                            file_name=f"{run_id}-config.json", mime="application/json",
                            icon=":material/settings:", key="dl_config")
    cols[3].download_button("2-D views (CSV)", lambda: _embeddings_csv(store, run_id),
                            file_name=f"{run_id}-views.csv", mime="text/csv", icon=":material/scatter_plot:",
                            key="dl_views")
    report_download.button([run_id], key="dl_report")
