"""Tests for core.evaluation.metrics: every expected number is worked out by hand or by a separate implementation."""
import math

import numpy as np
import pytest
import torch

from core.evaluation import metrics as ev


# ---------------------------------------------------------------- accuracy / agreement / NLL / ECE
def test_accuracy_accepts_probs_and_preds():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    labels = np.array([0, 1, 1, 1])
    assert ev.accuracy(probs, labels) == 0.75
    assert ev.accuracy(np.array([0, 1, 0, 0]), labels) == 0.5
    assert ev.accuracy(torch.tensor(probs), torch.tensor(labels)) == 0.75
    assert isinstance(ev.accuracy(probs, labels), float)


def test_agreement_and_ensemble():
    a = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    b = np.array([[0.7, 0.3], [0.6, 0.4], [0.1, 0.9]])
    assert ev.agreement(a, a) == 1.0
    assert ev.agreement(a, b) == pytest.approx(1 / 3)
    assert ev.agreement(a, np.array([0, 1, 0])) == 1.0
    np.testing.assert_allclose(ev.ensemble_probs([a, b]), [[0.8, 0.2], [0.4, 0.6], [0.35, 0.65]])


def test_nll_hand_worked():
    probs = np.array([[0.5, 0.5], [0.25, 0.75]])
    # -(ln 0.5 + ln 0.75) / 2 = (0.693147 + 0.287682) / 2
    assert ev.nll(probs, np.array([0, 1])) == pytest.approx(0.4904146, abs=1e-6)
    # a zero probability on the true label is clipped at eps instead of giving inf
    assert ev.nll(np.array([[1.0, 0.0]]), np.array([1]), eps=1e-12) == pytest.approx(-math.log(1e-12))


def test_ece_hand_worked_two_bins():
    probs = np.array([
        [0.90, 0.05, 0.05],  # conf 0.90, label 0: correct
        [0.70, 0.20, 0.10],  # conf 0.70, label 1: wrong
        [0.40, 0.30, 0.30],  # conf 0.40, label 0: correct
        [0.20, 0.45, 0.35],  # conf 0.45, label 2: wrong
    ])
    labels = np.array([0, 1, 0, 2])
    # bin (0.5, 1]: acc 1/2, mean conf 0.80  -> 2/4 * 0.300 = 0.1500
    # bin (0, 0.5]: acc 1/2, mean conf 0.425 -> 2/4 * 0.075 = 0.0375
    assert ev.expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.1875)


def test_ece_bin_edges_are_right_closed():
    probs = np.array([[0.5, 0.5, 0.0], [0.6, 0.4, 0.0]])
    labels = np.array([0, 1])
    # conf 0.5 belongs to (0, 0.5]: 1/2 * |1 - 0.5| + 1/2 * |0 - 0.6| = 0.55
    # (had it fallen into (0.5, 1] with the other sample: |0.5 - 0.55| = 0.05)
    assert ev.expected_calibration_error(probs, labels, n_bins=2) == pytest.approx(0.55)


def test_ece_perfectly_calibrated_is_zero():
    probs = np.array([[1.0, 0.0], [0.0, 1.0]])
    assert ev.expected_calibration_error(probs, np.array([0, 1])) == pytest.approx(0.0)


def test_memorized_noise():
    preds = np.array([0, 1, 2, 3, 4, 5])
    noisy = np.array([0, 9, 2, 9, 9, 5])
    flipped = np.array([1, 2, 3, 5])  # preds reproduce the noisy label at 2 and 5 only
    assert ev.memorized_noise(preds, noisy, flipped) == 0.5
    mask = np.zeros(6, dtype=bool)
    mask[flipped] = True
    assert ev.memorized_noise(preds, noisy, mask) == 0.5
    assert math.isnan(ev.memorized_noise(preds, noisy, np.array([], dtype=int)))


