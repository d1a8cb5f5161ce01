"""A stored run as one standalone PyTorch script: ``python -m core export RUN_ID --script --out DIR`` -> DIR/train.py.

Why a template and not generated code: the script is what a user reads and edits, so it is written once, by hand,
as a readable file (``script_template.py.txt``, not a module: nothing imports it, and the lab's tests never collect
it); this module only fills in the run's config as constants at its top. The script imports torch, numpy and
scikit-learn, never the lab. What it cannot reproduce is refused here (ScriptUnsupported, exit 2 on the CLI) rather
than exported wrong.
"""
from __future__ import annotations

from pathlib import Path

from core.storage.run_store import RunStore

TEMPLATE = Path(__file__).with_name("script_template.py.txt")
SUPPORTED = {"method": ("ban",), "model": ("mlp", "cnn"), "data": ("digits", "moons", "circles", "blobs")}
SUPPORT_TEXT = ("Exported as a script: the born-again method (ban) with the mlp or cnn model on the built-in "
                "digits, moons, circles or blobs data. Not yet: dino, cnn-gap, vit, digits-shifted, uploaded files.")


class ScriptUnsupported(ValueError):
    """The run uses something the script export cannot reproduce."""


def unsupported_reason(config: dict) -> str | None:
    """Why a run's config cannot be exported as a script, or None when it can."""
    for section, names in SUPPORTED.items():
        name = config[section]["name"]
        if name not in names:
            key = f"{section}.name={name}"
            return f"{key} cannot be exported as a script yet (supported: {', '.join(names)})"
    return None


def constants(config: dict) -> dict[str, object]:
    """The script's config constants, named as the script uses them."""
    d, mo, me, t = config["data"], config["model"], config["method"], config["train"]
    return {"SEED": int(config["seed"]), "DATASET": d["name"], "TEST_FRACTION": d["test_fraction"],
            "VAL_FRACTION": d["val_fraction"], "LABEL_NOISE": d["label_noise"], "N_SAMPLES": d["n_samples"],
            "NOISE": d["noise"], "MODEL": mo["name"], "HIDDEN": mo["hidden"], "DEPTH": mo["depth"],
            "BATCH_NORM": bool(mo["batch_norm"]), "GENERATIONS": me["generations"],
            "TEMPERATURE": me["temperature"], "ALPHA": me["alpha"], "WARM_START": bool(me["warm_start"]),
            "EPOCHS": t["epochs"], "BATCH_SIZE": t["batch_size"], "LR": t["lr"], "WEIGHT_DECAY": t["weight_decay"],
            "OPTIMIZER": t["optimizer"], "GRAD_CLIP": t["grad_clip"], "SCHEDULE": t["schedule"],
            "WARMUP_EPOCHS": t["warmup_epochs"]}


def render_script(run_id: str, config: dict) -> str:
    """The text of train.py for a run's config; ScriptUnsupported when it cannot be reproduced."""
    reason = unsupported_reason(config)
    if reason:
        raise ScriptUnsupported(reason)
    lines = [f"{name} = {value!r}" for name, value in constants(config).items()]
    text = TEMPLATE.read_text(encoding="utf-8")
    return text.replace("@RUN_ID@", run_id).replace("@CONFIG@", "\n".join(lines))


def write_script(store: RunStore, run_id: str, out: Path) -> Path:
    """Write ``out/train.py`` for a stored run; returns its path."""
    text = render_script(run_id, store.get_run(run_id)["config"])
    out.mkdir(parents=True, exist_ok=True)
    path = out / "train.py"
    path.write_text(text, encoding="utf-8")
    return path
