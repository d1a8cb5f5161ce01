"""core.engine.devices.faster_thread_count: the stacked seed step's thread count is measured, not guessed."""
from __future__ import annotations

import time

import torch

from core.engine.devices import faster_thread_count


def _work_taking(seconds_by_threads: dict[int, float]):
    return lambda: time.sleep(seconds_by_threads[torch.get_num_threads()])


def test_picks_every_core_only_when_clearly_faster():
    before = torch.get_num_threads()
    try:
        assert faster_thread_count(_work_taking({1: 0.004, 2: 0.002}), cores=2) == 2  # 2× faster: take both
        assert faster_thread_count(_work_taking({1: 0.002, 2: 0.010}), cores=2) == 1  # a busy core: 5× slower
        assert faster_thread_count(_work_taking({1: 0.002, 2: 0.0019}), cores=2) == 1  # within the margin
        assert faster_thread_count(lambda: None, cores=1) == 1
    finally:
        torch.set_num_threads(before)
