"""dashboard/audience.py: the live charts slow down as more pages watch one run; pages that left stop counting."""
from __future__ import annotations

from dashboard.audience import REDRAW_AFTER_S, SEEN_WITHIN_S, Audience, live_every, redraw_due


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
    audience.forget("r1")
    assert audience.watching("r1", "s2") == 1


def test_live_pace_two_seconds_up_to_three_pages_then_slower():
    assert [live_every(n) for n in (0, 1, 3, 4, 6, 7, 10)] == [2.0, 2.0, 2.0, 4.0, 4.0, 6.0, 8.0]


def test_a_page_alone_redraws_at_once_one_among_others_after_showing_the_change():
    assert redraw_due({}, ("r1", "cancelled", 1), watchers=1, now=50.0)
    first_seen: dict = {}
    end = ("r1", "cancelled", 1)
    assert not redraw_due(first_seen, end, watchers=10, now=50.0)  # the status shows the end; no redraw yet
    assert not redraw_due(first_seen, end, watchers=10, now=50.0 + REDRAW_AFTER_S - 0.1)
    assert redraw_due(first_seen, end, watchers=10, now=50.0 + REDRAW_AFTER_S)
    assert first_seen == {}  # a later change waits from when it is first seen, not from this one
    generation = ("r2", "running", 2)
    assert not redraw_due(first_seen, generation, watchers=4, now=80.0)
    assert redraw_due(first_seen, generation, watchers=4, now=80.0 + REDRAW_AFTER_S + 1)
