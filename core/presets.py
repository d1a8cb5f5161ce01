"""Named presets: a description, the config overrides, and (for teaching) what the run shows and why."""
from __future__ import annotations

from dataclasses import dataclass, field

from core.config import ConfigError, RunConfig


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    overrides: dict = field(default_factory=dict)
    explanation: str = ""

    def config(self, updates: dict | None = None) -> RunConfig:
        """The preset's config, with optional dotted-key updates on top."""
        return RunConfig().override({**self.overrides, **(updates or {})})


_NOISY = {"data.label_noise": 0.4, "method.generations": 4, "train.epochs": 60,
          "method.temperature": 4.0, "method.alpha": 1.0}

PRESETS: dict[str, Preset] = {p.name: p for p in [
    Preset("dry-run", "2 tiny generations on digits in a few seconds (tests and CI)",
           {"method.generations": 2, "train.epochs": 3, "model.hidden": 32, "eval.embedding": "pca",
            "eval.linear_probe": False}),
    Preset("digits-ban", "born-again networks on clean digits, 5 generations",
           {"method.generations": 5, "train.epochs": 60}),
    Preset("digits-ban-noisy", "born-again networks on digits with 40% symmetric label noise",
           _NOISY,
           "Generation 0 is trained long enough to memorise the flipped labels. Its softened outputs still "
           "put most mass on the true class for most inputs, so generation 1 learns from a cleaner target than "
           "the labels: test accuracy rises and the share of flipped labels it reproduces falls."),
]}


def get_preset(name: str) -> Preset:
    """The named preset; ConfigError listing the known names otherwise."""
    if name not in PRESETS:
        raise ConfigError(f"unknown preset {name!r}: choose one of {', '.join(PRESETS)}")
    return PRESETS[name]
