"""The warm-up's hold on the UMAP compile: it steps aside while a freshly launched run starts."""
from __future__ import annotations

import time

from core.presets import get_preset
from core.storage.run_store import RunStore
from dashboard import state


def _running_run(store: RunStore) -> str:
    run_id = store.create_run(get_preset("dry-run").config().to_dict())
    store.claim(run_id)  # running, no epoch yet
    return run_id


def test_umap_compile_waits_for_a_starting_run_and_goes_once_it_trains(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "UMAP_QUIET_S", 0.0)
    monkeypatch.setattr(state, "UMAP_HOLD_MAX_S", 0.6)
    store = RunStore(tmp_path)
    since = time.time()
    run_id = _running_run(store)
    started = time.monotonic()
    state._hold_umap_compile(str(tmp_path), since)
    assert time.monotonic() - started >= 0.6  # held back for as long as allowed: the run had no epoch

    monkeypatch.setattr(state, "UMAP_HOLD_MAX_S", 30.0)
    store.add_epoch(run_id, 0, 0, {"loss": 1.0})
    started = time.monotonic()
    state._hold_umap_compile(str(tmp_path), since)
    assert time.monotonic() - started < 5  # the run trains: the compile goes ahead at once


def test_umap_compile_ignores_runs_from_before_the_app_started(tmp_path, monkeypatch):
    monkeypatch.setattr(state, "UMAP_QUIET_S", 0.0)
    store = RunStore(tmp_path)
    _running_run(store)  # e.g. left running by a CLI process: not a launch from this app
    started = time.monotonic()
    state._hold_umap_compile(str(tmp_path), since=time.time() + 1)
    assert time.monotonic() - started < 5
