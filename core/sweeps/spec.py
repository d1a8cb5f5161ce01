"""What a sweep is: a base config, the parameters to vary, the sampler, the budget, the seeds and the objective.

    spec = SweepSpec(preset="dry-run", params=(Param("method.alpha", values=(0.5, 1.0)),), seeds=2)

Validated on construction (ConfigError naming what is wrong), JSON round-trip through ``to_dict``/``from_dict``.
Every value is checked against the config's own bounds, so a bad sweep fails before any trial runs.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Callable

from core import catalog
from core.config import ConfigError, RunConfig, key_type, parse_value
from core.presets import get_preset

SAMPLERS = ("grid", "random", "tpe")
DEFAULT_TRIALS = 10  # points for random and TPE when no budget is given

# Fixed settings of every trial unless the sweep sets them: trials are many and small, so no weights and a
# PCA view (instant) instead of UMAP (seconds per generation, plus a long first call in each worker).
SWEEP_DEFAULTS: dict[str, Any] = {"eval.save_weights": False, "eval.embedding": "pca"}


def _values(generations: list[dict], key: str) -> list[float]:
    return [g[key] for g in generations if g.get(key) is not None]


def _best_val_accuracy(generations: list[dict]) -> float | None:
    values = _values(generations, "val_accuracy")
    return max(values) if values else None


def _born_again_val_gain(generations: list[dict]) -> float | None:
    values = _values(generations, "val_accuracy")
    return max(values[1:]) - values[0] if len(values) >= 2 else None


def _final_val_knn_accuracy(generations: list[dict]) -> float | None:
    return generations[-1].get("val_knn_accuracy") if generations else None


# name -> (function of a run's per-generation metrics, needs labels (a supervised method), min generations).
# Every objective reads the validation split: a sweep's winner is chosen without ever looking at test.
OBJECTIVES: dict[str, tuple[Callable[[list[dict]], float | None], bool, int]] = {
    "best_val_accuracy": (_best_val_accuracy, True, 1),
    "born_again_val_gain": (_born_again_val_gain, True, 2),
    "final_val_knn_accuracy": (_final_val_knn_accuracy, False, 1),
}
# Sweeps stored before objectives moved to validation named test-split objectives; they resume on validation.
RENAMED_OBJECTIVES = {"best_test_accuracy": "best_val_accuracy", "born_again_gain": "born_again_val_gain",
                      "final_knn_accuracy": "final_val_knn_accuracy"}


def objective_value(name: str, generations: list[dict]) -> float | None:
    """The objective of one finished run (to maximise); None when the run has no value for it."""
    value = OBJECTIVES[name][0](generations)
    return None if value is None or not math.isfinite(value) else float(value)


@dataclass(frozen=True)
class Param:
    """One swept key: a list of ``values``, or a range ``low``..``high`` (``log`` for a log scale)."""

    key: str
    values: tuple | None = None
    low: float | None = None
    high: float | None = None
    log: bool = False

    @property
    def is_range(self) -> bool:
        return self.values is None

    def describe(self) -> str:
        if self.is_range:
            return f"{self.key} in [{self.low:g}, {self.high:g}]" + (" (log)" if self.log else "")
        return f"{self.key} in {{{', '.join(map(str, self.values))}}}"


def _as_floats(p: Param) -> Param:
    """Whole numbers given for a float key become floats, so a point reads the same before and after JSON."""
    if key_type(p.key) is not float:
        return p
    as_float = lambda v: float(v) if isinstance(v, int) and not isinstance(v, bool) else v  # noqa: E731
    values = tuple(as_float(v) for v in p.values) if p.values is not None else None
    return replace(p, values=values, low=as_float(p.low), high=as_float(p.high))


def parse_grid(text: str) -> Param:
    """``KEY=V1,V2,...`` into a Param of typed values; ConfigError when it does not parse."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    items = [v for v in rest.split(",") if v.strip()]
    if not sep or not key or not items:
        raise ConfigError(f"--grid {text!r}: expected KEY=V1,V2,..., e.g. method.alpha=0.5,1.0")
    kind = key_type(key)
    return Param(key, values=tuple(parse_value(key, v, kind) for v in items))


def parse_range(text: str) -> Param:
    """``KEY=LOW:HIGH`` or ``KEY=LOW:HIGH:log`` into a range Param; ConfigError when it does not parse."""
    key, sep, rest = text.partition("=")
    key = key.strip()
    parts = rest.split(":")
    log = len(parts) == 3 and parts[2].strip().lower() == "log"
    if not sep or not key or len(parts) not in (2, 3) or (len(parts) == 3 and not log):
        raise ConfigError(f"--range {text!r}: expected KEY=LOW:HIGH or KEY=LOW:HIGH:log, e.g. train.lr=1e-4:1e-2:log")
    kind = key_type(key)
    if kind not in (int, float):
        raise ConfigError(f"--range {key}: {key} is not numeric; list its values with --grid {key}=A,B")
    return Param(key, low=parse_value(key, parts[0], kind), high=parse_value(key, parts[1], kind), log=log)


