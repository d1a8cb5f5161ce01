"""The Runs page's "What a generation changed" panel: generation diff, soft-target explorer, neighbour churn and the
run as a standalone script.

Everything is read from the store (core.evaluation.diff / soft_targets / churn); picking a fixed or broken point,
or a point of the churn view, puts it in the URL as ``?point=`` and reruns, which opens it in the inspector beside
the 2-D view (dashboard.run_panel reads the same parameter).
"""
from __future__ import annotations

from typing import Mapping

import numpy as np
import pandas as pd
import streamlit as st

from core import catalog
from core.evaluation.churn import churn_k, cosine_neighbours, run_churn
from core.evaluation.diff import InsightError, load_generation_diff, stored_generations
from core.evaluation.soft_targets import point_logits
from core.storage.run_store import ACTIVE
from core.storage.script_export import SUPPORT_TEXT, ScriptUnsupported, render_script
from dashboard import insight_figures, state


def show(run: Mapping) -> None:
    """The panel of a run that has ended (a running run's generations are still arriving)."""
    if run["status"] in ACTIVE:
        return
    store = state.store()
    generations = stored_generations(store, run["id"])
    if not generations or "y_test" not in state.arrays(run["id"], "run"):
        return  # nothing finished, or artifacts from elsewhere without the test labels
    st.subheader("What a generation changed")
    supervised = catalog.method(run["config"]["method"]["name"]).supervised
    names = ["Generation diff", "Soft targets", "Neighbour churn", "As a script"]
    diff_tab, targets_tab, churn_tab, script_tab = st.tabs(names)
    with diff_tab:
        if supervised and len(generations) > 1 and all(
                {"logits", "probs"} & set(state.arrays(run["id"], f"gen{g}")) for g in generations):
            _diff(run, generations)
        else:
            st.caption("The diff compares the predictions of two generations: it needs a supervised run with at "
                       "least two generations.")
    with targets_tab:
        if supervised:
            _targets(run)
        else:
            st.caption("A label-free run has no class outputs to soften.")
    with churn_tab:
        if len(generations) > 1 and all("features" in state.arrays(run["id"], f"gen{g}") for g in generations):
            _churn(run, generations)
        else:
            st.caption("Churn compares a generation with the one before: it needs two generations.")
    with script_tab:
        _script(run)


def _open_point(key: str, index: int | None) -> None:
    """Open ``index`` in the inspector when the widget ``key`` selected a new point (not on every rerun)."""
    seen = f"_{key}_opened"
    if index is None or st.session_state.get(seen) == index:
        return
    st.session_state[seen] = index
    if st.query_params.get("point") != str(index):
        st.query_params["point"] = str(index)
        st.rerun()


def _points_table(title: str, indices: list[int], labels: np.ndarray, pred_a: np.ndarray, pred_b: np.ndarray,
                  gens: tuple[int, int], key: str) -> None:
    st.markdown(f"**{title}** ({len(indices)})")
    if not indices:
        return st.caption("none")
    frame = pd.DataFrame({"test point": indices, "label": labels[indices],
                          f"gen {gens[0]} says": pred_a[indices], f"gen {gens[1]} says": pred_b[indices]})
    event = st.dataframe(frame, hide_index=True, height=min(36 + 35 * len(indices), 280), key=key,
                         on_select="rerun", selection_mode="single-row", width="stretch")
    rows = (event or {}).get("selection", {}).get("rows", []) if isinstance(event, Mapping) else \
        getattr(getattr(event, "selection", None), "rows", [])
    _open_point(key, int(frame["test point"].iloc[rows[0]]) if rows else None)


def _diff(run: Mapping, generations: list[int]) -> None:
    store, run_id = state.store(), run["id"]
    left, right = st.columns(2)
    gen_from = left.selectbox("from generation A", generations, index=0, key="insight_from")
    gen_to = right.selectbox("to generation B", generations, index=len(generations) - 1, key="insight_to")
    try:
        diff = load_generation_diff(store, run_id, gen_from, gen_to)
    except InsightError as exc:
        return st.caption(str(exc))
    labels = state.arrays(run_id, "run")["y_test"]
    pred_a = _predictions(run_id, gen_from)
    pred_b = _predictions(run_id, gen_to)
    cols = st.columns(3)
    cols[0].metric("fixed by B", len(diff["fixed"]), help="test points A got wrong and B gets right")
    cols[1].metric("broken by B", len(diff["broken"]), help="test points A got right and B gets wrong")
    cols[2].metric("test accuracy change", f"{diff['accuracy_to'] - diff['accuracy_from']:+.1%}",
                   help="(fixed − broken) / test points")
    fixed_col, broken_col = st.columns(2)
    with fixed_col:
        _points_table("Fixed", diff["fixed"], labels, pred_a, pred_b, (gen_from, gen_to), "insight_fixed")
    with broken_col:
        _points_table("Broken", diff["broken"], labels, pred_a, pred_b, (gen_from, gen_to), "insight_broken")
    changed = {**{i: f"{i} · fixed" for i in diff["fixed"]}, **{i: f"{i} · broken" for i in diff["broken"]}}
    chosen = st.selectbox("open a fixed or broken point in the inspector", sorted(changed), index=None,
                          format_func=changed.get, key="insight_open", placeholder="pick a test point",
                          help="or pick a row of either table; the inspector is beside the 2-D view above")
    _open_point("insight_open", chosen)
    st.plotly_chart(insight_figures.confusion_figure(diff["confusion_from"], diff["confusion_to"], gen_from, gen_to),
                    key="insight_confusion")
    if "n_flipped" in diff:
        st.markdown(f"**Flipped training labels** ({diff['n_flipped']}): generation {gen_from} reproduced "
                    f"{diff['flipped_reproduced_from']}, generation {gen_to} reproduces "
                    f"{diff['flipped_reproduced_to']}. B **stopped** reproducing {len(diff['flipped_stopped'])} "
                    f"and **started** reproducing {len(diff['flipped_started'])}.")
        with st.expander("their training indices"):
            st.write({"stopped": diff["flipped_stopped"], "started": diff["flipped_started"]})
    elif run["config"]["data"]["label_noise"] > 0:
        st.caption("This run was stored before training logits were kept: the flipped labels cannot be compared.")


