"""Process-wide resources of the app: one RunStore and one JobQueue per store root, the warm-up thread, and
cached loading of stored arrays. Worker threads started here never call ``st.*``.

Training runs in the job queue's worker process, never in this one: the server imports neither torch nor
umap-learn for a run, and a page's redraws cannot slow training down. The warm-up thread starts that process
as soon as the first page is drawn, so it is warm by the time Launch is clicked.
"""
from __future__ import annotations

import json
import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import numpy as np

    from core.engine.jobs import JobQueue
    from core.storage.run_store import RunStore

log = logging.getLogger(__name__)


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


_WARM = threading.Event()


def _warm_up(root: str) -> None:
    try:
        _queue(root).start()  # spawns the worker process, which imports torch and takes a tiny run on its own
        _warm_figures()
        import core.data.splits  # noqa: F401  (scikit-learn: the Launch page's data check)
        import core.engine.estimate  # noqa: F401  (torch: the Launch page's time estimate)
    except Exception:  # a failed warm-up only costs the first run its start-up time
        log.exception("warm-up failed")
    finally:
        _WARM.set()


def warm() -> bool:
    """Whether the warm-up has finished (or failed): the Launch page's checks are then quick."""
    return _WARM.is_set()


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Warm up once, in a daemon thread, so no click waits for it: start the job queue's worker process (it
    warms itself: torch, a tiny run, then UMAP's compile once a run is under way) and build the live charts."""
    thread = threading.Thread(target=_warm_up, args=(store_root(),), name="sdlab-warm-up", daemon=True)
    thread.start()
    return thread


@st.cache_data(max_entries=64, show_spinner=False)
def _estimate(config_json: str):
    from core.config import RunConfig
    from core.engine.jobs import JobQueue

    return JobQueue.estimate(RunConfig.from_json(config_json))


@st.cache_data(max_entries=64, show_spinner=False)
def _data_problem(data_json: str, seed: int) -> str | None:
    from core.config import DataConfig
    from core.data.files import DataError
    from core.data.splits import load_dataset

    try:
        load_dataset(DataConfig(**json.loads(data_json)), seed)
    except DataError as exc:
        return str(exc)
    return None


def data_checks_warm() -> bool:
    """Whether this process has the data modules loaded (a check is then quick); False on a fresh server."""
    import sys

    return "core.data.splits" in sys.modules


def data_problem(config) -> str | None:
    """Why the config's data cannot be split as asked (a one-line reason), or None; checked before Launch."""
    return _data_problem(json.dumps(config.to_dict()["data"], sort_keys=True), config.seed)


def estimate(config):
    """The run's expected time on this machine (a few timed steps of its model), cached per config."""
    return _estimate(config.to_json())


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
