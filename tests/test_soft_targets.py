"""Soft targets: softmax(logits / T) against hand-worked numbers, and ``targets --json`` on a real noisy run: each
distribution sums to 1, agrees at T = 1 with the probabilities the trainer stored, and flattens as T grows."""
import json
import math

import numpy as np
import pytest

from core.evaluation.soft_targets import InsightError, parse_temperatures, softmax_at
from core.storage.run_store import RunStore
from tests.cli_support import cli



@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    store = tmp_path_factory.mktemp("targets-store")
    out = cli("run", "--preset", "dry-run", "--set", "data.label_noise=0.3", "--json", store=store)
    assert out.returncode == 0, out.stderr
    return store, json.loads(out.stdout.splitlines()[-1])["run_id"]


def test_softmax_hand_worked():
    logits = np.array([0.0, math.log(3.0)])
    assert softmax_at(logits, 1.0) == pytest.approx([0.25, 0.75])
    r3 = math.sqrt(3.0)  # at T = 2 the odds 3 become sqrt(3)
    assert softmax_at(logits, 2.0) == pytest.approx([1 / (1 + r3), r3 / (1 + r3)])
    # huge logits neither overflow nor underflow to nan; a float32 softmax would give exactly 0 for class 1
    assert softmax_at(np.array([1000.0, 0.0]), 1000.0) == pytest.approx([math.e / (math.e + 1), 1 / (math.e + 1)])


def test_parse_temperatures():
    assert parse_temperatures("1,2,4") == [1.0, 2.0, 4.0]
    for bad in ("1,x", "0", "-1", "nan", "inf", ""):
        with pytest.raises(InsightError):
            parse_temperatures(bad)


def test_targets_json_sums_to_one_and_flattens(noisy_run):
    store_root, run_id = noisy_run
    out = cli("targets", run_id, "--index", "7", "--temperatures", "1,2,4", "--json", store=store_root)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    store = RunStore(store_root)
    assert result["index"] == 7 and result["label"] == int(store.load_arrays(run_id, "run")["y_test"][7])
    assert [g["generation"] for g in result["generations"]] == [0, 1]
    for row in result["generations"]:
        probs = row["probabilities"]
        assert set(probs) == {"1", "2", "4"}
        stored = store.load_arrays(run_id, f"gen{row['generation']}")["probs"][7]  # softmax taken by torch
        assert np.allclose(probs["1"], stored, atol=1e-5)
        entropies = []
        for key in ("1", "2", "4"):
            p = np.array(probs[key])
            assert len(p) == 10 and p.sum() == pytest.approx(1.0) and (p > 0).all()
            entropies.append(-(p * np.log(p)).sum())
        assert entropies[0] < entropies[1] < entropies[2] < math.log(10)
        assert max(probs["1"]) > max(probs["2"]) > max(probs["4"])


def test_targets_of_a_flipped_training_point(noisy_run):
    store_root, run_id = noisy_run
    run = RunStore(store_root).load_arrays(run_id, "run")
    index = int(run["flipped"][3])
    out = cli("targets", run_id, "--index", str(index), "--flipped", "--temperatures", "2", "--json",
              store=store_root)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["label"] == int(run["y_train"][index]) != result["clean_label"] == int(run["y_train_clean"][index])
    assert all(sum(g["probabilities"]["2"]) == pytest.approx(1.0) for g in result["generations"])


@pytest.mark.parametrize("args", [("--index", "100000"), ("--index", "-1"), ("--index", "0", "--temperatures", "0"),
                                  ("--index", "0", "--temperatures", "a,b"), ("--index", "1", "--flipped")])
def test_bad_input_exits_2(noisy_run, args):
    store_root, run_id = noisy_run
    run = RunStore(store_root).load_arrays(run_id, "run")
    if "--flipped" in args:  # a training index whose label was not flipped
        args = ("--index", str(int(np.setdiff1d(np.arange(len(run["y_train"])), run["flipped"])[0])), "--flipped")
    out = cli("targets", run_id, *args, store=store_root)
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1, out.stderr
