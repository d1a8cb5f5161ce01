"""Stop checks that cost little: a run polls its cancel flag between steps, but reads the source (the store, a
Dask event) at most every ``every_s`` seconds."""
from __future__ import annotations

import time
from typing import Callable


def throttled(check: Callable[[], bool], every_s: float) -> Callable[[], bool]:
    """``check()`` at most every ``every_s`` seconds; once true, stays true."""
    state = {"next": 0.0, "value": False}

    def should_stop() -> bool:
        now = time.monotonic()
        if not state["value"] and now >= state["next"]:
            state["value"], state["next"] = bool(check()), now + every_s
        return state["value"]

    return should_stop
