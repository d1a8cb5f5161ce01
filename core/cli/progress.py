"""The CLI's sink: a progress bar on stderr over every epoch of every generation."""
from __future__ import annotations

import sys

from core import metric_names
from core.config import RunConfig
from core.engine.sinks import Sink


class ProgressSink(Sink):
    """A tqdm bar on stderr over all epochs of all generations."""

    def __init__(self, config: RunConfig):
        from tqdm import tqdm

        self.bar = tqdm(total=config.method.generations * config.train.epochs, file=sys.stderr, unit="epoch",
                        dynamic_ncols=True, leave=False)

    def on_epoch(self, generation: int, epoch: int, metrics: dict) -> None:
        shown = {k: f"{v:.3f}" for k, v in metrics.items() if k in metric_names.EPOCH_SHOWN}
        self.bar.set_description(f"gen {generation}")
        self.bar.set_postfix(shown, refresh=False)
        self.bar.update(1)

    def on_generation(self, generation: int, metrics: dict, *_) -> None:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in metrics.items()
                          if k in metric_names.GENERATION_SHOWN)
        self.bar.write(f"generation {generation}: {shown}", file=sys.stderr)

    def close(self) -> None:
        self.bar.close()
