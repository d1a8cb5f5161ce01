"""Every metric the lab reports, named once: its labels, its unit and which way is better.

Tables, figures, exports, the CLI and the sweep objectives read these; a metric added here shows up everywhere
that lists its group. Nothing heavy is imported.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Metric:
    name: str  # the key in a generation's (or an epoch's, or the baselines') metrics
    label: str  # for charts and legends
    short: str  # for table headers
    unit: str  # "share" (a fraction, shown as a percentage), "nats", "seconds", or "" (plain number)
    higher_is_better: bool


METRICS: dict[str, Metric] = {m.name: m for m in [
    Metric("test_accuracy", "test accuracy", "test acc", "share", True),
    Metric("train_accuracy", "training accuracy (given labels)", "train acc", "share", True),
    Metric("ensemble_accuracy", "ensemble of generations 0…g", "ensemble acc", "share", True),
    Metric("knn_accuracy", "k-NN on features", "k-NN acc", "share", True),
    Metric("linear_probe_accuracy", "linear probe on features", "probe acc", "share", True),
    Metric("test_ece", "expected calibration error", "ECE (calibration)", "", False),
    Metric("test_nll", "test negative log-likelihood", "NLL", "nats", False),
    Metric("teacher_agreement", "agreement with the teacher", "agrees with teacher", "share", True),
    Metric("memorized_noise", "share of flipped training labels reproduced", "memorized noise", "share", False),
    Metric("embedding_seconds", "time to compute the 2-D view", "view s", "seconds", False),
    Metric("raw_knn_accuracy", "k-NN on raw inputs", "raw k-NN", "share", True),
    Metric("random_init_knn_accuracy", "k-NN on random-init features", "random-net k-NN", "share", True),
]}

# Groups, in display order.
ACCURACIES = ("test_accuracy", "ensemble_accuracy", "knn_accuracy", "linear_probe_accuracy")  # one chart
BASELINES = ("raw_knn_accuracy", "random_init_knn_accuracy")  # reference lines on that chart
GENERATION_TABLE = ("test_accuracy", "ensemble_accuracy", "knn_accuracy", "linear_probe_accuracy", "test_ece",
                    "test_nll", "teacher_agreement", "memorized_noise")  # the per-generation table on Runs
SUMMARY = ("test_accuracy", "ensemble_accuracy", "knn_accuracy", "linear_probe_accuracy", "memorized_noise",
           "test_ece")  # the CLI's and the run list's columns
EPOCH_SHOWN = ("loss", "test_accuracy")  # what the CLI's progress bar shows per epoch
GENERATION_SHOWN = ("test_accuracy", "knn_accuracy", "linear_probe_accuracy")  # its line per generation


def labels(names: tuple[str, ...]) -> dict[str, str]:
    """name → chart label, in the given order."""
    return {n: METRICS[n].label for n in names}


def shorts(names: tuple[str, ...]) -> dict[str, str]:
    """name → table header, in the given order."""
    return {n: METRICS[n].short for n in names}


def percent_headers(names: tuple[str, ...]) -> tuple[str, ...]:
    """The table headers of the metrics among ``names`` that are shares (shown as percentages)."""
    return tuple(METRICS[n].short for n in names if METRICS[n].unit == "share")
