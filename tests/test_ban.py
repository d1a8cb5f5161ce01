"""The born-again loss against hand-worked numbers and a separate float64 computation."""
import math

import numpy as np
import pytest
import torch

from core.methods.ban import kd_loss_parts


def _kd_total(student, teacher, labels, temperature, alpha):
    """(1−alpha)·CE + alpha·T²·KL, the total of the loss parts."""
    return kd_loss_parts(student, teacher, labels, temperature, alpha)[0]


def reference_kd(student, teacher, labels, temperature, alpha):
    """Plain-numpy float64 computation, written independently of the module."""
    student, teacher = np.asarray(student, np.float64), np.asarray(teacher, np.float64)
    total = 0.0
    for s, t, y in zip(student, teacher, labels):
        p_s = np.exp(s - s.max()) / np.exp(s - s.max()).sum()
        ce = -math.log(p_s[y])
        q = np.exp(s / temperature) / np.exp(s / temperature).sum()
        p = np.exp(t / temperature) / np.exp(t / temperature).sum()
        kl = sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
        total += (1 - alpha) * ce + alpha * temperature**2 * kl
    return total / len(labels)


def test_hand_worked_two_class_case():
    # student logits [0, 0] -> q = (1/2, 1/2); teacher logits [2 ln 3, 0] at T = 2 -> p = (3/4, 1/4).
    # KL = 3/4 ln(3/2) + 1/4 ln(1/2); T² KL = 4 KL; CE(label 0) = ln 2.
    student = torch.tensor([[0.0, 0.0]])
    teacher = torch.tensor([[2 * math.log(3), 0.0]])
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    for alpha in (0.0, 0.3, 1.0):
        expected = (1 - alpha) * math.log(2) + alpha * 4 * kl
        got = _kd_total(student, teacher, torch.tensor([0]), temperature=2.0, alpha=alpha)
        assert got.item() == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("temperature,alpha", [(1.0, 0.5), (4.0, 1.0), (0.5, 0.1), (8.0, 0.9)])
def test_matches_float64_reference(temperature, alpha):
    rng = np.random.default_rng(0)
    student, teacher = rng.normal(size=(16, 10)) * 3, rng.normal(size=(16, 10)) * 3
    labels = rng.integers(0, 10, 16)
    got = _kd_total(torch.tensor(student), torch.tensor(teacher), torch.tensor(labels), temperature, alpha)
    assert got.item() == pytest.approx(reference_kd(student, teacher, labels, temperature, alpha), rel=1e-9)


def test_kl_is_averaged_per_sample_not_per_element():
    # Doubling the number of classes with copies of the same row must not halve the KL term.
    rng = np.random.default_rng(1)
    s, t = rng.normal(size=(4, 5)), rng.normal(size=(4, 5))
    labels = torch.zeros(4, dtype=torch.long)
    one = _kd_total(torch.tensor(s), torch.tensor(t), labels, 2.0, 1.0).item()
    stacked = _kd_total(torch.tensor(np.vstack([s, s])), torch.tensor(np.vstack([t, t])),
                      torch.zeros(8, dtype=torch.long), 2.0, 1.0).item()
    assert stacked == pytest.approx(one) and one == pytest.approx(reference_kd(s, t, [0] * 4, 2.0, 1.0))


def test_identical_teacher_and_student_give_zero_kd():
    logits = torch.randn(8, 10)
    total, ce, kd = kd_loss_parts(logits, logits.clone(), torch.zeros(8, dtype=torch.long), 4.0, 1.0)
    assert kd.item() == pytest.approx(0.0, abs=1e-6) and total.item() == pytest.approx(0.0, abs=1e-6)


def test_gradient_matches_finite_differences():
    torch.manual_seed(0)
    student = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
    teacher, labels = torch.randn(3, 4, dtype=torch.float64), torch.tensor([0, 2, 3])
    assert torch.autograd.gradcheck(lambda s: _kd_total(s, teacher, labels, 3.0, 0.7), (student,))


def test_generation_zero_is_plain_cross_entropy():
    logits, labels = torch.randn(5, 3), torch.tensor([0, 1, 2, 0, 1])
    total, ce, kd = kd_loss_parts(logits, None, labels, 4.0, 1.0)
    assert total.item() == pytest.approx(torch.nn.functional.cross_entropy(logits, labels).item())
    assert kd.item() == 0.0
