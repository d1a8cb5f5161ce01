"""The "What a generation changed" panel: its figures checked against numbers computed another way, the panel on
the Runs page through AppTest (the real app, store and a real trained run), and in a real Chromium the soft-target
slider changing the bars with no message to the server (no rerun)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from dashboard import insight_figures
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, ROOT, start_server, stop_server, wait_healthy

APP = str(ROOT / "dashboard" / "app.py")


def _train(store) -> str:
    """A real noisy dry-run run (three generations) into ``store``; returns its id."""
    out = subprocess.run([sys.executable, "-m", "core", "run", "--preset", "dry-run", "--set", "data.label_noise=0.3",
                          "--set", "method.generations=3", "--json", "--store", str(store)], capture_output=True,
                         text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])["run_id"]


def test_soft_target_frames_are_softmax_at_each_temperature():
    logits = np.array([[0.0, np.log(3.0), -50.0], [2.0, 0.0, 0.0]])
    fig = insight_figures.soft_target_figure(logits, [0, 1], label=1, what="test point 0", start_t=2.0)
    frames = {f.name: f for f in fig.frames}
    assert set(frames) >= {"0.5", "1", "2", "4", "10"}
    # hand-worked: at T = 1 the first row's odds are 1 : 3 (the -50 class is ~0); at T = 2 they are 1 : sqrt(3)
    assert frames["1"].data[0].y[:2] == pytest.approx([0.25, 0.75], abs=1e-9)
    r3 = np.sqrt(3.0)
    assert frames["2"].data[0].y[:2] == pytest.approx([1 / (1 + r3), r3 / (1 + r3)], abs=1e-9)
    assert list(frames["2"].traces) == [0, 1]  # the frames restyle only the softened bars
    assert fig.data[0].y == pytest.approx(frames["2"].data[0].y)  # opens at the run's T
    assert fig.layout.sliders[0].steps[fig.layout.sliders[0].active].label == "2"
    assert fig.layout.meta["logits"][0][1] == pytest.approx(np.log(3.0))  # the logits travel with the figure
    flat = [max(frames[f"{t:g}"].data[1].y) for t in insight_figures.T_GRID]
    assert flat == sorted(flat, reverse=True)  # flatter as T grows


def test_soft_target_figure_draws_the_most_generations_a_run_can_have():
    fig = insight_figures.soft_target_figure(np.zeros((20, 10)), list(range(20)), label=3, what="test point 1")
    assert len(fig.frames[0].data) == 20 and fig.data[0].y == pytest.approx([0.1] * 10)
    old = insight_figures.soft_target_figure([[-np.inf, np.log(0.25), np.log(0.75)]], [0], label=2, what="test point 1",
                                             start_t=1.0)  # a run stored before logits: log(probabilities)
    assert np.isfinite(old.layout.meta["logits"]).all() and old.data[0].y == pytest.approx([0, 0.25, 0.75])


def test_confusion_difference_mutes_the_diagonal():
    a, b = [[3, 1], [0, 2]], [[4, 0], [1, 1]]
    fig = insight_figures.confusion_figure(a, b, 0, 2)
    off, diagonal = fig.data[2], fig.data[3]
    assert np.isnan(off.z[0][0]) and np.isnan(off.z[1][1]) and off.z[0][1] == -1 and off.z[1][0] == 1
    assert diagonal.z[0][0] == 1 and diagonal.z[1][1] == -1 and np.isnan(diagonal.z[0][1])


def test_churn_figure_has_one_box_per_later_generation():
    fig = insight_figures.churn_figure({1: np.array([0.0, 0.5]), 2: np.array([1.0, 0.2])})
    assert [t.name for t in fig.data] == ["0→1", "1→2"] and list(fig.data[1].y) == [1.0, 0.2]


@pytest.mark.slow
def test_panel_on_the_runs_page(app_store):
    run_id = _train(app_store)
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["run"] = run_id
    at.run()
    at.switch_page("views/runs.py").run()
    assert not at.exception, at.exception
    assert "What a generation changed" in [s.value for s in at.subheader]
    assert [t.label for t in at.tabs][:4] == ["Generation diff", "Soft targets", "Neighbour churn", "As a script"]
    specs = {c.proto.id: json.loads(c.proto.spec) for c in at.get("plotly_chart")}
    titles = [s["layout"].get("title", {}).get("text", "") for s in specs.values()]
    assert any(t.startswith("test point") for t in titles)  # the soft-target explorer
    explorer = next(s for s in specs.values() if s["layout"].get("title", {}).get("text", "").startswith("test point"))
    assert len(explorer["frames"]) == len(insight_figures.T_GRID) and "logits" in explorer["layout"]["meta"]
    assert any(t.startswith("neighbour churn per generation") for t in titles)
    fixed = at.metric[[m.label for m in at.metric].index("fixed by B")].value
    broken = at.metric[[m.label for m in at.metric].index("broken by B")].value
    store_gens = __import__("core.storage.run_store", fromlist=["RunStore"]).RunStore(app_store).generations(run_id)
    n_test = len(np.load(app_store / "artifacts" / run_id / "run.npz")["y_test"])
    assert int(fixed) - int(broken) == round((store_gens[-1]["test_accuracy"] - store_gens[0]["test_accuracy"])
                                             * n_test)
    assert any(b.label.startswith("train.py") for b in at.get("download_button"))
    # opening a changed point puts it in the URL and the inspector shows it
    opener = at.selectbox(key="insight_open")
    if opener.options:
        index = int(opener.options[0].split(" ")[0])
        opener.set_value(index).run()
        assert not at.exception, at.exception
        assert at.query_params["point"] in (str(index), [str(index)])
        titles = [json.loads(c.proto.spec)["layout"].get("title", {}).get("text", "")
                  for c in at.get("plotly_chart")]
        assert any(t.startswith(f"test input {index} · label") for t in titles)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.timeout(420)
def test_temperature_slider_changes_bars_without_a_rerun(tmp_path):
    from playwright.sync_api import sync_playwright

    store = tmp_path / "store"
    run_id = _train(store)
    process, url = start_server(store, tmp_path / "streamlit.log")
    try:
        wait_healthy(url, process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.set_default_timeout(120_000)
            sent = []
            page.on("websocket", lambda ws: ws.on("framesent", lambda payload: sent.append(payload)))
            page.goto(f"{url}/runs?run={run_id}")
            page.get_by_role("tab", name="Soft targets").click()
            chart = page.locator(".st-key-insight_targets .js-plotly-plot")
            chart.wait_for()
            chart.scroll_into_view_if_needed()
            page.wait_for_timeout(1500)  # let the page settle: nothing more to send
            read = """() => { const gd = document.querySelector('.st-key-insight_targets .js-plotly-plot');
                              return {active: gd._fullLayout.sliders[0].active, y: Array.from(gd._fullData[0].y)}; }"""
            before = page.evaluate(read)
            n_sent = len(sent)
            assert n_sent > 0  # the listener sees the page's messages (its first script run was one)
            tick = chart.locator(".slider-tick-rect").nth(0).bounding_box()  # T = 0.5
            page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 4)
            page.wait_for_function("""() => document.querySelector('.st-key-insight_targets .js-plotly-plot')
                                           ._fullLayout.sliders[0].active === 0""")
            page.wait_for_timeout(800)
            after = page.evaluate(read)
            assert after["y"] != before["y"] and max(after["y"]) > max(before["y"])  # sharper at T = 0.5
            assert sum(after["y"]) == pytest.approx(1.0, abs=1e-6)
            assert len(sent) == n_sent, "moving the slider sent a message to the server (a rerun)"
            assert re.search(r"run=", page.url)
            browser.close()
    finally:
        stop_server(process)
