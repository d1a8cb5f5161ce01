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
    Metric("val_accuracy", "validation accuracy (given labels)", "val acc", "share", True),
    Metric("val_knn_accuracy", "k-NN on validation features", "val k-NN", "share", True),
    Metric("best_val_epoch", "epoch whose weights were kept (best validation k-NN)", "kept epoch", "", False),
    Metric("kmeans_nmi", "k-means clusters of the features vs classes (NMI)", "k-means NMI", "", True),
    Metric("pca_knn_accuracy", "k-NN on PCA of the raw inputs", "PCA k-NN", "share", True),
    Metric("invariant_knn_accuracy", "k-NN on |FFT| of the images (shift-invariant)", "|FFT| k-NN", "share", True),
    Metric("autoencoder_knn_accuracy", "k-NN on autoencoder features", "autoencoder k-NN", "share", True),
    Metric("compute_matched_knn_accuracy", "k-NN of one generation trained for all generations' epochs",
           "compute-matched k-NN", "share", True),
    Metric("compute_matched_test_accuracy", "test accuracy of one generation trained for all generations' epochs",
           "compute-matched acc", "share", True),
    Metric("raw_kmeans_nmi", "k-means clusters of the raw inputs vs classes (NMI)", "raw k-means NMI", "", True),
    Metric("random_init_effective_rank", "effective rank of random-init features", "random-net rank", "", True),
    Metric("feature_effective_rank", "effective rank of the features", "feature rank", "", True),
    Metric("feature_effective_rank_floor", "dimensional-collapse floor of the feature rank", "rank floor", "", True),
    Metric("argmax_share", "share of output dimensions that win an argmax", "argmax share", "share", True),
    Metric("test_wer", "word error rate (lower is better)", "WER", "share", False),
    Metric("knn_wer", "k-NN word error rate on features", "k-NN WER", "share", False),
    Metric("linear_probe_wer", "linear-probe word error rate on features", "probe WER", "share", False),
    Metric("mfcc_knn_accuracy", "k-NN on MFCC mean and std (speech)", "MFCC k-NN", "share", True),
    Metric("argmax_top_share", "share of inputs won by the most frequent output", "top output share", "share",
           False),
]}

# Groups, in display order.
ACCURACIES = ("test_accuracy", "ensemble_accuracy", "knn_accuracy", "linear_probe_accuracy")  # one chart
BASELINES = ("raw_knn_accuracy", "pca_knn_accuracy", "mfcc_knn_accuracy", "random_init_knn_accuracy", "invariant_knn_accuracy",
             "autoencoder_knn_accuracy", "compute_matched_knn_accuracy",
             "compute_matched_test_accuracy")  # reference lines on that chart (each where the run has it)
ACCURACY_REFERENCES = ("raw_knn_accuracy", "random_init_knn_accuracy")  # the lines on a label-free accuracy chart
CLUSTER_BASELINES = ("raw_kmeans_nmi",)  # a baseline on the NMI scale, beside the generations' kmeans_nmi
SELECTION = ("val_accuracy", "val_knn_accuracy")  # what the best generation is chosen on (never test)
GENERATION_TABLE = ("val_accuracy", "test_accuracy", "test_wer", "ensemble_accuracy", "val_knn_accuracy", "knn_accuracy",
                    "linear_probe_accuracy", "kmeans_nmi", "test_ece", "test_nll", "teacher_agreement",
                    "memorized_noise")  # the per-generation table on Runs
SUMMARY = ("test_accuracy", "ensemble_accuracy", "knn_accuracy", "linear_probe_accuracy", "memorized_noise",
           "test_ece")  # the CLI's and the run list's columns
EPOCH_SHOWN = ("loss", "test_accuracy")  # what the CLI's progress bar shows per epoch
GENERATION_SHOWN = ("test_accuracy", "test_wer", "knn_accuracy", "linear_probe_accuracy")  # its line per generation


def labels(names: tuple[str, ...]) -> dict[str, str]:
    """name → chart label, in the given order."""
    return {n: METRICS[n].label for n in names}


def shorts(names: tuple[str, ...]) -> dict[str, str]:
    """name → table header, in the given order."""
    return {n: METRICS[n].short for n in names}


def percent_headers(names: tuple[str, ...]) -> tuple[str, ...]:
    """The table headers of the metrics among ``names`` that are shares (shown as percentages)."""
    return tuple(METRICS[n].short for n in names if METRICS[n].unit == "share")
