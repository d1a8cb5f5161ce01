"""Run management: name, note and delete (store, CLI, Runs page), search and the preset column in the lists.

A real dry run (the real trainer) fills the store once per module; every test works on a copy of that store.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from streamlit import config as st_config
from streamlit.testing.v1 import AppTest

from core.storage import manage
from core.storage.run_store import RunNotFound, RunStore

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "dashboard" / "app.py")


def cli(*args: str, store: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "core", *args, "--store", str(store)], cwd=ROOT, text=True,
                          capture_output=True, input=stdin, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})


@pytest.fixture(scope="module")
def filled(tmp_path_factory) -> tuple[Path, str]:
    """A store holding one finished dry run, trained by the real CLI."""
    root = tmp_path_factory.mktemp("filled") / "store"
    out = cli("run", "--preset", "dry-run", "--json", "--set", "method.generations=2", store=root)
    assert out.returncode == 0, out.stderr
    return root, json.loads(out.stdout.splitlines()[-1])["run_id"]


@pytest.fixture
def store_copy(filled, tmp_path) -> tuple[RunStore, str]:
    root, run_id = filled
    shutil.copytree(root, tmp_path / "store")
    return RunStore(tmp_path / "store"), run_id


def _count(store: RunStore, table: str, run_id: str) -> int:
    column = "id" if table == "runs" else "run_id"
    with sqlite3.connect(store.db_path) as db:
        return db.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (run_id,)).fetchone()[0]


def test_rename_and_note_round_trip_and_clear(store_copy):
    store, run_id = store_copy
    assert manage.rename(store, run_id, "  noisy baseline  ") == "noisy baseline"
    assert manage.set_note(store, run_id, "first try\nlr too high?") == "first try\nlr too high?"
    run = RunStore(store.root).get_run(run_id)  # a second handle reads the same file
    assert (run["name"], run["note"]) == ("noisy baseline", "first try\nlr too high?")
    assert manage.display_name(run) == f"noisy baseline · {run_id}"
    assert store.summary(run_id)["name"] == "noisy baseline"
    manage.rename(store, run_id, "   ")
    assert store.get_run(run_id)["name"] is None and manage.display_name(store.get_run(run_id)) == f"dry-run · {run_id}"


@pytest.mark.parametrize("name, message", [("a\x00b", "control character"), ("x" * 81, "at most 80"),
                                           ("two\nlines", "control character")])
def test_bad_names_are_refused_and_nothing_changes(store_copy, name, message):
    store, run_id = store_copy
    manage.rename(store, run_id, "kept")
    with pytest.raises(ValueError, match=message):
        manage.rename(store, run_id, name)
    assert store.get_run(run_id)["name"] == "kept"
    with pytest.raises(RunNotFound):
        manage.rename(store, "no-such-run", "x")


def test_delete_removes_rows_of_all_three_tables_and_the_artifacts(store_copy):
    store, run_id = store_copy
    other = store.create_run({"seed": 3}, label="other")  # another run's rows stay
    store.add_epoch(other, 0, 0, {"loss": 1.0})
    store.finish(other, "finished")
    folder = store.artifact_dir(run_id)
    files = sum(1 for p in folder.rglob("*") if p.is_file())
    assert files >= 3 and _count(store, "epochs", run_id) > 0 and _count(store, "generations", run_id) == 2
    removed = manage.delete_run(store, run_id)
    assert removed["runs"] == 1 and removed["generations"] == 2 and removed["artifact_files"] == files
    assert [_count(store, t, run_id) for t in ("runs", "epochs", "generations")] == [0, 0, 0]
    assert not folder.exists()
    assert _count(store, "epochs", other) == 1 and store.get_run(other)["label"] == "other"
    with pytest.raises(RunNotFound):
        manage.delete_run(store, run_id)


def test_a_running_or_queued_run_or_a_sweep_trial_is_not_deleted(store_copy):
    store, _ = store_copy
    queued = store.create_run({})  # owned by this (alive) process
    running = store.create_run({})
    store.claim(running)
    for run_id, status in ((queued, "queued"), (running, "running")):
        with pytest.raises(manage.RunBusy, match=f"is {status}"):
            manage.delete_run(store, run_id)
        assert _count(store, "runs", run_id) == 1 and store.artifact_dir(run_id).exists()
    trial = store.create_run({}, sweep_id="sw-1")
    store.finish(trial, "finished")
    with pytest.raises(manage.RunBusy, match="sweep sw-1"):
        manage.delete_run(store, trial)


def test_a_run_whose_owner_died_reads_interrupted_and_can_be_deleted(store_copy):
    store, _ = store_copy
    code = ("import sys; from core.storage.run_store import RunStore; s = RunStore(sys.argv[1]); "
            "r = s.create_run({}); s.claim(r); print(r)")
    run_id = subprocess.run([sys.executable, "-c", code, str(store.root)], cwd=ROOT, text=True,
                            capture_output=True, check=True).stdout.strip()
    assert manage.delete_run(store, run_id)["runs"] == 1


def test_an_old_store_gains_the_name_and_note_columns(tmp_path):
    with sqlite3.connect(tmp_path / "runs.sqlite") as db:  # the runs table as first released
        db.execute("CREATE TABLE runs (id TEXT PRIMARY KEY, status TEXT NOT NULL, config TEXT NOT NULL, "
                   "created REAL NOT NULL, started REAL, finished REAL, error TEXT, pid INTEGER, pid_start TEXT, "
                   "host TEXT, info TEXT, baselines TEXT, warnings TEXT, summary TEXT, sweep_id TEXT, label TEXT, "
                   "cancel_requested INTEGER NOT NULL DEFAULT 0)")
        db.execute("INSERT INTO runs (id, status, config, created) VALUES ('old', 'finished', '{}', 1.0)")
    store = RunStore(tmp_path)
    assert store.get_run("old")["name"] is None
    manage.set_note(store, "old", "from last year")
    assert store.get_run("old")["note"] == "from last year"


def test_cli_rename_note_list_and_delete(store_copy):
    store, run_id = store_copy
    root = store.root
    assert cli("rename", run_id, "my baseline", store=root).returncode == 0
    assert cli("note", run_id, "for Tuesday's class", store=root).returncode == 0
    table = cli("list", store=root).stdout
    header = table.splitlines()[0].split()
    assert header[:4] == ["run_id", "name", "preset", "status"]
    assert "my baseline" in table and "dry-run" in table
    rows = json.loads(cli("list", "--json", store=root).stdout)
    assert rows[0]["name"] == "my baseline" and rows[0]["preset"] == "dry-run" and rows[0]["run_id"] == run_id
    shown = json.loads(cli("show", run_id, "--json", store=root).stdout)
    assert shown["note"] == "for Tuesday's class"
    bad = cli("rename", run_id, "bad\x07name", store=root)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1 and "control character" in bad.stderr
    unasked = cli("delete", run_id, store=root, stdin="y\n")  # stdin is a pipe, not a terminal: refused
    assert unasked.returncode == 2 and "--yes" in unasked.stderr and _count(store, "runs", run_id) == 1
    missing = cli("delete", "nope", "--yes", store=root)
    assert missing.returncode == 2 and "no run 'nope'" in missing.stderr
    done = cli("delete", run_id, "--yes", store=root)
    assert done.returncode == 0 and "deleted run" in done.stdout
    assert _count(store, "runs", run_id) == 0 and not store.artifact_dir(run_id).exists()
    assert json.loads(cli("list", "--json", store=root).stdout) == []


def test_cli_refuses_to_delete_a_running_run(store_copy):
    store, _ = store_copy
    running = store.create_run({})
    store.claim(running)  # this test process owns it and is alive
    out = cli("delete", running, "--yes", store=store.root)
    assert out.returncode == 2 and "is running" in out.stderr and _count(store, "runs", running) == 1


# ---- the Runs page ---------------------------------------------------------------------------------------------
@pytest.fixture
def page_store(store_copy, monkeypatch):
    store, run_id = store_copy
    second = store.create_run({**store.get_run(run_id)["config"], "seed": 9}, label="digits-ban-noisy")
    store.finish(second, "finished")
    manage.set_note(store, run_id, "the one with the typo")
    monkeypatch.setenv("SDLAB_STORE", str(store.root))
    monkeypatch.setenv("SDLAB_RAISE_ERRORS", "1")
    import streamlit as st

    st.cache_resource.clear()
    st.cache_data.clear()
    yield store, run_id, second
    st.cache_resource.clear()


def _runs_page(run_id: str) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["run"] = run_id
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    return at


@pytest.mark.slow
def test_runs_page_search_name_and_delete(page_store):
    store, run_id, second = page_store
    at = _runs_page(run_id)
    listed = at.dataframe[0].value
    assert {"name", "preset"} <= set(listed.columns) and len(listed) == 2
    at.text_input(key="runs_search").input("typo").run()  # matches the note of the first run only
    assert list(at.dataframe[0].value["run"]) == [run_id]
    at.text_input(key="runs_search").input("digits-ban").run()
    assert list(at.dataframe[0].value["run"]) == [second]
    at.text_input(key="runs_search").input("").run()
    at.text_input(key=f"run_name_{run_id}").input("Tuesday demo")
    at.button(key="FormSubmitter:manage_" + run_id + "-Save name and note").click().run()
    assert not at.exception, at.exception
    assert store.get_run(run_id)["name"] == "Tuesday demo"
    assert any(h.value.startswith("Tuesday demo · ") for h in at.header)
    at.button(key="delete_run").click().run()
    assert _count(store, "runs", run_id) == 1  # asked first: nothing deleted yet
    at.button(key="delete_keep").click().run()
    assert _count(store, "runs", run_id) == 1 and not [b for b in at.button if b.key == "delete_confirm"]
    at.button(key="delete_run").click().run()
    at.button(key="delete_confirm").click().run()
    assert not at.exception, at.exception
    assert _count(store, "runs", run_id) == 0 and not store.artifact_dir(run_id).exists()
    assert list(at.dataframe[0].value["run"]) == [second] and at.query_params["run"] == second


def test_a_read_only_session_cannot_rename_or_delete(page_store):
    store, run_id, _ = page_store
    before = st_config.get_option("server.address")
    st_config.set_option("server.address", "0.0.0.0")
    try:
        at = _runs_page(run_id)
    finally:
        st_config.set_option("server.address", before)
    assert at.button(key="delete_run").disabled and at.text_input(key=f"run_name_{run_id}").disabled
    assert _count(store, "runs", run_id) == 1
