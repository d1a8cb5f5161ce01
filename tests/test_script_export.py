"""``export --script``: the exported train.py of a real dry-run run, run with ``python -I`` in a clean folder (the lab
not on the path), reproduces the run's per-generation test accuracy within 2 points; unsupported runs exit 2."""
import ast
import json
import os
import subprocess
import sys

import pytest

from core.config import RunConfig
from core.storage.run_store import RunStore
from core.storage.script_export import ScriptUnsupported, render_script

ENV = {**os.environ, "PYTHONPATH": os.getcwd()}
ALLOWED_IMPORTS = {"json", "math", "os", "numpy", "torch", "sklearn"}  # the standard library and the three


def cli(*args, store):
    return subprocess.run([sys.executable, "-m", "core", *args, "--store", str(store)], capture_output=True,
                          text=True, env=ENV, timeout=300)


@pytest.mark.slow
def test_exported_dry_run_reproduces_the_run(tmp_path):
    store = tmp_path / "store"
    out = cli("run", "--preset", "dry-run", "--set", "data.label_noise=0.2", "--set", "method.generations=3",
              "--json", store=store)
    assert out.returncode == 0, out.stderr
    summary = json.loads(out.stdout.splitlines()[-1])
    folder = tmp_path / "exported"
    exported = cli("export", summary["run_id"], "--script", "--out", str(folder), store=store)
    assert exported.returncode == 0, exported.stderr
    script = folder / "train.py"
    tree = ast.parse(script.read_text())
    imported = {alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import)
                for alias in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= ALLOWED_IMPORTS, imported
    clean = tmp_path / "clean"  # no lab here, and -I ignores PYTHONPATH and the user's site folder
    clean.mkdir()
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run([sys.executable, "-I", str(script)], cwd=clean, capture_output=True, text=True,
                            env=env, timeout=600)
    assert result.returncode == 0, result.stderr
    reproduced = json.loads(result.stdout.strip().splitlines()[-1])["generations"]
    stored = summary["generations"]
    assert [g["generation"] for g in reproduced] == [g["generation"] for g in stored] == [0, 1, 2]
    for mine, theirs in zip(reproduced, stored):
        assert abs(mine["test_accuracy"] - theirs["test_accuracy"]) <= 0.02, (mine, theirs)


def test_constants_are_at_the_top_and_readable():
    config = RunConfig().to_dict()
    config["seed"], config["train"]["lr"] = 7, 0.005
    text = render_script("r1", config)
    assert "SEED = 7\n" in text and "LR = 0.005\n" in text and "@CONFIG@" not in text and "@RUN_ID@" not in text
    assert "NOT supported yet" in text
    ast.parse(text)  # valid Python
    assert "from core" not in text and "import core" not in text


@pytest.mark.parametrize("section,name", [("method", "dino"), ("model", "vit"), ("model", "cnn-gap"),
                                          ("data", "file"), ("data", "digits-shifted")])
def test_unsupported_runs_are_refused(section, name):
    config = RunConfig().to_dict()
    config[section]["name"] = name
    with pytest.raises(ScriptUnsupported, match=f"{section}.name={name}"):
        render_script("r1", config)


def test_cli_refuses_an_unsupported_run_with_exit_2(tmp_path):
    store = RunStore(tmp_path / "store")
    config = RunConfig().to_dict()
    config["method"]["name"] = "dino"
    run_id = store.create_run(config)
    out = cli("export", run_id, "--script", "--out", str(tmp_path / "x"), store=tmp_path / "store")
    assert out.returncode == 2 and len(out.stderr.strip().splitlines()) == 1 and "dino" in out.stderr
    assert not (tmp_path / "x" / "train.py").exists()
    missing = cli("export", "nope", "--script", "--out", str(tmp_path / "y"), store=tmp_path / "store")
    assert missing.returncode == 2


@pytest.mark.parametrize("updates", [{"data.label_noise": 0.4, "seed": 3},
                                     {"data.name": "blobs", "data.label_noise": 0.1, "data.val_fraction": 0.0}])
def test_script_data_are_the_labs(tmp_path, updates):
    """The script's own loading (split, scaling, label noise) gives exactly the lab's training and test arrays."""
    import importlib.util

    import numpy as np

    from core.data.splits import load_dataset

    config = RunConfig().override(updates)
    path = tmp_path / "train.py"
    path.write_text(render_script("r1", config.to_dict()))
    spec = importlib.util.spec_from_file_location("exported_train", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)  # defines the functions; main() runs only as __main__
    x_train, y_train, x_test, y_test, n_classes, _ = script.load_data()
    lab = load_dataset(config.data, config.seed)
    np.testing.assert_array_equal(x_train, lab.x_train)
    np.testing.assert_array_equal(y_train, lab.y_train)  # the same noisy labels
    np.testing.assert_array_equal(x_test, lab.x_test)
    np.testing.assert_array_equal(y_test, lab.y_test)
    assert n_classes == lab.n_classes and (y_train != lab.y_train_clean).any()


@pytest.mark.parametrize("model", ["mlp", "cnn"])
def test_script_models_start_from_the_labs_initial_weights(tmp_path, model):
    import importlib.util

    import torch

    from core.models import build_model

    config = RunConfig().override({"model.name": model, "model.hidden": 16, "seed": 5})
    path = tmp_path / "train.py"
    path.write_text(render_script("r1", config.to_dict()))
    spec = importlib.util.spec_from_file_location("exported_train_models", path)
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    torch.manual_seed(5 * 1000 + 1)
    mine = script.build_model(64, 10, (8, 8))
    torch.manual_seed(5 * 1000 + 1)
    lab = build_model(config.model, 64, 10, (8, 8))
    theirs = lab.state_dict()
    assert list(mine.state_dict()) == list(theirs)
    for name, value in mine.state_dict().items():
        assert torch.equal(value, theirs[name]), name
