"""core.methods.dino: the loss and center against hand-worked numbers, schedules, the head, and whole runs."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from core.engine import generations as trainer
from core.engine.sinks import Sink
from core.config import ConfigError, MethodConfig, RunConfig
from core.methods import dino
from core.presets import get_preset


def _sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z))


# ---- dino_loss and update_center -----------------------------------------------------------------------------
@pytest.mark.parametrize("k", [2, 7, 256])
def test_constant_outputs_give_log_k(k):
    # Every row constant: teacher and student probabilities are uniform, so −Σ p log q = log K exactly.
    teacher = [torch.full((3, k), 0.7, dtype=torch.float64), torch.full((3, k), -2.0, dtype=torch.float64)]
    student = [torch.full((3, k), 5.0, dtype=torch.float64) for _ in range(4)]
    center = torch.full((k,), 0.3, dtype=torch.float64)
    loss = dino.dino_loss(student, teacher, center, teacher_temp=0.04, student_temp=0.1)
    assert float(loss) == pytest.approx(math.log(k), abs=1e-12)


def _hand_example():
    """K = 2, two samples (a, b), teacher temp 0.5, student temp 1, center (0.5, 0)."""
    t = lambda *rows: torch.tensor(rows, dtype=torch.float64)  # noqa: E731
    teacher = [t([1.5, 0.0], [0.5, 1.0]), t([0.5, 0.0], [2.5, 0.0])]
    student = [t([0.0, 0.0], [math.log(3), 0.0]), t([0.0, math.log(3)], [0.0, 0.0])]
    center = torch.tensor([0.5, 0.0], dtype=torch.float64)
    return teacher, student, center


def test_two_views_two_samples_by_hand():
    teacher, student, center = _hand_example()
    # Centered and divided by 0.5, the teacher logits are: view 0: a (2, 0), b (0, 2); view 1: a (0, 0), b (4, 0).
    # So p = (σ(2), σ(−2)), (σ(−2), σ(2)) for view 0 and (½, ½), (σ(4), σ(−4)) for view 1.
    # Student q: view 0: a (½, ½), b (¾, ¼); view 1: a (¼, ¾), b (½, ½).
    # Pairs with v ≠ i: (teacher 0, student 1) and (teacher 1, student 0).
    t0_s1 = (-(_sigmoid(2) * math.log(1 / 4) + _sigmoid(-2) * math.log(3 / 4)) + math.log(2)) / 2
    t1_s0 = (math.log(2) - (_sigmoid(4) * math.log(3 / 4) + _sigmoid(-4) * math.log(1 / 4))) / 2
    loss = dino.dino_loss(student, teacher, center, teacher_temp=0.5, student_temp=1.0)
    assert float(loss) == pytest.approx((t0_s1 + t1_s0) / 2, rel=1e-12)
    # Pairing each teacher view with the same student view would give another number.
    same_view = (math.log(2) + -(_sigmoid(-2) * math.log(3 / 4) + _sigmoid(2) * math.log(1 / 4))) / 2 \
        + (-(0.5 * math.log(1 / 4) + 0.5 * math.log(3 / 4)) + math.log(2)) / 2
    assert float(loss) != pytest.approx(same_view / 2, rel=1e-3)


def test_local_view_pairs_with_both_teacher_views():
    teacher, student, center = _hand_example()
    local = torch.tensor([[math.log(3), 0.0], [0.0, math.log(3)]], dtype=torch.float64)  # q: (¾, ¼), (¼, ¾)
    t0_s1 = (-(_sigmoid(2) * math.log(1 / 4) + _sigmoid(-2) * math.log(3 / 4)) + math.log(2)) / 2
    t1_s0 = (math.log(2) - (_sigmoid(4) * math.log(3 / 4) + _sigmoid(-4) * math.log(1 / 4))) / 2
    t0_local = (-(_sigmoid(2) * math.log(3 / 4) + _sigmoid(-2) * math.log(1 / 4))
                - (_sigmoid(-2) * math.log(1 / 4) + _sigmoid(2) * math.log(3 / 4))) / 2
    t1_local = (-(0.5 * math.log(3 / 4) + 0.5 * math.log(1 / 4))
                - (_sigmoid(4) * math.log(1 / 4) + _sigmoid(-4) * math.log(3 / 4))) / 2
    loss = dino.dino_loss(student + [local], teacher, center, teacher_temp=0.5, student_temp=1.0)
    assert float(loss) == pytest.approx((t0_s1 + t1_s0 + t0_local + t1_local) / 4, rel=1e-12)


def test_student_temperature_divides_the_student_logits():
    teacher, student, center = _hand_example()
    halved = dino.dino_loss([s / 2 for s in student], teacher, center, teacher_temp=0.5, student_temp=0.5)
    assert float(halved) == pytest.approx(float(dino.dino_loss(student, teacher, center, 0.5, 1.0)), rel=1e-12)


def test_no_gradient_reaches_the_teacher():
    teacher, student, center = _hand_example()
    teacher = [t.clone().requires_grad_(True) for t in teacher]
    student = [s.clone().requires_grad_(True) for s in student]
    dino.dino_loss(student, teacher, center, 0.5, 1.0).backward()
    assert all(t.grad is None for t in teacher)
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in student)


def test_center_update_by_hand():
    center = torch.tensor([1.0, 2.0], dtype=torch.float64)
    teacher = [torch.tensor([[0.0, 0.0], [2.0, 2.0]], dtype=torch.float64),
               torch.tensor([[4.0, 0.0], [2.0, 6.0]], dtype=torch.float64)]
    # mean over both views and both samples: (8/4, 8/4) = (2, 2); 0.9 · (1, 2) + 0.1 · (2, 2) = (1.1, 2.0)
    new = dino.update_center(center, teacher, momentum=0.9)
    np.testing.assert_allclose(new.numpy(), [1.1, 2.0], rtol=1e-12)
    np.testing.assert_allclose(center.numpy(), [1.0, 2.0])  # the old center is left as it was


# ---- schedules -----------------------------------------------------------------------------------------------
def test_cosine_ema_schedule():
    assert dino.ema_momentum_at(0, 100, 0.99) == pytest.approx(0.99, abs=1e-15)
    assert dino.ema_momentum_at(50, 100, 0.99) == pytest.approx(0.995, abs=1e-15)  # cos(π/2) = 0: halfway
    assert dino.ema_momentum_at(25, 100, 0.99) == pytest.approx(1 - 0.01 * (1 + math.sqrt(0.5)) / 2, abs=1e-15)
    assert dino.ema_momentum_at(100, 100, 0.99) == pytest.approx(1.0, abs=1e-15)
    values = [dino.ema_momentum_at(s, 100, 0.9) for s in range(101)]
    assert all(a <= b for a, b in zip(values, values[1:]))


def test_teacher_temperature_warm_up():
    cfg = MethodConfig(name="dino", warmup_teacher_temp=0.01, teacher_temp=0.04, warmup_teacher_temp_epochs=10)
    assert dino.teacher_temp_at(0, cfg) == pytest.approx(0.01)
    assert dino.teacher_temp_at(5, cfg) == pytest.approx(0.025)
    assert dino.teacher_temp_at(10, cfg) == pytest.approx(0.04)
    assert dino.teacher_temp_at(50, cfg) == pytest.approx(0.04)
    no_warm_up = MethodConfig(name="dino", warmup_teacher_temp=0.01, teacher_temp=0.07, warmup_teacher_temp_epochs=0)
    assert dino.teacher_temp_at(0, no_warm_up) == pytest.approx(0.07)


# ---- the network ---------------------------------------------------------------------------------------------
def test_network_shapes_and_head():
    from core.data.splits import load_dataset

    cfg = RunConfig().override({"method.name": "dino", "method.out_dim": 40, "model.hidden": 32})
    data = load_dataset(cfg.data, 0)
    net = dino.build_model(cfg, data)
    x = torch.from_numpy(data.x_train[:5])
    assert net.features(x).shape == (5, 32)
    with torch.no_grad():
        out = net(x)
    assert out.shape == (5, 40)
    # unit-norm bottleneck and unit-norm output weights: every output is a cosine in [−1, 1]
    assert float(out.abs().max()) <= 1 + 1e-6
    last = net.head.last
    assert torch.nn.utils.parametrize.is_parametrized(last, "weight")
    np.testing.assert_allclose(last.weight.norm(dim=1).detach().numpy(), 1.0, rtol=1e-5)
    assert not last.parametrizations.weight.original0.requires_grad
    assert all(not n.startswith("backbone.head.") for n, _ in net.named_parameters())  # no unused classifier


# ---- whole runs through the trainer --------------------------------------------------------------------------
TINY = {"method.name": "dino", "method.generations": 2, "train.epochs": 3, "model.hidden": 32,
        "model.batch_norm": True, "method.out_dim": 32, "train.batch_size": 128, "method.local_views": 1,
        "eval.embedding": "pca"}
MONITORS = {"loss", "dino", "teacher_entropy", "log_k", "kl_teacher_student", "feature_std", "feature_std_reference",
            "argmax_dims_used", "teacher_temp", "ema_momentum", "knn_accuracy", "val_knn_accuracy", "argmax_share",
            "argmax_top_share", "feature_effective_rank", "feature_effective_rank_floor"}


class Recorder(Sink):
    def __init__(self):
        self.epochs, self.generations, self.states = [], [], []

    def on_epoch(self, generation, epoch, metrics):
        self.epochs.append((generation, epoch, metrics))

    def on_generation(self, generation, metrics, arrays, state_dict):
        self.generations.append(metrics)
        self.states.append(state_dict)


def _run(updates: dict, sink: Sink | None = None) -> dict:
    return trainer.run(RunConfig().override(updates), sink)


def test_short_run_end_to_end():
    sink = Recorder()
    summary = _run(TINY, sink)
    assert summary["status"] == "finished", summary["error"]
    assert len(summary["generations"]) == 2
    for gen in summary["generations"]:
        assert 0.1 < gen["knn_accuracy"] <= 1 and 0.1 < gen["linear_probe_accuracy"] <= 1
        assert "test_accuracy" not in gen  # label-free: no classifier is evaluated
    assert [(g, e) for g, e, _ in sink.epochs] == [(g, e) for g in range(2) for e in range(3)]
    for _, _, m in sink.epochs:
        assert MONITORS <= set(m) and all(math.isfinite(v) for v in m.values())
        assert m["loss"] == m["dino"] and m["log_k"] == pytest.approx(math.log(32))
        assert 0 <= m["teacher_entropy"] <= m["log_k"] + 1e-9
        assert m["feature_std_reference"] == pytest.approx(1 / math.sqrt(32))
    gen0 = [m for g, _, m in sink.epochs if g == 0]
    assert gen0[0]["ema_momentum"] < gen0[-1]["ema_momentum"] <= 1
    assert all(m["ema_momentum"] == 1.0 for g, _, m in sink.epochs if g == 1)  # a frozen teacher does not move


def test_runs_on_vector_data():
    sink = Recorder()
    summary = _run({**TINY, "data.name": "moons", "data.n_samples": 300, "method.generations": 1,
                    "eval.linear_probe": False}, sink)
    assert summary["status"] == "finished", summary["error"]
    assert 0.3 < summary["generations"][0]["knn_accuracy"] <= 1
    assert all(math.isfinite(v) for _, _, m in sink.epochs for v in m.values())


def test_generation_one_learns_from_frozen_generation_zero(monkeypatch):
    seen = []
    original = dino.train_generation

    def spy(ctx, model, teacher):
        before = None if teacher is None else {k: v.clone() for k, v in teacher.state_dict().items()}
        result = original(ctx, model, teacher)
        seen.append((ctx.generation, teacher, before))
        return result

    monkeypatch.setattr(dino, "train_generation", spy)
    sink = Recorder()
    _run({**TINY, "eval.embedding": "none", "eval.linear_probe": False}, sink)
    (g0, t0, _), (g1, t1, before) = seen
    assert (g0, t0) == (0, None)  # generation 0 makes its own EMA teacher
    assert g1 == 1 and t1 is not None and not t1.training
    assert all(not p.requires_grad for p in t1.parameters())
    for key, value in sink.states[0].items():  # the teacher is generation 0 as evaluated and stored ...
        assert torch.equal(before[key].cpu(), value), key
    for key, value in t1.state_dict().items():  # ... and training generation 1 left it untouched
        assert torch.equal(before[key], value), key
    assert not torch.equal(sink.states[0]["head.mlp.0.weight"], sink.states[1]["head.mlp.0.weight"])


def test_training_ignores_labels(monkeypatch):
    """Permuted labels give bit-identical weights: no label reaches the loss, the views or the batches."""
    from core.data.splits import load_dataset

    def permuted(cfg, seed):
        data = load_dataset(cfg, seed)
        order = np.random.default_rng(123).permutation(len(data.y_train))
        data.y_train, data.y_train_clean = data.y_train[order], data.y_train_clean[order]
        return data

    config = {**TINY, "method.generations": 1, "eval.embedding": "none", "eval.linear_probe": False}
    plain, shuffled = Recorder(), Recorder()
    _run(config, plain)
    monkeypatch.setattr(trainer, "load_dataset", permuted)
    _run(config, shuffled)
    for key, value in plain.states[0].items():
        assert torch.equal(value, shuffled.states[0][key]), key
    # the per-epoch k-NN monitor does read labels (to score features): with shuffled labels it drops to chance
    assert shuffled.epochs[-1][2]["knn_accuracy"] < plain.epochs[-1][2]["knn_accuracy"] - 0.3


# Without centering only the sharpening acts: every input is pushed to one output (a fast teacher: momentum 0.9).
COLLAPSE_FAST = {"method.name": "dino", "method.generations": 1, "train.epochs": 10, "model.hidden": 32,
                 "model.batch_norm": True, "method.out_dim": 32, "method.centering": False,
                 "method.ema_momentum": 0.9, "train.batch_size": 256, "method.local_views": 0,
                 "eval.embedding": "none", "eval.linear_probe": False}


def test_collapse_warning_without_centering():
    sink = Recorder()
    summary = _run(COLLAPSE_FAST, sink)
    assert summary["status"] == "finished"
    assert any("one-hot collapse from epoch" in w and "generation 0" in w for w in summary["warnings"]), \
        summary["warnings"]
    last = sink.epochs[-1][2]
    assert last["teacher_entropy"] < 0.05 * last["log_k"] and last["argmax_dims_used"] <= 2
    assert last["argmax_top_share"] >= 0.9 and last["argmax_share"] == last["argmax_dims_used"] / 32
    assert any("turn method.centering on" in w for w in summary["warnings"])
    assert not any("method.temperature" in w for w in summary["warnings"])  # a born-again key
    assert not _run({**COLLAPSE_FAST, "method.centering": True})["warnings"]  # the same run with centering is fine


def test_keep_best_val_knn_without_a_validation_split_is_refused_before_anything_runs():
    with pytest.raises(ConfigError, match=r"method\.keep_best_val_knn.*data\.val_fraction=0"):
        RunConfig().override({**TINY, "method.keep_best_val_knn": True, "data.val_fraction": 0.0})
    RunConfig().override({**TINY, "method.keep_best_val_knn": True, "data.val_fraction": 0.05})  # any held out: fine


def test_divergence_advice_names_only_the_method_s_own_keys():
    from core.engine.context import divergence_advice

    ban_advice = divergence_advice(RunConfig())
    dino_advice = divergence_advice(RunConfig().override({"method.name": "dino"}))
    assert "train.lr" in ban_advice and "method.temperature" in ban_advice
    assert "train.lr" in dino_advice and "method.student_temp" in dino_advice
    assert "method.temperature" not in dino_advice
    assert "train.grad_clip" in divergence_advice(RunConfig().override({"train.grad_clip": 0.0}))


def test_keep_best_val_knn_keeps_the_epoch_with_the_best_validation_knn():
    """method.keep_best_val_knn: each generation ends with the weights of the epoch whose validation k-NN was
    highest (the earliest on ties), in the EMA path (generation 0) and the frozen-teacher path (generation 1).
    Without the key the last epoch's weights are kept and no best_val_epoch is reported."""
    config = {**TINY, "train.epochs": 6, "train.lr": 1e-2, "eval.embedding": "none", "eval.linear_probe": False}
    sink = Recorder()
    summary = _run({**config, "method.keep_best_val_knn": True}, sink)
    assert summary["status"] == "finished", summary["error"]
    chosen = []
    for g, gen in enumerate(summary["generations"]):
        history = [m for gg, _, m in sink.epochs if gg == g]
        val = [m["val_knn_accuracy"] for m in history]
        best = val.index(max(val))
        assert gen["best_val_epoch"] == best
        # the evaluated features are that epoch's: the same k-NN scores as its monitor, on validation and test
        assert gen["val_knn_accuracy"] == pytest.approx(val[best])
        assert gen["knn_accuracy"] == pytest.approx(history[best]["knn_accuracy"])
        chosen.append(best)
    assert any(b < 5 for b in chosen)  # on this run an earlier epoch wins, so the test sees a real choice
    plain = Recorder()
    last = _run(config, plain)["generations"]
    assert all("best_val_epoch" not in gen for gen in last)
    for g, gen in enumerate(last):
        final_epoch = [m for gg, _, m in plain.epochs if gg == g][-1]
        assert gen["val_knn_accuracy"] == pytest.approx(final_epoch["val_knn_accuracy"])
    # generation 0 trains the same either way, only the weights kept differ (generation 1 then learns from them)
    assert [m["val_knn_accuracy"] for g, _, m in plain.epochs if g == 0] == \
        [m["val_knn_accuracy"] for g, _, m in sink.epochs if g == 0]
