"""Neighbour churn: a hand-worked case on the unit circle, a second implementation (scikit-learn's brute-force
cosine neighbours), invariance to each point's scale, and the per-generation churn of a real stored run."""

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from core.evaluation.churn import InsightError, cosine_neighbours, neighbour_churn, run_churn
from core.storage.run_store import RunStore


def circle(degrees):
    rad = np.radians(degrees)
    return np.stack([np.cos(rad), np.sin(rad)], axis=1)


def test_hand_worked_case():
    # Before: 0°, 10°, 20°, 90°, 100°. After: the third point moves to 95°. With k = 2 (cosine = angle order):
    # p0 {1,2} -> {1,3}: 1/2 changed; p1 {0,2} -> {0,3}: 1/2; p2 {1,0} -> {3,4}: all; p3 {4,2} -> {2,4}: none;
    # p4 {3,2} -> {2,3}: none.
    before, after = circle([0, 10, 20, 90, 100]), circle([0, 10, 95, 90, 100])
    assert [set(r) for r in cosine_neighbours(before, 2)] == [{1, 2}, {0, 2}, {1, 0}, {4, 2}, {3, 2}]
    assert neighbour_churn(before, after, 2).tolist() == [0.5, 0.5, 1.0, 0.0, 0.0]


def test_cosine_ignores_each_points_scale():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 6))
    scaled = x * rng.uniform(0.1, 10, size=(40, 1))
    assert (neighbour_churn(x, scaled, 5) == 0).all()


@pytest.mark.parametrize("seed", [1, 2])
def test_agrees_with_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    a, b = rng.normal(size=(60, 8)), rng.normal(size=(60, 8))
    k = 10

    def sk_neighbours(x):
        nn = NearestNeighbors(n_neighbors=k + 1, metric="cosine", algorithm="brute").fit(x)
        return [set(row[1:]) for row in nn.kneighbors(x, return_distance=False)]  # drop the point itself

    assert [set(r) for r in cosine_neighbours(a, k)] == sk_neighbours(a)
    expected = [1 - len(old & new) / k for old, new in zip(sk_neighbours(a), sk_neighbours(b))]
    assert neighbour_churn(a, b, k) == pytest.approx(expected)


def test_bad_sizes_are_refused():
    with pytest.raises(InsightError):
        neighbour_churn(np.ones((5, 2)), np.ones((6, 2)), 2)
    with pytest.raises(InsightError):
        cosine_neighbours(np.ones((5, 2)), 5)


def test_run_churn_on_a_stored_run(tmp_path):
    """Generation features written to a real store: churn per later generation, 0 where nothing moved."""
    store = RunStore(tmp_path)
    run_id = store.create_run({"method": {"name": "ban"}})
    rng = np.random.default_rng(3)
    features = rng.normal(size=(30, 4)).astype(np.float32)
    moved = features.copy()
    moved[:5] = rng.normal(size=(5, 4))
    for g, f in enumerate([features, 2 * features, moved]):
        store.save_arrays(run_id, f"gen{g}", {"features": f})
        store.add_generation(run_id, g, {"test_accuracy": 0.5})
    churn = run_churn(store, run_id, k=10)
    assert sorted(churn) == [1, 2]
    assert (churn[1] == 0).all()  # a scaled copy keeps every cosine neighbour
    assert churn[2][:5].mean() > 0  # the five moved points found new neighbours
    assert churn[2] == pytest.approx(neighbour_churn(2 * features, moved, 10))


def test_churn_counts_every_other_point_when_the_test_split_is_smaller_than_k():
    from core.evaluation.churn import CHURN_K, churn_k, neighbour_churn

    assert churn_k(1000) == CHURN_K and churn_k(CHURN_K + 1) == CHURN_K
    assert churn_k(6) == 5 and churn_k(3) == 2 and churn_k(2) == 0  # too few points to have changing neighbours
    rng = np.random.default_rng(0)
    features = rng.normal(size=(6, 4))
    # with every other point as a neighbour, nothing can change: churn is 0 whatever the features become
    assert np.allclose(neighbour_churn(features, rng.normal(size=(6, 4)), churn_k(6)), 0.0)