# ---------------------------------------------------------------- kNN probe
def brute_force_knn(train_x, train_y, test_x, test_y, k, temperature):
    correct = 0
    for q, truth in zip(test_x, test_y):
        sims = []
        for x, y in zip(train_x, train_y):
            cos = sum(a * b for a, b in zip(q, x)) / (
                math.sqrt(sum(a * a for a in q)) * math.sqrt(sum(b * b for b in x))
            )
            sims.append((cos, y))
        sims.sort(key=lambda s: -s[0])
        votes = {}
        for cos, y in sims[:k]:
            votes[y] = votes.get(y, 0.0) + math.exp(cos / temperature)
        correct += max(votes, key=votes.get) == truth
    return correct / len(test_y)


@pytest.mark.parametrize("k,temperature", [(1, 0.07), (5, 0.07), (7, 0.5), (40, 0.07)])
def test_knn_matches_brute_force(k, temperature):
    rng = np.random.default_rng(0)
    train_x, test_x = rng.normal(size=(40, 6)), rng.normal(size=(25, 6))
    train_y, test_y = rng.integers(0, 3, 40), rng.integers(0, 3, 25)
    expected = brute_force_knn(train_x.tolist(), train_y.tolist(), test_x.tolist(), test_y.tolist(), k, temperature)
    got = ev.knn_accuracy(train_x, train_y, test_x, test_y, k=k, temperature=temperature, chunk_size=7)
    assert got == pytest.approx(expected)


def test_knn_weighting_can_overrule_majority():
    # query along +x; one class-0 point at cos 1, two class-1 points at cos 0.5
    train_x = np.array([[1.0, 0.0], [0.5, math.sqrt(0.75)], [0.5, -math.sqrt(0.75)], [-1.0, 0.0]])
    train_y = np.array([0, 1, 1, 0])
    test_x, test_y = np.array([[2.0, 0.0]]), np.array([0])
    # T = 0.07: exp(1/0.07) = 1.6e6 beats 2 * exp(0.5/0.07) = 2.5e3, so class 0 wins
    assert brute_force_knn(train_x.tolist(), train_y, test_x.tolist(), test_y, 3, 0.07) == 1.0
    assert ev.knn_accuracy(train_x, train_y, test_x, test_y, k=3, temperature=0.07) == 1.0
    # T = 100: weights are nearly equal, so the 2-vs-1 majority (class 1) wins
    assert brute_force_knn(train_x.tolist(), train_y, test_x.tolist(), test_y, 3, 100.0) == 0.0
    assert ev.knn_accuracy(train_x, train_y, test_x, test_y, k=3, temperature=100.0) == 0.0


def test_knn_accepts_torch_and_arbitrary_labels():
    rng = np.random.default_rng(1)
    train_x, test_x = rng.normal(size=(30, 4)), rng.normal(size=(10, 4))
    train_y, test_y = rng.choice([3, 7, 11], 30), rng.choice([3, 7, 11], 10)
    expected = brute_force_knn(train_x.tolist(), train_y.tolist(), test_x.tolist(), test_y.tolist(), 5, 0.07)
    got = ev.knn_accuracy(torch.tensor(train_x), torch.tensor(train_y), torch.tensor(test_x), torch.tensor(test_y), k=5)
    assert got == pytest.approx(expected)


# ---------------------------------------------------------------- linear probe
def test_linear_probe_separable_blobs_near_perfect():
    rng = np.random.default_rng(0)
    centers = rng.normal(scale=10.0, size=(5, 16))
    y = rng.integers(0, 5, 600)
    x = centers[y] + rng.normal(size=(600, 16))
    assert ev.linear_probe_accuracy(x[:400], y[:400], x[400:], y[400:]) >= 0.98


def test_linear_probe_random_labels_near_chance():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1000, 16)), rng.integers(0, 10, 1000)
    assert ev.linear_probe_accuracy(x[:500], y[:500], x[500:], y[500:]) < 0.2


