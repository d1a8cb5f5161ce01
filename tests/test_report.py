"""``python -m core report``: one self-contained HTML file from the real store, checked against the store's numbers."""
from __future__ import annotations

import html
import re

import pytest

from core.cli.main import main
from core.presets import get_preset
from core.reports import charts
from core.storage.run_store import RunStore

REMOTE = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)\s*=\s*[\"']?(https?:)?//", re.I)


@pytest.fixture(scope="module")
def store(tmp_path_factory) -> RunStore:
    """A store with one real dry-run (the real trainer) and one hand-written label-free run (the real store)."""
    root = tmp_path_factory.mktemp("report-store")
    assert main(["--store", str(root), "run", "--preset", "dry-run", "--set", "train.epochs=3"]) == 0
    store = RunStore(root)
    config = get_preset("digits-dino").config({"method.generations": 2, "train.epochs": 2}).to_dict()
    run_id = store.create_run(config, label="digits-dino")
    store.claim(run_id)
    for g in range(2):
        for e in range(2):
            store.add_epoch(run_id, g, e, {"loss": 2.0 - e, "dino": 2.0 - e, "teacher_entropy": 3.0, "log_k": 4.1})
        store.add_generation(run_id, g, {"knn_accuracy": 0.80 + 0.05 * g, "val_knn_accuracy": 0.8})
    store.set_baselines(run_id, {"raw_knn_accuracy": 0.9})
    store.finish(run_id, "finished", summary={"best_generation": 1})
    return store


def _ids(store: RunStore) -> tuple[str, str]:
    runs = {r["label"]: r["id"] for r in store.list_runs()}
    return runs["dry-run"], runs["digits-dino"]


def _report(store: RunStore, tmp_path, *ids: str) -> str:
    out = tmp_path / "r.html"
    assert main(["--store", str(store.root), "report", *ids, "--out", str(out)]) == 0
    return out.read_text(encoding="utf-8")


def test_a_report_is_self_contained_and_its_table_is_the_store_s(store, tmp_path):
    supervised, _ = _ids(store)
    text = _report(store, tmp_path, supervised)
    assert REMOTE.search(text) is None  # nothing fetched: no remote script, stylesheet, image or frame
    assert text.count("plotly.js v") == 1  # the library inlined, once
    assert len(re.findall(r'class="plotly-graph-div"', text)) >= 3  # loss, per-epoch and per-generation accuracy
    cells = re.findall(r'<td data-key="([a-z_]+)" data-value="([^"]+)">([^<]+)</td>', text)
    shown = {}
    for key, value, label in cells:
        shown.setdefault(key, []).append((float(html.unescape(value)), label))
    stored = store.generations(supervised)
    assert [v for v, _ in shown["test_accuracy"]] == [g["test_accuracy"] for g in stored]
    assert [v for v, _ in shown["val_accuracy"]] == [g["val_accuracy"] for g in stored]
    # the text shown is the same number as a percentage with two decimals (computed here independently)
    assert [label for _, label in shown["test_accuracy"]] == [f"{100 * g['test_accuracy']:.2f}%" for g in stored]
    assert "memorized_noise" not in shown  # NaN on clean labels: a dash, not a number
    assert get_preset("dry-run").description in html.unescape(text)
    assert '"seed": 0' in html.unescape(text)  # the config


def test_a_comparison_report_holds_both_runs_and_inlines_plotly_once(store, tmp_path):
    supervised, label_free = _ids(store)
    text = html.unescape(_report(store, tmp_path, supervised, label_free))
    assert text.count("plotly.js v") == 1
    assert "Comparison" in text and f'id="run-{supervised}"' in text and f'id="run-{label_free}"' in text
    assert "k-NN on the learned features (generation 1): 85.0%, −5.0 points against raw inputs (90.0%)" in text
    assert "method.name" in text  # the config diff names the keys that differ
    assert "Collapse monitor" in text  # the label-free run's own chart


@pytest.mark.parametrize("case", ["unknown run", "out is a folder", "no such folder"])
def test_bad_input_exits_2_with_one_line(store, tmp_path, capsys, case):
    supervised, _ = _ids(store)
    run_id, out = {"unknown run": ("no-such-run", tmp_path / "r.html"), "out is a folder": (supervised, tmp_path),
                   "no such folder": (supervised, tmp_path / "missing" / "r.html")}[case]
    assert main(["--store", str(store.root), "report", run_id, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("error:"), err
    assert not (tmp_path / "r.html").exists()


def test_per_epoch_accuracy_figure_has_test_and_validation_per_generation():
    epochs = [{"generation": g, "epoch": e, "test_accuracy": 0.5 + 0.1 * e, "val_accuracy": 0.4 + 0.1 * e,
               "train_accuracy": 0.6} for g in range(2) for e in range(3)]
    fig = charts.epoch_accuracy_figure(epochs, n_generations=2)
    drawn = {(t.meta, t.name) for t in fig.data if t.meta}
    assert drawn == {(k, f"gen {g}") for k in ("test_accuracy", "val_accuracy", "train_accuracy") for g in (0, 1)}
    test_gen1 = next(t for t in fig.data if t.meta == "test_accuracy" and t.name == "gen 1")
    assert list(test_gen1.x) == [1, 2, 3] and list(test_gen1.y) == pytest.approx([0.5, 0.6, 0.7])
    label_free = charts.epoch_accuracy_figure([{"generation": 0, "epoch": 0, "loss": 1.0}])
    assert not label_free.data and "label-free" in label_free.layout.annotations[0].text
