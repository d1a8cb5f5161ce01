"""The seed group of the selected run on the Runs page (issue 14): the spread over its seeds before the one seed.

A run launched with ``--seeds N`` (core.engine.seed_group) is one seed of a group; this panel draws the group's
curves as mean, min–max band and faint seeds, accuracy per generation as mean with per-seed dots, the
per-generation table as mean ± std, and a seed picker: the run panel below (2-D view included) shows the chosen
seed. A run without a group draws nothing here.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import streamlit as st

from core import catalog
from core.storage.run_store import ACTIVE
from dashboard import group_figures, state

POLL_S = 2.0
TEACHING_SEEDS = 3
MAX_FORM_SEEDS = 8  # the queue holds 20 waiting runs; a comparison preset multiplies


def members(run: Mapping, runs: Sequence[Mapping]) -> list[Mapping]:
    """The runs of ``run``'s group, by seed; empty when it has none."""
    group_id = run.get("group_id")
    if not group_id:
        return []
    return sorted((r for r in runs if r.get("group_id") == group_id), key=lambda r: r["config"]["seed"])


def show(run: Mapping, runs: Sequence[Mapping]) -> None:
    group = members(run, runs)
    if len(group) < 2:
        return
    seeds = [r["config"]["seed"] for r in group]
    st.header(f"Seed group: {len(group)} seeds ({seeds[0]}–{seeds[-1]})", divider="gray")
    st.caption(f"group {run['group_id']} · one run is one draw: read the lesson off the mean and the band "
               "(min–max over seeds); each faint line or dot is one seed.")
    active = any(r["status"] in ACTIVE for r in group)
    st.fragment(_charts, run_every=POLL_S if active else None)([r["id"] for r in group], seeds)
    chosen = st.segmented_control("seed shown below", seeds, default=run["config"]["seed"], key="group_seed",
                                  format_func=lambda s: f"seed {s}")
    if chosen is not None and chosen != run["config"]["seed"]:
        st.query_params["run"] = group[seeds.index(chosen)]["id"]
        st.rerun()
    st.caption("Below: the chosen seed alone (its 2-D view, its inputs, its downloads).")


def _charts(run_ids: list[str], seeds: list[int]) -> None:
    store = state.store()
    runs = [store.get_run(run_id) for run_id in run_ids]
    statuses = ", ".join(f"seed {s}: {r['status']}" for s, r in zip(seeds, runs))
    st.caption(statuses)
    epochs = {s: store.epochs(r["id"]) for s, r in zip(seeds, runs)}
    generations = {s: store.generations(r["id"]) for s, r in zip(seeds, runs) if r["status"] != "failed"}
    supervised = catalog.method(runs[0]["config"]["method"]["name"]).supervised
    loss_col, acc_col = st.columns(2, gap="large")
    with loss_col:
        st.subheader("Loss per epoch, over seeds")
        st.plotly_chart(group_figures.epoch_band_figure(epochs, "loss", "loss"), key="group_loss_chart")
        if supervised:
            st.plotly_chart(group_figures.epoch_band_figure(epochs, "test_accuracy", "test accuracy", percent=True),
                            key="group_epoch_accuracy_chart")
    with acc_col:
        st.subheader("Accuracy per generation, over seeds")
        metric = "test_accuracy" if supervised else "knn_accuracy"
        st.plotly_chart(group_figures.generation_spread_figure(generations, metric), key="group_accuracy_chart")
    st.subheader("Per generation: mean ± std over seeds")
    table = group_figures.spread_table(generations)
    if len(table):
        st.dataframe(table, hide_index=True, width="stretch", placeholder="—", key="group_table")
    else:
        st.caption("Filled in as every seed finishes a generation.")


def group_choices(runs: Sequence[Mapping]) -> dict[str, list[Mapping]]:
    """Seed groups in the store, newest first: "label · group id · N seeds" → its runs."""
    groups: dict[str, list[Mapping]] = {}
    for run in runs:
        if run.get("group_id"):
            groups.setdefault(run["group_id"], []).append(run)
    return {f"{members[0].get('label') or members[0]['config']['method']['name']} · {gid} · {len(members)} seeds":
            members for gid, members in groups.items() if len(members) > 1}


def pick_groups(runs: Sequence[Mapping], run_name) -> list[str]:
    """On Compare: a picker of whole seed groups; returns the names (``run_name``) of their runs. The page groups
    runs that differ only by seed into one line (mean ± std), so each group is compared as one."""
    choices = group_choices(runs)
    if not choices:
        return []
    picked = st.multiselect("Seed groups to compare", list(choices), key="compare_groups",
                            placeholder="add whole seed groups (each shown as mean ± std over its seeds)")
    return [run_name(run) for label in picked for run in choices[label]]


def seeds_field(preset_name: str) -> int:
    """Launch's "seeds" field: teaching presets default to 3 (one run is one draw), the others to 1."""
    default = TEACHING_SEEDS if preset_name.startswith("teach-") else 1
    n_seeds = int(st.number_input("seeds", 1, MAX_FORM_SEEDS, default, key=f"seeds_{preset_name}",
                               help="run seeds S, S+1, … of this config as one group: Runs shows the mean and the "
                                    "spread. The group is one job: a born-again MLP's seeds train together, in "
                                    "one batched pass (other models one seed after another); Cancel on any seed "
                                    "cancels the group"))
    if n_seeds > 1:
        st.caption(f"{n_seeds} seeds: {n_seeds} runs as one job, trained together where the model allows.")
    return n_seeds


def submit_group(configs: Sequence, n_seeds: int, job_queue, label: str | None) -> list[str]:
    """Submit each config as ``n_seeds`` runs (seeds S..S+N−1): with more than one seed, ONE job of the queue
    per config (its seeds trained together, one group id, cancelled together); the run ids, in order."""
    run_ids = []
    for config in configs:
        if n_seeds == 1:
            run_ids.append(job_queue.submit(config, label=label))
        else:
            seeds = [config.override({"seed": config.seed + k}) for k in range(n_seeds)]
            run_ids += job_queue.submit_group(seeds, label=label)[1]
    return run_ids
