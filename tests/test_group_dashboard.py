"""A seed group on the dashboard (issue 14): the pure builders against numbers worked by hand, and the real Runs
page (AppTest) on a real 3-seed group trained into a real store."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import group_figures

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


def _epochs(values_by_seed):
    """Per seed, one generation of epochs with the given losses."""
    return {seed: [{"generation": 0, "epoch": e, "loss": v} for e, v in enumerate(values)]
            for seed, values in values_by_seed.items()}


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


def test_epoch_band_is_mean_min_max_and_faint_seeds():
    fig = group_figures.epoch_band_figure(_epochs({0: [3.0, 2.0, 1.0], 1: [1.0, 1.0, 1.0], 2: [2.0, 0.0, 4.0]}),
                                          "loss", "loss")
    assert [t.name for t in fig.data[:3]] == ["seed 0", "seed 1", "seed 2"]
    assert list(_trace(fig, "mean loss").y) == pytest.approx([2.0, 1.0, 2.0])
    assert list(_trace(fig, "min–max over seeds").y) == [1.0, 0.0, 1.0]
    assert list(_trace(fig, "max over seeds").y) == [3.0, 2.0, 4.0]
    assert _trace(fig, "min–max over seeds").fill == "tonexty"


def test_epoch_band_uses_only_epochs_every_seed_reached():
    """A seed still on epoch 1 cuts the band there: a mean over fewer seeds would jump."""
    x, values = group_figures.epoch_matrix(_epochs({0: [3.0, 2.0, 1.0], 1: [1.0]}), "loss")
    assert list(x) == [1.0] and values.tolist() == [[3.0], [1.0]]


def test_generation_spread_has_one_dot_per_seed_and_the_mean():
    gens = {s: [{"generation": g, "test_accuracy": a} for g, a in enumerate(accs)]
            for s, accs in {0: [0.9, 0.95], 1: [0.8, 0.85], 2: [1.0, 0.9]}.items()}
    fig = group_figures.generation_spread_figure(gens)
    dots = _trace(fig, "each seed")
    assert len(dots.y) == 6 and sorted(dots.y) == sorted([0.9, 0.95, 0.8, 0.85, 1.0, 0.9])
    assert list(_trace(fig, "mean test accuracy").y) == pytest.approx([0.9, 0.9])


def test_spread_table_mean_plus_minus_sample_std():
    """Test accuracy 90%, 80%, 100% → 90.0% ± 10.0 (sample std); NLL 1, 2, 3 → 2.000 ± 1.000."""
    gens = {s: [{"generation": 0, "test_accuracy": a, "test_nll": n}] for s, (a, n) in
            enumerate([(0.9, 1.0), (0.8, 2.0), (1.0, 3.0)])}
    table = group_figures.spread_table(gens)
    row = table.iloc[0]
    assert row["seeds"] == 3 and row["generation"] == 0
    assert row["test acc"] == "90.0% ± 10.0"
    assert row["NLL"] == "2.000 ± 1.000"
    assert np.isclose(np.std([0.9, 0.8, 1.0], ddof=1), 0.1)


@pytest.fixture(scope="module")
def group_store(tmp_path_factory):
    """A real 3-seed dry-run group (2 epochs per generation), trained together into a real store."""
    from core.engine.seed_group import execute_group
    from core.presets import get_preset
    from core.storage.run_store import RunStore

    root = tmp_path_factory.mktemp("group_store")
    config = get_preset("dry-run").config({"train.epochs": 2, "seed": 7})
    result = execute_group(config, 3, RunStore(root), label="dry-run")
    assert [s["status"] for s in result["summaries"]] == ["finished"] * 3
    return root, result


@pytest.mark.slow  # trains a 3-seed group (~1 min on shared cores)
def test_runs_page_shows_the_group_and_switches_seed(group_store, monkeypatch):
    root, result = group_store
    monkeypatch.setenv("SDLAB_STORE", str(root))
    monkeypatch.setenv("SDLAB_RAISE_ERRORS", "1")
    ids = [s["run_id"] for s in result["summaries"]]
    at = AppTest.from_file(APP, default_timeout=90)
    at.query_params["run"] = ids[1]
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    headers = [h.value for h in at.header]
    assert "Seed group: 3 seeds (7–9)" in headers
    table = next(d.value for d in at.dataframe if "seeds" in d.value.columns)
    assert list(table["seeds"]) == [3, 3]
    accs = [s["generations"][0]["test_accuracy"] for s in result["summaries"]]
    mean, std = np.mean(accs) * 100, np.std(accs, ddof=1) * 100
    assert table["test acc"].iloc[0] == f"{mean:.1f}% ± {std:.1f}"
    charts = {c.proto.id for c in at.get("plotly_chart")}
    assert len(charts) >= 3
    at.segmented_control(key="group_seed").set_value(9).run()
    assert not at.exception, at.exception
    assert at.query_params["run"] == [ids[2]] or at.query_params["run"] == ids[2]


@pytest.mark.slow
def test_compare_page_compares_a_whole_group(group_store, monkeypatch):
    """Picking the group on Compare brings its 3 seeds in as one line, mean ± std over seeds."""
    root, result = group_store
    monkeypatch.setenv("SDLAB_STORE", str(root))
    monkeypatch.setenv("SDLAB_RAISE_ERRORS", "1")
    at = AppTest.from_file(APP, default_timeout=90).run()
    at.switch_page("views/compare.py").run()
    assert not at.exception, at.exception
    at.multiselect(key="compare").set_value([]).run()
    picker = at.multiselect(key="compare_groups")
    assert len(picker.options) == 1 and result["group_id"] in picker.options[0]
    picker.set_value(picker.options).run()
    assert not at.exception, at.exception
    subheaders = [h.value for h in at.subheader]
    assert any(h.endswith("mean ± std over seeds") for h in subheaders), subheaders
    table = next(d.value for d in at.dataframe if list(d.value.columns) == ["gen 0", "gen 1"])
    accs = [s["generations"][0]["test_accuracy"] for s in result["summaries"]]
    assert table.shape[0] == 1  # the three seeds are one line
    assert table["gen 0"].iloc[0] == f"{np.mean(accs):.3f} ± {np.std(accs, ddof=1):.3f}"


@pytest.mark.slow
def test_launch_seeds_field_submits_a_tagged_group(app_store):
    """Teaching presets default to 3 seeds, others to 1; Launch with 2 seeds queues seeds S and S+1 as one group."""
    import time

    from core.storage.run_store import ACTIVE, RunStore

    at = AppTest.from_file(APP, default_timeout=90).run()
    at.selectbox(key="preset").set_value("teach-noisy-labels").run()
    assert at.number_input(key="seeds_teach-noisy-labels").value == 3
    at.selectbox(key="preset").set_value("dry-run").run()
    assert at.number_input(key="seeds_dry-run").value == 1
    at.number_input(key="seeds_dry-run").set_value(2).run()
    at.number_input(key="train.epochs").set_value(1).run()
    at.button(key="launch").click().run()
    assert not at.exception, at.exception
    store = RunStore(app_store)
    runs = store.list_runs()
    assert len(runs) == 2
    assert sorted(r["config"]["seed"] for r in runs) == [0, 1]
    assert runs[0]["group_id"] and runs[0]["group_id"] == runs[1]["group_id"]
    deadline = time.monotonic() + 240
    while any(r["status"] in ACTIVE for r in store.list_runs()) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert {r["status"] for r in store.list_runs()} == {"finished"}


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_browser_runs_and_compare_draw_the_group(group_store, browser, tmp_path):
    """A real server and Chromium: Runs draws the group's band (a filled min–max trace, one faint line per seed) and
    Compare takes the whole group as one line. SDLAB_GROUP_SCREENSHOT=PATH saves the Runs page there (assets/)."""
    import os
    import re

    from tests.conftest import start_server, stop_server, wait_healthy

    root, result = group_store
    ids = [s["run_id"] for s in result["summaries"]]
    process, url = start_server(root, tmp_path / "streamlit.log")
    try:
        wait_healthy(url, process)
        page = browser.new_context(viewport={"width": 1400, "height": 1300}).new_page()
        page.set_default_timeout(120_000)
        page.goto(f"{url}/runs?run={ids[0]}")
        page.get_by_role("heading", name="Seed group: 3 seeds (7–9)").wait_for()
        page.locator(".st-key-group_loss_chart .js-plotly-plot").first.wait_for(timeout=240_000)  # a busy machine
        drawn = page.evaluate("""() => {
            const gd = document.querySelector('.st-key-group_loss_chart .js-plotly-plot');
            return {fills: gd._fullData.filter(t => t.fill === 'tonexty').length,
                    seeds: gd._fullData.filter(t => (t.name || '').startsWith('seed ')).length};
        }""")
        assert drawn == {"fills": 1, "seeds": 3}
        page.locator(".st-key-group_accuracy_chart .js-plotly-plot").first.wait_for()
        if os.environ.get("SDLAB_GROUP_SCREENSHOT"):
            page.locator(".st-key-group_accuracy_chart").scroll_into_view_if_needed()
            page.wait_for_timeout(1500)
            page.screenshot(path=os.environ["SDLAB_GROUP_SCREENSHOT"])
        page.goto(f"{url}/compare")
        page.locator(".st-key-compare_groups input").click()
        page.get_by_role("option", name=re.compile(re.escape(result["group_id"]))).click()
        page.keyboard.press("Escape")  # close the picker: the page reruns with the group in
        page.get_by_role("heading", name=re.compile("mean ± std over seeds")).wait_for()
    finally:
        stop_server(process)
