"""dashboard/audience.py: the live charts slow down as more pages watch one run; pages that left stop counting."""
from __future__ import annotations

from dashboard.audience import SEEN_WITHIN_S, Audience, live_every


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counts_pages_per_run_and_forgets_those_that_left():
    clock = Clock()
    audience = Audience(clock)
    assert [audience.watching("r1", f"s{k}") for k in range(4)] == [1, 2, 3, 4]
    assert audience.watching("r1", "s0") == 4  # a page polling again is the same page
    assert audience.watching("r2", "s0") == 1  # runs are counted apart
    clock.now += SEEN_WITHIN_S + 0.5
    assert audience.watching("r1", "s1") == 1  # the other three stopped polling: they left


def test_live_pace_two_seconds_up_to_three_pages_then_slower():
    assert [live_every(n) for n in (0, 1, 3, 4, 6, 7, 10)] == [2.0, 2.0, 2.0, 4.0, 4.0, 6.0, 8.0]


def test_count_reads_without_recording_and_leaves_out_pages_gone_quiet():
    clock = Clock()
    audience = Audience(clock)
    audience.watching("r1", "s0")
    clock.now += SEEN_WITHIN_S - 1
    audience.watching("r1", "s1")
    assert audience.count("r1") == 2
    assert audience.count("r2") == 0
    clock.now += 2  # s0 last seen SEEN_WITHIN_S + 1 ago
    assert audience.count("r1") == 1
    assert audience.count("r1") == 1  # counting recorded nothing
    clock.now += SEEN_WITHIN_S + 1
    assert audience.count("r1") == 0 and audience._seen == {}  # a run nobody watches is forgotten
