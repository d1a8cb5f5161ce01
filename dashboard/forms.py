"""The Launch form, read from the config's metadata: one field per key, grouped, with help, step and visibility.

Pure Python (no streamlit), so the rules are testable: which keys a method or a dataset uses, the widget kind,
a step that suits the default's magnitude, and turning the form's values into a validated RunConfig.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Mapping

from core import catalog
from core.config import ConfigError, RunConfig, all_keys

GROUPS = {"data": "Data", "model": "Model", "method": "Method", "train": "Training", "eval": "Evaluation"}
HIDDEN = ("data.path",)  # set by the upload, never typed
LABELS = {"data.name": "dataset", "model.name": "architecture", "method.name": "method"}
STEPS = {"data.label_noise": 0.05, "data.test_fraction": 0.05, "method.alpha": 0.1, "method.temperature": 0.5,
         "method.ema_momentum": 0.001, "method.center_momentum": 0.01, "train.weight_decay": 1e-4}


@dataclass(frozen=True)
class Field:
    key: str  # dotted, also the widget key and the URL query parameter
    label: str
    help: str
    kind: str  # select, bool, int, float, text
    choices: tuple | None
    step: float | None
    owners: tuple[str, ...]  # "kind:name" of the plug-ins that read this key (catalog); empty when every one does


def _step(key: str, default: float) -> float:
    """A tenth of the default's order of magnitude below 1 (lr 0.001 -> 0.0001), the order itself above."""
    if key in STEPS:
        return STEPS[key]
    if default == 0:
        return 0.01
    magnitude = 10.0 ** math.floor(math.log10(abs(default)))
    return magnitude / 10 if abs(default) < 1 else magnitude


def _range(meta: Mapping) -> str:
    low, high = meta.get("low"), meta.get("high")
    if low is None and high is None:
        return ""
    low_text = f"> {low:g}" if meta.get("low_open") else f"≥ {low:g}"
    return f" ({low_text}" + (f", ≤ {high:g})" if high is not None else ")")


def fields() -> list[Field]:
    """Every form field in section order, the seed last."""
    out = []
    for key, f in all_keys().items():
        if key in HIDDEN:
            continue
        help_text = f.metadata["help"]
        owners = tuple(f"{kind}:{entry.name}" for kind, entry in catalog.owners(key))
        kind = "select" if f.metadata["choices"] else {"bool": "bool", "int": "int", "float": "float"}.get(
            f.type, "text")
        step = _step(key, f.default) if kind == "float" else (1 if kind == "int" else None)
        label = LABELS.get(key, key.split(".", 1)[1].replace("_", " "))
        out.append(Field(key, label, help_text + (_range(f.metadata) if kind in ("int", "float") else ""), kind,
                         tuple(f.metadata["choices"]) if f.metadata["choices"] else None, step, owners))
    out.append(Field("seed", "seed", "random seed of the data split, the label noise and every initialisation (≥ 0)",
                     "int", None, 1, ()))
    return out


def section_of(key: str) -> str:
    return key.split(".", 1)[0] if "." in key else "train"


def grouped() -> dict[str, list[Field]]:
    """Fields by group title (Data, Model, Method, Training, Evaluation); the seed sits with training."""
    groups: dict[str, list[Field]] = {title: [] for title in GROUPS.values()}
    for f in fields():
        groups[GROUPS[section_of(f.key)]].append(f)
    return groups


def visible(field: Field, values: Mapping[str, Any]) -> bool:
    """Whether the field matters for the chosen method, model and dataset (the catalog says who owns a key)."""
    chosen = {"method": values.get("method.name"), "model": values.get("model.name"),
              "dataset": values.get("data.name")}
    return catalog.uses_key(field.key, chosen)


def build_config(base: RunConfig, values: Mapping[str, Any]) -> RunConfig:
    """``base`` with the form's values on top (keys not shown keep base's values); ConfigError if invalid."""
    return base.override(dict(values))


def invalid_query_params(params: Mapping[str, str], presets: Mapping[str, Any], default_preset: str
                         ) -> dict[str, str]:
    """The URL parameters of the form that cannot be used, each with the reason: an unknown preset, or a value
    its key refuses (checked on the chosen preset's config, one key at a time). Other parameters are ignored."""
    bad: dict[str, str] = {}
    preset = params.get("preset", default_preset)
    if preset not in presets:
        bad["preset"] = f"unknown preset {preset!r}"
        preset = default_preset
    base = presets[preset].config()
    keys = {f.key for f in fields()}
    for key, value in params.items():
        if key in keys:
            try:
                base.override({key: str(value)})
            except ConfigError as exc:
                bad[key] = str(exc)
    return bad


def differences(values: Mapping[str, Any], base: RunConfig) -> dict[str, Any]:
    """The keys whose value differs from ``base``: what to add to a preset to get these values."""
    flat = base.flat()
    return {k: v for k, v in values.items() if k in flat and flat[k] != v}

