"""core.theory against hand-worked numbers and a separate, plain solve-per-round computation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.theory import DEFAULT_GAMMA, DEFAULT_LAM, default_data, eigen_view, krr_self_distillation, round_errors


def _reference(x_train, y_train, x_eval, gamma, lam, alpha, rounds):
    """Plain loop: build the kernel entry by entry, solve (K + lam I) c = targets each round, predict."""
    x = np.asarray(x_train, dtype=np.float64).reshape(len(x_train), -1)
    xe = np.asarray(x_eval, dtype=np.float64).reshape(len(x_eval), -1)
    k_train = np.array([[math.exp(-gamma * float(np.sum((a - b) ** 2))) for b in x] for a in x])
    k_eval = np.array([[math.exp(-gamma * float(np.sum((a - b) ** 2))) for b in x] for a in xe])
    targets, rows = np.asarray(y_train, dtype=np.float64), []
    for _ in range(rounds):
        c = np.linalg.solve(k_train + lam * np.eye(len(x)), targets)
        rows.append(k_eval @ c)
        targets = alpha * np.asarray(y_train) + (1 - alpha) * (k_train @ c)
    return np.array(rows), k_train


@pytest.mark.parametrize("alpha", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("features", [None, 3])
def test_matches_plain_solve_each_round(alpha, features):
    rng = np.random.default_rng(7)
    shape = (12,) if features is None else (12, features)
    x, xe = rng.uniform(0, 1, shape), rng.uniform(0, 1, (30,) + shape[1:])
    y = rng.standard_normal(12)
    got = krr_self_distillation(x, y, xe, gamma=4.0, lam=0.05, alpha=alpha, rounds=6)
    want, _ = _reference(x, y, xe, 4.0, 0.05, alpha, 6)
    assert got.shape == (6, 30)
    np.testing.assert_allclose(got, want, rtol=1e-8, atol=1e-10)


def test_single_point_by_hand():
    # K = [1], so each round's training prediction is target / (1 + lam); lam = 1, alpha = 0.5, y = 2.
    # Targets: 2, then 0.5*2 + 0.5*1 = 1.5, then 0.5*2 + 0.5*0.75 = 1.375. At distance 1 with gamma = ln 2, k = 1/2.
    got = krr_self_distillation([0.0], [2.0], [0.0, 1.0], gamma=math.log(2), lam=1.0, alpha=0.5, rounds=3)
    np.testing.assert_allclose(got, [[1.0, 0.5], [0.75, 0.375], [0.6875, 0.34375]], rtol=1e-12)


def test_two_points_by_hand():
    # x = 0, 1 and gamma = ln 2 give K = [[1, .5], [.5, 1]]; with lam = .5, (K + lam I)^-1 = [[.75, -.25], [-.25, .75]].
    # y = (1, 0): c = (.75, -.25), so f(0) = .625, f(1) = .125, f(.5) = 2^(-1/4) * .5.
    # Round 2 (alpha = 0) fits (.625, .125): c = (.4375, -.0625), f(0) = .40625, f(1) = .15625, f(.5) = 2^(-1/4) * .375.
    got = krr_self_distillation([0.0, 1.0], [1.0, 0.0], [0.0, 1.0, 0.5], math.log(2), lam=0.5, alpha=0.0, rounds=2)
    mid = 2 ** -0.25
    np.testing.assert_allclose(got, [[0.625, 0.125, 0.5 * mid], [0.40625, 0.15625, 0.375 * mid]], rtol=1e-12)
    view = eigen_view([0.0, 1.0], gamma=math.log(2), lam=0.5)
    np.testing.assert_allclose(view.d, [1.5, 0.5], rtol=1e-12)
    np.testing.assert_allclose(view.shrink, [0.75, 0.5], rtol=1e-12)
    np.testing.assert_allclose(view.filters(alpha=0.0, rounds=2), [[0.75, 0.5], [0.5625, 0.25]], rtol=1e-12)


def test_alpha_zero_shrinks_eigen_coordinates_by_power_of_shrink():
    rng = np.random.default_rng(3)
    x, y = np.sort(rng.uniform(0, 1, 15)), rng.standard_normal(15)
    gamma, lam, rounds = 20.0, 0.05, 6
    train_preds = krr_self_distillation(x, y, x, gamma, lam, 0.0, rounds)
    _, k = _reference(x, y, x[:1], gamma, lam, 0.0, 1)
    d, v = np.linalg.eigh(k)
    shrink = d / (d + lam)
    for t in range(1, rounds + 1):
        np.testing.assert_allclose(v.T @ train_preds[t - 1], shrink**t * (v.T @ y), atol=1e-10)
    norms = np.linalg.norm(train_preds, axis=1)
    assert np.all(np.diff(norms) < 0)


def test_alpha_zero_tends_to_zero_function():
    x, y, xe, _ = default_data(seed=1)
    preds = krr_self_distillation(x, y, xe, gamma=20.0, lam=0.5, alpha=0.0, rounds=2000)
    assert np.max(np.abs(preds[-1])) < 1e-6
    assert np.max(np.abs(preds[0])) > 0.5


def test_alpha_one_refits_the_labels_every_round():
    x, y, xe, _ = default_data(seed=2)
    preds = krr_self_distillation(x, y, xe, DEFAULT_GAMMA, DEFAULT_LAM, alpha=1.0, rounds=4)
    want, _ = _reference(x, y, xe, DEFAULT_GAMMA, DEFAULT_LAM, 1.0, 1)
    np.testing.assert_allclose(preds, np.repeat(want, 4, axis=0), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("alpha", [0.0, 0.4])
def test_filters_match_plain_solve_in_eigenbasis(alpha):
    rng = np.random.default_rng(5)
    x, y = rng.uniform(0, 1, 10), rng.standard_normal(10)
    train_preds, k = _reference(x, y, x, 8.0, 0.1, alpha, 5)
    d, v = np.linalg.eigh(k)
    view = eigen_view(x, 8.0, 0.1)
    np.testing.assert_allclose(view.d, d[::-1], rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(view.shrink, d[::-1] / (d[::-1] + 0.1), rtol=1e-9, atol=1e-12)
    # The view lists directions largest-first; eigh lists them smallest-first.
    ratios = (v.T @ train_preds.T).T / (v.T @ y)
    np.testing.assert_allclose(view.filters(alpha, 5)[:, ::-1], ratios, rtol=1e-6, atol=1e-9)


def test_round_errors_by_hand():
    np.testing.assert_allclose(round_errors([[0.0, 0.0], [1.0, 1.0]], [1.0, -1.0]), [1.0, 2.0])


def test_default_data_is_seeded_noisy_sine():
    x, y, xe, yt = default_data(n=20, seed=0)
    assert x.shape == y.shape == (20,) and xe.shape == yt.shape == (200,)
    assert x.min() == 0.0 and x.max() == 1.0
    np.testing.assert_allclose(yt, np.sin(2 * np.pi * xe))
    np.testing.assert_array_equal(y, default_data(n=20, seed=0)[1])
    assert not np.allclose(y, default_data(n=20, seed=1)[1])
    assert 0.1 < np.std(y - np.sin(2 * np.pi * x)) < 1.0
    np.testing.assert_allclose(default_data(noise=0.0)[1], np.sin(2 * np.pi * x))


@pytest.mark.parametrize("seed", range(5))
def test_few_rounds_help_more_rounds_underfit(seed):
    x, y, xe, yt = default_data(seed=seed)
    preds, _ = _reference(x, y, xe, DEFAULT_GAMMA, DEFAULT_LAM, 0.0, 30)
    errors = np.mean((preds - yt) ** 2, axis=1)
    np.testing.assert_allclose(round_errors(preds, yt), errors)
    best = int(np.argmin(errors))
    assert 1 <= best <= 5, errors  # the best round is round 2..6
    assert errors[0] > 1.15 * errors[best]
    assert errors[9] > 1.3 * errors[best]
    assert np.all(np.diff(errors[best:]) > 0)  # past the best round, every further round is worse
    assert errors[-1] > 0.7 * np.mean(yt**2)  # closing in on the zero function's error


BAD_CALLS = [
    ({"gamma": 0.0}, "gamma"),
    ({"gamma": float("inf")}, "gamma"),
    ({"lam": -1.0}, "lam"),
    ({"lam": 0.0}, "lam"),
    ({"alpha": 1.5}, "alpha"),
    ({"alpha": float("nan")}, "alpha"),
    ({"rounds": 0}, "rounds"),
    ({"rounds": 2.5}, "rounds"),
    ({"rounds": True}, "rounds"),
    ({"y_train": np.zeros(4)}, "y_train"),
    ({"y_train": np.array([0.0, np.nan, 0.0])}, "y_train"),
    ({"x_train": np.array([0.0, np.inf, 1.0])}, "x_train"),
    ({"x_train": np.zeros((3, 1, 1))}, "x_train"),
    ({"x_eval": np.zeros((5, 2))}, "features"),
]


@pytest.mark.parametrize(("override", "message"), BAD_CALLS)
def test_rejects_bad_inputs(override, message):
    args = {"x_train": np.array([0.0, 0.5, 1.0]), "y_train": np.array([1.0, 0.0, -1.0]), "x_eval": np.zeros(5),
            "gamma": 1.0, "lam": 0.1, "alpha": 0.0, "rounds": 3}
    with pytest.raises(ValueError, match=message):
        krr_self_distillation(**(args | override))


def test_other_helpers_reject_bad_inputs():
    with pytest.raises(ValueError, match="lam"):
        eigen_view([0.0, 1.0], gamma=1.0, lam=0.0)
    with pytest.raises(ValueError, match="rounds"):
        eigen_view([0.0, 1.0], gamma=1.0, lam=0.1).filters(alpha=0.0, rounds=0)
    with pytest.raises(ValueError, match="y_true"):
        round_errors(np.zeros((2, 3)), np.zeros(4))
    with pytest.raises(ValueError, match="n must"):
        default_data(n=0)


@pytest.mark.parametrize("seed", range(100, 105))
def test_the_pages_claim_noise_is_even_but_signal_lives_in_the_smooth_directions(seed):
    """The Theory page says: white noise spreads evenly over the eigen-directions, the smooth signal does not, so
    the small-eigenvalue directions are noise-dominated. Checked on data seeds that tuned nothing."""
    from core.theory import _gram_eigh

    x, y, _, _ = default_data(seed=seed)
    _, v = _gram_eigh(x[:, None], DEFAULT_GAMMA)  # eigenvectors, largest eigenvalue first
    signal = (v.T @ np.sin(2 * np.pi * x)) ** 2
    noise = (v.T @ (y - np.sin(2 * np.pi * x))) ** 2
    small = slice(len(x) // 2, None)  # the half of the directions with the smallest eigenvalues
    assert signal[small].sum() < 0.01 * signal.sum()  # the sine puts < 1% of its energy there
    assert 0.2 < noise[small].sum() / noise.sum() < 0.8  # the noise about half (an even spread gives 1/2)
    assert noise[small].sum() > 20 * signal[small].sum()


def test_a_label_share_above_zero_settles_at_a_fixed_point():
    x, y, xe, _ = default_data(seed=0)
    preds = krr_self_distillation(x, y, xe, DEFAULT_GAMMA, DEFAULT_LAM, 0.3, 200)
    assert np.abs(preds[-1] - preds[-2]).max() < 1e-9  # settled
    assert np.abs(preds[-1]).max() > 0.3  # and not at the zero function
