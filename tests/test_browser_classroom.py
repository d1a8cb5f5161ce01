"""In real headless Chromium: an offline report opened from file:// with the network cut, the Introduction page
and presentation mode against a real ``streamlit run`` server and store."""
from __future__ import annotations

import pytest

from core.cli.main import main
from core.presets import get_preset
from core.storage.run_store import RunStore
from tests.conftest import start_server, stop_server, wait_healthy

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

LOAD_MS = 90_000
DRAWN = """() => { const plots = [...document.querySelectorAll('.js-plotly-plot')];
  return plots.length >= 3 && plots.every(gd => gd._fullLayout && gd.querySelector('.main-svg'))
         && plots.every(gd => gd.querySelectorAll('.scatterlayer .trace, .barlayer .trace').length > 0); }"""


def _fill(store: RunStore) -> str:
    """A finished born-again run with epochs and generations, written through the real store."""
    run_id = store.create_run(get_preset("digits-ban-noisy").config().to_dict(), label="digits-ban-noisy")
    store.claim(run_id)
    for g, (acc, noise) in enumerate([(0.932, 0.37), (0.949, 0.13)]):
        for e in range(4):
            store.add_epoch(run_id, g, e, {"loss": 1.0 / (e + 1), "ce": 1.0 / (e + 1), "kd": 0.3 * g,
                                           "test_accuracy": acc - 0.01 * (3 - e), "val_accuracy": acc - 0.02,
                                           "train_accuracy": 0.6 + 0.05 * e})
        store.add_generation(run_id, g, {"test_accuracy": acc, "val_accuracy": acc - 0.01, "memorized_noise": noise})
    store.finish(run_id, "finished", summary={"best_generation": 1})
    return run_id


@pytest.fixture(scope="module")
def filled(tmp_path_factory):
    """A server over a store holding one run; yields (url, run id, store)."""
    folder = tmp_path_factory.mktemp("classroom")
    store = RunStore(folder / "store")
    run_id = _fill(store)
    process, url = start_server(folder / "store", folder / "streamlit.log")
    try:
        wait_healthy(url, process)
        yield url, run_id, store
    finally:
        stop_server(process)


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.set_default_timeout(LOAD_MS)
    yield context
    context.close()


def test_the_report_draws_its_charts_from_file_with_the_network_cut(context, filled, tmp_path):
    _, run_id, store = filled
    out = tmp_path / "report.html"
    assert main(["--store", str(store.root), "report", run_id, "--out", str(out)]) == 0
    asked: list[str] = []

    def only_files(route):
        asked.append(route.request.url)
        if route.request.url.startswith("file://"):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", only_files)
    page = context.new_page()
    page.goto(out.as_uri())
    page.wait_for_function(DRAWN)
    assert [u for u in asked if not u.startswith("file://")] == []  # nothing was even asked of the network
    assert page.locator(".js-plotly-plot").count() >= 3
    assert page.get_by_text("+1.7 points over generation 0").count() == 1


def test_the_introduction_draws_its_diagram_and_starts_the_demo(context, filled):
    url, _, _ = filled
    page = context.new_page()
    page.goto(f"{url}/intro")
    page.get_by_role("heading", name="What is self-distillation?").wait_for()
    page.locator("[data-testid=stGraphVizChart] svg .node").first.wait_for()
    assert page.locator("[data-testid=stGraphVizChart] svg .node").count() >= 4  # data, 3 generations, …
    page.locator(".st-key-start_demo button").first.click()  # a rerun may show the stale copy a moment
    page.get_by_role("heading", name="Launch a run").wait_for()
    page.locator(".st-key-launch button").wait_for()
    # the preset's name heads Launch's side column (plain text: the selectbox itself may still be loading)
    page.get_by_role("heading", name="digits-ban-noisy", exact=True).wait_for()


def test_presentation_mode_hides_the_sidebar_and_enlarges_the_charts(context, filled):
    url, run_id, _ = filled
    page = context.new_page()
    page.goto(f"{url}/?present=1&run={run_id}")  # Launch, the default page, sends a presenter on to Runs
    page.locator(".st-key-present_accuracy_chart .js-plotly-plot").wait_for()
    page.locator(".st-key-present_epoch_chart .js-plotly-plot").wait_for()
    assert "/runs" in page.url and page.locator(".st-key-launch").count() == 0
    assert not page.locator("[data-testid=stSidebar]").is_visible()
    assert page.get_by_text("memorised noise 37% → 13%").first.is_visible()
    size = page.evaluate("() => document.querySelector('.st-key-present_accuracy_chart .js-plotly-plot')"
                         "._fullLayout.font.size")
    assert size == 20
    width = page.locator(".st-key-present_accuracy_chart").bounding_box()["width"]
    assert width > 0.4 * 1400  # two charts share the whole width
    page.locator(".st-key-present_exit button").first.click()  # (with a tooltip, two nodes match)
    page.locator("[data-testid=stSidebar]").wait_for(state="visible")
    assert "present" not in page.url