@dataclass(frozen=True)
class SweepSpec:
    """A validated sweep. ``preset`` or ``base`` (a config dict) gives the base; ``overrides`` fix more keys."""

    params: tuple[Param, ...]
    preset: str | None = "dry-run"
    base: dict | None = None
    overrides: dict = field(default_factory=dict)
    sampler: str = "grid"
    trials: int | None = None  # points to evaluate; grid: defaults to the whole grid
    seeds: int = 1  # runs per point, seeds base.seed, base.seed + 1, ...
    objective: str = "best_val_accuracy"
    sampler_seed: int = 0

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", tuple(_as_floats(p) for p in self.params))
        if (self.preset is None) == (self.base is None):
            raise ConfigError("a sweep needs exactly one base: a preset name or a config")
        if self.sampler not in SAMPLERS:
            raise ConfigError(f"sampler {self.sampler!r}: must be one of {', '.join(SAMPLERS)}")
        if self.objective not in OBJECTIVES:
            raise ConfigError(f"objective {self.objective!r}: must be one of {', '.join(OBJECTIVES)}")
        if not isinstance(self.seeds, int) or not 1 <= self.seeds <= 100:
            raise ConfigError(f"seeds={self.seeds!r}: must be an integer from 1 to 100")
        base = self.base_config()
        self._check_params(base)
        if self.trials is None:
            object.__setattr__(self, "trials", self.grid_size() if self.sampler == "grid" else DEFAULT_TRIALS)
        if not isinstance(self.trials, int) or self.trials < 1:
            raise ConfigError(f"trials={self.trials!r}: must be a positive integer")
        if self.sampler == "grid" and self.trials > self.grid_size():
            raise ConfigError(f"trials={self.trials}: the grid has only {self.grid_size()} points")
        self._check_objective(base)

    def _check_params(self, base: RunConfig) -> None:
        if not self.params:
            raise ConfigError("a sweep needs at least one parameter to vary (--grid KEY=A,B or --range KEY=LOW:HIGH)")
        keys = [p.key for p in self.params]
        for key in keys:
            if key == "seed":
                raise ConfigError("seed cannot be swept: use seeds (--seeds N) for runs per point")
            if keys.count(key) > 1:
                raise ConfigError(f"{key} is swept twice: give it once")
            if key in self.overrides:
                raise ConfigError(f"{key} is both swept and fixed: drop one")
        for p in self.params:
            key_type(p.key)
            if p.is_range:
                self._check_range(p, base)
            else:
                self._check_values(p, base)

    @staticmethod
    def _check_values(p: Param, base: RunConfig) -> None:
        if not p.values:
            raise ConfigError(f"{p.key}: needs at least one value")
        for value in p.values:
            if list(p.values).count(value) > 1:
                raise ConfigError(f"{p.key}: value {value!r} is listed twice")
            base.override({p.key: value})

    def _check_range(self, p: Param, base: RunConfig) -> None:
        if self.sampler == "grid":
            raise ConfigError(f"{p.key}: the grid sampler needs a list of values (--grid {p.key}=A,B); "
                              f"use --sampler random or tpe for a range")
        if key_type(p.key) not in (int, float):
            raise ConfigError(f"{p.key}: a range needs a numeric key")
        if not p.low < p.high:
            raise ConfigError(f"{p.key}: range low {p.low!r} must be below high {p.high!r}")
        if p.log and p.low <= 0:
            raise ConfigError(f"{p.key}: a log range needs low > 0 (got {p.low!r})")
        base.override({p.key: p.low})
        base.override({p.key: p.high})

    def _check_objective(self, base: RunConfig) -> None:
        _, needs_labels, min_generations = OBJECTIVES[self.objective]
        methods, generations = {base.method.name}, [base.method.generations]
        for p in self.params:
            if p.key == "method.name":
                methods = set(p.values)
            if p.key == "method.generations":
                generations = list(p.values) if not p.is_range else [p.low]
        unsupervised = sorted(m for m in methods if not catalog.method(m).supervised)
        if needs_labels and unsupervised:
            raise ConfigError(f"objective {self.objective}: method {unsupervised[0]} reports no validation "
                              f"accuracy; use final_val_knn_accuracy")
        if min(generations) < min_generations:
            raise ConfigError(f"objective {self.objective}: needs method.generations >= {min_generations} "
                              f"(got {min(generations)})")

    # ---- derived -------------------------------------------------------
    def base_config(self) -> RunConfig:
        """The base with the sweep defaults and the fixed overrides applied (swept keys not yet)."""
        start = get_preset(self.preset).config() if self.preset is not None else RunConfig.from_dict(self.base)
        return start.override({**SWEEP_DEFAULTS, **self.overrides})

    def trial_config(self, params: dict[str, Any], seed_index: int) -> RunConfig:
        """The config of one run: the base, the point's parameters and its seed."""
        base = self.base_config()
        return base.override({**params, "seed": base.seed + seed_index})

    def grid_size(self) -> int:
        return math.prod(len(p.values) for p in self.params if not p.is_range)

    def total_runs(self) -> int:
        return self.trials * self.seeds

    def keys(self) -> list[str]:
        return [p.key for p in self.params]

    def describe(self) -> str:
        base = f"preset {self.preset}" if self.preset else "a custom config"
        return (f"{self.sampler} over {'; '.join(p.describe() for p in self.params)} on {base}: "
                f"{self.trials} points x {self.seeds} seed(s), maximising {self.objective}")

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["params"] = [{k: (list(v) if isinstance(v, tuple) else v) for k, v in p.items()} for p in out["params"]]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "SweepSpec":
        params = tuple(Param(**{**p, "values": tuple(p["values"]) if p.get("values") is not None else None})
                       for p in data["params"])
        objective = RENAMED_OBJECTIVES.get(data.get("objective", ""), data.get("objective", "best_val_accuracy"))
        return cls(**{**data, "params": params, "objective": objective})
