"""Presentation mode: the one-line result on hand-made metrics, the enlarged figures, and the mode in the real app
(AppTest, real SQLite store)."""
from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from core.presets import get_preset
from core.reports.summary import result_sentence
from core.storage.run_store import RunStore
from dashboard import figures, presentation

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")

# Hand-made: generation 0 at 93.2% memorising 37% of the flipped labels, generation 3 at 94.9% memorising 13%.
NOISY = [{"generation": 0, "test_accuracy": 0.932, "memorized_noise": 0.37},
         {"generation": 1, "test_accuracy": 0.940, "memorized_noise": 0.22},
         {"generation": 2, "test_accuracy": 0.945, "memorized_noise": 0.16},
         {"generation": 3, "test_accuracy": 0.949, "memorized_noise": 0.13}]


def test_the_sentence_of_a_noisy_run_names_the_gain_and_the_memorised_noise():
    # 0.949 - 0.932 = 0.017 -> +1.7 points; the noise share goes 37% -> 13%
    assert result_sentence(NOISY, supervised=True) == ("generation 3: +1.7 points over generation 0 (94.9% test "
                                                       "accuracy); memorised noise 37% → 13%")
    # the generation chosen on validation is told, not the last one: 0.940 - 0.932 = +0.8 points
    assert result_sentence(NOISY, True, best_generation=1).startswith("generation 1: +0.8 points over generation 0")


def test_the_sentence_says_a_loss_and_leaves_out_noise_it_did_not_measure():
    clean = [{"generation": 0, "test_accuracy": 0.97, "memorized_noise": math.nan},
             {"generation": 1, "test_accuracy": 0.966, "memorized_noise": math.nan}]
    assert result_sentence(clean, True) == "generation 1: −0.4 points over generation 0 (96.6% test accuracy)"
    assert result_sentence(clean, True, best_generation=0) == (
        "generation 0 chosen on validation (97.0% test accuracy); generation 1: −0.4 points")
    assert result_sentence([], True) == "no generation has finished yet"


def test_a_label_free_run_gets_a_k_nn_sentence():
    rows = [{"generation": 0, "knn_accuracy": 0.912}]
    # 0.912 - 0.979 = -0.067 -> -6.7 points
    assert result_sentence(rows, False, {"raw_knn_accuracy": 0.979}) == (
        "k-NN on the learned features (generation 0): 91.2%, −6.7 points against raw inputs (97.9%)")
    assert result_sentence(rows, False) == "k-NN on the learned features (generation 0): 91.2%"


def test_enlarge_makes_fonts_markers_and_lines_larger():
    fig = figures.accuracy_figure(pd.DataFrame(NOISY), supervised=True, best_generation=3)
    before = [(t.marker.size, t.line.width) for t in fig.data]
    presentation.enlarge(fig)
    assert fig.layout.font.size == presentation.FONT_SIZE and fig.layout.height == presentation.CHART_HEIGHT
    for (size, width), trace in zip(before, fig.data):
        if size is not None:
            assert trace.marker.size == pytest.approx(size * presentation.SCALE)
        assert trace.line.width == pytest.approx((width or 2) * presentation.SCALE)


def _store_with_runs(root: Path) -> tuple[str, str]:
    """A finished born-again run and a label-free one, written through the real store."""
    store = RunStore(root)
    ban = store.create_run(get_preset("digits-ban-noisy").config().to_dict(), label="digits-ban-noisy")
    store.claim(ban)
    for row in NOISY:
        for e in range(3):
            store.add_epoch(ban, row["generation"], e, {"loss": 1.0 / (e + 1), "ce": 1.0, "kd": 0.5,
                                                       "test_accuracy": 0.9, "val_accuracy": 0.88,
                                                       "train_accuracy": 0.7})
        store.add_generation(ban, row["generation"], dict(row))
    store.finish(ban, "finished", summary={"best_generation": 3})
    dino = store.create_run(get_preset("digits-dino").config().to_dict(), label="digits-dino")
    store.claim(dino)
    store.add_epoch(dino, 0, 0, {"loss": 2.0, "dino": 2.0})
    store.add_generation(dino, 0, {"knn_accuracy": 0.912})
    store.set_baselines(dino, {"raw_knn_accuracy": 0.979})
    store.finish(dino, "finished", summary={"best_generation": 0})
    return ban, dino


def test_present_1_shows_the_run_large_with_one_line_per_run_and_no_list(app_store):
    ban, dino = _store_with_runs(app_store)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["present"] = "1"
    at.query_params["run"] = ban
    at.run()  # opened at the default page (Launch): sent on to Runs, the form never drawn
    assert not at.exception, at.exception
    assert not [b for b in at.button if b.key == "launch"]
    assert not at.title and [h.value for h in at.header] == [f"digits-ban-noisy · {ban}"]
    assert not at.dataframe  # no run list
    assert any("+1.7 points over generation 0" in m.value and "memorised noise 37% → 13%" in m.value
               for m in at.markdown)
    every = next(m.value for m in at.markdown if m.value.startswith("#### Every run"))
    assert f"digits-dino · {dino}** (finished): k-NN on the learned features" in every
    charts = [c for c in at.get("plotly_chart")]
    assert len(charts) == 2
    assert all('"size":20' in c.proto.spec.replace(" ", "") for c in charts)  # fonts enlarged
    assert any("stSidebar" in m.value and "display: none" in m.value for m in at.markdown)  # CSS hides it
    at.button(key="present_exit").click().run()
    assert "present" not in at.query_params
    assert [t.value for t in at.title] == ["Runs"]
    assert at.dataframe  # the list is back


def test_the_sidebar_toggle_enters_presentation_mode(app_store):
    ban, _ = _store_with_runs(app_store)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["run"] = ban
    at.query_params["present"] = "1"  # (opening on Runs this way spares the test a cold Launch page)
    at.run()
    at.button(key="present_exit").click().run()
    assert at.dataframe and [t.value for t in at.title] == ["Runs"]
    # the normal Runs page: per-epoch test and validation accuracy beside the loss, and the report download
    specs = [json.loads(c.proto.spec) for c in at.get("plotly_chart")]
    assert "Accuracy per epoch" in [h.value for h in at.subheader]
    per_epoch = next(s for s in specs if any(t.get("meta") == "val_accuracy" for t in s["data"]))
    metas = {(t.get("meta"), t["name"]) for t in per_epoch["data"] if t.get("meta")}
    assert {("test_accuracy", f"gen {g}") for g in range(4)} | {("val_accuracy", f"gen {g}") for g in range(4)} <= metas
    assert "offline report (HTML)" in {d.label for d in at.get("download_button")}
    at.sidebar.toggle(key="present_toggle").set_value(True).run()
    assert at.query_params["present"] in ("1", ["1"])
    assert not at.dataframe and [h.value for h in at.header] == [f"digits-ban-noisy · {ban}"]


def test_compare_offers_the_comparison_report_of_the_runs_it_shows(app_store):
    ban, dino = _store_with_runs(app_store)
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["present"] = "1"  # opens on Runs (no cold Launch page), then on to Compare
    at.run()
    at.button(key="present_exit").click().run()
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    assert "offline report (HTML)" in {d.label for d in at.get("download_button")}
    from dashboard import report_download

    text = report_download._html(str(app_store), (ban, dino))  # what the button hands over when clicked
    assert f'id="run-{ban}"' in text and f'id="run-{dino}"' in text and "Comparison" in text
