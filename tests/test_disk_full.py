"""A full disk fails a run cleanly: status failed with "disk full", no temporary file left, the database
consistent, and once space is freed the next run works. On a real (tiny, tmpfs) filesystem: needs root to mount,
as CI and the developers' machines have."""
from __future__ import annotations

import os
import sqlite3
import subprocess

import pytest

from core.engine.runner import execute
from core.presets import get_preset
from core.storage.run_store import RunStore

SMALL = {"eval.embedding": "none", "eval.linear_probe": "false", "train.epochs": "2"}


@pytest.fixture
def tiny_disk(tmp_path):
    """A 1.2 MB tmpfs mounted for the test (unmounted after)."""
    if os.geteuid() != 0:
        pytest.fail("mounting a tiny filesystem needs root (CI and the dev machines run as root)")
    mount = tmp_path / "tiny"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "--lazy", str(mount)], check=True)  # the store may still hold its connection


def _consistent(store: RunStore) -> bool:
    with sqlite3.connect(store.db_path) as db:
        return db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _temporary_files(store: RunStore) -> list:
    return [p for p in (store.root / "artifacts").rglob("*") if ".tmp" in p.name]


def test_weights_that_do_not_fit_fail_the_run_cleanly(tiny_disk):
    store = RunStore(tiny_disk / "store")
    summary = execute(get_preset("dry-run").config({**SMALL, "model.hidden": "512"}), store)
    assert summary["status"] == "failed" and summary["error"].startswith("disk full"), summary["error"]
    run = store.get_run(summary["run_id"])
    assert run["status"] == "failed" and run["error"].startswith("disk full")
    assert _temporary_files(store) == [] and _consistent(store)
    for path in (store.root / "artifacts").rglob("gen*.*"):  # free the space
        path.unlink()
    again = execute(get_preset("dry-run").config({**SMALL, "model.hidden": "32"}), store)
    assert again["status"] == "finished", again["error"]


def test_a_database_that_cannot_grow_fails_the_run_cleanly(tiny_disk):
    store = RunStore(tiny_disk / "store")
    filler = tiny_disk / "filler"
    free = os.statvfs(tiny_disk).f_bavail * os.statvfs(tiny_disk).f_frsize
    filler.write_bytes(b"\0" * (free - 16 * 1024))  # leave 16 KiB: the epochs' rows soon stop fitting
    summary = execute(get_preset("dry-run").config({**SMALL, "train.epochs": "200", "model.hidden": "32",
                                                    "eval.save_weights": "false"}), store)
    assert summary["status"] == "failed" and "disk full" in summary["error"], summary["error"]
    assert store.get_run(summary["run_id"])["status"] == "failed"  # written in the room of the store's reserve
    assert _temporary_files(store) == [] and _consistent(store)
    filler.unlink()
    again = execute(get_preset("dry-run").config({**SMALL, "model.hidden": "32"}), store)
    assert again["status"] == "finished", again["error"]
