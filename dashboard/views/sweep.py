"""Sweep page: many small runs over a grid or a search space, a live table, parallel coordinates and a heatmap.

The sweep's driver runs in a background thread of the app (``core.sweeps.service.SweepService``, one per store,
kept in ``st.cache_resource`` with its warm workers); this page only reads the store. The Dask address, when
there is one, comes from ``$SDLAB_DASK_ADDRESS``, never from the page.
"""
from __future__ import annotations

import os

import streamlit as st

from core.config import ConfigError, all_keys, key_type
from core.presets import PRESETS, get_preset
from core.sweeps.executors.factory import MAX_LOCAL_WORKERS, exposure_warning
from core.sweeps.service import SweepService
from core.sweeps.spec import OBJECTIVES, SAMPLERS, Param, SweepSpec, parse_grid
from core.sweeps.store import SweepError, SweepStore, best_point
from core.sweeps.driver import request_stop
from dashboard import access, state
from dashboard.sweep_figures import heatmap_figure, launch_query, parallel_figure, points_frame, trials_frame

DEFAULT_PRESET = "digits-ban-noisy"
DEFAULT_KEYS = ["method.temperature", "method.alpha"]
DEFAULT_VALUES = {"method.temperature": "1, 4, 8", "method.alpha": "0.5, 1.0", "method.generations": "2, 3, 4",
                  "train.lr": "0.0003, 0.001, 0.003", "data.label_noise": "0.2, 0.4"}
SWEEPABLE = [k for k in all_keys() if k not in ("data.path", "data.label_column")]
RESUMABLE = ("interrupted", "cancelled", "failed")
DEFAULT_WORKERS = os.cpu_count() or 1  # as the CLI's default: one trial per core


@st.cache_resource(show_spinner=False, on_release=lambda service: service.close())
def _service(root: str) -> SweepService:
    """The app's sweep runner for this store: its worker processes stay warm between sweeps."""
    return SweepService(state.store())


