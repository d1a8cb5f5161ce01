"""Word error rate: (substitutions + deletions + insertions) / reference words, from a word-level edit distance.

For isolated words (one word per utterance, as in spoken-digits) it is the share of misrecognised words, i.e. one
minus accuracy; the general form is here so that the definition, not a shortcut, is what the tests check.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np


def edit_distance(hypothesis: Sequence, reference: Sequence) -> int:
    """The fewest substitutions, deletions and insertions turning ``reference`` into ``hypothesis`` (Levenshtein)."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def word_error_rate(hypotheses: Sequence[Sequence], references: Sequence[Sequence]) -> float:
    """Corpus WER: total edits over total reference words."""
    words = sum(len(r) for r in references)
    return sum(edit_distance(h, r) for h, r in zip(hypotheses, references, strict=True)) / max(words, 1)


def isolated_word_error_rate(predicted: np.ndarray, labels: np.ndarray) -> float:
    """WER of isolated-word recognition: each utterance is one word, so every wrong class is one substitution."""
    return word_error_rate([[int(p)] for p in predicted], [[int(y)] for y in labels])


def wer_metrics(metrics: dict, probs: np.ndarray | None, labels: np.ndarray) -> dict[str, float]:
    """A speech run's generation metrics as word error rates: ``test_wer`` from the classifier's words (supervised
    runs), ``knn_wer`` and ``linear_probe_wer`` from the feature evaluations' accuracies (one word per clip)."""
    out = {}
    if probs is not None:
        out["test_wer"] = isolated_word_error_rate(probs.argmax(1), labels)
    for accuracy, wer in (("knn_accuracy", "knn_wer"), ("linear_probe_accuracy", "linear_probe_wer")):
        if metrics.get(accuracy) is not None:
            out[wer] = 1.0 - float(metrics[accuracy])
    return out
