"""dashboard.progress: generation (numbered from 0, as in legends and tables), epoch, and time left."""
from __future__ import annotations

import pytest

from dashboard.progress import format_duration, progress


def _rows(n: int, epochs: int, start: float = 100.0, every: float = 2.0) -> list[dict]:
    return [{"generation": i // epochs, "epoch": i % epochs, "time": start + every * (i + 1)} for i in range(n)]


def test_no_epoch_yet_has_no_estimate():
    p = progress(3, 10, [], started=100.0)
    assert (p.generation, p.epoch, p.fraction, p.seconds_left) == (0, 0, 0.0, None)


def test_time_left_is_mean_epoch_time_times_epochs_left():
    p = progress(2, 5, _rows(3, 5), started=100.0)  # 3 epochs in 6 s: 2 s each, 7 left
    assert (p.generation, p.epoch) == (0, 3)
    assert p.fraction == pytest.approx(0.3)
    assert p.seconds_left == pytest.approx(14.0)


def test_a_finished_generation_rolls_over_to_the_next():
    p = progress(2, 5, _rows(5, 5), started=100.0)
    assert (p.generation, p.epoch) == (1, 0)


def test_the_last_epoch_of_the_last_generation_stays_there():
    p = progress(2, 5, _rows(10, 5), started=100.0)
    assert (p.generation, p.epoch, p.fraction, p.seconds_left) == (1, 5, 1.0, 0.0)


@pytest.mark.parametrize("seconds, text", [(None, "—"), (4.4, "4 s"), (65, "1 min 05 s"), (3720, "1 h 02 min")])
def test_format_duration(seconds, text):
    assert format_duration(seconds) == text
