"""The one-line result of a run, computed from its per-generation metrics (shown in presentation mode and in
reports): what a class should remember, with every number read from the store, none typed in."""
from __future__ import annotations

from typing import Mapping, Sequence


def _points(delta: float) -> str:
    """A difference of two accuracies in percentage points, signed: +1.7 points, −0.4 points."""
    value = round(100 * delta, 1)
    if value == 0:
        return "±0.0 points"
    return f"{'+' if value > 0 else '−'}{abs(value):.1f} points"


def _pct(share: float) -> str:
    return f"{100 * share:.0f}%"


def _chosen(rows: Sequence[Mapping], best_generation: int | None) -> Mapping:
    """The generation chosen on validation when the run names one that exists, else the last one."""
    picked = [r for r in rows if r.get("generation") == best_generation]
    return picked[0] if picked else rows[-1]


def _has(row: Mapping, key: str) -> bool:
    value = row.get(key)
    return isinstance(value, (int, float)) and value == value  # NaN != NaN


def supervised_sentence(rows: Sequence[Mapping], best_generation: int | None = None) -> str:
    """"generation 3: +1.7 points over generation 0; memorised noise 37% → 13%" (test accuracy; the noise part
    only where the run measured memorised noise)."""
    first = rows[0]
    chosen = _chosen(rows, best_generation)
    if not _has(first, "test_accuracy") or not _has(chosen, "test_accuracy"):
        return "no test accuracy recorded yet"
    g = chosen["generation"]
    last = rows[-1]
    if g == first["generation"] and (last is first or not _has(last, "test_accuracy")):
        text = f"generation {g}: {100 * first['test_accuracy']:.1f}% test accuracy"
    elif g == first["generation"]:  # later generations were not better on validation: say how the last one did
        text = f"generation {g} chosen on validation ({100 * first['test_accuracy']:.1f}% test accuracy); " \
               f"generation {last['generation']}: {_points(last['test_accuracy'] - first['test_accuracy'])}"
    else:
        text = f"generation {g}: {_points(chosen['test_accuracy'] - first['test_accuracy'])} over generation " \
               f"{first['generation']} ({100 * chosen['test_accuracy']:.1f}% test accuracy)"
    noisy = [r for r in rows if _has(r, "memorized_noise")]
    if len(noisy) >= 2:
        text += f"; memorised noise {_pct(noisy[0]['memorized_noise'])} → {_pct(noisy[-1]['memorized_noise'])}"
    return text


def label_free_sentence(rows: Sequence[Mapping], baselines: Mapping[str, float] | None = None,
                        best_generation: int | None = None) -> str:
    """"k-NN on the learned features 91.2%, −6.7 points against raw pixels" (the k-NN accuracy of the
    features, against raw inputs where the run measured that baseline)."""
    chosen = _chosen(rows, best_generation)
    if not _has(chosen, "knn_accuracy"):
        return "no k-NN accuracy recorded yet"
    text = f"k-NN on the learned features (generation {chosen['generation']}): {100 * chosen['knn_accuracy']:.1f}%"
    raw = (baselines or {}).get("raw_knn_accuracy")
    if isinstance(raw, (int, float)):
        text += f", {_points(chosen['knn_accuracy'] - raw)} against raw inputs ({100 * raw:.1f}%)"
    return text


def result_sentence(generations: Sequence[Mapping], supervised: bool, baselines: Mapping[str, float] | None = None,
                    best_generation: int | None = None) -> str:
    """The run's result in one line; label-free runs are told by the k-NN accuracy of their features."""
    rows = sorted(generations, key=lambda r: r["generation"])
    if not rows:
        return "no generation has finished yet"
    if supervised:
        return supervised_sentence(rows, best_generation)
    return label_free_sentence(rows, baselines, best_generation)
