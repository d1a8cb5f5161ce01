"""Pure figure builders for the Runs and Compare pages: DataFrames and arrays in, plotly figures out.

Nothing here imports streamlit, so tests can check traces, values and axis titles without a browser.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping, Sequence

import numpy as np
import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale

from core import metric_names
from core.reports.template import TEMPLATE

if TYPE_CHECKING:  # frames are passed in; importing pandas here would slow the Launch page's first paint
    import pandas as pd

PART_LABELS = {"loss": "total", "ce": "CE", "kd": "KD", "dino": "DINO"}
PART_DASHES = ("solid", "dash", "dot", "dashdot")
ACCURACY_METRICS = metric_names.labels(metric_names.ACCURACIES)
BASELINE_LABELS = metric_names.labels(metric_names.ACCURACY_REFERENCES)
COLOR_BY = {"label": "true label", "prediction": "prediction", "correct": "correct / wrong"}
CORRECT_COLORS = {"correct": "#2E9E5B", "wrong": "#D64545"}
REFERENCE_COLOR = "#8A8F98"
CHART_HEIGHT = 400
EMBEDDING_HEIGHT = 600
_LAYOUT = dict(template=TEMPLATE, margin=dict(l=10, r=10, t=10, b=10),
               legend=dict(orientation="h", yanchor="top", y=-0.18, x=0))


def smooth(values: Sequence[float], weight: float) -> np.ndarray:
    """Exponential moving average: s₀ = v₀, sₜ = w·sₜ₋₁ + (1−w)·vₜ; weight 0 returns the values unchanged."""
    if not 0.0 <= weight < 1.0:
        raise ValueError(f"smoothing weight {weight}: must be in [0, 1)")
    values = np.asarray(values, dtype=float)
    out = np.empty_like(values)
    for i, value in enumerate(values):
        out[i] = value if i == 0 else weight * out[i - 1] + (1 - weight) * value
    return out


def generation_colors(n: int) -> list[str]:
    """One colour per generation, dark blue to green (Viridis without its pale yellow end)."""
    if n <= 1:
        return sample_colorscale("Viridis", [0.0])
    return sample_colorscale("Viridis", list(np.linspace(0.0, 0.8, n)))


def class_colors(n: int) -> list[str]:
    palette = qualitative.D3 if n <= 10 else qualitative.Alphabet
    return [palette[i % len(palette)] for i in range(n)]


def _waiting(fig: go.Figure, text: str) -> go.Figure:
    fig.add_annotation(text=text, showarrow=False, xref="paper", yref="paper", x=0.5, y=0.5,
                       font=dict(size=14, color=REFERENCE_COLOR))
    return fig


def part_label(part: str) -> str:
    return PART_LABELS.get(part, part.replace("_", " "))


def loss_figure(epochs: pd.DataFrame, parts: Sequence[str], smoothing: float = 0.0,
                n_generations: int | None = None, log_y: bool = False) -> go.Figure:
    """Per-epoch loss: one colour per generation, one dash per loss part; raw values stay faint under smoothing.

    The legend lists each generation once (its colour) and each loss part once (its dash).
    """
    fig = go.Figure().update_layout(**_LAYOUT, height=CHART_HEIGHT, xaxis_title="epoch", hovermode="closest",
                                    yaxis=dict(title="loss", type="log" if log_y else "linear"))
    if epochs.empty or not parts:
        return _waiting(fig, "waiting for the first epoch…" if parts else "pick a loss part to plot")
    generations = sorted(epochs["generation"].unique())
    colors = generation_colors(max(n_generations or 0, int(max(generations)) + 1))
    drawn = [p for p in parts if p in epochs]
    shown: set[str] = set()  # generations already in the legend
    for g in generations:
        rows = epochs[epochs["generation"] == g].sort_values("epoch")
        x = rows["epoch"].to_numpy() + 1
        for i, part in enumerate(drawn):
            y = rows[part].to_numpy(dtype=float)
            if not np.any(y):  # a part this generation does not use (KD before there is a teacher)
                continue
            color = colors[int(g)]
            if smoothing > 0:
                fig.add_scatter(x=x, y=y, mode="lines", line=dict(color=color, width=1), opacity=0.25,
                                showlegend=False, hoverinfo="skip", legendgroup=f"gen{g}")
                y = smooth(y, smoothing)
            fig.add_scatter(x=x, y=y, mode="lines", line=dict(color=color, dash=PART_DASHES[i % 4], width=2),
                            name=f"gen {g}", legendgroup=f"gen{g}", showlegend=f"gen {g}" not in shown,
                            hovertemplate=f"gen {g} · {part_label(part)}<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>")
            shown.add(f"gen {g}")
    if len(drawn) > 1:  # a legend key for each dash style
        for i, part in enumerate(drawn):
            fig.add_scatter(x=[None], y=[None], mode="lines", name=part_label(part),
                            line=dict(color=REFERENCE_COLOR, dash=PART_DASHES[i % 4], width=2))
    return fig


def _reference(fig: go.Figure, x_range: tuple[float, float], level: float, name: str, dash: str) -> None:
    fig.add_scatter(x=list(x_range), y=[level, level], mode="lines", name=name,
                    line=dict(color=REFERENCE_COLOR, dash=dash, width=1.5),
                    hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")


@dataclass(frozen=True)
class GenerationScale:
    """What the per-generation chart plots: accuracies (higher is better) or, for speech runs, word error rates
    (lower is better, as speech papers report them; a reference accuracy a becomes the WER 1 − a)."""
    metrics: Mapping[str, str]  # column -> legend name
    supervised_column: str  # the headline metric of a supervised run (its generation 0 is the reference line)
    free_column: str  # the headline metric of a label-free run
    references: Mapping[str, str]  # baseline accuracy key -> legend name (label-free runs)
    yaxis: Mapping
    from_accuracy: Callable[[float], float] = float


ACCURACY_SCALE = GenerationScale(ACCURACY_METRICS, "test_accuracy", "knn_accuracy", BASELINE_LABELS,
                                 {"title": "accuracy", "tickformat": ".1%"})
WER_SCALE = GenerationScale(metric_names.labels(("test_wer", "knn_wer", "linear_probe_wer")), "test_wer", "knn_wer",
                            {"raw_knn_accuracy": "k-NN WER on raw log-mel", "mfcc_knn_accuracy": "k-NN WER on MFCC"},
                            {"title": "WER (lower is better)", "tickformat": ".1%", "rangemode": "tozero"},
                            lambda accuracy: 1.0 - accuracy)


def is_speech(generations: pd.DataFrame) -> bool:
    """A speech run's generations carry word error rates."""
    return any(c in generations for c in WER_SCALE.metrics)


