"""A server's longest allowed run (``SDLAB_MAX_RUN_SECONDS``): runs estimated above it are refused by the job
queue, and a run that outlives it is stopped by the runner. Unset (the default): no limit."""
from __future__ import annotations

import os

BUDGET_ENV = "SDLAB_MAX_RUN_SECONDS"


def run_budget() -> float | None:
    """This server's longest allowed run in seconds (``SDLAB_MAX_RUN_SECONDS``), or None: no limit."""
    text = os.environ.get(BUDGET_ENV, "").strip()
    try:
        value = float(text) if text else None
    except ValueError:
        raise ValueError(f"{BUDGET_ENV}={text!r}: must be a number of seconds") from None
    return value if value is None or value > 0 else None
