"""The Sweep page's builders: frames and figures from hand-made trials, checked against numbers worked out here."""
import math

import pytest

from core.sweeps.spec import Param, SweepSpec
from dashboard.sweep_figures import heatmap_figure, launch_query, parallel_figure, points_frame, trials_frame

SPEC = SweepSpec(params=(Param("method.alpha", values=(0.5, 1.0)), Param("method.temperature", values=(2.0, 4.0))))


def _trial(point, alpha, temperature, seed, objective, status="finished"):
    return {"run_id": f"r{point}{seed}", "point": point, "params": {"method.alpha": alpha, "method.temperature":
            temperature}, "seed": seed, "seed_index": seed, "status": status, "error": None,
            "objective": objective, "worker": "host:1"}


TRIALS = [_trial(0, 0.5, 2.0, 0, 0.80), _trial(0, 0.5, 2.0, 1, 0.70), _trial(1, 0.5, 4.0, 0, 0.90),
          _trial(1, 0.5, 4.0, 1, None, "failed"), _trial(2, 1.0, 2.0, 0, 0.60), _trial(2, 1.0, 2.0, 1, 0.64),
          _trial(3, 1.0, 4.0, 0, None, "running"), _trial(3, 1.0, 4.0, 1, None, "queued")]


def test_frames_have_a_row_per_run_and_per_point():
    runs = trials_frame(TRIALS, SPEC.keys())
    assert len(runs) == 8 and list(runs.columns[:3]) == ["point", "method.alpha", "method.temperature"]
    points = points_frame(TRIALS, SPEC.keys()).set_index("point")
    assert points.loc[0, "objective"] == pytest.approx(0.75) and points.loc[0, "seeds_finished"] == 2
    assert points.loc[1, "objective"] == pytest.approx(0.90) and points.loc[1, "seeds_finished"] == 1
    assert points.loc[2, "objective"] == pytest.approx(0.62)
    assert math.isnan(points.loc[3, "objective"]) and points.loc[3, "seeds_finished"] == 0


def test_heatmap_cells_are_the_means_over_seeds():
    fig = heatmap_figure(points_frame(TRIALS, SPEC.keys()), "method.alpha", "method.temperature", "acc")
    cells = {(y, x): z for y, row in zip(fig.data[0].y, fig.data[0].z) for x, z in zip(fig.data[0].x, row)}
    assert cells[("2.0", "0.5")] == pytest.approx(0.75) and cells[("4.0", "0.5")] == pytest.approx(0.90)
    assert cells[("2.0", "1.0")] == pytest.approx(0.62) and math.isnan(cells[("4.0", "1.0")])


def test_many_values_become_a_scatter():
    trials = [_trial(i, 0.5, 1.0 + i, 0, i / 20) for i in range(15)]
    fig = heatmap_figure(points_frame(trials, SPEC.keys()), "method.alpha", "method.temperature", "acc")
    assert fig.data[0].type == "scatter" and list(fig.data[0].marker.color) == [i / 20 for i in range(15)]


def test_parallel_coordinates_show_each_scored_point():
    fig = parallel_figure(points_frame(TRIALS, SPEC.keys()), SPEC)
    dims = fig.data[0].dimensions  # one axis per swept key, then the objective; one line per scored point
    assert [d.label for d in dims] == ["method.alpha", "method.temperature", "best_val_accuracy"]
    assert sorted(dims[2]["values"]) == pytest.approx([0.62, 0.75, 0.90])
    assert list(dims[0].tickvals) == [0.5, 1.0] and list(dims[1].ticktext) == ["2", "4"]


def test_launch_query_names_the_preset_and_the_dotted_keys():
    spec = SweepSpec(params=SPEC.params, preset="digits-ban-noisy", overrides={"train.epochs": 30})
    query = launch_query(spec, {"method.alpha": 0.5, "method.temperature": 4.0})
    assert query == {"preset": "digits-ban-noisy", "train.epochs": "30", "method.alpha": "0.5",
                     "method.temperature": "4"}
    assert launch_query(spec, {"method.alpha": 0.123456789, "method.temperature": 1.0})["method.alpha"] == \
        "0.123456789"
    custom = SweepSpec(params=SPEC.params, preset=None, base=spec.base_config().to_dict())
    flat = launch_query(custom, {"method.alpha": 1.0, "method.temperature": 8.0})
    assert "preset" not in flat and flat["method.temperature"] == "8" and flat["data.label_noise"] == "0.4"
