"""Generation diff: a hand-worked case, the identities it must keep (fixed − broken = Δ accuracy · n, the confusion
diagonal = accuracy), and the CLI on a real noisy dry-run run in a real store."""
import json

import numpy as np
import pytest

from core.evaluation.diff import InsightError, confusion, generation_diff, load_generation_diff
from core.storage.run_store import RunStore
from tests.cli_support import cli



@pytest.fixture(scope="module")
def noisy_run(tmp_path_factory):
    store = tmp_path_factory.mktemp("diff-store")
    out = cli("run", "--preset", "dry-run", "--set", "data.label_noise=0.3", "--set", "method.generations=3",
              "--json", store=store)
    assert out.returncode == 0, out.stderr
    return store, json.loads(out.stdout.splitlines()[-1])


def test_hand_worked_case():
    labels = [0, 1, 2, 0, 1]
    pred_a = [0, 2, 2, 1, 1]  # right on 0, 2, 4
    pred_b = [0, 1, 0, 0, 2]  # right on 0, 1, 3
    d = generation_diff(labels, pred_a, pred_b, 3, flipped_labels=[2, 0], flipped_from=[2, 1], flipped_to=[1, 0],
                        flipped_index=[7, 11])
    assert d["fixed"] == [1, 3] and d["broken"] == [2, 4]
    assert d["confusion_from"] == [[1, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert d["confusion_to"] == [[2, 0, 0], [0, 1, 1], [1, 0, 0]]
    # training point 7: A copied its wrong label 2, B predicts 1 -> stopped; point 11: B started copying 0
    assert d["flipped_stopped"] == [7] and d["flipped_started"] == [11]
    assert (d["flipped_reproduced_from"], d["flipped_reproduced_to"]) == (1, 1)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_fixed_minus_broken_is_the_accuracy_change(seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 5, 300)
    pred_a = np.where(rng.random(300) < 0.7, labels, rng.integers(0, 5, 300))
    pred_b = np.where(rng.random(300) < 0.8, labels, rng.integers(0, 5, 300))
    d = generation_diff(labels, pred_a, pred_b, 5)
    change = np.mean(pred_b == labels) - np.mean(pred_a == labels)
    assert len(d["fixed"]) - len(d["broken"]) == round(change * 300)
    for key, pred in (("confusion_from", pred_a), ("confusion_to", pred_b)):
        matrix = np.array(d[key])
        assert matrix.sum() == 300 and np.trace(matrix) == np.sum(pred == labels)
        assert (matrix.sum(1) == np.bincount(labels, minlength=5)).all()


def test_confusion_rows_are_true_classes():
    assert confusion([0, 0, 1], [1, 1, 1], 2).tolist() == [[0, 2], [0, 1]]


def test_mismatched_shapes_are_refused():
    with pytest.raises(InsightError):
        generation_diff([0, 1], [0], [0, 1], 2)


def test_cli_json_agrees_with_the_stored_accuracies(noisy_run):
    store, summary = noisy_run
    run_id = summary["run_id"]
    out = cli("diff", run_id, "--from", "0", "--to", "2", "--json", store=store)
    assert out.returncode == 0, out.stderr
    d = json.loads(out.stdout)
    assert {"run_id", "from", "to", "n_test", "fixed", "broken", "confusion_from", "confusion_to"} <= set(d)
    assert (d["run_id"], d["from"], d["to"]) == (run_id, 0, 2)
    acc = {g["generation"]: g["test_accuracy"] for g in summary["generations"]}
    n = d["n_test"]
    assert n == len(RunStore(store).load_arrays(run_id, "run")["y_test"])
    assert len(d["fixed"]) - len(d["broken"]) == round((acc[2] - acc[0]) * n)
    assert np.trace(d["confusion_from"]) == round(acc[0] * n) and np.trace(d["confusion_to"]) == round(acc[2] * n)
    assert np.array(d["confusion_to"]).shape == (10, 10)
    # the flipped-label part agrees with the memorized-noise metric of each generation
    memorized = {g["generation"]: g["memorized_noise"] for g in summary["generations"]}
    assert d["n_flipped"] > 0
    assert d["flipped_reproduced_from"] == round(memorized[0] * d["n_flipped"])
    assert d["flipped_reproduced_to"] == round(memorized[2] * d["n_flipped"])
    assert (d["flipped_reproduced_to"] - d["flipped_reproduced_from"]
            == len(d["flipped_started"]) - len(d["flipped_stopped"]))


def test_cli_text_and_bad_generations(noisy_run):
    store, summary = noisy_run
    run_id = summary["run_id"]
    text = cli("diff", run_id, "--from", "1", "--to", "2", store=store)
    assert text.returncode == 0 and "fixed" in text.stdout and "broken" in text.stdout
    for args in (("--from", "0", "--to", "9"), ("--from", "-1", "--to", "1"), ("--from", "x", "--to", "1")):
        bad = cli("diff", run_id, *args, store=store)
        assert bad.returncode == 2 and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    assert "no generation 9" in cli("diff", run_id, "--from", "0", "--to", "9", store=store).stderr
    missing = cli("diff", "no-such-run", "--from", "0", "--to", "1", store=store)
    assert missing.returncode == 2 and len(missing.stderr.strip().splitlines()) == 1


def test_old_runs_without_logits_diff_from_probabilities(noisy_run, tmp_path):
    """Runs stored before logits were: the predictions come from the probabilities (same argmax)."""
    store_root, summary = noisy_run
    store = RunStore(store_root)
    run_id = summary["run_id"]
    full = load_generation_diff(store, run_id, 0, 1)
    for g in (0, 1):
        arrays = store.load_arrays(run_id, f"gen{g}")
        store.save_arrays(run_id, f"gen{g}", {k: v for k, v in arrays.items() if "logits" not in k})
        store.save_arrays(run_id, f"gen{g}.bak", arrays)
    try:
        old = load_generation_diff(store, run_id, 0, 1)
    finally:
        for g in (0, 1):
            store.save_arrays(run_id, f"gen{g}", store.load_arrays(run_id, f"gen{g}.bak"))
    assert old["fixed"] == full["fixed"] and old["broken"] == full["broken"] and "n_flipped" not in old
