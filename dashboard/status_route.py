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
import time
from typing import Mapping

from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from streamlit.web.server.starlette.starlette_websocket import is_host_allowed

from core.storage.run_store import ACTIVE, RunNotFound
from dashboard import audience

PATH = "/_sdlab/run-status"
HOLD_S = 15.0  # the longest a request waits for a change (under the 30 s that proxies commonly allow)
CHECK_EVERY_S = 0.1  # how often the store is read for a run while pages wait on it


def status_token(run: Mapping, generations: int) -> str:
    """What a page drew of a run: its status, its finished generations and its warnings. A page redraws when this
    changes."""
    return f"{run['status']}:{generations}:{len(run['warnings'])}"


class StatusReader:
    """The latest token of each run, read from ``store`` at most once per CHECK_EVERY_S however many pages ask."""

    def __init__(self, store, clock=time.monotonic):
        self._store, self._clock = store, clock
        self._latest: dict[str, tuple[float, dict | None]] = {}
        self._lock = asyncio.Lock()

    def _read(self, run_id: str) -> dict | None:
        try:
            run = self._store.get_run(run_id)
        except RunNotFound:
            return None
        return {"status": run["status"], "ended": run["status"] not in ACTIVE,
                "token": status_token(run, len(self._store.generations(run_id)))}

    async def latest(self, run_id: str) -> dict | None:
        async with self._lock:
            at, answer = self._latest.get(run_id, (float("-inf"), None))
            if self._clock() - at >= CHECK_EVERY_S:
                # in a thread: a store busy with a writer must not hold the server's event loop
                answer = await asyncio.to_thread(self._read, run_id)
                self._latest[run_id] = (self._clock(), answer)
            return answer


async def wait_for_change(reader: StatusReader, run_id: str, known: str, hold_s: float = HOLD_S,
                          on_check=lambda: None) -> dict | None:
    """The run's status once its token differs from ``known``, or as it is after ``hold_s``; None if no such run.
    ``on_check`` is called at every check (it counts the page among the audience)."""
    deadline = time.monotonic() + hold_s
    while True:
        on_check()
        answer = await reader.latest(run_id)
        if answer is None or answer["token"] != known or answer["ended"] or time.monotonic() >= deadline:
            return answer
        await asyncio.sleep(CHECK_EVERY_S)


def _is_session(session_id: str) -> bool:
    """Whether ``session_id`` names a page open on this server (only those count among a run's audience)."""
    from streamlit.runtime import Runtime

    return Runtime.exists() and Runtime.instance().is_active_session(session_id)


def routes(store_factory) -> list[Route]:
    """The route, reading runs from the store that ``store_factory()`` returns (made on the first request)."""
    readers: list[StatusReader] = []

    async def run_status(request: Request) -> JSONResponse:
        if not is_host_allowed(request.headers.get("host")):  # the WebSocket's own check (DNS rebinding)
            return JSONResponse({"error": "this host name is not in server.allowedHosts"}, status_code=403)
        run_id, known = request.query_params.get("run", ""), request.query_params.get("known", "")
        session = request.query_params.get("session", "")
        if not run_id or len(run_id) > 100 or len(known) > 100:
            return JSONResponse({"error": "ask with ?run=<run id>&known=<token>"}, status_code=400)
        if not readers:
            readers.append(StatusReader(store_factory()))
        counted = bool(session) and _is_session(session)
        answer = await wait_for_change(readers[0], run_id, known, on_check=lambda: counted and audience.audience()
                                       .watching(run_id, session))
        if answer is None:
            return JSONResponse({"error": f"no run {run_id!r}"}, status_code=404)
        if answer["ended"]:
            audience.audience().forget(run_id)
        watchers = audience.audience().count(run_id)
        return JSONResponse({**answer, "watchers": watchers}, headers={"Cache-Control": "no-store"})

    return [Route(PATH, run_status, methods=["GET"])]
