"""The learning-rate schedule: its values against hand-worked numbers, that every method's optimizer follows it
(the born-again hand-derived step included), and that the constant schedule leaves training bit for bit as it was
before the schedule existed."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.config import RunConfig, TrainConfig
from core.data.splits import Dataset
from core.engine import optim
from core.engine.context import GenerationContext, Tensors
from core.methods import ban, dino
from core.methods.ban_step import MLPStep


# ---- lr_at by hand -------------------------------------------------------------------------------------------
def test_linear_warm_up_reaches_the_base_rate_on_its_last_step():
    # 4 warm-up steps of base 0.2: 0.05, 0.1, 0.15, 0.2; then constant 0.2.
    got = [optim.lr_at(s, 10, 4, 0.2, "constant") for s in range(10)]
    np.testing.assert_allclose(got, [0.05, 0.1, 0.15, 0.2] + [0.2] * 6, rtol=1e-12)


def test_cosine_after_warm_up_by_hand():
    # total 10, warm-up 2, base 1: the cosine runs over 8 steps, p = (s − 2) / 8.
    # s=2: p=0 → 1; s=4: p=1/4 → (1 + √2/2)/2; s=6: p=1/2 → 1/2; s=8: p=3/4 → (1 − √2/2)/2; s=9: p=7/8.
    expected = {0: 0.5, 1: 1.0, 2: 1.0, 4: 0.8535533905932737, 6: 0.5, 8: 0.14644660940672624,
                9: 0.03806023374435663}
    for step, lr in expected.items():
        assert optim.lr_at(step, 10, 2, 1.0, "cosine") == pytest.approx(lr, abs=1e-12), step


def test_cosine_without_warm_up_and_past_the_end():
    assert optim.lr_at(0, 4, 0, 3e-3, "cosine") == pytest.approx(3e-3, rel=1e-12)
    assert optim.lr_at(2, 4, 0, 3e-3, "cosine") == pytest.approx(1.5e-3, rel=1e-12)
    assert optim.lr_at(4, 4, 0, 3e-3, "cosine") == pytest.approx(0.0, abs=1e-18)
    assert optim.lr_at(7, 4, 0, 3e-3, "cosine") == pytest.approx(0.0, abs=1e-18)  # clamped, never rising again
    assert optim.lr_at(123, 4, 0, 3e-3, "constant") == 3e-3


def test_unknown_schedule_is_refused():
    with pytest.raises(ValueError, match="schedule"):
        optim.lr_at(0, 10, 0, 1.0, "step")


def test_lr_schedule_sets_every_parameter_group_before_each_step():
    a, b = torch.nn.Parameter(torch.zeros(2)), torch.nn.Parameter(torch.zeros(3))
    optimizer = torch.optim.SGD([{"params": [a]}, {"params": [b]}], lr=99.0)
    cfg = TrainConfig(lr=0.4, epochs=2, schedule="cosine", warmup_epochs=1, optimizer="sgd")
    schedule = optim.LrSchedule(optimizer, cfg, steps_per_epoch=2)  # 4 steps, 2 of warm-up
    seen = []
    for _ in range(4):
        schedule.before_step()
        seen.append([g["lr"] for g in optimizer.param_groups])
    # warm-up 0.2, 0.4; cosine over 2 steps: p = 0 → 0.4, p = 1/2 → 0.2
    np.testing.assert_allclose(seen, [[0.2, 0.2], [0.4, 0.4], [0.4, 0.4], [0.2, 0.2]], rtol=1e-12)


def test_warm_up_longer_than_the_generation_is_cut_to_it():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    schedule = optim.LrSchedule(optimizer, TrainConfig(lr=1.0, epochs=2, warmup_epochs=5), steps_per_epoch=1)
    assert [schedule.before_step(), schedule.before_step()] == [0.5, 1.0]


# ---- the methods follow it -----------------------------------------------------------------------------------
def _tiny_digits(n_train: int = 100) -> Dataset:
    from sklearn.datasets import load_digits

    d = load_digits()
    x, y = (d.data / 16.0).astype(np.float32), d.target.astype(np.int64)
    return Dataset("digits", x[:n_train], y[:n_train], x[n_train:n_train + 60], y[n_train:n_train + 60],
                   y[:n_train].copy(), np.zeros(0, np.int64), 10, (8, 8))


def _context(config: RunConfig, data: Dataset) -> GenerationContext:
    device = torch.device("cpu")
    return GenerationContext(0, config, data, Tensors.from_dataset(data, device), device, lambda e, m: None,
                             lambda: False)


def _train(config: RunConfig, method, teacher=None) -> torch.nn.Module:
    """One generation on 100 digits, from the seed-0 initialisation; returns the trained model."""
    data = _tiny_digits()
    torch.manual_seed(0)
    model = method.build_model(config, data)
    method.train_generation(_context(config, data), model, teacher)
    return model


def _record_lrs(monkeypatch, module, seen: list[float]) -> None:
    """Record the learning rate of every optimizer step taken by optimizers that ``module`` makes."""
    make = module.make_optimizer

    def recording(params, cfg):
        optimizer = make(params, cfg)
        step = optimizer.step

        def step_and_record(*args, **kwargs):
            seen.append(optimizer.param_groups[0]["lr"])
            return step(*args, **kwargs)

        optimizer.step = step_and_record
        return optimizer

    monkeypatch.setattr(module, "make_optimizer", recording)


# 100 samples in batches of 25: 4 steps per epoch; 3 epochs, 1 of warm-up: 12 steps, the cosine over the last 8.
_HAND_LRS = [0.25, 0.5, 0.75, 1.0] + [(1 + math.cos(math.pi * i / 8)) / 2 for i in range(8)]
_SCHEDULED = {"train.epochs": 3, "train.batch_size": 25, "train.schedule": "cosine", "train.warmup_epochs": 1,
              "train.lr": 1e-2}


@pytest.mark.parametrize("model, step_module", [("mlp", "core.methods.ban_step"), ("cnn", "core.methods.ban")])
def test_born_again_steps_follow_the_schedule(monkeypatch, model, step_module):
    import importlib

    seen: list[float] = []
    _record_lrs(monkeypatch, importlib.import_module(step_module), seen)
    config = RunConfig().override({**_SCHEDULED, "model.name": model, "model.hidden": 16})
    _train(config, ban)
    np.testing.assert_allclose(seen, [1e-2 * lr for lr in _HAND_LRS], rtol=1e-12)


def test_the_hand_derived_step_is_the_one_scheduled():
    # The MLP path must go through MLPStep (its own optimizer), so the test above covers the hand-derived step.
    assert isinstance(ban.make_step(ban.build_model(RunConfig(), _tiny_digits()), TrainConfig()), MLPStep)


def test_dino_follows_the_schedule(monkeypatch):
    seen: list[float] = []
    _record_lrs(monkeypatch, dino, seen)
    config = RunConfig().override({**_SCHEDULED, "method.name": "dino", "method.local_views": 0,
                                   "model.batch_norm": True, "model.hidden": 16, "method.out_dim": 16})
    _train(config, dino)
    np.testing.assert_allclose(seen, [1e-2 * lr for lr in _HAND_LRS], rtol=1e-12)


# ---- constant with no warm-up: training exactly as before the schedule existed --------------------------------
@pytest.mark.parametrize("overrides, method", [
    ({"model.hidden": 16}, ban),  # the hand-derived MLP step
    ({"model.name": "cnn", "model.hidden": 16}, ban),  # autograd
    ({"method.name": "dino", "model.batch_norm": True, "model.hidden": 16, "method.out_dim": 16}, dino),
])
def test_constant_schedule_trains_exactly_as_without_a_schedule(monkeypatch, overrides, method):
    config = RunConfig().override({**overrides, "train.epochs": 2, "train.batch_size": 25})
    scheduled = _train(config, method)
    cosine = _train(config.override({"train.schedule": "cosine"}), method)
    monkeypatch.setattr(optim.LrSchedule, "before_step", lambda self: None)  # the code before the schedule
    unscheduled = _train(config, method)
    for (name, a), b in zip(scheduled.state_dict().items(), unscheduled.state_dict().values()):
        assert torch.equal(a, b), name
    # ... while the cosine schedule does change the weights, so the comparison can fail
    assert not all(torch.equal(a, b) for a, b in zip(cosine.state_dict().values(),
                                                       unscheduled.state_dict().values()))
