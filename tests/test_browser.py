"""The app in a real headless Chromium against a real ``streamlit run`` server, trainer and store."""
from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

LOAD_MS = 60_000  # first script run imports torch on a busy 2-core machine
RUN_MS = 120_000


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(LOAD_MS)
    yield page
    context.close()


def _pick_preset(page, name: str) -> None:
    page.locator(".st-key-launch button").wait_for()  # the form is drawn, not skeletons
    page.locator(".st-key-preset input").click()
    page.get_by_role("option", name=name, exact=True).click()
    page.wait_for_function(f"() => new URLSearchParams(location.search).get('preset') === '{name}'")


def _slider_state(page) -> dict:
    """The 2-D view as drawn: slider position, the legend's title on screen, the colourings whose traces are shown,
    and the first x values of the first trace shown."""
    return page.evaluate("""() => {
        const gd = document.querySelector('.st-key-embedding_chart .js-plotly-plot');
        const shown = gd._fullData.filter(t => t.visible === true);
        return {active: gd._fullLayout.sliders[0].active, x: Array.from(shown[0].x).slice(0, 5),
                legend: gd.querySelector('.legendtitletext').textContent, shown: [...new Set(shown.map(t => t.meta))]};
    }""")


def test_launch_dry_run_see_its_charts_and_move_the_generation_slider(page, server):
    page.goto(server)
    page.get_by_role("heading", name="Launch a run").wait_for()
    _pick_preset(page, "dry-run")
    page.locator(".st-key-launch button").click()
    page.wait_for_url(re.compile(r"/runs\?run="))
    run_id = re.search(r"run=([^&]+)", page.url).group(1)
    page.get_by_role("heading", name=re.compile(re.escape(run_id))).wait_for()
    page.locator(".st-key-loss_chart .js-plotly-plot").first.wait_for()
    page.locator(".st-key-accuracy_chart .js-plotly-plot").first.wait_for()
    page.locator(".st-key-embedding_chart .slider-container").first.wait_for(timeout=RUN_MS)
    page.locator(".stMarkdownBadge", has_text="finished").first.wait_for(timeout=RUN_MS)

    # A finished run's view opens at generation 0; the page redraws it once the run ends, so wait for that redraw
    # rather than read the chart mid-update.
    page.wait_for_function("""() => { const gd = document.querySelector('.st-key-embedding_chart .js-plotly-plot');
                                      return gd && gd._fullLayout && gd._fullLayout.sliders
                                             && gd._fullLayout.sliders[0].active === 0; }""")
    # Until that redraw has finished, the previous view stays on the page too (stale, retained): wait for one.
    page.wait_for_function("() => document.querySelectorAll('.st-key-embedding_chart').length === 1",
                           timeout=RUN_MS)
    before = _slider_state(page)
    chart = page.locator(".st-key-embedding_chart")
    chart.scroll_into_view_if_needed()
    tick = chart.locator(".slider-tick-rect").nth(1).bounding_box()
    page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 4)
    page.wait_for_function("""() => document.querySelector('.st-key-embedding_chart .js-plotly-plot')
                                   ._fullLayout.sliders[0].active === 1""")
    page.wait_for_timeout(600)  # the 250 ms transition
    after = _slider_state(page)
    assert after["x"] != before["x"]  # the points moved to generation 1's view
    assert (before["legend"], before["shown"]) == ("true label", ["label"])

    chart.locator(".updatemenu-button", has_text="correct / wrong").click()  # recoloured in the browser
    page.wait_for_function("""() => document.querySelector('.st-key-embedding_chart .legendtitletext')
                                   .textContent === 'correct / wrong'""")
    assert _slider_state(page)["shown"] == ["correct"]
    tick = chart.locator(".slider-tick-rect").nth(0).bounding_box()
    page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 4)
    page.wait_for_function("""() => document.querySelector('.st-key-embedding_chart .js-plotly-plot')
                                   ._fullLayout.sliders[0].active === 0""")
    page.wait_for_timeout(600)
    back = _slider_state(page)
    assert back["shown"] == ["correct"] and back["legend"] == "correct / wrong"  # the slider keeps the colouring

    point = chart.locator(".scatterlayer .trace .point").first.bounding_box()
    page.mouse.click(point["x"] + point["width"] / 2, point["y"] + point["height"] / 2)
    page.wait_for_url(re.compile(r"point=\d+"))
    index = re.search(r"point=(\d+)", page.url).group(1)
    page.get_by_text(re.compile(rf"test input {index} · label \d")).first.wait_for()
    assert _slider_state(page)["shown"] == ["correct"]  # the rerun after the click kept the colouring

    # The features against fair baselines and the label-efficiency curves, drawn in the browser.
    page.get_by_role("heading", name="Features against baselines").wait_for()
    bars = page.evaluate("""() => document.querySelector('.st-key-baselines_chart .js-plotly-plot').data[0].y""")
    assert "k-NN on raw inputs" in bars and any(b.startswith("generation 1 features") for b in bars)
    lines = page.evaluate("""() => document.querySelector('.st-key-label_efficiency_chart .js-plotly-plot')
                                   .data.map(t => t.name)""")
    assert lines[:2] == ["learned features (last generation)", "raw inputs"]


def test_cancel_a_long_run(page, server):
    page.goto(f"{server}/?preset=digits-ban&train.epochs=400")
    page.get_by_role("heading", name="Launch a run").wait_for()
    page.locator(".st-key-launch button").click()
    page.wait_for_url(re.compile(r"/runs\?run="))
    cancel = page.locator('.st-key-cancel:not([data-stale="true"]) button')  # not a redraw's retained copy
    cancel.wait_for(timeout=RUN_MS)
    page.locator(".sdlab-status-badge", has_text="running").first.wait_for(timeout=RUN_MS)
    cancel.click()
    page.locator(".stMarkdownBadge", has_text="cancelled").first.wait_for(timeout=RUN_MS)
    page.get_by_text("This run was cancelled; the generations it finished").wait_for()  # not the chart's note
    assert page.locator(".st-key-cancel button").count() == 0
