"""The run store: one SQLite file (WAL, so readers work while a run writes) plus an artifact folder per run.

Layout under the store root (``$SDLAB_STORE`` or ``./runs``)::

    runs.sqlite                   runs, per-epoch and per-generation metrics
    artifacts/<run_id>/run.npz    test inputs, labels, flipped indices
    artifacts/<run_id>/gen<k>.npz features, probabilities, 2-D embedding of generation k
    artifacts/<run_id>/gen<k>.pt  state dict of generation k (loaded with weights_only=True)

A run whose owning process has died while it was queued or running reads back as ``interrupted``;
the generations it finished stay readable.
"""
from __future__ import annotations

import errno
import json
import os
import secrets
import shutil
import socket
import sqlite3
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import numpy as np

STATUSES = ("queued", "running", "finished", "failed", "cancelled", "interrupted")
ACTIVE = ("queued", "running")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (
    id TEXT PRIMARY KEY, status TEXT NOT NULL, config TEXT NOT NULL, created REAL NOT NULL,
    started REAL, finished REAL, error TEXT, pid INTEGER, pid_start TEXT, host TEXT,
    info TEXT, baselines TEXT, warnings TEXT, summary TEXT, sweep_id TEXT, label TEXT,
    cancel_requested INTEGER NOT NULL DEFAULT 0, label_efficiency TEXT);
CREATE TABLE IF NOT EXISTS epochs (
    run_id TEXT NOT NULL, generation INTEGER NOT NULL, epoch INTEGER NOT NULL, time REAL NOT NULL,
    metrics TEXT NOT NULL, PRIMARY KEY (run_id, generation, epoch));
CREATE TABLE IF NOT EXISTS generations (
    run_id TEXT NOT NULL, generation INTEGER NOT NULL, time REAL NOT NULL, metrics TEXT NOT NULL,
    PRIMARY KEY (run_id, generation));
CREATE INDEX IF NOT EXISTS runs_sweep ON runs (sweep_id);
"""
# Columns added after the first release, with their types: a store written before them gains them on opening.
_ADDED_COLUMNS = {"label_efficiency": "TEXT", "name": "TEXT", "note": "TEXT", "group_id": "TEXT"}
_JSON_COLUMNS = ("config", "info", "baselines", "warnings", "summary", "label_efficiency")


class RunNotFound(KeyError):
    """No run with that id in this store."""

    def __str__(self) -> str:
        return f"no run {self.args[0]!r} in this store"


NEARLY_FULL_BYTES = 256 * 1024  # a write that failed with less than this left free failed for lack of space
RESERVE_NAME, RESERVE_BYTES = ".reserve", 256 * 1024  # ballast freed to record a run's end on a full disk


class DiskFull(OSError):
    """The store's disk is full: what was being written is dropped whole (no half file, no temp file left)."""


def _disk_full(exc: BaseException) -> bool:
    text = str(exc).lower()
    return (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "disk is full" in text \
        or "no space left" in text or ("file write failed" in text and isinstance(exc, RuntimeError))


@contextmanager
def _atomic(tmp: Path, final: Path) -> Iterator[Path]:
    """Write to ``tmp`` then rename it to ``final``; on any failure remove ``tmp`` (DiskFull when space ran out)."""
    try:
        yield tmp
        tmp.replace(final)
    except BaseException as exc:
        # Libraries word a full disk in their own ways (torch: "unexpected pos"): the free space says it plainly.
        nearly_full = shutil.disk_usage(tmp.parent).free < NEARLY_FULL_BYTES
        tmp.unlink(missing_ok=True)
        if _disk_full(exc) or nearly_full:
            raise DiskFull(errno.ENOSPC, f"disk full: could not write {final.name} to the store") from None
        raise


def default_root() -> Path:
    return Path(os.environ.get("SDLAB_STORE", "runs"))


def process_start(pid: int) -> str | None:
    """The kernel's start time of a process (field 22 of /proc/PID/stat); guards against reused pids."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def owner_alive(pid: int | None, pid_start: str | None, host: str | None) -> bool:
    if pid is None or host != socket.gethostname():
        return True  # another machine's run: cannot tell, trust its status
    start = process_start(pid)
    return start is not None and (pid_start is None or start == pid_start)


def orphaned(row: sqlite3.Row | dict) -> bool:
    """Whether the process that owns a running row (run or sweep) is gone: its row should read interrupted."""
    return not owner_alive(row["pid"], row["pid_start"], row["host"])


def update_by_id(db: sqlite3.Connection, table: str, row_id: str, fields: dict) -> bool:
    """``UPDATE table SET fields WHERE id = row_id``; False when no such row. ``table`` and the field names come
    from this package's code, never from input."""
    assignments = ", ".join(f"{k} = ?" for k in fields)
    return db.execute(f"UPDATE {table} SET {assignments} WHERE id = ?", (*fields.values(), row_id)).rowcount > 0


def wall_seconds(run: dict, last_write: float | None) -> float | None:
    """Seconds the run was at work. An interrupted run's ``finished`` is when a reader found its owner dead,
    possibly after hours of server downtime, so it counts up to the last epoch or generation it stored."""
    end = last_write if run["status"] == "interrupted" else run["finished"]
    if not run["started"] or end is None:
        return None
    return round(max(end - run["started"], 0.0), 3)


def new_run_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)


