"""Choosing a generation honestly: on the validation split, never on test.

Supervised runs are chosen on ``val_accuracy`` (the given validation labels); label-free runs on
``val_knn_accuracy``. Ties go to the earlier generation (the cheaper one); None without a validation split."""
from __future__ import annotations

import math


def selection_metric(supervised: bool) -> str:
    return "val_accuracy" if supervised else "val_knn_accuracy"


def best_generation(generations: list[dict], metric: str) -> int | None:
    """The ``generation`` of the row with the highest ``metric`` (the earliest on a tie); rows without it, or with
    NaN, are skipped; None when no row has it."""
    best, best_value = None, -math.inf
    for row in generations:
        value = row.get(metric)
        if value is None or value != value:
            continue
        if value > best_value:
            best, best_value = row["generation"], value
    return best
