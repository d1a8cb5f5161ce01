"""Sinks: how a run reports. The generation loop calls these hooks and knows nothing of who listens; the store,
the CLI's progress bar, sweep trials and tests are all sinks.

Hooks, in the order a run calls them:
- ``on_start(info, arrays)``: once, after the data are loaded. ``info`` holds the dataset's facts (sizes, classes,
  image shape, flipped-label count), the method's loss parts, generations and epochs; ``arrays`` the test inputs
  for display, the test labels, the clean and given training labels and the flipped indices.
- ``on_baselines(baselines)``: before generation 0 trains: k-NN accuracies (and cluster quality) of reference
  features; once more at the end with the compute-matched control's numbers added, when the run has one.
- ``on_epoch(generation, epoch, metrics)``: after every epoch: the loss parts and the method's monitors.
- ``on_generation(generation, metrics, arrays, state_dict)``: after a generation is trained and evaluated: its
  metrics, its arrays (test features, probabilities, the 2-D view) and its weights on the CPU.
- ``on_label_efficiency(results)``: once, after the last generation: few-shot linear-probe accuracies,
  ``{feature set: {"1": accuracy, "5": ..., "10": ...}}``.
"""
from __future__ import annotations

import numpy as np
import torch

from core.storage.run_store import RunStore


class Sink:
    """Receives a run's progress. Every hook is optional."""

    def on_start(self, info: dict, arrays: dict[str, np.ndarray]) -> None: ...
    def on_baselines(self, baselines: dict[str, float]) -> None: ...
    def on_epoch(self, generation: int, epoch: int, metrics: dict[str, float]) -> None: ...
    def on_generation(self, generation: int, metrics: dict, arrays: dict[str, np.ndarray],
                      state_dict: dict[str, torch.Tensor]) -> None: ...
    def on_label_efficiency(self, results: dict[str, dict[str, float]]) -> None: ...


class StoreSink(Sink):
    """Writes every report into the store as it happens."""

    def __init__(self, store: RunStore, run_id: str, save_weights: bool = True):
        self.store, self.run_id, self.save_weights = store, run_id, save_weights

    def on_start(self, info: dict, arrays: dict[str, np.ndarray]) -> None:
        self.store.set_info(self.run_id, info)
        self.store.save_arrays(self.run_id, "run", arrays)

    def on_baselines(self, baselines: dict[str, float]) -> None:
        self.store.set_baselines(self.run_id, baselines)

    def on_epoch(self, generation: int, epoch: int, metrics: dict[str, float]) -> None:
        self.store.add_epoch(self.run_id, generation, epoch, metrics)

    def on_generation(self, generation: int, metrics: dict, arrays: dict, state_dict: dict) -> None:
        self.store.save_arrays(self.run_id, f"gen{generation}", arrays)
        if self.save_weights:
            self.store.save_weights(self.run_id, generation, state_dict)
        self.store.add_generation(self.run_id, generation, metrics)

    def on_label_efficiency(self, results: dict[str, dict[str, float]]) -> None:
        self.store.set_label_efficiency(self.run_id, results)


class FanOut(Sink):
    """Forwards each report to several sinks in order."""

    def __init__(self, *sinks: Sink | None):
        self.sinks = [s for s in sinks if s is not None]

    def on_start(self, *a) -> None:
        for s in self.sinks:
            s.on_start(*a)

    def on_baselines(self, *a) -> None:
        for s in self.sinks:
            s.on_baselines(*a)

    def on_epoch(self, *a) -> None:
        for s in self.sinks:
            s.on_epoch(*a)

    def on_generation(self, *a) -> None:
        for s in self.sinks:
            s.on_generation(*a)

    def on_label_efficiency(self, *a) -> None:
        for s in self.sinks:
            s.on_label_efficiency(*a)
