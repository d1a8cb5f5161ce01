"""The command line end to end: the real trainer into the real store and back, bad input, a killed run."""
import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest
import torch

from core.storage.run_store import RunStore

ENV = {**os.environ, "PYTHONPATH": os.getcwd()}


def cli(*args, store, check=True, timeout=300):
    result = subprocess.run([sys.executable, "-m", "core", *args, "--store", str(store)], capture_output=True,
                            text=True, env=ENV, timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(result.stderr)
    return result


def test_dry_run_end_to_end(tmp_path):
    out = cli("run", "--preset", "dry-run", "--json", store=tmp_path)
    summary = json.loads(out.stdout)
    assert summary["status"] == "finished" and summary["error"] is None
    assert [g["generation"] for g in summary["generations"]] == [0, 1]
    for g in summary["generations"]:
        assert 0.0 <= g["test_accuracy"] <= 1.0 and 0.0 <= g["knn_accuracy"] <= 1.0
    assert "teacher_agreement" in summary["generations"][1]
    assert summary["config"]["method"]["generations"] == 2

    store = RunStore(tmp_path)
    run = store.get_run(summary["run_id"])
    assert run["status"] == "finished"
    epochs = store.epochs(summary["run_id"])
    assert len(epochs) == 2 * summary["config"]["train"]["epochs"]
    assert store.generations(summary["run_id"])[1]["test_accuracy"] == summary["generations"][1]["test_accuracy"]
    assert torch.load(store.artifact_dir(summary["run_id"]) / "gen1.pt", weights_only=True)  # state dict readable with weights_only=True

    listed = json.loads(cli("list", "--json", store=tmp_path).stdout)
    assert listed[0]["run_id"] == summary["run_id"] and listed[0]["status"] == "finished"
    shown = json.loads(cli("show", summary["run_id"], "--json", store=tmp_path).stdout)
    assert shown["generations"] == summary["generations"]
    assert {"best_generation", "label_efficiency", "wall_seconds", "wall_time_s"} <= set(summary)
    val = [g["val_accuracy"] for g in summary["generations"]]
    assert summary["best_generation"] == val.index(max(val)) and summary["wall_seconds"] > 0
    assert set(summary["label_efficiency"]) == {"features", "raw", "pca", "random_init", "invariant"}  # digits: images
    assert all(set(v) == {"1", "5", "10"} for v in summary["label_efficiency"].values())
    assert {"raw_knn_accuracy", "pca_knn_accuracy", "random_init_knn_accuracy", "invariant_knn_accuracy",
            "raw_kmeans_nmi"} <= set(summary["baselines"])
    for key in ("best_generation", "label_efficiency", "wall_seconds", "baselines"):
        assert shown[key] == summary[key], key

    export_dir = tmp_path / "export"
    cli("export", summary["run_id"], "--out", str(export_dir), store=tmp_path)
    metrics = pd.read_csv(export_dir / "metrics.csv")
    assert {"generation", "epoch", "loss", "test_accuracy"} <= set(metrics.columns) and len(metrics) == len(epochs)
    assert json.loads((export_dir / "config.json").read_text()) == summary["config"]
    view = pd.read_csv(export_dir / "embedding_gen1.csv")
    assert list(view.columns) == ["x", "y", "label", "prediction", "correct"]
    assert (view["correct"] == (view["prediction"] == view["label"])).all()


def test_overrides_reach_the_run(tmp_path):
    out = cli("run", "--preset", "dry-run", "--set", "method.generations=1", "--set", "seed=5",
              "--set", "eval.embedding=none", "--json", store=tmp_path)
    summary = json.loads(out.stdout)
    assert len(summary["generations"]) == 1 and summary["config"]["seed"] == 5


@pytest.mark.parametrize("args,message", [
    (["run", "--preset", "nope"], "unknown preset"),
    (["run", "--set", "method.alpha=2"], "method.alpha=2.0"),
    (["run", "--set", "method.alpha"], "KEY=VALUE"),
    (["run", "--set", "train.epochs=many"], "train.epochs"),
    (["show", "missing-run"], "no run 'missing-run'"),
    (["frobnicate"], "invalid choice"),
])
def test_bad_input_exits_2_with_one_line(tmp_path, args, message):
    result = cli(*args, store=tmp_path, check=False)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.stderr


def test_nan_loss_fails_naming_generation_and_epoch(tmp_path):
    # A temperature of 1e-40 is allowed by the config (> 0) but overflows the softened logits.
    out = cli("run", "--preset", "dry-run", "--set", "method.temperature=1e-40", "--set", "eval.embedding=none",
              "--json", store=tmp_path, check=False)
    summary = json.loads(out.stdout)
    assert out.returncode == 1 and summary["status"] == "failed"
    assert "generation 1, epoch 0" in summary["error"] and "nan" in summary["error"].lower()
    assert len(summary["generations"]) == 1  # generation 0 finished and stays readable
    assert RunStore(tmp_path).get_run(summary["run_id"])["status"] == "failed"


def test_killed_run_is_interrupted_and_keeps_finished_generations(tmp_path):
    proc = subprocess.Popen([sys.executable, "-m", "core", "run", "--preset", "dry-run", "--set", "train.epochs=400",
                             "--set", "method.generations=3", "--set", "eval.embedding=none",
                             "--store", str(tmp_path)], env=ENV, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    store = RunStore(tmp_path)
    deadline = time.time() + 240
    while time.time() < deadline:
        runs = store.list_runs()
        if runs and store.generations(runs[0]["id"]):
            break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    run = store.list_runs()[0]
    assert run["status"] == "interrupted"
    assert store.generations(run["id"])[0]["generation"] == 0
    assert store.load_arrays(run["id"], "gen0")["features"].ndim == 2
    assert len(store.epochs(run["id"])) >= 400


def test_presets_and_keys_listing(tmp_path):
    assert "digits-ban-noisy" in cli("presets", store=tmp_path).stdout
    keys = cli("presets", "--keys", store=tmp_path).stdout
    assert "method.temperature = 4.0" in keys and "train.weight_decay" in keys