def accuracy_figure(generations: pd.DataFrame, baselines: Mapping[str, float] | None = None,
                    supervised: bool = True, best_generation: int | None = None,
                    empty_text: str = "waiting for the first generation to finish…") -> go.Figure:
    """Accuracy (or, for a speech run, WER) per generation with references: generation 0's level (supervised) or
    the k-NN baselines, and a ring around the generation chosen on validation; ``empty_text`` is said before any
    generation exists."""
    scale = WER_SCALE if is_speech(generations) else ACCURACY_SCALE
    fig = go.Figure().update_layout(**_LAYOUT, height=CHART_HEIGHT, xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(scale.yaxis), hovermode="x unified")
    if generations.empty:
        fig.update_yaxes(range=[0, 1])
        return _waiting(fig, empty_text)
    frame = generations.sort_values("generation")
    x = frame["generation"].to_numpy()
    for i, (column, name) in enumerate(scale.metrics.items()):
        if column in frame and frame[column].notna().any():
            fig.add_scatter(x=x, y=frame[column], mode="lines+markers", name=name,
                            line=dict(color=qualitative.D3[i],
                                      width=2.5 if column == scale.supervised_column else 1.8),
                            marker=dict(size=8), hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")
    x_range = (float(x.min()) - 0.25, float(x.max()) + 0.25)
    if supervised and scale.supervised_column in frame and frame["generation"].iloc[0] == 0:
        _reference(fig, x_range, float(frame[scale.supervised_column].iloc[0]), "generation 0 (first teacher)", "dot")
    if not supervised:
        for key, name in scale.references.items():
            if baselines and baselines.get(key) is not None:
                _reference(fig, x_range, scale.from_accuracy(float(baselines[key])), name,
                           "dot" if key.startswith("raw") else "dash")
    chosen = frame[frame["generation"] == best_generation]
    column = scale.supervised_column if supervised else scale.free_column
    if best_generation is not None and not chosen.empty and column in chosen:
        fig.add_scatter(x=[best_generation], y=[float(chosen[column].iloc[0])], mode="markers",
                        name="chosen on validation", marker=dict(size=20, symbol="circle-open", color="#111111",
                                                                 line=dict(width=2)),
                        hovertemplate="generation %{x}: chosen on validation<extra></extra>")
    return fig


def monitor_figure(epochs: pd.DataFrame) -> go.Figure:
    """Label-free collapse monitor: the teacher's mean entropy per epoch against log K (its maximum)."""
    fig = go.Figure().update_layout(**_LAYOUT, xaxis_title="epoch (all generations in order)",
                                    yaxis_title="teacher entropy (nats)")
    if epochs.empty or "teacher_entropy" not in epochs:
        return _waiting(fig, "no collapse monitor in this run")
    frame = epochs.sort_values(["generation", "epoch"]).reset_index(drop=True)
    x = np.arange(1, len(frame) + 1)
    fig.add_scatter(x=x, y=frame["teacher_entropy"], mode="lines", name="teacher entropy",
                    line=dict(color=qualitative.D3[0], width=2))
    if "log_k" in frame:
        fig.add_scatter(x=x, y=frame["log_k"], mode="lines", name="log K (uniform: collapse)",
                        line=dict(color=REFERENCE_COLOR, dash="dash"))
    fig.add_hline(y=0, line=dict(color=REFERENCE_COLOR, dash="dot", width=1),
                  annotation_text="0 (one-hot: collapse)", annotation_position="bottom right")
    return fig


def colorings(points: pd.DataFrame) -> list[str]:
    """The colourings a view offers, label first (the default): prediction and correct/wrong need predictions,
    which a label-free run does not have."""
    return ["label", "prediction", "correct"] if "prediction" in points else ["label"]


def _categories(points: pd.DataFrame, color_by: str, n_classes: int) -> tuple[list[str], list[str], pd.Series]:
    """Category names, their colours, and each point's category under ``color_by``."""
    if color_by == "correct":
        return list(CORRECT_COLORS), list(CORRECT_COLORS.values()), points["correct"].map(
            {True: "correct", False: "wrong"})
    names = [str(k) for k in range(n_classes)]
    return names, class_colors(n_classes), points[color_by].astype(int).astype(str)


def _point_traces(points: pd.DataFrame, color_by: str, n_classes: int, visible: bool = True) -> list[dict]:
    """One scatter trace (a plain dict of numpy arrays) per category of ``color_by``, tagged with it in ``meta``.

    customdata holds each point's test index, label (and prediction): integers travel as compact binary,
    where per-point hover strings would triple the figure's size.
    """
    names, colors, category = _categories(points, color_by, n_classes)
    columns = ["index", "label", "prediction"] if "prediction" in points else ["index", "label"]
    data = points[columns].to_numpy(dtype=np.int32)
    hover = "point %{customdata[0]}<br>label %{customdata[1]}" + (
        "<br>prediction %{customdata[2]}" if "prediction" in points else "") + "<extra></extra>"
    traces = []
    for name, color in zip(names, colors):
        mask = (category == name).to_numpy()
        traces.append(dict(type="scatter", x=points["x"].to_numpy()[mask], y=points["y"].to_numpy()[mask],
                           mode="markers", name=name, meta=color_by, visible=visible,
                           ids=data[mask, 0].astype(str), customdata=data[mask], hovertemplate=hover,
                           marker=dict(color=color, size=7, opacity=0.85, line=dict(width=0.5, color="white"))))
    return traces


def _all_traces(points: pd.DataFrame, keys: Sequence[str], n_classes: int) -> list[dict]:
    """The traces of every colouring, the first one visible."""
    return [t for i, key in enumerate(keys) for t in _point_traces(points, key, n_classes, visible=i == 0)]


def _padded(values: np.ndarray) -> list[float]:
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    pad = 0.05 * (high - low or 1.0)
    return [low - pad, high + pad]


def _coloring_menu(traces: Sequence[dict], keys: Sequence[str]) -> dict:
    """Buttons that switch the colouring in the browser: show one colouring's traces, retitle the legend.

    Every colouring is already in the figure and in every animation frame, so a switch is a restyle in the
    browser (tens of ms), with no round trip to the server, and the slider and Play keep working.
    """
    buttons = [dict(label=COLOR_BY[key], method="update",
                    args=[{"visible": [t["meta"] == key for t in traces]}, {"legend.title.text": COLOR_BY[key]}])
               for key in keys]
    return dict(type="buttons", direction="left", x=0.0, y=1.0, xanchor="left", yanchor="bottom", pad=dict(b=6),
                showactive=True, active=0, buttons=buttons, name="color_by")


def embedding_figure(views: Mapping[int, pd.DataFrame], n_classes: int, start: int) -> go.Figure:
    """The 2-D views of every generation as animation frames, with a generation slider and a play button,
    coloured by true label, with buttons that recolour by prediction or correct/wrong where the run has them.

    ``views`` maps generation -> points (index, x, y, label, and prediction/correct for supervised runs);
    the axes stay fixed across frames so that points move only when the features moved.
    """
    generations = sorted(views)
    if not generations:
        return _waiting(go.Figure().update_layout(**_LAYOUT), "the 2-D view appears when generation 0 has finished")
    start = start if start in views else generations[-1]
    keys = colorings(views[start])
    all_x = np.concatenate([views[g]["x"].to_numpy() for g in generations])
    all_y = np.concatenate([views[g]["y"].to_numpy() for g in generations])
    step = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 250}}
    play = {"mode": "immediate", "fromcurrent": True, "frame": {"duration": 1200, "redraw": False},
            "transition": {"duration": 700, "easing": "cubic-in-out"}}
    pause = {"mode": "immediate", "frame": {"duration": 0, "redraw": False}, "transition": {"duration": 0}}
    data = _all_traces(views[start], keys, n_classes)
    menus = [dict(type="buttons", direction="left", x=0.0, y=0.0, xanchor="left", yanchor="top",
                  pad=dict(t=36), showactive=False, buttons=[
                      dict(label="▶ Play", method="animate", args=[None, play]),
                      dict(label="Pause", method="animate", args=[[None], pause])])]
    if len(keys) > 1:
        menus.append(_coloring_menu(data, keys))
    layout = dict(
        _LAYOUT, height=EMBEDDING_HEIGHT, dragmode="pan", clickmode="event+select",
        legend=dict(orientation="v", yanchor="top", y=1, x=1.01, title=dict(text=COLOR_BY[keys[0]])),
        xaxis=dict(range=_padded(all_x), showticklabels=False, title=None, zeroline=False, showgrid=False),
        yaxis=dict(range=_padded(all_y), showticklabels=False, title=None, zeroline=False, showgrid=False),
        margin=dict(l=10, r=10, t=40, b=110), updatemenus=menus,
        sliders=[dict(active=generations.index(start), x=0.25, len=0.75, y=0.0, yanchor="top", pad=dict(t=10),
                      currentvalue=dict(prefix="generation ", xanchor="right", font=dict(size=13)),
                      transition=dict(duration=250),
                      steps=[dict(label=str(g), method="animate", args=[[str(g)], step]) for g in generations])],
    )
    # Frames carry no ``visible``, so a frame moves the points of every colouring and keeps the one shown.
    frames = [dict(name=str(g), data=[{k: v for k, v in t.items() if k != "visible"}
                                      for t in _all_traces(views[g], keys, n_classes)]) for g in generations]
    # Built from plain dicts without per-property validation, several times faster for the many traces of a
    # multi-generation view, which keeps a redraw of the view (a new generation, a clicked point) quick.
    return go.Figure(dict(data=data, layout=layout, frames=frames), _validate=False)


