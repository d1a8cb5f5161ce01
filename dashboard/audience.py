"""How many sessions are watching each run right now, and how often their live charts should redraw.

With one page open, the live charts redraw every LIVE_EVERY_S. Each redraw costs the browser ~0.3 s of CPU and the
server a serialisation of every chart; with ten pages open on one run those redraws filled the machine, and the
run's end (polled by the light status fragment every second) queued behind them for seconds (issue 15, item 8;
bench/watchers.py). So the charts slow down as the audience grows: every LIVE_EVERY_S for up to PAGES_PER_STEP
pages, then one more LIVE_EVERY_S for each further PAGES_PER_STEP. Every page still learns of the end, and of a
finished generation, within a second.
"""
from __future__ import annotations

import math
import threading
import time

import streamlit as st

LIVE_EVERY_S = 2.0
PAGES_PER_STEP = 3
SEEN_WITHIN_S = 3.0  # a page whose status poll (every second) has not come for this long has left
# With other pages watching, a page that sees the run end (or a generation finish) shows the new status at once and
# redraws the whole page this much later. Ten whole-page reruns at once held the server (one Python process) for
# seconds, and the status polls of the pages that had not yet seen the end queued behind them (bench/watchers.py,
# bench/RESULTS.md: the median page painted the end 3.8 s after it before, 0.9-3.0 s with the wait).
REDRAW_AFTER_S = 2.0


class Audience:
    """Sessions seen per run, with the time each was last seen; shared by every session of the server."""

    def __init__(self, clock=time.monotonic):
        self._lock, self._clock = threading.Lock(), clock
        self._seen: dict[str, dict[str, float]] = {}

    def watching(self, run_id: str, session_id: str) -> int:
        """Record that ``session_id`` is watching ``run_id`` now; how many sessions are watching it."""
        now = self._clock()
        with self._lock:
            seen = self._seen.setdefault(run_id, {})
            seen[session_id] = now
            for other in [s for s, at in seen.items() if now - at > SEEN_WITHIN_S]:
                del seen[other]
            return len(seen)

    def forget(self, run_id: str) -> None:
        """The run has ended: nobody polls it any more."""
        with self._lock:
            self._seen.pop(run_id, None)


def live_every(watchers: int) -> float:
    """Seconds between two live redraws of a run watched by ``watchers`` pages."""
    return LIVE_EVERY_S * max(1, math.ceil(watchers / PAGES_PER_STEP))


def redraw_due(first_seen: dict, change: tuple, watchers: int, now: float) -> bool:
    """Whether a page should redraw whole for ``change`` (run, status, generations) now. Alone, at once; among
    ``watchers`` > 1 pages, once REDRAW_AFTER_S have passed since this page first saw it (noted in ``first_seen``,
    the page's own dict, emptied when the redraw is due)."""
    if watchers <= 1:
        return True
    if now - first_seen.setdefault(change, now) < REDRAW_AFTER_S:
        return False
    first_seen.clear()
    return True


@st.cache_resource(show_spinner=False)
def audience() -> Audience:
    return Audience()


def watching(run_id: str) -> int:
    """How many pages watch ``run_id``, this one included (recorded now)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return audience().watching(run_id, ctx.session_id if ctx is not None else "bare")
