"""Sweeps in the run store: three tables beside the runs, so the CLI and the dashboard read a sweep the same way.

    sweeps        one row per sweep: its spec, status, the driver process that owns it, a stop request
    sweep_points  each point the sampler proposed: its parameters and the sampler's own notes (for resuming)
    sweep_trials  each run of a point (one per seed): the run id in ``runs``, the worker and the objective

A trial's status is its run's status. A sweep whose driver died reads back as ``interrupted`` and can be resumed.
"""
from __future__ import annotations

import json
import math
import os
import secrets
import socket
import time
from typing import Any

from core.storage.run_store import RunStore, orphaned, process_start, update_by_id

SWEEP_STATUSES = ("running", "finished", "cancelled", "failed", "interrupted")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sweeps (
    id TEXT PRIMARY KEY, spec TEXT NOT NULL, status TEXT NOT NULL, created REAL NOT NULL, finished REAL,
    error TEXT, executor TEXT, pid INTEGER, pid_start TEXT, host TEXT,
    stop_requested INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS sweep_points (
    sweep_id TEXT NOT NULL, point INTEGER NOT NULL, params TEXT NOT NULL, sampler_attrs TEXT NOT NULL,
    PRIMARY KEY (sweep_id, point));
CREATE TABLE IF NOT EXISTS sweep_trials (
    sweep_id TEXT NOT NULL, point INTEGER NOT NULL, seed INTEGER NOT NULL, run_id TEXT NOT NULL,
    worker TEXT, objective REAL, PRIMARY KEY (sweep_id, point, seed));
"""


class SweepError(ValueError):
    """A sweep request that cannot be done (e.g. resuming a finished sweep); the message says why."""


class SweepNotFound(KeyError):
    def __str__(self) -> str:
        return f"no sweep {self.args[0]!r} in this store"


def _mean(values: list[float]) -> float | None:
    return sum(values) / len(values) if values else None


class SweepStore:
    """Reads and writes the sweep tables of a RunStore."""

    def __init__(self, store: RunStore):
        self.runs = store
        with store.connect() as db:
            db.executescript(_SCHEMA)

    # ---- writing (the driver) --------------------------------------------
    def create(self, spec: dict) -> str:
        sweep_id = "sweep-" + time.strftime("%Y%m%d-%H%M%S") + "-" + secrets.token_hex(2)
        with self.runs.connect() as db:
            db.execute("INSERT INTO sweeps (id, spec, status, created) VALUES (?, ?, 'running', ?)",
                       (sweep_id, json.dumps(spec), time.time()))
        return sweep_id

    def claim(self, sweep_id: str, executor: str) -> None:
        """Mark the sweep running, driven by the calling process."""
        pid = os.getpid()
        self._update(sweep_id, status="running", finished=None, error=None, executor=executor, pid=pid,
                     pid_start=process_start(pid), host=socket.gethostname(), stop_requested=0)

    def finish(self, sweep_id: str, status: str, error: str | None = None) -> None:
        if status not in SWEEP_STATUSES:
            raise ValueError(f"status {status!r}: must be one of {SWEEP_STATUSES}")
        self._update(sweep_id, status=status, error=error, finished=time.time())

    def request_stop(self, sweep_id: str) -> None:
        """Ask the sweep's driver (any process) to stop: queued trials dropped, running ones stopped."""
        self.get(sweep_id)
        self._update(sweep_id, stop_requested=1)

    def stop_requested(self, sweep_id: str) -> bool:
        with self.runs.connect() as db:
            row = db.execute("SELECT stop_requested FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
        return bool(row and row["stop_requested"])

    def add_point(self, sweep_id: str, point: int, params: dict, sampler_attrs: dict) -> None:
        with self.runs.connect() as db:
            db.execute("INSERT INTO sweep_points VALUES (?, ?, ?, ?)",
                       (sweep_id, point, json.dumps(params), json.dumps(sampler_attrs)))

    def set_trial(self, sweep_id: str, point: int, seed: int, run_id: str) -> None:
        """The run that does ``seed`` of ``point`` (a rerun on resume replaces the old one)."""
        with self.runs.connect() as db:
            db.execute("INSERT OR REPLACE INTO sweep_trials VALUES (?, ?, ?, ?, NULL, NULL)",
                       (sweep_id, point, seed, run_id))

    def record_result(self, run_id: str, worker: str, objective: float | None) -> None:
        with self.runs.connect() as db:
            db.execute("UPDATE sweep_trials SET worker = ?, objective = ? WHERE run_id = ?",
                       (worker, objective, run_id))

    def _update(self, sweep_id: str, **fields) -> None:
        with self.runs.connect() as db:
            if not update_by_id(db, "sweeps", sweep_id, fields):
                raise SweepNotFound(sweep_id)

    # ---- reading -----------------------------------------------------------
    def _reconcile(self, db, row) -> dict:
        sweep = dict(row)
        if sweep["status"] == "running" and orphaned(sweep):
            sweep.update(status="interrupted", error="the process driving it stopped before it finished")
            db.execute("UPDATE sweeps SET status = ?, error = ? WHERE id = ? AND status = 'running'",
                       (sweep["status"], sweep["error"], sweep["id"]))
        sweep["spec"] = json.loads(sweep["spec"])
        return sweep

    def get(self, sweep_id: str) -> dict:
        """The sweep's row (spec parsed); a running sweep whose driver died reads as ``interrupted``."""
        with self.runs.connect() as db:
            row = db.execute("SELECT * FROM sweeps WHERE id = ?", (sweep_id,)).fetchone()
            if row is None:
                raise SweepNotFound(sweep_id)
            return self._reconcile(db, row)

    def list(self) -> list[dict]:
        """All sweeps, newest first."""
        with self.runs.connect() as db:
            return [self._reconcile(db, r) for r in db.execute("SELECT * FROM sweeps ORDER BY created DESC")]

    def points(self, sweep_id: str) -> list[dict]:
        with self.runs.connect() as db:
            rows = db.execute("SELECT point, params, sampler_attrs FROM sweep_points WHERE sweep_id = ? "
                              "ORDER BY point", (sweep_id,)).fetchall()
        return [{"point": r["point"], "params": json.loads(r["params"]),
                 "sampler_attrs": json.loads(r["sampler_attrs"])} for r in rows]

    def trials(self, sweep_id: str) -> list[dict]:
        """Every run of the sweep, by point and seed: params, run status and error, worker, objective."""
        params = {p["point"]: p["params"] for p in self.points(sweep_id)}
        runs = {r["id"]: r for r in self.runs.list_runs(sweep_id=sweep_id)}
        with self.runs.connect() as db:
            rows = db.execute("SELECT * FROM sweep_trials WHERE sweep_id = ? ORDER BY point, seed",
                              (sweep_id,)).fetchall()
        out = []
        for r in rows:
            run = runs.get(r["run_id"], {})
            out.append({"run_id": r["run_id"], "point": r["point"], "params": params[r["point"]],
                        "seed": run.get("config", {}).get("seed", r["seed"]), "seed_index": r["seed"],
                        "status": run.get("status", "missing"), "error": run.get("error"),
                        "objective": r["objective"], "worker": r["worker"]})
        return out

    def report(self, sweep_id: str) -> dict[str, Any]:
        """``{sweep_id, status, objective, trials: [...], best: {params, objective}}`` — the CLI's JSON."""
        sweep = self.get(sweep_id)
        trials = self.trials(sweep_id)
        keys = ("run_id", "params", "seed", "status", "objective", "worker")
        return {"sweep_id": sweep_id, "status": sweep["status"], "objective": sweep["spec"]["objective"],
                "trials": [{k: t[k] for k in keys} for t in trials], "best": best_point(trials)}


def point_means(trials: list[dict]) -> list[dict]:
    """One row per point: params, mean objective over its finished seeds (None without any), seeds finished."""
    grouped: dict[int, dict] = {}
    for t in trials:
        entry = grouped.setdefault(t["point"], {"point": t["point"], "params": t["params"], "values": []})
        if t["status"] == "finished" and t["objective"] is not None and math.isfinite(t["objective"]):
            entry["values"].append(t["objective"])
    return [{"point": e["point"], "params": e["params"], "objective": _mean(e["values"]), "finished": len(e["values"])}
            for e in grouped.values()]


def best_point(trials: list[dict]) -> dict[str, Any]:
    """The point with the highest mean objective over its seeds (the first one on a tie)."""
    scored = [p for p in point_means(trials) if p["objective"] is not None]
    if not scored:
        return {"params": None, "objective": None}
    best = max(scored, key=lambda p: p["objective"])
    return {"params": best["params"], "objective": best["objective"]}