def digit_figure(pixels: np.ndarray, title: str = "") -> go.Figure:
    """An image-shaped input (H, W) as a grey heatmap, ink dark on white, top row at the top."""
    fig = go.Figure(go.Heatmap(z=np.asarray(pixels, dtype=float), colorscale="Greys", showscale=False,
                               hovertemplate="row %{y}, col %{x}: %{z:.0f}<extra></extra>"))
    return fig.update_layout(template=TEMPLATE, title=title, height=240, margin=dict(l=0, r=0, t=40, b=0),
                             xaxis=dict(visible=False, constrain="domain"),
                             yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))


def probability_figure(probs: np.ndarray, generations: Sequence[int], true_label: int) -> go.Figure:
    """Class probabilities of one input in every generation: rows generations, columns classes."""
    probs = np.asarray(probs, dtype=float)  # (G, K)
    classes = [str(k) for k in range(probs.shape[1])]
    rows = [f"gen {g}" for g in generations]
    text = [[f"{p:.0%}" if p >= 0.005 else "" for p in row] for row in probs]
    fig = go.Figure(go.Heatmap(z=probs, x=classes, y=rows, zmin=0, zmax=1, colorscale="Blues", text=text,
                               texttemplate="%{text}", showscale=False,
                               hovertemplate="%{y}, class %{x}: %{z:.1%}<extra></extra>"))
    fig.add_shape(type="rect", x0=true_label - 0.5, x1=true_label + 0.5, y0=-0.5, y1=len(rows) - 0.5,
                  line=dict(color=CORRECT_COLORS["correct"], width=3))
    return fig.update_layout(template=TEMPLATE, height=80 + 36 * len(rows), margin=dict(l=0, r=0, t=40, b=0),
                             title=f"class probabilities (true class {true_label} outlined)",
                             xaxis=dict(title="class", type="category"),
                             yaxis=dict(autorange="reversed", type="category"))


