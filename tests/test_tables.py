"""dashboard.tables: run lists, per-generation tables, 2-D points, config diffs and seed groups."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from core.config import RunConfig
from dashboard import tables


def _run(run_id: str, seed: int = 0, label: str | None = "dry-run", status: str = "finished",
         **updates) -> dict:
    config = RunConfig().override({"seed": seed, **updates}).to_dict()
    summary = {"generations": [{"generation": 0, "test_accuracy": 0.5}, {"generation": 1, "test_accuracy": 0.75}]}
    return {"id": run_id, "status": status, "config": config, "created": 1.7e9, "started": 1.7e9 + 5,
            "label": label, "summary": summary}


def test_runs_frame_shows_final_metrics_and_start_time():
    frame = tables.runs_frame([_run("b", seed=1), _run("a", label=None, status="failed")])
    assert list(frame["run"]) == ["b", "a"]
    assert list(frame["preset"]) == ["dry-run", ""]
    assert frame.loc[0, "test acc"] == 0.75 and frame.loc[0, "seed"] == 1
    assert frame.loc[0, "started"] == pd.Timestamp.fromtimestamp(1.7e9 + 5)


def test_generation_frame_renames_and_drops_missing_metrics():
    frame = tables.generation_frame([{"generation": 0, "test_accuracy": 0.5, "test_ece": 0.1, "extra": 1}])
    assert list(frame.columns) == ["generation", "test acc", "ECE (calibration)"]


def test_embedding_points_are_centred_unit_rms_and_carry_predictions():
    embedding = np.array([[0.0, 0.0], [2.0, 0.0], [4.0, 0.0], [6.0, 0.0]])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]])
    points = tables.embedding_points(embedding, np.array([0, 1, 1, 1]), probs)
    # centred: -3, -1, 1, 3; RMS radius sqrt((9+1+1+9)/4) = sqrt(5)
    np.testing.assert_allclose(points["x"], np.array([-3, -1, 1, 3]) / np.sqrt(5))
    assert list(points["prediction"]) == [0, 1, 0, 1]
    assert list(points["correct"]) == [True, True, False, True]


def test_embedding_points_subsample_the_same_points_every_time():
    embedding = np.random.default_rng(0).normal(size=(50, 2))
    labels = np.arange(50) % 3
    a = tables.embedding_points(embedding, labels, limit=10, seed=4)
    b = tables.embedding_points(embedding * 3, labels, limit=10, seed=4)
    assert len(a) == 10 and list(a["index"]) == list(b["index"])
    assert "prediction" not in a


def test_telling_point_prefers_an_input_the_last_generation_fixed():
    labels = np.array([0, 1, 1])
    gen0 = np.array([[0.9, 0.1], [0.6, 0.4], [0.7, 0.3]])  # wrong on 1 and 2
    gen1 = np.array([[0.9, 0.1], [0.7, 0.3], [0.2, 0.8]])  # fixes 2
    assert tables.telling_point([gen0, gen1], labels)[0] == 2
    assert tables.telling_point([gen0], labels)[0] == 0


def test_config_diff_keeps_only_differing_keys():
    a, b = RunConfig().to_dict(), RunConfig().override({"method.alpha": 0.5, "seed": 3}).to_dict()
    diff = tables.config_diff({"run a": a, "run b": b})
    assert list(diff.index) == ["method.alpha", "seed"]
    assert diff.loc["method.alpha"].tolist() == [1.0, 0.5]
    assert tables.config_diff({"x": a, "y": a}).empty


def test_seed_groups_join_runs_that_differ_only_by_seed():
    runs = [_run("r1", seed=0), _run("r2", seed=1), _run("r3", seed=0, **{"method.alpha": 0.5})]
    groups = tables.seed_groups(runs)
    sizes = sorted(len(m) for m in groups.values())
    assert sizes == [1, 2]
    assert any("2 seeds (0, 1)" in name for name in groups)


def test_metric_by_generation_gives_mean_and_sample_std():
    gens_a = [{"generation": 0, "test_accuracy": 0.8}, {"generation": 1, "test_accuracy": 0.9}]
    gens_b = [{"generation": 0, "test_accuracy": 0.6}]
    series = tables.metric_by_generation({"group": [gens_a, gens_b], "solo": [gens_a]}, "test_accuracy")
    row = series[(series["name"] == "group") & (series["generation"] == 0)].iloc[0]
    assert row["mean"] == pytest.approx(0.7) and row["std"] == pytest.approx(np.sqrt(0.02)) and row["n"] == 2
    lone = series[(series["name"] == "group") & (series["generation"] == 1)].iloc[0]
    assert lone["n"] == 1 and np.isnan(lone["std"])
    table = tables.mean_std_table(series)
    assert table.loc["group", "gen 0"] == "0.700 ± 0.141" and table.loc["solo", "gen 1"] == "0.900"


def test_the_generation_caption_explains_only_the_columns_shown():
    label_free = tables.generation_caption(["generation", "k-NN acc", "probe acc"], noisy=False)
    assert "Agrees with teacher" not in label_free and "Memorized noise" not in label_free
    born_again = tables.generation_caption(["test acc", "ECE (calibration)", "agrees with teacher",
                                            "memorized noise", "k-NN acc"], noisy=True)
    assert "Agrees with teacher" in born_again and "Memorized noise" in born_again
    assert "scored with the clean labels" in born_again
    assert "clean labels" not in tables.generation_caption(["k-NN acc"], noisy=False)


def test_live_charts_keep_at_most_600_evenly_spaced_epochs_per_generation_with_first_and_last():
    from dashboard.live_figures import thinned

    rows = (
        [{"generation": 0, "epoch": e} for e in range(1800)] + [{"generation": 1, "epoch": e} for e in range(50)])
    kept = thinned(rows)
    first = [r["epoch"] for r in kept if r["generation"] == 0]
    assert len(first) == 600 and first[0] == 0 and first[-1] == 1799
    assert set(b - a for a, b in zip(first, first[1:])) <= {3, 4}  # 1799 / 599 ≈ 3.003: evenly spaced
    assert [r["epoch"] for r in kept if r["generation"] == 1] == list(range(50))  # short generations untouched
