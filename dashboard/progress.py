"""Where a run stands: generation g/N, epoch e/M, and the time left, estimated from its epoch timestamps."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping, Sequence


@dataclass(frozen=True)
class Progress:
    generation: int  # generation being trained, numbered from 0 as in legends and tables (the last once done)
    generations: int
    epoch: int  # epochs finished within that generation
    epochs: int
    fraction: float  # epochs finished over all epochs of all generations, 0..1
    seconds_left: float | None  # None until the first epoch has finished


def progress(generations: int, epochs: int, epoch_rows: Sequence[Mapping], started: float | None) -> Progress:
    """Progress from the epoch rows stored so far (each with generation, epoch and time).

    Time left = mean seconds per epoch since the start (evaluation between generations included) × epochs left.
    """
    total = generations * epochs
    done = len(epoch_rows)
    if done == 0:
        return Progress(0, generations, 0, epochs, 0.0, None)
    last = epoch_rows[-1]
    generation, epoch = int(last["generation"]), int(last["epoch"]) + 1
    if epoch == epochs and generation + 1 < generations:
        generation, epoch = generation + 1, 0
    elapsed = float(last["time"]) - (started if started is not None else float(epoch_rows[0]["time"]))
    per_epoch = elapsed / done if started is not None else elapsed / max(done - 1, 1)
    return Progress(generation, generations, epoch, epochs, min(done / total, 1.0),
                    max(total - done, 0) * per_epoch)


def format_duration(seconds: float | None) -> str:
    """'—' when unknown, else '45 s', '3 min 05 s' or '1 h 02 min'."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
