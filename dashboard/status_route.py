"""A run's status for the pages watching it: a JSON route that answers when the status changes (a long poll).

Each watching page used to learn of a run's end by rerunning a status fragment every second. Every such rerun made
Streamlit's browser code re-render the whole page: 76 ms of main thread per page per second, and with ten pages
on two cores those re-renders starved the browsers, so the end reached the slowest page seconds late (issue 15,
item 8; bench/RESULTS.md). Now a small script in the page (dashboard/status_beacon.py) asks this route, which
answers as soon as the run's status token differs from the one the page drew, or after HOLD_S with no change.
One store read per run every CHECK_EVERY_S serves every waiting page, and the route counts the audience.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
import sqlite3
import time
from typing import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from streamlit.web.server.starlette.starlette_websocket import is_host_allowed

from core.storage.run_store import ACTIVE, RunNotFound
from dashboard import audience

log = logging.getLogger(__name__)

PATH = "/_sdlab/run-status"
HOLD_S = 8.0  # the longest a request waits for a change: under audience.SEEN_WITHIN_S, so a waiting page counts
CHECK_EVERY_S = 0.1  # how often the store is read for a run while pages wait on it


def status_token(run: Mapping, generations: int) -> str:
    """What a page drew of a run: its status, its finished generations and its warnings. A page redraws when this
    changes."""
    return f"{run['status']}:{generations}:{len(run['warnings'])}"


@dataclasses.dataclass
class _Watched:
    """One run that pages wait on: its latest answer, an event set (and replaced) when that changes, and how many
    pages wait."""
    latest: dict | None
    changed: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    waiting: int = 0


class StatusWatch:
    """Watches the runs that pages wait on: one store read per run every CHECK_EVERY_S, however many pages wait,
    and every waiting page woken by the same change at once.

    The read runs on the server's event loop: a read of the WAL-mode store takes well under a millisecond and
    never waits for a writer, and handing it to a thread cost more than it saved when the server was short of CPU
    (each hand-off waits for the interpreter lock).
    """

    def __init__(self, store):
        self._store = store
        self._runs: dict[str, _Watched] = {}

    def read(self, run_id: str) -> dict | None:
        """The run's status and token, from the store; None if there is no such run."""
        try:
            run = self._store.get_run(run_id)
        except RunNotFound:
            return None
        return {"status": run["status"], "ended": run["status"] not in ACTIVE,
                "token": status_token(run, len(self._store.generations(run_id)))}

    async def _watch(self, run_id: str, watched: _Watched) -> None:
        failed = False
        try:
            while watched.waiting:
                await asyncio.sleep(CHECK_EVERY_S)
                try:
                    answer = self.read(run_id)
                except sqlite3.Error as exc:  # a store briefly unreadable: the next check tries again
                    if not failed:  # once per spell, not ten times a second
                        log.warning("status route: reading run %s failed: %s", run_id, exc)
                    failed = True
                    continue
                failed = False
                if answer != watched.latest:
                    watched.latest, changed, watched.changed = answer, watched.changed, asyncio.Event()
                    changed.set()
        finally:
            del self._runs[run_id]
            watched.changed.set()  # should this end early, nobody waits for a change that no one would see

    async def wait_for_change(self, run_id: str, known: str, hold_s: float = HOLD_S) -> dict | None:
        """The run's status once its token differs from ``known``, or as it is after ``hold_s``; None if no such
        run."""
        watched = self._runs.get(run_id)
        if watched is None:
            watched = self._runs[run_id] = _Watched(self.read(run_id))
            asyncio.get_running_loop().create_task(self._watch(run_id, watched))
        watched.waiting += 1
        try:
            deadline = time.monotonic() + hold_s
            while True:
                answer, left = watched.latest, deadline - time.monotonic()
                if answer is None or answer["token"] != known or answer["ended"] or left <= 0 \
                        or self._runs.get(run_id) is not watched:
                    return answer
                try:
                    await asyncio.wait_for(watched.changed.wait(), left)
                except asyncio.TimeoutError:
                    pass
        finally:
            watched.waiting -= 1


def _is_session(session_id: str) -> bool:
    """Whether ``session_id`` names a page open on this server (only those count among a run's audience)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and Runtime.instance().is_active_session(session_id)


def routes(store_factory) -> list[Route]:
    """The route, reading runs from the store that ``store_factory()`` returns (made on the first request)."""
    watches: list[StatusWatch] = []

    async def run_status(request: Request) -> JSONResponse:
        if not is_host_allowed(request.headers.get("host")):  # the WebSocket's own check (DNS rebinding)
            return JSONResponse({"error": "this host name is not in server.allowedHosts"}, status_code=403)
        run_id, known = request.query_params.get("run", ""), request.query_params.get("known", "")
        session = request.query_params.get("session", "")
        if not run_id or len(run_id) > 100 or len(known) > 100:
            return JSONResponse({"error": "ask with ?run=<run id>&known=<token>"}, status_code=400)
        if not watches:
            watches.append(StatusWatch(store_factory()))
        counted = bool(session) and _is_session(session)
        if counted:  # while it waits here, and until audience.SEEN_WITHIN_S (longer than HOLD_S) after
            audience.audience().watching(run_id, session)
        answer = await watches[0].wait_for_change(run_id, known)
        if answer is None:
            return JSONResponse({"error": f"no run {run_id!r}"}, status_code=404)
        # after the end too: the pages that see it spread their whole-page reruns by this count
        return JSONResponse({**answer, "watchers": audience.audience().count(run_id)},
                            headers={"Cache-Control": "no-store"})

    return [Route(PATH, run_status, methods=["GET"])]
