"""Ten pages watching one run all learn that it ended (issue 15, item 8).

Before the fix every watching page rebuilt every chart every second in the one server process; with ten pages
open a run's end reached them after 212 s, and one page never showed it. The goal, 2 s on a quiet machine, is
measured by ``bench/watchers.py``; this test holds a bound loose enough for a busy CI machine and far below the
old behaviour.
"""
from __future__ import annotations

import pytest

from tests.watch_support import end_latencies

pytestmark = [pytest.mark.browser, pytest.mark.timeout(600)]
PAGES = 10
BOUND_S = 15.0


def test_the_end_of_a_run_reaches_ten_watching_pages(browser, server_and_store):
    url, store = server_and_store
    latencies = end_latencies(browser, url, store, pages=PAGES, wait_s=120)
    assert len(latencies) == PAGES
    assert max(latencies) < BOUND_S, f"seconds from the run's end to each page: {sorted(latencies)}"