# ---------------------------------------------------------------- collapse monitors
@pytest.mark.parametrize("k", [2, 10, 64, 65536])
def test_entropy_of_uniform_is_log_k(k):
    assert ev.mean_entropy(np.full((3, k), 1.0 / k)) == pytest.approx(math.log(k), rel=1e-12)


def test_entropy_one_hot_zero_and_hand_worked():
    assert ev.mean_entropy(np.eye(4)) == 0.0
    # row entropies: ln 2 and 0 -> mean ln(2) / 2
    assert ev.mean_entropy(np.array([[0.5, 0.5], [1.0, 0.0]])) == pytest.approx(math.log(2) / 2)


def test_kl_divergence():
    p, q = np.array([[0.5, 0.5]]), np.array([[0.25, 0.75]])
    assert ev.kl_divergence(p, p) == pytest.approx(0.0)
    assert ev.kl_divergence(p, q) == pytest.approx(0.5 * math.log(2) + 0.5 * math.log(2 / 3))
    assert math.isfinite(ev.kl_divergence(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]])))


def test_normalized_feature_std():
    assert ev.normalized_feature_std(np.tile([[3.0, -1.0, 2.0]], (50, 1))) == pytest.approx(0.0, abs=1e-12)
    # rows scaled differently are still the same direction: collapsed
    assert ev.normalized_feature_std(np.outer(np.arange(1, 51), [3.0, -1.0, 2.0])) == pytest.approx(0.0, abs=1e-12)
    d = 256
    x = np.random.default_rng(0).normal(size=(4000, d))
    assert ev.normalized_feature_std(torch.tensor(x)) == pytest.approx(1 / math.sqrt(d), rel=0.03)


def test_effective_rank_hand_worked():
    assert ev.effective_rank(np.eye(7)) == pytest.approx(7.0)  # equal singular values: full rank
    rank_one = np.outer(np.arange(1.0, 11.0), [3.0, -1.0, 2.0, 0.5])
    assert ev.effective_rank(rank_one) == pytest.approx(1.0)
    # singular values 3 and 1: p = (3/4, 1/4), H = -(0.75 ln 0.75 + 0.25 ln 0.25) = 0.562335, exp(H) = 1.754765
    assert ev.effective_rank(np.diag([3.0, 1.0])) == pytest.approx(1.754765, abs=1e-6)
    assert ev.effective_rank(np.zeros((4, 3))) == 0.0
    # not centred: rows that all point one way (plus nothing) count as one direction
    assert ev.effective_rank(torch.ones(50, 8)) == pytest.approx(1.0)


def test_argmax_top_share():
    assert ev.argmax_top_share(np.eye(4)) == 0.25
    assert ev.argmax_top_share(np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])) == 0.75


def test_argmax_dims_used():
    assert ev.argmax_dims_used(np.eye(5)) == 5
    assert ev.argmax_dims_used(np.tile([0.1, 0.7, 0.2], (9, 1))) == 1
    assert ev.argmax_dims_used(torch.tensor([[2.0, -1.0], [3.0, 0.0], [0.0, 5.0]])) == 2


def _epochs(entropies, top_shares=None, ranks=None):
    """Per-epoch monitors as the label-free method reports them."""
    n = len(entropies)
    top_shares = top_shares if top_shares is not None else [0.1] * n
    ranks = ranks if ranks is not None else [50.0] * n
    return [{"teacher_entropy": h, "argmax_top_share": s, "feature_effective_rank": r}
            for h, s, r in zip(entropies, top_shares, ranks)]


def test_detect_uniform_collapse_from_right_epoch():
    k = 64  # log 64 = 4.159; uniform threshold 0.95 * 4.159 = 3.951
    (msg,) = ev.detect_collapse(_epochs([2.0, 2.5, 3.0, 4.10, 4.15, 4.158]), k)
    assert "uniform collapse" in msg and "from epoch 3" in msg
    # a healthy dip resets the start; entropies computed from real uniform outputs
    uniform = ev.mean_entropy(np.full((8, k), 1.0 / k))
    (msg,) = ev.detect_collapse(_epochs([uniform, uniform, 3.0, uniform, uniform, uniform]), k)
    assert "uniform" in msg and "from epoch 3" in msg


