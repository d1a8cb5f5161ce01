"""dashboard.theory_figures builds plotly figures that carry exactly the data passed in."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import pytest

from dashboard.theory_figures import error_figure, fit_figure, shrink_figure

X_TRAIN, Y_TRAIN = np.array([0.0, 0.5, 1.0]), np.array([0.1, -0.2, 0.3])
X_EVAL, Y_TRUE = np.linspace(0, 1, 5), np.array([0.0, 1.0, 0.0, -1.0, 0.0])
PREDS = np.arange(20, dtype=float).reshape(4, 5)


@pytest.mark.parametrize("shown", [1, 3, 4])
def test_fit_figure_has_one_trace_per_round_shown(shown):
    fig = fit_figure(X_TRAIN, Y_TRAIN, X_EVAL, Y_TRUE, PREDS, shown)
    assert isinstance(fig, go.Figure)
    truth, data, *rounds = fig.data
    np.testing.assert_array_equal(truth.y, Y_TRUE)
    np.testing.assert_array_equal(data.x, X_TRAIN)
    np.testing.assert_array_equal(data.y, Y_TRAIN)
    assert [tr.name for tr in rounds] == [f"round {t}" for t in range(1, shown + 1)]
    for t, tr in enumerate(rounds):
        np.testing.assert_array_equal(tr.y, PREDS[t])
    assert rounds[-1].line.width > rounds[0].line.width or shown == 1


def test_fit_figure_rejects_round_out_of_range():
    with pytest.raises(ValueError, match="shown_round"):
        fit_figure(X_TRAIN, Y_TRAIN, X_EVAL, Y_TRUE, PREDS, 5)


def test_error_figure_marks_best_and_selected_round():
    errors = np.array([0.3, 0.1, 0.2, 0.4])
    fig = error_figure(errors, selected_round=3, zero_error=0.5)
    curve, best = fig.data
    np.testing.assert_array_equal(curve.x, [1, 2, 3, 4])
    np.testing.assert_array_equal(curve.y, errors)
    assert list(best.x) == [2] and list(best.y) == [0.1]
    assert {(s.x0, s.x1) for s in fig.layout.shapes if s.x0 == s.x1} == {(3, 3)}
    assert any(s.y0 == s.y1 == 0.5 for s in fig.layout.shapes)
    assert len(error_figure(errors, selected_round=1).layout.shapes) == 1


def test_shrink_figure_bar_heights_equal_factors():
    shrink, filtered = np.array([0.9, 0.6, 0.2]), np.array([0.81, 0.36, 0.04])
    only = shrink_figure(shrink)
    assert len(only.data) == 1 and only.data[0].type == "bar"
    np.testing.assert_array_equal(only.data[0].y, shrink)
    both = shrink_figure(shrink, filtered, label="after round 2")
    assert [tr.type for tr in both.data] == ["bar", "bar"]
    np.testing.assert_array_equal(both.data[1].y, filtered)
    np.testing.assert_array_equal(both.data[1].x, [1, 2, 3])
    assert both.data[1].name == "after round 2"