EXAMPLE_LOGITS = np.array([1.0, 0.2, 2.1, 3.2, -0.5, 1.4, -1.0, 6.0, 2.6, 3.9])  # a confident "7", second guess 9


def softmax(logits: np.ndarray, temperature: float) -> np.ndarray:
    z = np.asarray(logits, dtype=float) / temperature
    e = np.exp(z - z.max())
    return e / e.sum()


def softening_figure(temperatures: Mapping[str, float], logits: np.ndarray = EXAMPLE_LOGITS) -> go.Figure:
    """softmax(logits / T) for each named temperature: how a temperature softens (T > 1) or sharpens (T < 1)."""
    fig = go.Figure().update_layout(**_LAYOUT, height=260, barmode="group", bargap=0.25,
                                    xaxis=dict(title="class", type="category"),
                                    yaxis=dict(title="probability", tickformat=".0%", range=[0, 1]))
    for i, (name, temperature) in enumerate(temperatures.items()):
        fig.add_bar(x=[str(k) for k in range(len(logits))], y=softmax(logits, temperature), name=name,
                    marker_color=(REFERENCE_COLOR, qualitative.D3[0], qualitative.D3[1])[i % 3],
                    hovertemplate=f"{name}, class %{{x}}: %{{y:.1%}}<extra></extra>")
    return fig.update_layout(legend=dict(y=-0.35))


