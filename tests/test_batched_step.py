"""The batched born-again step (core.methods.ban_batched) against single runs and against autograd."""
from __future__ import annotations

import copy

import pytest
import torch

from core import catalog
from core.data.splits import load_dataset
from core.engine.context import GenerationContext, RunCancelled, Tensors
from core.methods import ban, ban_batched
from core.models.inference import freeze
from core.presets import get_preset

CPU = torch.device("cpu")


def _config(**extra):
    return get_preset("dry-run").config({"train.epochs": 1, "model.hidden": 16, "train.grad_clip": 1.0, **extra})


def _setup(config, seed, generation=0):
    cfg = config.override({"seed": seed})
    data = load_dataset(cfg.data, cfg.seed)
    torch.manual_seed(cfg.seed * 1000 + generation)
    model = ban.build_model(cfg, data)
    log: list[dict] = []
    ctx = GenerationContext(generation, cfg, data, Tensors.from_dataset(data, CPU), CPU,
                            lambda e, m: log.append(m), lambda: False)
    return ctx, model, log


def _params(model):
    return torch.cat([p.detach().reshape(-1) for p in model.parameters()])


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_one_epoch_matches_single_runs(optimizer):
    """Seeds 3, 4, 5 trained together end one epoch with the weights of three single runs (to 1e-4), generation 0
    (labels) and generation 1 (a teacher's soft targets, alpha 0.5, clipping active)."""
    config = _config(**{"train.optimizer": optimizer, "method.alpha": 0.5})
    seeds = [3, 4, 5]
    teachers = [None] * 3
    for generation in (0, 1):
        singles, batched = [], []
        for seed, teacher in zip(seeds, teachers):
            ctx, model, log = _setup(config, seed, generation)
            ctx_b, model_b, log_b = _setup(config, seed, generation)
            assert torch.equal(_params(model), _params(model_b))  # the same init, as a single run makes it
            ban.train_generation(ctx, model, teacher)
            singles.append((model, log))
            batched.append((ctx_b, model_b, log_b))
        errors = ban_batched.train_generations([b[0] for b in batched], [b[1] for b in batched], teachers)
        assert errors == [None, None, None]
        for (model, log), (_, model_b, log_b) in zip(singles, batched):
            assert (_params(model) - _params(model_b)).abs().max().item() < 1e-4
            assert log_b[0]["loss"] == pytest.approx(log[0]["loss"], abs=1e-5)
            assert log_b[0]["test_accuracy"] == pytest.approx(log[0]["test_accuracy"], abs=1 / 300)
            assert set(log_b[0]) == set(log[0])
        assert not torch.equal(_params(singles[0][0]), _params(singles[1][0]))  # seeds really differ
        teachers = [freeze(copy.deepcopy(m)) for m, _ in singles]


@pytest.mark.parametrize("alpha", [0.3, 1.0, None])
def test_batched_loss_gradient_matches_autograd(alpha):
    """The [N, B, K] logit gradient and loss parts equal autograd of core.methods.ban.kd_loss_parts, seed by seed:
    a mix of CE and KD, KD alone (alpha 1: the CE gradient is skipped, its value still reported) and CE alone."""
    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(4, 7, 5, generator=gen, dtype=torch.float64)
    teacher = torch.randn(4, 7, 5, generator=gen, dtype=torch.float64)
    labels = torch.randint(0, 5, (4, 7), generator=gen)
    targets = None if alpha is None else ban_batched.SoftTargets.of(teacher, 3.0)
    parts, grad = ban_batched.loss_and_logit_grad(logits.clone(), targets, labels, 3.0, alpha or 0.0)
    for k in range(4):
        z = logits[k].clone().requires_grad_(True)
        total, ce, kd = ban.kd_loss_parts(z, None if alpha is None else teacher[k], labels[k], 3.0, alpha or 0.0)
        total.backward()
        assert torch.allclose(grad[k], z.grad, atol=1e-12)
        assert torch.allclose(parts[k], torch.stack([total, ce, kd]).detach(), atol=1e-12)


def test_soft_targets_rows_pick_each_seeds_own_rows():
    """Batch rows come from each seed's own teacher outputs: seed k's row i is softmax(teacher[k, order[k, i]] / T)."""
    teacher = torch.randn(3, 6, 4, dtype=torch.float64)
    order = torch.stack([torch.randperm(6) for _ in range(3)])
    part = ban_batched.SoftTargets.of(teacher, 2.0).rows(torch.arange(3)[:, None], order)[1:4]
    for k in range(3):
        for j, i in enumerate(order[k, 1:4].tolist()):
            p = torch.softmax(teacher[k, i] / 2.0, dim=0)
            assert torch.allclose(part.probs[k, j], p) and torch.isclose(part.neg_entropy[k, j], (p * p.log()).sum())


def test_nan_in_one_seed_fails_only_that_seed():
    """An absurd weight (inf) in seed 1 makes its loss non-finite: it fails, seeds 0 and 2 train on unharmed."""
    config = _config(**{"train.epochs": 2})
    setups = [_setup(config, s) for s in (0, 1, 2)]
    single_ctx, single_model, _ = _setup(config, 2)
    ban.train_generation(single_ctx, single_model, None)
    with torch.no_grad():
        setups[1][1].head.weight.fill_(float("inf"))
    errors = ban_batched.train_generations([s[0] for s in setups], [s[1] for s in setups], [None] * 3)
    assert errors[0] is None and errors[2] is None
    assert "loss became" in str(errors[1])
    assert len(setups[0][2]) == 2 and len(setups[2][2]) == 2 and setups[1][2] == []
    assert (_params(setups[2][1]) - _params(single_model)).abs().max().item() < 1e-4


def test_cancel_stops_the_group():
    ctxs = []
    for seed in (0, 1):
        ctx, model, _ = _setup(_config(), seed)
        ctx.should_stop = lambda: True
        ctxs.append((ctx, model))
    with pytest.raises(RunCancelled):
        ban_batched.train_generations([c for c, _ in ctxs], [m for _, m in ctxs], [None, None])


def test_supports_only_plain_mlps():
    ctx, model, _ = _setup(_config(), 0)
    assert ban_batched.supports([ctx], [model])
    bn_cfg = _config(**{"model.batch_norm": True})
    ctx_bn, model_bn, _ = _setup(bn_cfg, 0)
    assert not ban_batched.supports([ctx_bn], [model_bn])
    assert catalog.method("ban").supervised
