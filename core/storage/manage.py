"""Run management: a run's name and note, and deleting a run (its rows in all three tables and its artifacts).

Kept beside ``run_store`` rather than in it so that module stays short; it writes through the store's own
connection, so only the store's file is touched. A run that is queued or running (and whose owner is alive) is
never deleted: its worker would go on writing rows for an id that no longer exists. A sweep's trial is not
deleted either: the sweep's table points at it and its results would silently change.
"""
from __future__ import annotations

import shutil
import unicodedata

from core.storage.run_store import ACTIVE, RunNotFound, RunStore, update_by_id

MAX_NAME = 80
MAX_NOTE = 2000


class RunBusy(ValueError):
    """The run cannot be deleted now (queued, running, or a sweep's trial); the message says why."""


def _clean(text: str, what: str, limit: int, multiline: bool) -> str | None:
    """Stripped text, or None for empty (which clears the field); ValueError on control characters or length."""
    if not isinstance(text, str):
        raise ValueError(f"{what} must be text, got {type(text).__name__}")
    text = text.strip()
    allowed = {"\n", "\t"} if multiline else set()
    bad = [c for c in text if unicodedata.category(c)[0] == "C" and c not in allowed]
    if bad:
        raise ValueError(f"{what} holds a control character ({bad[0]!r}); use plain text")
    if len(text) > limit:
        raise ValueError(f"{what} is {len(text)} characters long; at most {limit}")
    return text or None


def _set(store: RunStore, run_id: str, fields: dict) -> None:
    with store.connect() as db:
        if not update_by_id(db, "runs", run_id, fields):
            raise RunNotFound(run_id)


def rename(store: RunStore, run_id: str, name: str) -> str | None:
    """Give the run a display name (one line, at most MAX_NAME characters); an empty name removes it."""
    clean = _clean(name, "a run's name", MAX_NAME, multiline=False)
    _set(store, run_id, {"name": clean})
    return clean


def set_note(store: RunStore, run_id: str, text: str) -> str | None:
    """Attach a free-text note (at most MAX_NOTE characters, newlines allowed); empty text removes it."""
    clean = _clean(text, "a note", MAX_NOTE, multiline=True)
    _set(store, run_id, {"note": clean})
    return clean


def delete_run(store: RunStore, run_id: str) -> dict:
    """Delete the run's rows (runs, epochs, generations) and its artifact folder; returns what was removed.

    RunBusy when it is queued or running (``get_run`` first marks a run whose owner died ``interrupted``, which
    may then be deleted) or when it is a sweep's trial. The rows go in one transaction, then the folder."""
    run = store.get_run(run_id)  # RunNotFound; reconciles a dead owner to interrupted
    if run["status"] in ACTIVE:
        raise RunBusy(f"run {run_id} is {run['status']}: cancel it and wait for it to stop before deleting it")
    if run.get("sweep_id"):
        raise RunBusy(f"run {run_id} is a trial of sweep {run['sweep_id']}: the sweep's results need it")
    with store.connect() as db:
        counts = {table: db.execute(f"DELETE FROM {table} WHERE run_id = ?", (run_id,)).rowcount
                  for table in ("epochs", "generations")}
        # Only a run that is still not active goes: a run cannot become active again, but be exact anyway.
        counts["runs"] = db.execute("DELETE FROM runs WHERE id = ? AND status NOT IN ('queued', 'running')",
                                    (run_id,)).rowcount
        if counts["runs"] != 1:
            raise RunBusy(f"run {run_id} changed while it was being deleted; try again")
    folder = store.artifact_dir(run_id)
    counts["artifact_files"] = sum(1 for p in folder.rglob("*") if p.is_file()) if folder.exists() else 0
    shutil.rmtree(folder, ignore_errors=True)
    return counts


def display_name(run: dict) -> str:
    """What a run is called in lists: its name, else its preset label, then the id."""
    head = run.get("name") or run.get("label")
    return f"{head} · {run['id']}" if head else run["id"]