def _predictions(run_id: str, generation: int) -> np.ndarray:
    arrays = state.arrays(run_id, f"gen{generation}")
    return (arrays["logits"] if "logits" in arrays else arrays["probs"]).argmax(1)


def _targets(run: Mapping) -> None:
    store, run_id = state.store(), run["id"]
    run_arrays = state.arrays(run_id, "run")
    flipped = run_arrays.get("flipped", np.zeros(0, dtype=np.int64))
    kinds = ["test point"] + (["flipped training point"] if len(flipped) else [])
    left, right = st.columns([2, 3])
    kind = left.radio("point", kinds, horizontal=True, key="insight_target_kind")
    if kind == "test point":
        url_point = st.query_params.get("point", "0")
        default = int(url_point) if url_point.isascii() and url_point.isdigit() else 0
        n = len(run_arrays["y_test"])
        index = right.number_input("test point", 0, n - 1, min(default, n - 1), key="insight_target_index",
                                   help="defaults to the point open in the inspector")
        split, what = "test", f"test point {index}"
    else:
        index = right.selectbox("training point whose label was flipped", flipped.tolist(),
                                key="insight_target_flipped")
        split, what = "flipped", f"training point {index} (label flipped)"
    try:
        label, generations, logits = point_logits(store, run_id, int(index), split)
    except InsightError as exc:
        return st.caption(str(exc))
    clean = int(run_arrays["y_train_clean"][index]) if split == "flipped" else None
    st.plotly_chart(insight_figures.soft_target_figure(logits, generations, label, what, clean,
                                                       run["config"]["method"]["temperature"]),
                    key="insight_targets")
    st.caption("Each generation's output softened at temperature T: what it hands its student (which learns at "
               f"the run's T = {run['config']['method']['temperature']:g}). The slider recomputes in your browser "
               "from the logits shipped with the chart. Black ticks: the generation's own output at T = 1; green "
               "outline: the given label as a one-hot target.")


def _churn(run: Mapping, generations: list[int]) -> None:
    store, run_id = state.store(), run["id"]
    labels = state.arrays(run_id, "run")["y_test"]
    k = churn_k(len(labels))  # a small uploaded test split has fewer than CHURN_K other points
    if not k:
        st.caption(f"Neighbour churn needs at least 3 test points; this run has {len(labels)}.")
        return
    churn = run_churn(store, run_id, k)
    st.plotly_chart(insight_figures.churn_figure(churn), key="insight_churn")
    st.caption(f"For each test point, the share of its {k} nearest neighbours (cosine, in feature space) "
               "that are new since the previous generation: 0 = the same neighbours, 100% = all new.")
    shown = st.select_slider("generation", list(churn), value=max(churn), key="insight_churn_gen")
    arrays = state.arrays(run_id, f"gen{shown}")
    if "embedding" in arrays:
        event = st.plotly_chart(insight_figures.churn_view_figure(arrays["embedding"], churn[shown], labels, shown),
                                key="insight_churn_view", on_select="rerun", selection_mode="points")
        points = (event or {}).get("selection", {}).get("points", [])
        data = points[0].get("customdata") if points else None
        if data:
            _open_point("insight_churn_view", int(data["0"] if isinstance(data, Mapping) else data[0]))
    text = st.query_params.get("point")
    if text and text.isascii() and text.isdigit() and int(text) < len(labels):
        _neighbour_thumbnails(run, int(text), shown - 1, shown, churn[shown][int(text)], k)


def _neighbour_thumbnails(run: Mapping, index: int, before: int, after: int, share: float, k: int) -> None:
    run_id = run["id"]
    run_arrays = state.arrays(run_id, "run")
    shape = (run["info"] or {}).get("image_shape")
    st.markdown(f"**Neighbours of test point {index}** ({share:.0%} changed from generation {before} to {after})")
    for g in (before, after):
        neighbours = cosine_neighbours(state.arrays(run_id, f"gen{g}")["features"], k)[index].tolist()
        captions = [f"{j} · {int(run_arrays['y_test'][j])}" for j in neighbours]
        if shape:
            raw = run_arrays["x_test_raw"][neighbours].astype(float)
            images = [(r / (r.max() or 1.0)).reshape(shape) for r in raw]
            st.caption(f"generation {g}")
            st.image(images, caption=captions, width=56, clamp=True)
        else:
            st.caption(f"generation {g}: " + ", ".join(captions))


def _script(run: Mapping) -> None:
    st.caption(SUPPORT_TEXT)
    try:
        text = render_script(run["id"], run["config"])
    except ScriptUnsupported as exc:
        return st.info(f"This run cannot be exported as a script: {exc}.", icon=":material/block:")
    st.download_button("train.py (standalone PyTorch script)", text, file_name="train.py", mime="text/x-python",
                       icon=":material/code:", key="dl_script")
    st.caption("One file that needs only torch, numpy and scikit-learn: it loads the same data with the same "
               "split and trains the same generations, printing each generation's test accuracy.")
