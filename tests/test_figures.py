"""dashboard.figures: traces carry exactly the data passed in; smoothing matches values worked out by hand."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from dashboard import figures


def _epochs(generations: int = 2, epochs: int = 3) -> pd.DataFrame:
    rows = [{"generation": g, "epoch": e, "loss": 10 * g + e + 1.0, "ce": 2.0 - e / 10, "kd": float(g)}
            for g in range(generations) for e in range(epochs)]
    return pd.DataFrame(rows)


def _views(n_generations: int = 3, with_probs: bool = True) -> dict[int, pd.DataFrame]:
    views = {}
    for g in range(n_generations):
        frame = pd.DataFrame({"index": [0, 1, 2, 3], "x": [0.0, 1.0, 2.0, 3.0 + g], "y": [1.0, 0.0, -g, 2.0],
                              "label": [0, 1, 2, 1]})
        if with_probs:
            frame["prediction"] = [0, 1, 1 if g == 0 else 2, 0]
            frame["correct"] = frame["prediction"] == frame["label"]
        views[g] = frame
    return views


def test_smooth_matches_hand_computed_ema():
    # w = 0.5: s0 = 4, s1 = 0.5*4 + 0.5*0 = 2, s2 = 0.5*2 + 0.5*8 = 5, s3 = 0.5*5 + 0.5*1 = 3
    np.testing.assert_allclose(figures.smooth([4, 0, 8, 1], 0.5), [4, 2, 5, 3])
    # w = 0.9: s1 = 0.9*10 + 0.1*0 = 9, s2 = 0.9*9 + 0.1*0 = 8.1
    np.testing.assert_allclose(figures.smooth([10, 0, 0], 0.9), [10, 9, 8.1])
    np.testing.assert_array_equal(figures.smooth([3, 1, 2], 0.0), [3, 1, 2])


@pytest.mark.parametrize("weight", [-0.1, 1.0, 1.5])
def test_smooth_rejects_weights_outside_zero_one(weight):
    with pytest.raises(ValueError, match="smoothing weight"):
        figures.smooth([1, 2], weight)


def test_loss_figure_draws_each_part_of_each_generation_in_its_generation_colour():
    fig = figures.loss_figure(_epochs(), ["ce", "kd"])
    lines = [t for t in fig.data if t.x is not None and t.x[0] is not None]
    assert len(lines) == 3  # gen 0 CE, gen 1 CE and KD: generation 0's KD is all zeros (no teacher), not drawn
    gen0_ce, gen1_ce, gen1_kd = lines
    np.testing.assert_array_equal(gen1_kd.x, [1, 2, 3])  # epochs shown 1-based
    np.testing.assert_array_equal(gen1_kd.y, [1.0, 1.0, 1.0])
    np.testing.assert_allclose(gen0_ce.y, [2.0, 1.9, 1.8])
    assert gen1_ce.line.color == gen1_kd.line.color != gen0_ce.line.color
    assert gen1_ce.line.dash != gen1_kd.line.dash
    assert [t.name for t in fig.data if t.showlegend is not False] == ["gen 0", "gen 1", "CE", "KD"]
    assert fig.layout.xaxis.title.text == "epoch" and fig.layout.yaxis.title.text == "loss"
    assert fig.layout.yaxis.type == "linear"
    assert figures.loss_figure(_epochs(), ["ce"], log_y=True).layout.yaxis.type == "log"


def test_loss_figure_smooths_per_generation_and_keeps_raw_values_faint():
    fig = figures.loss_figure(_epochs(generations=2, epochs=3), ["loss"], smoothing=0.5)
    raw = [t for t in fig.data if t.showlegend is False]
    smoothed = [t for t in fig.data if t.showlegend is not False]
    np.testing.assert_array_equal(raw[1].y, [11, 12, 13])
    # generation 1 restarts the average: 11, 0.5*11+0.5*12 = 11.5, 0.5*11.5+0.5*13 = 12.25
    np.testing.assert_allclose(smoothed[1].y, [11, 11.5, 12.25])
    assert raw[0].opacity < 1


def test_loss_figure_without_data_says_it_is_waiting():
    fig = figures.loss_figure(pd.DataFrame(), ["ce"])
    assert not fig.data and "waiting" in fig.layout.annotations[0].text


def test_accuracy_figure_plots_available_metrics_and_generation_zero_reference():
    gens = pd.DataFrame({"generation": [0, 1, 2], "test_accuracy": [0.80, 0.85, 0.86],
                         "ensemble_accuracy": [0.80, 0.84, 0.87], "knn_accuracy": [0.9, 0.91, 0.92]})
    fig = figures.accuracy_figure(gens, {"raw_knn_accuracy": 0.97}, supervised=True)
    names = [t.name for t in fig.data]
    assert names == ["test accuracy", "ensemble of generations 0…g", "k-NN on features",
                     "generation 0 (first teacher)"]
    np.testing.assert_allclose(fig.data[0].y, [0.80, 0.85, 0.86])
    np.testing.assert_allclose(fig.data[-1].y, [0.80, 0.80])
    assert fig.layout.xaxis.title.text == "generation" and fig.layout.yaxis.tickformat == ".1%"


def test_accuracy_figure_of_a_label_free_run_uses_the_knn_baselines():
    gens = pd.DataFrame({"generation": [0, 1], "knn_accuracy": [0.7, 0.75], "linear_probe_accuracy": [0.8, 0.82]})
    fig = figures.accuracy_figure(gens, {"raw_knn_accuracy": 0.97, "random_init_knn_accuracy": 0.6},
                                  supervised=False)
    refs = {t.name: t.y[0] for t in fig.data if t.name in figures.BASELINE_LABELS.values()}
    assert refs == {"k-NN on raw inputs": 0.97, "k-NN on random-init features": 0.6}
    assert "generation 0 (first teacher)" not in [t.name for t in fig.data]


def _shown(fig, frame: int | None = None) -> dict[str, list]:
    """Trace name -> test indices of the traces of the colouring shown (in the figure or in one frame)."""
    visible = {i for i, t in enumerate(fig.data) if t.visible}
    traces = fig.data if frame is None else fig.frames[frame].data
    return {t.name: [row[0] for row in t.customdata] for i, t in enumerate(traces) if i in visible}


def test_embedding_figure_has_one_frame_per_generation_and_a_play_button():
    fig = figures.embedding_figure(_views(3), n_classes=3, start=0)
    assert [f.name for f in fig.frames] == ["0", "1", "2"]
    assert [s.label for s in fig.layout.sliders[0].steps] == ["0", "1", "2"]
    assert fig.layout.updatemenus[0].buttons[0].label.endswith("Play")
    assert _shown(fig) == {"0": [0], "1": [1, 3], "2": [2]}  # coloured by true label, one trace per class
    assert fig.layout.legend.title.text == "true label"
    class1 = fig.frames[2].data[1]
    np.testing.assert_array_equal(class1.x, [1.0, 3.0 + 2])
    assert [list(row) for row in class1.customdata] == [[1, 1, 1], [3, 1, 0]]  # index, label, prediction
    # fixed axes cover every frame, so points move only when the features moved
    assert fig.layout.xaxis.range[0] < 0 and fig.layout.xaxis.range[1] > 5


def _switch(fig, label: str) -> None:
    """What a colouring button does in the browser: its restyle and relayout, applied here."""
    button = next(b for b in fig.layout.updatemenus[1].buttons if b.label == label)
    style, layout = button.args
    for trace, visible in zip(fig.data, style["visible"]):
        trace.visible = visible
    fig.update_layout(layout)


def test_embedding_figure_switches_colouring_in_the_browser_with_every_frame_ready():
    fig = figures.embedding_figure(_views(2), n_classes=3, start=1)
    menu = fig.layout.updatemenus[1]
    assert [b.label for b in menu.buttons] == ["true label", "prediction", "correct / wrong"] and menu.active == 0
    assert fig.layout.sliders[0].active == 1  # starts at the generation asked for
    assert all(t.visible is None for f in fig.frames for t in f.data)  # a frame keeps the colouring shown
    _switch(fig, "correct / wrong")
    assert fig.layout.legend.title.text == "correct / wrong"
    assert _shown(fig, frame=0) == {"correct": [0, 1], "wrong": [2, 3]}
    assert _shown(fig, frame=1) == {"correct": [0, 1, 2], "wrong": [3]}
    _switch(fig, "prediction")
    assert fig.layout.legend.title.text == "prediction"
    assert _shown(fig, frame=0) == {"0": [0, 3], "1": [1, 2], "2": []}
    assert _shown(fig, frame=1) == {"0": [0, 3], "1": [1], "2": [2]}  # point 2 moves to class 2's trace


def test_embedding_figure_of_a_label_free_run_offers_only_the_label_colouring():
    fig = figures.embedding_figure(_views(2, with_probs=False), n_classes=3, start=0)
    assert len(fig.layout.updatemenus) == 1  # Play and Pause, no colouring buttons
    assert all(t.visible for t in fig.data) and {t.meta for t in fig.data} == {"label"}
    assert [list(row) for row in fig.frames[1].data[1].customdata] == [[1, 1], [3, 1]]  # index, label


def test_probability_figure_outlines_the_true_class():
    probs = np.array([[0.7, 0.2, 0.1], [0.1, 0.8, 0.1]])
    fig = figures.probability_figure(probs, [0, 1], true_label=1)
    np.testing.assert_array_equal(fig.data[0].z, probs)
    assert list(fig.data[0].y) == ["gen 0", "gen 1"] and list(fig.data[0].x) == ["0", "1", "2"]
    rect = fig.layout.shapes[0]
    assert (rect.x0, rect.x1) == (0.5, 1.5)


def test_digit_figure_shows_the_pixels_top_row_first():
    pixels = np.arange(64).reshape(8, 8)
    fig = figures.digit_figure(pixels, "input 3")
    np.testing.assert_array_equal(fig.data[0].z, pixels)
    assert fig.layout.yaxis.autorange == "reversed" and fig.layout.title.text == "input 3"


def test_compare_accuracy_figure_draws_error_bars_only_for_groups():
    series = pd.DataFrame({"name": ["a", "a", "b", "b"], "generation": [0, 1, 0, 1],
                           "mean": [0.8, 0.9, 0.7, 0.75], "std": [0.01, 0.02, np.nan, np.nan], "n": [2, 2, 1, 1]})
    fig = figures.compare_accuracy_figure(series, "test accuracy")
    a, b = fig.data
    np.testing.assert_allclose(a.error_y.array, [0.01, 0.02])
    assert a.error_y.visible and not b.error_y.visible
    assert fig.layout.yaxis.title.text == "test accuracy"


def test_compare_loss_figure_lines_runs_up_generation_by_generation():
    fig = figures.compare_loss_figure({"run a": _epochs(2, 3), "run b": _epochs(1, 4)}, "loss")
    a, b = fig.data
    np.testing.assert_allclose(a.x, [1 / 3, 2 / 3, 1, 4 / 3, 5 / 3, 2])
    np.testing.assert_array_equal(a.y, [1, 2, 3, 11, 12, 13])
    np.testing.assert_allclose(b.x, [0.25, 0.5, 0.75, 1.0])  # 4 epochs per generation
    assert (a.name, b.name) == ("run a", "run b")


def test_softening_figure_matches_softmax_by_hand():
    fig = figures.softening_figure({"T = 1": 1.0, "T = 2": 2.0}, logits=np.array([0.0, np.log(3.0)]))
    # T = 1: e^0 : e^ln3 = 1 : 3 -> 0.25, 0.75; T = 2: 1 : sqrt(3)
    np.testing.assert_allclose(fig.data[0].y, [0.25, 0.75])
    np.testing.assert_allclose(fig.data[1].y, [1 / (1 + np.sqrt(3)), np.sqrt(3) / (1 + np.sqrt(3))])
    assert [t.name for t in fig.data] == ["T = 1", "T = 2"]
