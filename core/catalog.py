"""The catalog of plug-ins: every method, model and dataset by name, with the light facts the rest of the lab reads.

Nothing here imports torch, numpy or scikit-learn, so the config, the Launch form and the pages can consult it
for free. The code of a plug-in lives in the module named by its entry and is imported only by ``load``:

    catalog.method("ban").supervised      # a fact, no import
    catalog.load(catalog.model("mlp"))    # the module core.models.mlp, which provides build(...)

Adding a plug-in is one new module plus one entry below (see CONTRIBUTING.md). The contracts:
- a method module provides ``build_model(config, data)`` and ``train_generation(ctx, model, teacher)``, which
  returns extras: ``warnings`` (a list of strings) and ``metrics`` (added to the generation's), both optional;
- a model module provides ``build(cfg, in_dim, n_classes, image_shape)`` returning a module with
  ``features(x)``, ``head`` and ``feature_dim``;
- a dataset module provides ``load(cfg, seed)`` returning ``(x, y, image_shape or None)``.
"""
from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

INPUT_KINDS = ("image", "vector")  # "image": rows are flattened H×W images; "vector": any feature vector


@dataclass(frozen=True)
class Plugin:
    """What every entry shares: its name, the module holding its code, a one-line summary, the keys it owns."""

    name: str
    module: str
    summary: str
    keys: tuple[str, ...] = ()  # dotted config keys only this plug-in reads (the form hides them otherwise)


@dataclass(frozen=True)
class Method(Plugin):
    supervised: bool = True  # trains on labels (and so reports test accuracy)
    loss_parts: tuple[str, ...] = ()  # the per-epoch loss components it reports besides "loss"


@dataclass(frozen=True)
class Model(Plugin):
    inputs: tuple[str, ...] = INPUT_KINDS  # the input kinds it can take


@dataclass(frozen=True)
class Dataset(Plugin):
    input_kind: str = "vector"  # what its rows are
    speech: bool = False  # spoken words: runs report word error rates (test_wer …) and charts say WER


_BAN_KEYS = ("method.temperature", "method.alpha", "method.warm_start")
_DINO_KEYS = ("method.out_dim", "method.teacher_temp", "method.warmup_teacher_temp",
              "method.warmup_teacher_temp_epochs", "method.student_temp", "method.center_momentum",
              "method.centering", "method.ema_momentum", "method.local_views", "method.view_shift",
              "method.view_crop_min", "method.view_crop_max", "method.view_fragment",
              "method.keep_best_val_knn")
_TOY_KEYS = ("data.n_samples", "data.noise")

METHODS: dict[str, Method] = {m.name: m for m in [
    Method("ban", "core.methods.ban", "born-again (supervised) self-distillation", _BAN_KEYS,
           supervised=True, loss_parts=("ce", "kd")),
    Method("dino", "core.methods.dino", "label-free, DINO-style with an EMA teacher", _DINO_KEYS,
           supervised=False, loss_parts=("dino",)),
]}

MODELS: dict[str, Model] = {m.name: m for m in [
    Model("mlp", "core.models.mlp", "a multilayer perceptron", ("model.depth",), inputs=INPUT_KINDS),
    Model("cnn", "core.models.cnn", "two 3×3 conv layers and a dense layer (image-shaped inputs such as the "
                                    "8×8 digits)", inputs=("image",)),
    Model("cnn-gap", "core.models.cnn_gap", "two 3×3 conv layers, then global average and max pooling: features "
                                            "that barely move when the digit moves", ("model.row_mean_norm",),
          inputs=("image",)),
    Model("vit", "core.models.vit", "a tiny Vision Transformer: patches, a class token, pre-norm attention blocks",
          ("model.patch", "model.dim", "model.depth", "model.heads"), inputs=("image",)),
]}

DATASETS: dict[str, Dataset] = {d.name: d for d in [
    Dataset("digits", "core.data.digits", "8×8 handwritten digits, built in", input_kind="image"),
    Dataset("digits-shifted", "core.data.shifted", "the digits at a random offset on a larger blank canvas "
                                                   "(optionally with clutter)", ("data.canvas", "data.distractor"),
            input_kind="image"),
    Dataset("spoken-digits", "core.data.spoken", "the words zero…nine spoken by espeak-ng voices, as 32×32 log-mel "
                                                 "images; test voices never heard in training", input_kind="image",
            speech=True),
    Dataset("moons", "core.data.toy", "two interleaving half circles (2-D)", _TOY_KEYS),
    Dataset("circles", "core.data.toy", "two concentric circles (2-D)", _TOY_KEYS),
    Dataset("blobs", "core.data.toy", "four Gaussian blobs (2-D)", _TOY_KEYS),
    Dataset("file", "core.data.files", "an uploaded CSV/NPZ named by data.path", ("data.path", "data.label_column")),
]}

KINDS = {"method": METHODS, "model": MODELS, "dataset": DATASETS}


def _get(kind: str, name: str) -> Plugin:
    table = KINDS[kind]
    if name not in table:
        raise KeyError(f"unknown {kind} {name!r}: choose one of {', '.join(table)}")
    return table[name]


def method(name: str) -> Method:
    return _get("method", name)  # type: ignore[return-value]


def model(name: str) -> Model:
    return _get("model", name)  # type: ignore[return-value]


def dataset(name: str) -> Dataset:
    return _get("dataset", name)  # type: ignore[return-value]


def load(entry: Plugin) -> ModuleType:
    """The module holding the plug-in's code (imported on first use)."""
    return importlib.import_module(entry.module)


def owners(key: str) -> list[tuple[str, Plugin]]:
    """The (kind, plug-in) pairs that own a dotted key; empty for a key every plug-in reads."""
    return [(kind, entry) for kind, table in KINDS.items() for entry in table.values() if key in entry.keys]


def uses_key(key: str, chosen: dict[str, str]) -> bool:
    """Whether ``key`` matters given the chosen plug-ins, e.g. ``{"method": "ban", "dataset": "digits"}``."""
    found = owners(key)
    return not found or any(chosen.get(kind) == entry.name for kind, entry in found)
