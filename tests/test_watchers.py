"""Pages watching one run all learn that it ended (issue 15, item 8).

Before the fix every watching page rebuilt every chart every second in the one server process; with ten pages
open a run's end reached them after 212 s, and one page never showed it. The goal (2 s with 10 pages) is measured
by ``bench/watchers.py``; this test opens five pages (all ten Chromium pages share the CI machine's two cores with
the server and the run) and holds a bound loose enough for a busy machine and far below the old behaviour.
"""
from __future__ import annotations

import pytest

from tests.watch_support import end_latencies

pytestmark = [pytest.mark.browser, pytest.mark.timeout(900)]
PAGES = 5
BOUND_S = 30.0


def test_the_end_of_a_run_reaches_five_watching_pages(browser, server_and_store):
    url, store = server_and_store
    latencies = end_latencies(browser, url, store, pages=PAGES, wait_s=240)
    assert len(latencies) == PAGES
    assert max(latencies) < BOUND_S, f"seconds from the run's end to each page: {sorted(latencies)}"