def test_detect_one_hot_collapse_needs_one_winning_output():
    k = 64  # one-hot threshold 0.1 * 4.159 = 0.416
    entropies = [3.0, 1.0, 0.3, 0.05, ev.mean_entropy(np.eye(k))]
    (msg,) = ev.detect_collapse(_epochs(entropies, top_shares=[0.1, 0.5, 0.95, 1.0, 1.0]), k)
    assert "one-hot collapse" in msg and "from epoch 2" in msg and "uniform" not in msg
    # the same entropies from a sharp teacher whose winner differs between inputs: healthy, not a collapse
    sharp_but_varied = ev.argmax_top_share(np.eye(k))  # every input a different winner: 1/64
    assert sharp_but_varied == pytest.approx(1 / k)
    assert ev.detect_collapse(_epochs(entropies, top_shares=[sharp_but_varied] * 5), k) == []


def test_detect_dimensional_collapse_against_the_floor():
    k = 64
    healthy_outputs = [2.0] * 5
    (msg,) = ev.detect_collapse(_epochs(healthy_outputs, ranks=[40.0, 30.0, 4.0, 2.0, 1.5]), k, rank_floor=10.0)
    assert "dimensional collapse" in msg and "from epoch 2" in msg and "1.5" in msg
    assert ev.detect_collapse(_epochs(healthy_outputs, ranks=[40.0, 30.0, 4.0, 2.0, 1.5]), k) == []  # no floor
    assert ev.detect_collapse(_epochs(healthy_outputs, ranks=[40.0] * 5), k, rank_floor=10.0) == []


def test_collapse_warnings_name_the_setting_to_change():
    k, one_hot = 64, _epochs([0.0] * 4, top_shares=[1.0] * 4, ranks=[1.0] * 4)
    warnings = ev.detect_collapse(one_hot, k, rank_floor=10.0, advice=ev.collapse_advice(False, True))
    assert len(warnings) == 2 and all("turn method.centering on" in w for w in warnings)
    (msg,) = ev.detect_collapse(_epochs([4.159] * 4), k, advice=ev.collapse_advice(True, False))
    assert "lower method.teacher_temp" in msg and "model.batch_norm" in msg
    for centering in (True, False):  # a label-free run never hears of the born-again temperature
        assert all("method.temperature" not in a for a in ev.collapse_advice(centering, False).values())


def test_detect_collapse_healthy_or_too_short_is_none():
    k = 64
    # starts near uniform (as at initialisation), then entropy falls steadily
    assert ev.detect_collapse(_epochs([4.1, 3.5, 3.0, 2.5, 2.2]), k) == []
    # only the last two epochs are near uniform: not yet a sustained collapse
    assert ev.detect_collapse(_epochs([1.0, 2.0, 3.0, 4.15, 4.15]), k) == []
    assert ev.detect_collapse([], k) == []
    # a run shorter than min_epochs counts when it is the whole history
    assert "from epoch 0" in ev.detect_collapse(_epochs([4.15, 4.15]), k)[0]



def test_a_collapse_onto_two_outputs_is_one_hot_too():
    """Seen on teach-dino-collapse seed 103: entropy 4% of log K, two outputs splitting the inputs 66/34."""
    two = [{"teacher_entropy": 0.17, "argmax_top_share": 0.66, "argmax_dims_used": 2}] * 5
    warnings = ev.detect_collapse(two, 64)
    assert len(warnings) == 1 and warnings[0].startswith("one-hot collapse from epoch 0")
    assert "2 of 64 outputs win every input" in warnings[0]
    sharp_but_spread = [{"teacher_entropy": 0.17, "argmax_top_share": 0.1, "argmax_dims_used": 40}] * 5
    assert ev.detect_collapse(sharp_but_spread, 64) == []  # a sharp teacher using many outputs is healthy
