"""The hand-derived MLP step against a hand-worked case and against autograd (an independent implementation)."""
import copy
import io
import math

import pytest
import torch

from core.methods import ban_step as mlp_step
from core.config import TrainConfig
from core.methods import ban
from core.methods.ban import kd_loss_parts
from core.models.cnn import CNN
from core.models.mlp import MLP


def test_hand_worked_two_class_gradient():
    # z = [0, 0], label 0: q = (1/2, 1/2), dCE/dz = q - y = (-1/2, 1/2).
    # Teacher [2 ln 3, 0] at T = 2: p = (3/4, 1/4); q_T = (1/2, 1/2); dKD/dz = T (q_T - p) = (-1/2, 1/2).
    # alpha = 0.3: d/dz = 0.7 (-1/2, 1/2) + 0.3 (-1/2, 1/2) = (-1/2, 1/2); loss = 0.7 ln 2 + 0.3 * 4 KL.
    kl = 0.75 * math.log(1.5) + 0.25 * math.log(0.5)
    parts, grad = mlp_step.loss_and_logit_grad(torch.tensor([[0.0, 0.0]]), torch.tensor([[2 * math.log(3), 0.0]]),
                                               torch.tensor([0]), temperature=2.0, alpha=0.3)
    assert parts.tolist() == pytest.approx([0.7 * math.log(2) + 0.3 * 4 * kl, math.log(2), 4 * kl], rel=1e-6)
    assert grad[0].tolist() == pytest.approx([-0.5, 0.5], abs=1e-6)
    # Generation 0 (no teacher): CE only, alpha ignored as in kd_loss_parts.
    parts, grad = mlp_step.loss_and_logit_grad(torch.tensor([[math.log(3), 0.0]]), None, torch.tensor([1]), 2.0, 0.3)
    assert parts.tolist() == pytest.approx([math.log(4), math.log(4), 0.0], rel=1e-6)
    assert grad[0].tolist() == pytest.approx([0.75, -0.75], abs=1e-6)


@pytest.mark.parametrize("with_teacher,temperature,alpha", [(False, 1.0, 0.5), (True, 1.0, 0.5), (True, 4.0, 1.0),
                                                            (True, 0.5, 0.1)])
def test_logit_gradient_matches_autograd(with_teacher, temperature, alpha):
    torch.manual_seed(0)
    logits = (torch.randn(9, 6, dtype=torch.float64) * 3).requires_grad_()
    teacher = torch.randn(9, 6, dtype=torch.float64) * 3 if with_teacher else None
    labels = torch.randint(0, 6, (9,))
    total, ce, kd = kd_loss_parts(logits, teacher, labels, temperature, alpha)
    total.backward()
    parts, grad = mlp_step.loss_and_logit_grad(logits.detach(), teacher, labels, temperature, alpha)
    assert parts.tolist() == pytest.approx([total.item(), ce.item(), kd.item()], rel=1e-10, abs=1e-12)
    assert torch.allclose(grad, logits.grad, rtol=1e-9, atol=1e-12)


def _autograd_gradients(model: MLP, x, labels, teacher, temperature, alpha) -> list[torch.Tensor]:
    model = copy.deepcopy(model)
    loss = kd_loss_parts(model(x), teacher, labels, temperature, alpha)[0]
    loss.backward()
    return [p.grad.clone() for p in model.parameters()]


@pytest.mark.parametrize("depth", [1, 2, 3])
@pytest.mark.parametrize("with_teacher", [False, True])
def test_parameter_gradients_match_autograd(depth, with_teacher):
    torch.manual_seed(depth)
    model = MLP(8, 4, hidden=16, depth=depth).double()
    x, labels = torch.randn(12, 8, dtype=torch.float64), torch.randint(0, 4, (12,))
    teacher = torch.randn(12, 4, dtype=torch.float64) if with_teacher else None
    expected = _autograd_gradients(model, x, labels, teacher, 2.0, 0.7)
    # lr tiny and no clipping: after the step each parameter's .grad holds the raw gradient
    step = mlp_step.MLPStep(model, TrainConfig(optimizer="sgd", lr=1e-12, grad_clip=0.0))
    step(x, labels, teacher, 2.0, 0.7)
    for got, want in zip((p.grad for p in model.parameters()), expected):
        assert torch.allclose(got, want, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("cfg", [TrainConfig(optimizer="adam", lr=1e-2, grad_clip=0.2),
                                 TrainConfig(optimizer="adam", lr=1e-2, weight_decay=0.1, grad_clip=0.0),
                                 TrainConfig(optimizer="sgd", lr=0.05, weight_decay=1e-3, grad_clip=0.2)],
                         ids=["adam-clipped", "adamw", "sgd"])
def test_training_follows_the_autograd_path(cfg):
    """Twenty steps of the flat-buffer step and of per-parameter autograd with torch's optimizer end at the same
    weights (clipping active in two of the three)."""
    torch.manual_seed(0)
    fast_model = MLP(8, 4, hidden=32, depth=2)
    slow_model = copy.deepcopy(fast_model)
    fast, slow = ban.make_step(fast_model, cfg), ban.make_step(slow_model, cfg, fast=False)
    assert isinstance(fast, mlp_step.MLPStep) and not isinstance(slow, mlp_step.MLPStep)
    teacher = torch.randn(16, 4) * 2
    clipped = 0
    for i in range(20):
        x, labels = torch.randn(16, 8), torch.randint(0, 4, (16,))
        soft = teacher if i % 2 else None
        fast_parts, _ = fast(x, labels, soft, 3.0, 0.6)
        slow_parts, _ = slow(x, labels, soft, 3.0, 0.6)
        assert torch.allclose(fast_parts, slow_parts, rtol=1e-4, atol=1e-6)
        if cfg.grad_clip:  # a clipped gradient's norm is exactly the bound (to 1e-6 relative)
            norm = fast.grad.norm().item()
            assert norm <= cfg.grad_clip * (1 + 1e-5)
            clipped += norm > cfg.grad_clip * (1 - 1e-5)
    for a, b in zip(fast_model.parameters(), slow_model.parameters()):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)
    if cfg.grad_clip:
        assert clipped >= 10, "the test should exercise clipping"


def test_only_plain_mlps_are_supported():
    assert mlp_step.supports(MLP(8, 4, depth=2))
    assert not mlp_step.supports(MLP(8, 4, depth=2, batch_norm=True))
    assert not mlp_step.supports(CNN((8, 8), 10))
    assert not isinstance(ban.make_step(MLP(8, 4, batch_norm=True), TrainConfig()), mlp_step.MLPStep)
    with pytest.raises(ValueError, match="Linear and ReLU"):
        mlp_step.MLPStep(MLP(8, 4, batch_norm=True), TrainConfig())


def test_flat_parameters_keep_the_model_and_its_state_dict_intact():
    torch.manual_seed(0)
    model = MLP(8, 4, hidden=16, depth=2)
    x = torch.randn(5, 8)
    before, reference = model(x).detach(), copy.deepcopy(model)
    flat, grad = mlp_step.flatten_parameters(model)
    assert torch.equal(model(x), before)
    assert flat.numel() == sum(p.numel() for p in model.parameters()) == grad.numel()
    with torch.no_grad():
        flat.add_(1.0)  # every parameter is a view of the flat tensor
    assert all(torch.equal(p, q + 1) for p, q in zip(model.parameters(), reference.parameters()))
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    buffer.seek(0)
    restored = MLP(8, 4, hidden=16, depth=2)
    restored.load_state_dict(torch.load(buffer, weights_only=True))
    assert torch.equal(restored(x), model(x))

