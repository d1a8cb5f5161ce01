"""Typed run configuration with dotted keys, validated on construction.

Every field carries its help text and its allowed values in `metadata`, so the
validator, the README table, the CLI's ``--set`` parser and the dashboard form
all read one source of truth.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from typing import Any

from collections.abc import Mapping, Sequence

from core import catalog


class CatalogNames(Sequence):
    """The names of one kind of plug-in, read from the catalog each time: a plug-in added to the catalog is a
    valid choice at once (the config, the form and the README all list it)."""

    def __init__(self, table: dict):
        self._table = table

    def __getitem__(self, index):
        return tuple(self._table)[index]

    def __len__(self) -> int:
        return len(self._table)

    def __contains__(self, name: object) -> bool:
        return name in self._table

    def __eq__(self, other: object) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __repr__(self) -> str:
        return repr(tuple(self))


DATASETS = CatalogNames(catalog.DATASETS)
MODELS = CatalogNames(catalog.MODELS)
METHODS = CatalogNames(catalog.METHODS)
OPTIMIZERS = ("adam", "sgd")
SCHEDULES = ("constant", "cosine")
DISTRACTORS = ("none", "fragment")
DEVICES = ("auto", "cpu", "cuda")
EMBEDDINGS = ("umap", "pca", "tsne", "none")


class ConfigError(ValueError):
    """An invalid configuration value; the message names the key, the value and what is allowed."""


def param(default: Any, help: str, *, choices: tuple | None = None, low: float | None = None,
          high: float | None = None, low_open: bool = False) -> Any:
    """A config field with its help text and bounds (``low_open`` makes the lower bound exclusive)."""
    meta = {"help": help, "choices": choices, "low": low, "high": high, "low_open": low_open}
    return field(default=default, metadata=meta)


def _check(key: str, value: Any, expected: type, meta: dict) -> None:
    """Raise ConfigError unless ``value`` has the field's type and lies within its bounds."""
    type_ok = isinstance(value, expected) and not (expected is not bool and isinstance(value, bool))
    if expected is float and isinstance(value, int) and not isinstance(value, bool):
        type_ok = True
    if not type_ok:
        raise ConfigError(f"{key}={value!r}: must be of type {expected.__name__}")
    if meta["choices"] is not None and value not in meta["choices"]:
        raise ConfigError(f"{key}={value!r}: must be one of {', '.join(map(str, meta['choices']))}")
    if expected in (int, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ConfigError(f"{key}={value!r}: must be a finite number")
        low, high = meta["low"], meta["high"]
        if low is not None and (value < low or (meta["low_open"] and value == low)):
            op = ">" if meta["low_open"] else ">="
            raise ConfigError(f"{key}={value!r}: must be {op} {low}" + (f" and <= {high}" if high is not None else ""))
        if high is not None and value > high:
            raise ConfigError(f"{key}={value!r}: must be <= {high}")


class _Section:
    """Validates every field of a config section against its metadata."""

    section = ""

    def __post_init__(self) -> None:
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.type in ("float", float) and isinstance(value, int) and not isinstance(value, bool):
                object.__setattr__(self, f.name, float(value))
                value = float(value)
            _check(f"{self.section}.{f.name}", value, _FIELD_TYPES[f.type], f.metadata)


_FIELD_TYPES = {"int": int, "float": float, "str": str, "bool": bool}


@dataclass(frozen=True)
class DataConfig(_Section):
    section = "data"
    name: str = param("digits", "dataset: digits (8×8 handwritten digits, built in), digits-shifted (the digits at "
                                "random places on a larger canvas), spoken-digits (zero…nine spoken by "
                                "espeak-ng, as log-mel images), moons, circles, blobs, "
                                "or file (an uploaded CSV/NPZ named by data.path)", choices=DATASETS)
    label_noise: float = param(0.0, "fraction of training labels flipped to another class (symmetric noise); "
                                    "the test split stays clean", low=0.0, high=0.9)
    test_fraction: float = param(0.2, "fraction of samples held out for testing (stratified)", low=0.05, high=0.8)
    val_fraction: float = param(0.1, "fraction of the training split held out for validation (stratified, "
                                     "seeded): settings and the best generation are chosen on it, never on test",
                                low=0.0, high=0.5)
    canvas: int = param(16, "side of the blank canvas each 8×8 digit is placed on at a random offset "
                            "(digits-shifted)", low=8, high=32)
    distractor: str = param("none", "clutter pasted on each digits-shifted image: none, or fragment (a 4×4 piece of "
                                    "another training digit at a random position)", choices=DISTRACTORS)
    n_samples: int = param(1500, "samples drawn for the 2-D toy sets (moons, circles, blobs)", low=50, high=200_000)
    noise: float = param(0.2, "input noise of the 2-D toy sets", low=0.0, high=5.0)
    path: str = param("", "data file for data.name=file: a CSV with a label column, or an NPZ with arrays X and y")
    label_column: str = param("label", "name of the label column in a CSV file")


@dataclass(frozen=True)
class ModelConfig(_Section):
    section = "model"
    name: str = param("mlp", "architecture: mlp, cnn (image-shaped inputs such as the 8×8 digits), cnn-gap "
                             "(image-shaped; global pooling, for digits at any position), or vit (image-shaped; a tiny "
                             "Vision Transformer)", choices=MODELS)
    hidden: int = param(256, "width of each hidden layer (the feature dimension)", low=2, high=4096)
    depth: int = param(2, "number of hidden layers of the MLP, or of transformer blocks of the ViT (the CNN has two "
                          "conv layers and one dense)", low=1, high=8)
    patch: int = param(2, "vit: side of the square patches the image is cut into (must divide the image's sides)",
                       low=1, high=64)
    dim: int = param(64, "vit: width of every token (the feature dimension)", low=4, high=1024)
    heads: int = param(4, "vit: attention heads per block (must divide model.dim)", low=1, high=32)
    batch_norm: bool = param(False, "batch normalisation after each hidden layer")
    row_mean_norm: bool = param(False, "cnn-gap: subtract from each row of an input image its mean over the row, "
                                       "per sample, before the first layer (on log-mel images: each mel band's mean "
                                       "over the clip, cepstral mean normalisation)")


@dataclass(frozen=True)
class MethodConfig(_Section):
    section = "method"
    name: str = param("ban", "method: ban (born-again, supervised) or dino (label-free, DINO-style with an EMA "
                             "teacher)", choices=METHODS)
    generations: int = param(3, "number of generations; generation k+1 learns from generation k", low=1, high=20)
    temperature: float = param(4.0, "softening temperature T of teacher and student outputs",
                               low=0.0, high=100.0, low_open=True)
    alpha: float = param(1.0, "weight of the distillation term; 0 = labels only, 1 = teacher only",
                         low=0.0, high=1.0)
    warm_start: bool = param(False, "start generation k+1 from generation k's weights instead of a fresh init")
    out_dim: int = param(256, "number of output dimensions K of the projection head", low=2, high=65536)
    teacher_temp: float = param(0.04, "teacher temperature after warm-up (sharpening)",
                                low=0.0, high=10.0, low_open=True)
    warmup_teacher_temp: float = param(0.04, "teacher temperature at the first epoch",
                                       low=0.0, high=10.0, low_open=True)
    warmup_teacher_temp_epochs: int = param(0, "epochs of linear teacher-temperature warm-up", low=0, high=10_000)
    student_temp: float = param(0.1, "student temperature", low=0.0, high=10.0, low_open=True)
    center_momentum: float = param(0.9, "momentum of the running center of teacher outputs", low=0.0, high=1.0)
    centering: bool = param(True, "subtract the running center from teacher outputs (off shows collapse)")
    ema_momentum: float = param(0.99, "EMA teacher momentum at the start (cosine schedule to 1)",
                                low=0.0, high=1.0)
    local_views: int = param(2, "number of small local views besides the 2 global views", low=0, high=16)
    view_shift: float = param(1.0, "largest extra shift of an image view, in pixels (a digit on a larger canvas "
                                   "needs a larger one)", low=0.0, high=32.0)
    view_crop_min: float = param(0.8, "smallest side of a global view's window, as a fraction of the image side "
                                      "(below 1 zooms in)", low=0.3, high=2.0)
    view_crop_max: float = param(1.0, "largest side of a global view's window, as a fraction of the image side "
                                      "(above 1 zooms out)", low=0.3, high=2.0)
    view_fragment: bool = param(False, "paste a 4×4 patch of another image of the batch on each image view (clutter "
                                       "the features learn to ignore)")
    keep_best_val_knn: bool = param(False, "keep the weights of the epoch whose features score the best validation "
                                           "k-NN accuracy (the earliest on ties) instead of the last epoch's; the "
                                           "epoch is reported as best_val_epoch (needs data.val_fraction > 0)")


@dataclass(frozen=True)
class TrainConfig(_Section):
    section = "train"
    epochs: int = param(60, "epochs per generation", low=1, high=10_000)
    batch_size: int = param(64, "minibatch size", low=1, high=65536)
    lr: float = param(1e-3, "learning rate", low=0.0, high=10.0, low_open=True)
    weight_decay: float = param(0.0, "weight decay; with Adam it is decoupled (AdamW), not an L2 penalty in the loss",
                                low=0.0, high=1.0)
    optimizer: str = param("adam", "optimizer: adam or sgd (with momentum 0.9)", choices=OPTIMIZERS)
    grad_clip: float = param(3.0, "gradient-norm clipping; 0 disables it", low=0.0, high=1e6)
    schedule: str = param("constant", "learning-rate schedule: constant, or cosine (decay to 0 over the generation "
                                      "after the warm-up)", choices=SCHEDULES)
    warmup_epochs: int = param(0, "epochs of linear learning-rate warm-up from 0", low=0, high=10_000)
    device: str = param("auto", "auto (CUDA when available), cpu or cuda", choices=DEVICES)


@dataclass(frozen=True)
class EvalConfig(_Section):
    section = "eval"
    embedding: str = param("umap", "2-D view of test features per generation: umap, pca, tsne, or none",
                           choices=EMBEDDINGS)
    knn_k: int = param(20, "neighbours of the weighted k-NN feature evaluation", low=1, high=1000)
    knn_temperature: float = param(0.07, "temperature of the k-NN vote weights exp(similarity/T)",
                                   low=0.0, high=10.0, low_open=True)
    linear_probe: bool = param(True, "fit a logistic-regression probe on frozen features per generation")
    compute_control: bool = param(False, "also train one single generation for the run's total epochs, so the "
                                         "generations are compared with the same compute spent in one go")
    save_weights: bool = param(True, "store each generation's weights (state dict) with the run")


SECTIONS = {"data": DataConfig, "model": ModelConfig, "method": MethodConfig, "train": TrainConfig, "eval": EvalConfig}


def flatten(config: Mapping, prefix: str = "") -> dict:
    """A nested config dict (as stored, possibly older than today's keys) as dotted keys."""
    out = {}
    for key, value in config.items():
        if isinstance(value, Mapping):
            out.update(flatten(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


@dataclass(frozen=True)
class RunConfig:
    """A whole run: ``seed`` plus one section per concern."""

    seed: int = 0
    data: DataConfig = field(default_factory=DataConfig)
    model: ModelConfig = field(default_factory=ModelConfig)
    method: MethodConfig = field(default_factory=MethodConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)

    def __post_init__(self) -> None:
        _check("seed", self.seed, int, {"choices": None, "low": 0, "high": 2**31 - 1, "low_open": False})
        model, dataset = catalog.model(self.model.name), catalog.dataset(self.data.name)
        if dataset.input_kind not in model.inputs:
            fits = " or ".join(f"data.name={d.name}" for d in catalog.DATASETS.values() if d.input_kind in model.inputs)
            raise ConfigError(f"model.name={model.name!r} needs {'/'.join(model.inputs)}-shaped inputs: set {fits} "
                              f"(got data.name={dataset.name!r}) or use model.name=mlp")
        if self.model.name == "vit" and (self.model.dim % self.model.heads or self.model.batch_norm):
            raise ConfigError(f"model.heads={self.model.heads}: must divide model.dim={self.model.dim}"
                              if self.model.dim % self.model.heads else
                              "model.batch_norm=true: the ViT normalises with layer norm; set model.batch_norm=false")
        if self.model.batch_norm and self.train.batch_size < 2:
            raise ConfigError(f"train.batch_size={self.train.batch_size}: model.batch_norm needs batches of at least 2 "
                              f"samples (turn batch norm off, or raise the batch size)")
        if self.data.name == "file" and not self.data.path:
            raise ConfigError("data.path='': data.name=file needs the path of a CSV or NPZ file")
        if self.method.keep_best_val_knn and self.data.val_fraction == 0:
            raise ConfigError("method.keep_best_val_knn=true picks an epoch on the validation split, but "
                              "data.val_fraction=0 holds none out: raise data.val_fraction or turn the option off")
        if self.method.view_crop_min > self.method.view_crop_max:
            raise ConfigError(f"method.view_crop_min={self.method.view_crop_min!r}: must be <= method.view_crop_max "
                              f"({self.method.view_crop_max!r})")

    # ---- dotted access -------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """Nested plain dict (JSON-ready)."""
        return dataclasses.asdict(self)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    def flat(self) -> dict[str, Any]:
        """Every key as ``section.name`` (plus ``seed``) mapped to its value."""
        out: dict[str, Any] = {"seed": self.seed}
        for name in SECTIONS:
            for key, value in dataclasses.asdict(getattr(self, name)).items():
                out[f"{name}.{key}"] = value
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "RunConfig":
        """Build from a nested dict (as produced by ``to_dict``); unknown keys are refused."""
        unknown = set(data) - set(SECTIONS) - {"seed"}
        if unknown:
            raise ConfigError(f"unknown config section(s) {sorted(unknown)}: allowed are seed, {', '.join(SECTIONS)}")
        sections = {}
        for name, section_cls in SECTIONS.items():
            values = dict(data.get(name) or {})
            allowed = {f.name for f in dataclasses.fields(section_cls)}
            bad = set(values) - allowed
            if bad:
                raise ConfigError(f"unknown key(s) {', '.join(f'{name}.{b}' for b in sorted(bad))}: "
                                  f"allowed are {', '.join(f'{name}.{a}' for a in sorted(allowed))}")
            sections[name] = section_cls(**values)
        return cls(seed=data.get("seed", 0), **sections)

    @classmethod
    def from_json(cls, text: str) -> "RunConfig":
        return cls.from_dict(json.loads(text))

    def override(self, updates: dict[str, Any]) -> "RunConfig":
        """A copy with dotted keys replaced; string values (from ``--set`` or a URL) are parsed to the key's type."""
        nested = self.to_dict()
        for key, value in updates.items():
            field_type = key_type(key)
            parsed = parse_value(key, value, field_type) if isinstance(value, str) else value
            if key == "seed":
                nested["seed"] = parsed
            else:
                section, name = key.split(".", 1)
                nested[section][name] = parsed
        return RunConfig.from_dict(nested)


def all_keys() -> dict[str, dataclasses.Field]:
    """Every dotted key mapped to its dataclass field (``seed`` excluded)."""
    return {f"{s}.{f.name}": f for s, cls in SECTIONS.items() for f in dataclasses.fields(cls)}


def key_type(key: str) -> type:
    """The Python type of a dotted key; ConfigError for an unknown key."""
    if key == "seed":
        return int
    fields = all_keys()
    if key not in fields:
        raise ConfigError(f"unknown config key {key!r}: run `python -m core presets --keys` to list them")
    return _FIELD_TYPES[fields[key].type]


def parse_value(key: str, text: str, field_type: type) -> Any:
    """Parse a string into ``field_type``; ConfigError naming the key when it does not parse."""
    text = text.strip()
    if field_type is bool:
        lowered = text.lower()
        if lowered in ("true", "1", "yes", "on"):
            return True
        if lowered in ("false", "0", "no", "off"):
            return False
        raise ConfigError(f"{key}={text!r}: must be true or false")
    if field_type in (int, float):
        try:
            return field_type(text) if field_type is float else int(text)
        except ValueError:
            raise ConfigError(f"{key}={text!r}: must be a number of type {field_type.__name__}") from None
    return text


def parse_assignments(items: list[str]) -> dict[str, str]:
    """Turn ``["a.b=1", ...]`` into ``{"a.b": "1"}``; ConfigError on an item without '='."""
    out = {}
    for item in items:
        if "=" not in item:
            raise ConfigError(f"{item!r}: expected KEY=VALUE, e.g. method.alpha=0.5")
        key, value = item.split("=", 1)
        out[key.strip()] = value
    return out
