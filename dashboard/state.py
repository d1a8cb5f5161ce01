"""Process-wide resources of the app: one RunStore and one JobQueue per store root, the warm-up thread, and
cached loading of stored arrays. Worker threads started here never call ``st.*``.

torch, scikit-learn and umap-learn take seconds to import, so nothing here imports them at module level: the
Launch page paints first, while the warm-up thread imports them, takes a tiny run through the trainer and
compiles UMAP's code in the background.
"""
from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import numpy as np

    from core.engine.jobs import JobQueue
    from core.storage.run_store import RunStore

log = logging.getLogger(__name__)
UMAP_QUIET_S = 15.0  # without a launch for this long after the imports, the UMAP compile goes ahead
UMAP_HOLD_MAX_S = 30.0  # the longest it steps aside


def store_root() -> str:
    """The store folder of this process: ``$SDLAB_STORE`` or ``./runs``, resolved."""
    return str(Path(os.environ.get("SDLAB_STORE", "runs")).resolve())


@st.cache_resource(show_spinner=False)
def _store(root: str) -> RunStore:
    from core.storage.run_store import RunStore

    return RunStore(root)


@st.cache_resource(show_spinner=False)
def _queue(root: str) -> JobQueue:
    from core.engine.jobs import JobQueue

    return JobQueue(_store(root))


def store() -> RunStore:
    return _store(store_root())


def queue() -> JobQueue:
    """The job queue whose worker threads run the runs launched from this app."""
    return _queue(store_root())


def _warm_figures() -> None:
    """Build the Runs page's live charts once: plotly creates its validators on first use, which the
    first loss point would otherwise wait for."""
    import pandas as pd

    from dashboard import figures

    epochs = pd.DataFrame({"generation": [0], "epoch": [0], "loss": [1.0], "ce": [1.0]})
    figures.loss_figure(epochs, ["loss", "ce"], 0.0, 1).to_json()
    figures.accuracy_figure(pd.DataFrame({"generation": [0], "test_accuracy": [0.5]})).to_json()


def _hold_umap_compile(root: str, since: float) -> None:
    """Wait until a run launched since ``since`` is training, or the app has had UMAP_QUIET_S without a launch
    (and no run is starting); at most UMAP_HOLD_MAX_S.

    Compiling UMAP is seconds of GIL-holding work: meanwhile the server thread that talks to the browser gets
    the GIL late, and a page switch or a first loss point reaches the screen seconds late. A new visitor's
    first click is most often Launch, so the compile steps aside until that run has its first epoch; from then
    on it runs alongside the training and is done before the run's first 2-D view is due.
    """
    from core.storage.run_store import RunStore

    store = RunStore(root)
    start = time.monotonic()
    while time.monotonic() - start < UMAP_HOLD_MAX_S:
        runs = [r for r in store.list_runs() if r["created"] >= since]
        if any(store.epochs(r["id"]) for r in runs):
            return  # a run is training
        starting = any(r["status"] == "running" for r in runs)
        if not starting and time.monotonic() - start >= UMAP_QUIET_S:
            return
        time.sleep(0.25)


def _warm_up(root: str, since: float) -> None:
    try:
        import torch

        from core.engine.jobs import JobQueue
        from core.evaluation import embed

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the first optimizer imports torch._dynamo
        JobQueue.warm_up()
        _warm_figures()
        _hold_umap_compile(root, since)
        embed.warm_up()
    except Exception:  # a failed warm-up only costs the first run its import and compile time
        log.exception("warm-up failed")


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Warm the process once, in a daemon thread, so no click waits for it: import the heavy libraries, take a
    tiny run through the trainer and build the live charts (what Launch and Runs need first), then compile UMAP
    (what a run's first 2-D view needs), out of the way of a first launch."""
    thread = threading.Thread(target=_warm_up, args=(store_root(), time.time()), name="sdlab-warm-up", daemon=True)
    thread.start()
    return thread


def drop_query_params(keys) -> None:
    """Remove URL parameters so that no widget is seeded from them, not even on this first load.

    ``del st.query_params[key]`` leaves the page's initial URL snapshot, which bound widgets seed from, and
    Streamlit's own seeding of a number input raises on values such as ``1e400`` (an OverflowError shown as a
    traceback). So the snapshot is cleaned too; this reaches into Streamlit's session state (pinned version,
    covered by tests/test_app_pages.py)."""
    from streamlit.runtime.state import get_session_state

    with get_session_state().query_params() as params:
        for key in keys:
            params._initial_query_params.pop(key, None)  # noqa: SLF001 (see the docstring)
            params.remove_param(key)


@st.cache_data(max_entries=256, show_spinner=False)
def _arrays(root: str, run_id: str, name: str, stamp: int) -> dict[str, np.ndarray]:
    return _store(root).load_arrays(run_id, name)


def arrays(run_id: str, name: str) -> dict[str, np.ndarray]:
    """Stored arrays (``run`` or ``gen<k>``), cached per file version: a rewritten file is read again."""
    path = store().artifact_dir(run_id) / f"{name}.npz"
    try:
        stamp = path.stat().st_mtime_ns
    except FileNotFoundError:
        return {}
    return _arrays(store_root(), run_id, name, stamp)
