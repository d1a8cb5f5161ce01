"""A last batch of one sample (which batch norm cannot normalise) joins the batch before it."""
from __future__ import annotations

import pytest

from core.data.splits import load_dataset
from core.engine.context import batch_slices
from core.engine.generations import run
from core.presets import get_preset


@pytest.mark.parametrize("n, size, expected", [
    (10, 4, [(0, 4), (4, 8), (8, 10)]),
    (9, 4, [(0, 4), (4, 9)]),  # 8..9 would be a batch of one
    (1, 4, [(0, 1)]),  # nothing to join: a lone sample stays a batch
    (8, 4, [(0, 4), (4, 8)]),
    (5, 1, [(0, 1), (1, 2), (2, 3), (3, 4), (4, 5)]),  # batch size 1 is what it asks for (refused with BN)
])
def test_batch_slices(n, size, expected):
    assert [(s.start, s.stop) for s in batch_slices(n, size)] == expected


@pytest.mark.parametrize("method", ["ban", "dino"])
def test_batch_norm_with_a_trailing_batch_of_one_trains(method):
    """Regression: --set model.batch_norm=true --set train.batch_size=2 failed on the last batch of one."""
    base = get_preset("dry-run").config({"method.name": method, "model.batch_norm": "true", "train.epochs": "1",
                                         "method.generations": "1", "eval.embedding": "none", "method.out_dim": "16",
                                         "method.local_views": "0", "data.name": "moons", "data.n_samples": "58"})
    n_train = len(load_dataset(base.data, base.seed).x_train)
    for size in (2, 4):
        assert n_train % size == 1  # the data leave one sample over for both batch sizes
        summary = run(base.override({"train.batch_size": str(size)}))
        assert summary["status"] == "finished", summary["error"]


def test_batch_norm_with_batches_of_one_is_refused_up_front():
    from core.config import ConfigError

    with pytest.raises(ConfigError, match="model.batch_norm needs batches of at least 2"):
        get_preset("dry-run").config({"model.batch_norm": "true", "train.batch_size": "1"})