def compare_accuracy_figure(series: pd.DataFrame, metric_label: str) -> go.Figure:
    """One line per run or seed group: columns name, generation, mean, std (NaN for a single run), n."""
    fig = go.Figure().update_layout(**_LAYOUT, xaxis=dict(title="generation", dtick=1),
                                    yaxis=dict(title=metric_label, tickformat=".0%"), hovermode="x unified")
    if series.empty:
        return _waiting(fig, "no finished generation in these runs yet")
    for i, (name, rows) in enumerate(series.groupby("name", sort=False)):
        rows = rows.sort_values("generation")
        std = rows["std"].fillna(0).to_numpy()
        fig.add_scatter(x=rows["generation"], y=rows["mean"], mode="lines+markers", name=name,
                        line=dict(color=qualitative.D3[i % 10], width=2),
                        error_y=dict(type="data", array=std, visible=bool(std.any()), thickness=1.5),
                        hovertemplate=f"{name}: %{{y:.1%}}<extra></extra>")
    return fig


def compare_loss_figure(epochs: Mapping[str, pd.DataFrame], part: str, smoothing: float = 0.0) -> go.Figure:
    """One line per run of the chosen loss part; x = generation + (epoch + 1) / epochs, so runs with different
    epoch counts line up generation by generation."""
    fig = go.Figure().update_layout(**_LAYOUT, xaxis=dict(title="generation (its epochs in order)", dtick=1),
                                    yaxis_title=f"{part_label(part)} loss", hovermode="closest")
    for i, (name, frame) in enumerate(epochs.items()):
        if part not in frame:
            continue
        frame = frame.sort_values(["generation", "epoch"])
        n_epochs = frame.groupby("generation")["epoch"].transform("max") + 1
        x = frame["generation"] + (frame["epoch"] + 1) / n_epochs
        y = frame[part].to_numpy(dtype=float)
        fig.add_scatter(x=x.to_numpy(), y=smooth(y, smoothing) if smoothing else y, mode="lines", name=name,
                        line=dict(color=qualitative.D3[i % 10], width=2),
                        customdata=np.column_stack([frame["generation"], frame["epoch"] + 1]),
                        hovertemplate=f"{name}<br>gen %{{customdata[0]}}, epoch %{{customdata[1]}}: "
                                      "%{y:.4f}<extra></extra>")
    if not fig.data:
        _waiting(fig, f"none of these runs has a {part_label(part)} loss")
    return fig