def _param(key: str, base_value) -> Param:
    """The inputs of one swept key: a list of values, or (numeric keys) a range with a scale."""
    numeric = key_type(key) in (int, float)
    mode_col, value_col = st.columns([2, 5])
    mode = mode_col.radio(key, ["values", "range"] if numeric else ["values"], horizontal=True,
                          key=f"sweep_mode_{key}")
    if mode == "values":
        text = value_col.text_input(f"{key} values, comma-separated", DEFAULT_VALUES.get(key, str(base_value)),
                                    key=f"sweep_values_{key}")
        return parse_grid(f"{key}={text}")
    low_col, high_col, log_col = value_col.columns([2, 2, 1])
    kind = key_type(key)
    low = low_col.number_input(f"{key} low", value=kind(base_value) / 4 if kind is float else max(1, base_value // 2),
                               format="%g" if kind is float else "%d", key=f"sweep_low_{key}")
    high = high_col.number_input(f"{key} high", value=kind(base_value) * 4 if kind is float else base_value * 2,
                                 format="%g" if kind is float else "%d", key=f"sweep_high_{key}")
    log = log_col.checkbox("log", value=kind is float, key=f"sweep_log_{key}")
    return Param(key, low=kind(low), high=kind(high), log=log)


def _spec_form() -> tuple[SweepSpec | None, str | None]:
    """The launch form; returns the validated spec, or None and the reason."""
    preset = st.selectbox("Base preset", list(PRESETS), index=list(PRESETS).index(DEFAULT_PRESET),
                          key="sweep_preset", format_func=lambda n: f"{n} — {PRESETS[n].description}")
    base = get_preset(preset).config().flat()
    keys = st.multiselect("Parameters to vary", SWEEPABLE, default=DEFAULT_KEYS, key="sweep_keys")
    try:
        params = tuple(_param(key, base[key]) for key in keys)
    except ConfigError as exc:
        return None, str(exc)
    sampler_col, trials_col, seeds_col, objective_col = st.columns(4)
    sampler = sampler_col.radio("Sampler", SAMPLERS, horizontal=True, key="sweep_sampler")
    trials = trials_col.number_input("Points (random / TPE)", 1, 500, 10, key="sweep_trials",
                                     disabled=sampler == "grid", help="the grid sampler runs the whole grid")
    seeds = seeds_col.number_input("Seeds per point", 1, 20, 1, key="sweep_seeds")
    objective = objective_col.selectbox("Objective (maximised)", list(OBJECTIVES), key="sweep_objective")
    try:
        spec = SweepSpec(params=params, preset=preset, sampler=sampler, seeds=int(seeds), objective=objective,
                         trials=None if sampler == "grid" else int(trials))
    except ConfigError as exc:
        return None, str(exc)
    return spec, None


def _launch(service: SweepService) -> None:
    spec, problem = _spec_form()
    address = SweepService.dask_address()
    executor = "local"
    if address:
        executor = st.radio("Run on", ["local", "dask"], horizontal=True, key="sweep_executor",
                            format_func=lambda k: "this machine" if k == "local" else f"Dask cluster at {address}")
        warning = exposure_warning(address)
        if executor == "dask" and warning:
            st.warning(warning, icon=":material/shield:")
    if problem:
        st.error(problem, icon="⚠️")
    elif spec is not None:
        st.caption(f"{spec.trials} points × {spec.seeds} seed(s) = {spec.total_runs()} runs. "
                   f"Trials keep no weights and use a PCA view; open the best one in Launch for a full run.")
    if service.busy():
        st.info(f"Sweep {service.sweep_id} is running; stop it or wait to launch another.")
    allowed = access.gate("sweep")
    workers = None
    if executor == "local":
        workers = int(st.number_input(
            "Worker processes", 1, MAX_LOCAL_WORKERS, min(DEFAULT_WORKERS, MAX_LOCAL_WORKERS), key="sweep_workers",
            help="trials run side by side, one per process; each holds torch (a few hundred MB). More than the "
                 f"machine's {os.cpu_count() or 1} cores only makes each trial slower."))
    if st.button("Launch sweep", type="primary", key="sweep_launch",
                 disabled=spec is None or service.busy() or not allowed):
        try:
            if executor == "local":
                service.set_workers(workers)
            st.session_state["sweep"] = service.launch(spec, executor)
        except SweepError as exc:
            st.error(str(exc), icon="⚠️")


def _status(service: SweepService, sweep: dict, trials: list[dict], spec: SweepSpec, best: dict) -> None:
    ended = sum(t["status"] not in ("queued", "running") for t in trials)
    c1, c2, c3 = st.columns(3)
    c1.metric("Status", sweep["status"])
    c2.metric("Runs ended", f"{ended} / {spec.total_runs()}")
    c3.metric(f"Best {spec.objective}", "-" if best["objective"] is None else f"{best['objective']:.4f}")
    st.caption(spec.describe() + (f" · on {sweep['executor']}" if sweep["executor"] else ""))
    if sweep["error"] and sweep["status"] != "finished":
        st.warning(sweep["error"].splitlines()[0])
    allowed = access.may_act()
    if sweep["status"] == "running" and st.button("Stop sweep", key="sweep_stop", disabled=not allowed):
        if service.busy() and service.sweep_id == sweep["id"]:
            service.stop()
        else:
            request_stop(service.store, sweep["id"])
    if sweep["status"] in RESUMABLE and not service.busy() and st.button("Resume sweep", key="sweep_resume",
                                                                            disabled=not allowed):
        on_dask = (sweep["executor"] or "").startswith("dask") and SweepService.dask_address()
        try:
            service.resume(sweep["id"], "dask" if on_dask else "local")
        except SweepError as exc:
            st.error(str(exc), icon="⚠️")
        else:
            st.rerun()


def _results(trials: list[dict], spec: SweepSpec, best: dict) -> None:
    keys = spec.keys()
    st.dataframe(trials_frame(trials, keys, spec), hide_index=True, key="sweep_table", placeholder="—",
                 column_config={"objective": st.column_config.NumberColumn(format="%.4f")})
    points = points_frame(trials, keys)
    if points["objective"].notna().sum() == 0:
        return
    st.plotly_chart(parallel_figure(points, spec), key="sweep_parallel")
    if len(keys) == 2:
        st.plotly_chart(heatmap_figure(points, keys[0], keys[1], spec.objective), key="sweep_heatmap")
    shown = ", ".join(f"{k} = {v}" for k, v in best["params"].items())
    st.success(f"Best: {shown} — {spec.objective} {best['objective']:.4f} (mean over its seeds)")
    if st.button("Open the best in Launch", key="sweep_open_best"):
        st.switch_page("views/launch.py", query_params=launch_query(spec, best["params"]))


def _sweep_view(service: SweepService, sweep_id: str) -> None:
    sweeps = SweepStore(service.store)
    was_running = sweeps.get(sweep_id)["status"] == "running"

    @st.fragment(run_every=1 if was_running else None)
    def live() -> None:
        sweep = sweeps.get(sweep_id)
        spec = SweepSpec.from_dict(sweep["spec"])
        trials = sweeps.trials(sweep_id)
        best = best_point(trials)
        _status(service, sweep, trials, spec, best)
        _results(trials, spec, best)
        if was_running and sweep["status"] != "running":
            st.rerun()  # the whole page once more: the final state, no more polling

    live()


st.title("Sweep")
st.caption("Many small runs over a grid or a search space, run side by side on local worker processes (or a Dask "
           "cluster named by $SDLAB_DASK_ADDRESS). Every trial is an ordinary run in the store.")
service = _service(state.store_root())
with st.container(border=True):
    _launch(service)
if service.error:
    st.error(f"The last sweep's driver stopped: {service.error}")

stored = SweepStore(service.store).list()
if not stored:
    st.info("No sweeps yet: launch one above, or from a terminal: "
            "`python -m core sweep --preset dry-run --grid method.alpha=0.5,1`.")
else:
    ids = [s["id"] for s in stored]
    if st.session_state.get("sweep") not in ids and st.query_params.get("sweep") not in ids:
        st.session_state["sweep"] = ids[0]  # the newest, unless the URL or a launch names one
    chosen = st.selectbox("Sweep (newest first)", ids, key="sweep", bind="query-params")
    _sweep_view(service, chosen)
