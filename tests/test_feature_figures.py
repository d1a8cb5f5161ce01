"""The features-vs-baselines and label-efficiency charts: the values drawn are the values given, in order."""
from dashboard import feature_figures as ff

GENERATIONS = [{"generation": 0, "knn_accuracy": 0.91}, {"generation": 1, "knn_accuracy": 0.93}]
BASELINES = {"raw_knn_accuracy": 0.62, "pca_knn_accuracy": 0.55, "random_init_knn_accuracy": 0.83,
             "invariant_knn_accuracy": 0.95, "compute_matched_knn_accuracy": 0.94, "raw_kmeans_nmi": 0.4}


def test_baselines_figure_sorts_bars_and_colours_by_kind():
    fig = ff.baselines_figure(GENERATIONS, BASELINES, best_generation=1)
    bar = fig.data[0]
    assert list(bar.x) == sorted(bar.x)  # best on top of a horizontal bar chart
    values = dict(zip(bar.y, bar.x))
    assert values["generation 1 features (chosen on validation)"] == 0.93
    assert values["generation 0 features"] == 0.91
    assert values["k-NN on raw inputs"] == 0.62
    assert len(bar.x) == 7  # 2 generations + 5 k-NN baselines; the NMI is not a k-NN accuracy
    colors = dict(zip(bar.y, bar.marker.color))
    assert colors["generation 0 features"] == ff.LEARNED_COLOR
    assert colors["k-NN on raw inputs"] == ff.BASELINE_COLOR
    assert ff.HANDMADE_COLOR in colors.values() and ff.CONTROL_COLOR in colors.values()


def test_baselines_figure_without_a_generation_still_draws_the_baselines():
    fig = ff.baselines_figure([], {"raw_knn_accuracy": 0.5})
    assert list(fig.data[0].x) == [0.5]


def test_label_efficiency_figure_one_line_per_source_in_shot_order():
    efficiency = {"features": {"10": 0.9, "1": 0.5, "5": 0.8}, "raw": {"1": 0.2, "5": 0.4, "10": 0.5}}
    fig = ff.label_efficiency_figure(efficiency)
    assert [t.name for t in fig.data] == [ff.SOURCE_LABELS["features"], ff.SOURCE_LABELS["raw"]]
    assert list(fig.data[0].x) == [1.0, 5.0, 10.0] and list(fig.data[0].y) == [0.5, 0.8, 0.9]
    assert fig.layout.xaxis.type == "log"
