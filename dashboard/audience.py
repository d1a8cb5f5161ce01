"""How many sessions are watching each run right now, and how often their live charts should redraw.

With one page open, the live charts redraw every LIVE_EVERY_S. Each redraw costs the browser ~0.3 s of CPU and the
server a serialisation of every chart; with ten pages open on one run those redraws filled the machine (issue 15,
item 8; bench/watchers.py). So the charts slow down as the audience grows: every LIVE_EVERY_S for up to
PAGES_PER_STEP pages, then one more LIVE_EVERY_S for each further PAGES_PER_STEP. The run's status does not wait
for them: it reaches every page through dashboard/status_route.py, which also counts the audience here.
"""
from __future__ import annotations

import math
import threading
import time

LIVE_EVERY_S = 2.0
PAGES_PER_STEP = 3
# A page asks the status route again as soon as it has its answer, and waits there up to its HOLD_S: one that has
# not asked for this long has left. Generous, because a busy page can go quiet for seconds: counted out and back
# in, it would make the other pages rerun to change their pace.
SEEN_WITHIN_S = 10.0
# Among several watching pages, each redraws whole for a change (the end, a finished generation) at a random moment
# within this many seconds of seeing it, its status badge showing the change at once. Ten whole-page reruns at the
# same moment held the server (one Python process) for seconds (bench/RESULTS.md).
REDRAW_SPREAD_S = 2.0


class Audience:
    """Sessions seen per run, with the time each was last seen; shared by every session of the server."""

    def __init__(self, clock=time.monotonic):
        self._lock, self._clock = threading.Lock(), clock
        self._seen: dict[str, dict[str, float]] = {}

    def watching(self, run_id: str, session_id: str) -> int:
        """Record that ``session_id`` is watching ``run_id`` now; how many sessions are watching it."""
        now = self._clock()
        with self._lock:
            self._seen.setdefault(run_id, {})[session_id] = now
            return self._recent(run_id, now)

    def count(self, run_id: str) -> int:
        """How many sessions were seen watching ``run_id`` within SEEN_WITHIN_S (recording none). A run that
        nobody has watched for that long is forgotten."""
        now = self._clock()
        with self._lock:
            return self._recent(run_id, now)

    def _recent(self, run_id: str, now: float) -> int:
        """Drop the sessions of ``run_id`` not seen within SEEN_WITHIN_S (and the run, if none is left); how many
        are left. The caller holds the lock."""
        seen = self._seen.get(run_id, {})
        for other in [s for s, at in seen.items() if now - at > SEEN_WITHIN_S]:
            del seen[other]
        if not seen:
            self._seen.pop(run_id, None)
        return len(seen)


def live_every(watchers: int) -> float:
    """Seconds between two live redraws of a run watched by ``watchers`` pages."""
    return LIVE_EVERY_S * max(1, math.ceil(watchers / PAGES_PER_STEP))


_AUDIENCE = Audience()


def audience() -> Audience:
    """The server's one audience, shared by every session and by the status route."""
    return _AUDIENCE


def this_session() -> str:
    """The id of the session whose script is running ("bare" outside one)."""
    from streamlit.runtime.scriptrunner import get_script_run_ctx

    ctx = get_script_run_ctx()
    return ctx.session_id if ctx is not None else "bare"


def watching(run_id: str) -> int:
    """How many pages watch ``run_id``, this one included (recorded now)."""
    return audience().watching(run_id, this_session())
