"""Label efficiency: how well a few labels per class go with a representation. A linear probe (logistic
regression on standardised features, as ``linear_probe_accuracy``) is fitted on n clean-labelled training
examples per class and scored on the test split; the mean over seeded draws is reported for each n."""
from __future__ import annotations

import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

SHOTS = (1, 5, 10)  # labelled examples per class
DRAWS = 5  # seeded draws per n, averaged
MAX_ITER = 100  # a few dozen samples: L-BFGS converges long before on healthy features


def draw_per_class(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` samples of every class, drawn without replacement (all of a class that has fewer)."""
    picks = [rng.choice(np.flatnonzero(labels == c), size=min(n, int(np.sum(labels == c))), replace=False)
             for c in np.unique(labels)]
    return np.sort(np.concatenate(picks))


def few_shot_accuracy(train_features: np.ndarray, train_labels: np.ndarray, test_features: np.ndarray,
                      test_labels: np.ndarray, n: int, seed: int, draws: int = DRAWS) -> float:
    """Mean test accuracy of linear probes fitted on ``n`` examples per class, over ``draws`` seeded draws."""
    scores = []
    for draw in range(draws):
        idx = draw_per_class(train_labels, n, np.random.default_rng([seed, n, draw]))
        probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=MAX_ITER, random_state=seed))
        with warnings.catch_warnings():  # the iteration cap is deliberate: degenerate features may not converge
            warnings.simplefilter("ignore", ConvergenceWarning)
            probe.fit(train_features[idx], train_labels[idx])
        scores.append(probe.score(test_features, test_labels))
    return float(np.mean(scores))


def label_efficiency(feature_sets: dict[str, tuple[np.ndarray, np.ndarray]], train_labels: np.ndarray,
                     test_labels: np.ndarray, seed: int, shots: tuple[int, ...] = SHOTS) -> dict[str, dict[str, float]]:
    """{set name: {"1": accuracy, "5": ..., "10": ...}} for every (train, test) feature pair; every set sees the
    same draws, so the sets are compared on the same labelled examples."""
    return {name: {str(n): few_shot_accuracy(np.asarray(train), train_labels, np.asarray(test), test_labels, n, seed)
                   for n in shots}
            for name, (train, test) in feature_sets.items()}