class RunStore:
    """Thread- and process-safe access to runs: one SQLite connection per thread, WAL for concurrent readers."""

    def __init__(self, root: str | Path | None = None):
        self.root = Path(root) if root is not None else default_root()
        self.root.mkdir(parents=True, exist_ok=True)
        self.db_path = self.root / "runs.sqlite"
        self._local = threading.local()
        with self.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(_SCHEMA)
            present = {row["name"] for row in db.execute("PRAGMA table_info(runs)")}
            for column, kind in _ADDED_COLUMNS.items():
                if column not in present:
                    db.execute(f"ALTER TABLE runs ADD COLUMN {column} {kind}")
        self.keep_reserve()

    # ---- a full disk ----------------------------------------------------
    def keep_reserve(self) -> None:
        """Hold RESERVE_BYTES of disk in a ballast file, so that a run can still record its end on a full disk."""
        reserve = self.root / RESERVE_NAME
        if reserve.exists():
            return
        try:
            with open(reserve, "wb") as out:
                out.write(b"\0" * RESERVE_BYTES)
        except OSError:  # no room even for that: the store works without it
            reserve.unlink(missing_ok=True)

    def release_reserve(self) -> bool:
        """Free the ballast (on a full disk, before writing a run's end); False when there was none."""
        reserve = self.root / RESERVE_NAME
        if not reserve.exists():
            return False
        reserve.unlink()
        return True

    @contextmanager
    def connect(self) -> Iterator[sqlite3.Connection]:
        """This thread's connection in a transaction (committed on success); rows come back as dicts.

        Each thread keeps its connection open: closing one costs a WAL checkpoint, which a per-epoch write
        would otherwise pay every epoch."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.db_path, timeout=30)
            db.row_factory = sqlite3.Row
            db.execute("PRAGMA synchronous=NORMAL")
            self._local.db = db
        try:
            with db:
                yield db
        except sqlite3.OperationalError as exc:  # the transaction was rolled back: the file stays consistent
            if _disk_full(exc):
                raise DiskFull(errno.ENOSPC, "disk full: the store's database could not be written") from None
            raise

    def artifact_dir(self, run_id: str) -> Path:
        return self.root / "artifacts" / run_id

    # ---- writing -------------------------------------------------------
    def create_run(self, config: dict, *, sweep_id: str | None = None, label: str | None = None) -> str:
        """Register a queued run owned by this process; returns its id."""
        run_id = new_run_id()
        pid = os.getpid()
        with self.connect() as db:
            db.execute("INSERT INTO runs (id, status, config, created, pid, pid_start, host, sweep_id, label) "
                       "VALUES (?, 'queued', ?, ?, ?, ?, ?, ?, ?)",
                       (run_id, json.dumps(config), time.time(), pid, process_start(pid), socket.gethostname(),
                        sweep_id, label))
        self.artifact_dir(run_id).mkdir(parents=True, exist_ok=True)
        return run_id

    def claim(self, run_id: str) -> None:
        """Mark a run running, owned by the calling process."""
        pid = os.getpid()
        self._update(run_id, status="running", started=time.time(), pid=pid, pid_start=process_start(pid),
                     host=socket.gethostname())

    def set_info(self, run_id: str, info: dict) -> None:
        self._update(run_id, info=json.dumps(info))

    def set_baselines(self, run_id: str, baselines: dict) -> None:
        self._update(run_id, baselines=json.dumps(baselines))

    def set_label_efficiency(self, run_id: str, results: dict) -> None:
        self._update(run_id, label_efficiency=json.dumps(results))

    def set_group(self, run_id: str, group_id: str) -> None:
        """Tag a run as one seed of a seed group (core.engine.seed_group)."""
        self._update(run_id, group_id=group_id)

    def finish(self, run_id: str, status: str, error: str | None = None, summary: dict | None = None) -> None:
        if status not in STATUSES:
            raise ValueError(f"status {status!r}: must be one of {STATUSES}")
        fields = {"status": status, "finished": time.time(), "error": error}
        if summary is not None:
            fields.update(summary=json.dumps(summary), warnings=json.dumps(summary.get("warnings", [])))
        self._update(run_id, **fields)

    def request_cancel(self, run_id: str) -> None:
        """Ask the run's owner to stop at its next step; a queued run is cancelled at once."""
        with self.connect() as db:
            db.execute("UPDATE runs SET cancel_requested = 1 WHERE id = ?", (run_id,))
            db.execute("UPDATE runs SET status = 'cancelled', finished = ? WHERE id = ? AND status = 'queued'",
                       (time.time(), run_id))

    def cancel_requested_in_sweep(self, sweep_id: str) -> list[str]:
        """Ids of the sweep's running runs whose cancel was requested (by any process)."""
        with self.connect() as db:
            rows = db.execute("SELECT id FROM runs WHERE sweep_id = ? AND cancel_requested = 1 AND "
                              "status = 'running'", (sweep_id,)).fetchall()
        return [row["id"] for row in rows]

    def cancel_requested(self, run_id: str) -> bool:
        with self.connect() as db:
            row = db.execute("SELECT cancel_requested FROM runs WHERE id = ?", (run_id,)).fetchone()
        return bool(row and row["cancel_requested"])

    def add_epoch(self, run_id: str, generation: int, epoch: int, metrics: dict) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO epochs VALUES (?, ?, ?, ?, ?)",
                       (run_id, generation, epoch, time.time(), json.dumps(metrics)))

    def add_generation(self, run_id: str, generation: int, metrics: dict) -> None:
        with self.connect() as db:
            db.execute("INSERT OR REPLACE INTO generations VALUES (?, ?, ?, ?)",
                       (run_id, generation, time.time(), json.dumps(metrics)))

    def save_arrays(self, run_id: str, name: str, arrays: dict[str, np.ndarray]) -> None:
        """Write arrays atomically (temp file, then rename), so a reader never sees half a file."""
        folder = self.artifact_dir(run_id)
        folder.mkdir(parents=True, exist_ok=True)
        with _atomic(folder / f".{name}.tmp.npz", folder / f"{name}.npz") as tmp:
            np.savez_compressed(tmp, **{k: np.asarray(v) for k, v in arrays.items() if v is not None})

    def save_weights(self, run_id: str, generation: int, state_dict: dict) -> None:
        folder = self.artifact_dir(run_id)
        with _atomic(folder / f".gen{generation}.tmp.pt", folder / f"gen{generation}.pt") as tmp:
            import torch  # here only: the pages read the store without ever importing torch

            torch.save(state_dict, tmp)

    def _update(self, run_id: str, **fields) -> None:
        with self.connect() as db:
            if not update_by_id(db, "runs", run_id, fields):
                raise RunNotFound(run_id)

    # ---- reading -------------------------------------------------------
    def _reconcile(self, db: sqlite3.Connection, rows: list[sqlite3.Row]) -> list[dict]:
        """Rows as dicts, with runs whose owner died marked ``interrupted`` (in the file too)."""
        out = []
        for row in rows:
            run = dict(row)
            if run["status"] in ACTIVE and orphaned(run):
                run.update(status="interrupted", error="the process running it stopped before it finished")
                db.execute("UPDATE runs SET status = ?, error = ?, finished = ? WHERE id = ? AND status IN "
                           "('queued', 'running')", (run["status"], run["error"], time.time(), run["id"]))
            for key in _JSON_COLUMNS:
                run[key] = json.loads(run[key]) if run[key] else None
            run["warnings"] = run["warnings"] or []
            out.append(run)
        return out

    def list_runs(self, sweep_id: str | None = None) -> list[dict]:
        """All runs (or a sweep's), newest first."""
        query = "SELECT * FROM runs" + (" WHERE sweep_id = ?" if sweep_id else "") + " ORDER BY created DESC"
        with self.connect() as db:
            return self._reconcile(db, db.execute(query, (sweep_id,) if sweep_id else ()).fetchall())

    def get_run(self, run_id: str) -> dict:
        with self.connect() as db:
            rows = db.execute("SELECT * FROM runs WHERE id = ?", (run_id,)).fetchall()
            if not rows:
                raise RunNotFound(run_id)
            return self._reconcile(db, rows)[0]

    def epochs(self, run_id: str) -> list[dict]:
        """Per-epoch metrics as flat dicts with generation, epoch and time."""
        with self.connect() as db:
            rows = db.execute("SELECT generation, epoch, time, metrics FROM epochs WHERE run_id = ? "
                              "ORDER BY generation, epoch", (run_id,)).fetchall()
        return [{"generation": r["generation"], "epoch": r["epoch"], "time": r["time"], **json.loads(r["metrics"])}
                for r in rows]

    def epoch_count(self, run_id: str) -> int:
        """How many epochs the run has stored (an index lookup: epochs are only appended, so it versions them)."""
        with self.connect() as db:
            return db.execute("SELECT COUNT(*) FROM epochs WHERE run_id = ?", (run_id,)).fetchone()[0]

    def generations(self, run_id: str) -> list[dict]:
        with self.connect() as db:
            rows = db.execute("SELECT generation, metrics FROM generations WHERE run_id = ? ORDER BY generation",
                              (run_id,)).fetchall()
        return [{**json.loads(r["metrics"]), "generation": r["generation"]} for r in rows]

    def last_write(self, run_id: str) -> float | None:
        """When the run last stored an epoch or a generation (None before its first)."""
        with self.connect() as db:
            row = db.execute("SELECT MAX(t) AS t FROM (SELECT MAX(time) AS t FROM epochs WHERE run_id = ? UNION ALL "
                             "SELECT MAX(time) FROM generations WHERE run_id = ?)", (run_id, run_id)).fetchone()
        return row["t"]

    def load_arrays(self, run_id: str, name: str) -> dict[str, np.ndarray]:
        """Arrays saved under ``name`` (``run`` or ``gen<k>``); empty when there are none."""
        path = self.artifact_dir(run_id) / f"{name}.npz"
        if not path.exists():
            return {}
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}

    def summary(self, run_id: str) -> dict:
        """The run's summary, rebuilt from the tables (so it is there when the run did not finish: crash, still
        running); the best generation and the wall time come from the summary the run ended with (the wall time
        from its start and end when it ended without one)."""
        run = self.get_run(run_id)
        ended = run["summary"] or {}
        wall = ended.get("wall_time_s")
        if wall is None:
            wall = wall_seconds(run, self.last_write(run_id))
        return {"run_id": run_id, "status": run["status"], "config": run["config"],
                "generations": self.generations(run_id), "baselines": run["baselines"] or {},
                "best_generation": ended.get("best_generation"),
                "label_efficiency": run["label_efficiency"] or ended.get("label_efficiency"),
                "wall_time_s": wall, "wall_seconds": wall, "warnings": run["warnings"], "error": run["error"],
                "name": run.get("name"), "note": run.get("note")}
