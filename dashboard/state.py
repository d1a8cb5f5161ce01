"""Process-wide resources of the app: one RunStore and one JobQueue per store root, the warm-up thread, and
cached loading of stored arrays. Worker threads started here never call ``st.*``.

torch, scikit-learn and umap-learn take seconds to import, so nothing here imports them at module level: the
Launch page paints first, while the warm-up thread imports them and compiles UMAP's code in the background.
"""
from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:
    import numpy as np

    from core.jobs import JobQueue
    from core.store import RunStore

log = logging.getLogger(__name__)


def store_root() -> str:
    """The store folder of this process: ``$SDLAB_STORE`` or ``./runs``, resolved."""
    return str(Path(os.environ.get("SDLAB_STORE", "runs")).resolve())


@st.cache_resource(show_spinner=False)
def _store(root: str) -> RunStore:
    from core.store import RunStore

    return RunStore(root)


@st.cache_resource(show_spinner=False)
def _queue(root: str) -> JobQueue:
    from core.jobs import JobQueue

    return JobQueue(_store(root))


def store() -> RunStore:
    return _store(store_root())


def queue() -> JobQueue:
    """The job queue whose worker threads run the runs launched from this app."""
    return _queue(store_root())


def _warm_up() -> None:
    try:
        import torch

        import core.jobs  # noqa: F401  (torch, the trainer, the store: what Launch and Runs need next)
        import dashboard.run_panel  # noqa: F401  (pandas, plotly)
        from core import embed

        torch.optim.Adam([torch.zeros(1, requires_grad=True)])  # the first optimizer imports torch._dynamo (~3 s)
        embed.warm_up()
    except Exception:  # a failed warm-up only costs the first run its import and compile time
        log.exception("warm-up failed")


@st.cache_resource(show_spinner=False)
def start_warm_up() -> threading.Thread:
    """Import the heavy libraries and compile UMAP once per process in a daemon thread: no click waits for it."""
    thread = threading.Thread(target=_warm_up, name="sdlab-warm-up", daemon=True)
    thread.start()
    return thread


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
