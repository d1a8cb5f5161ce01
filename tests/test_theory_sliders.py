"""Theory page: every round precomputed as a plotly frame, moved by plotly's own slider in the browser.

The frames are checked against kernel ridge fits solved here with ``np.linalg.solve`` (not core.theory's
eigenbasis); the browser test moves the slider in Chromium and checks that the drawn fit changed while the page
sent nothing to the server (no Streamlit rerun).
"""
from __future__ import annotations

import numpy as np
import pytest

from core.theory import default_data, eigen_view, krr_self_distillation, round_errors
from dashboard.theory_figures import ROUND_TRACES, ROUNDS_TRACES, rounds_figure

GAMMA, LAM, ROUNDS = 200.0, 0.2, 12


def _solve_rounds(x, y, x_eval, gamma, lam, alpha, rounds):
    """Self-distillation by direct solves: f_t = k(x_eval, X)(K + λI)⁻¹ targets_t, targets_1 = y,
    targets_{t+1} = α y + (1 − α) f_t(X)."""
    k = lambda a, b: np.exp(-gamma * (a[:, None] - b[None, :]) ** 2)  # noqa: E731
    system = k(x, x) + lam * np.eye(len(x))
    targets, fits = y, []
    for _ in range(rounds):
        coef = np.linalg.solve(system, targets)
        fits.append(k(x_eval, x) @ coef)
        targets = alpha * y + (1 - alpha) * (k(x, x) @ coef)
    return np.array(fits)


@pytest.fixture(scope="module")
def case():
    x, y, x_eval, truth = default_data(seed=2)
    predictions = krr_self_distillation(x, y, x_eval, GAMMA, LAM, 0.25, ROUNDS)
    view = eigen_view(x, GAMMA, LAM)
    errors = round_errors(predictions, truth)
    fig = rounds_figure(x, y, x_eval, truth, predictions, errors, view.shrink, view.filters(0.25, ROUNDS), 3, 0.5)
    return x, y, x_eval, truth, fig


def test_every_round_is_a_frame_matching_direct_solves(case):
    x, y, x_eval, truth, fig = case
    expected = _solve_rounds(x, y, x_eval, GAMMA, LAM, 0.25, ROUNDS)
    assert [f.name for f in fig.frames] == [str(t) for t in range(1, ROUNDS + 1)]
    for t in (1, 2, 7, ROUNDS):
        frame = fig.frames[t - 1]
        assert list(frame.traces) == ROUND_TRACES
        np.testing.assert_allclose(frame.data[0].y, expected[t - 1], atol=1e-8)
        mse = float(np.mean((expected[t - 1] - truth) ** 2))
        assert frame.data[1].x == (t,) and frame.data[1].y[0] == pytest.approx(mse, rel=1e-9)
        assert frame.layout.title.text.startswith(f"round {t}: MSE vs truth {mse:.4f}")
    # the figure opens on round 3: the bold fit and the slider say so
    np.testing.assert_allclose(fig.data[ROUNDS_TRACES.index("round t")].y, expected[2], atol=1e-8)
    assert fig.layout.sliders[0].active == 2


def test_filter_frames_are_the_cumulative_shrink(case):
    """With β = 0.25 the filter follows g_1 = s, g_{t+1} = s (β + (1 − β) g_t) per direction (s = d/(d+λ))."""
    x, *_, fig = case
    d = np.linalg.eigvalsh(np.exp(-GAMMA * (x[:, None] - x[None, :]) ** 2))[::-1]
    s = d / (d + LAM)
    g = s.copy()
    for t in range(1, ROUNDS + 1):
        np.testing.assert_allclose(fig.frames[t - 1].data[2].y, g, atol=1e-9)
        g = s * (0.25 + 0.75 * g)


def test_slider_steps_animate_their_own_frame_without_a_rerun(case):
    *_, fig = case
    steps = fig.layout.sliders[0].steps
    assert [list(s.args[0]) for s in steps] == [[str(t)] for t in range(1, ROUNDS + 1)]
    assert {s.method for s in steps} == {"animate"}  # plotly.js moves the frame: no Streamlit event
    assert all(s.args[1]["transition"]["duration"] == 0 for s in steps)
    with pytest.raises(ValueError, match="start_round"):
        rounds_figure(*case[:4], np.zeros((3, 200)), np.zeros(3), np.ones(20), np.ones((3, 20)), 4)


# ---- in Chromium -------------------------------------------------------------------------------------------------
_COUNT_SENDS = """() => { const send = WebSocket.prototype.send;
    window.__sends = 0; WebSocket.prototype.send = function (...a) { window.__sends += 1; return send.apply(this, a); };
    document.addEventListener('mousedown', () => { window.__down = performance.now(); }, true); }"""
_CHART = ".st-key-theory_rounds_chart .js-plotly-plot"


@pytest.mark.browser
@pytest.mark.timeout(240)
def test_moving_the_plotly_slider_redraws_in_the_browser_without_a_rerun(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1100})
    page = context.new_page()
    page.set_default_timeout(60_000)
    try:
        page.add_init_script(f"({_COUNT_SENDS})()")
        page.goto(f"{server}/theory?theory_round=4")
        page.wait_for_function(f"""() => {{ const gd = document.querySelector('{_CHART}');
                                    return gd && gd._fullLayout && gd._fullLayout.sliders
                                           && gd._fullLayout.sliders[0].active === 3; }}""")
        page.evaluate(f"""() => {{ const gd = document.querySelector('{_CHART}');
                          gd.on('plotly_animated', () => {{ window.__done = performance.now(); }}); }}""")
        page.wait_for_timeout(1500)  # let the first render's messages settle
        idle_before = page.evaluate("window.__sends")
        page.wait_for_timeout(1500)
        assert page.evaluate("window.__sends") == idle_before  # an idle page sends nothing: the count is telling
        drawn = f"() => Array.from(document.querySelector('{_CHART}')._fullData[3].y).slice(0, 50)"
        before = page.evaluate(drawn)
        chart = page.locator(".st-key-theory_rounds_chart")
        chart.scroll_into_view_if_needed()
        tick = chart.locator(".slider-tick-rect").nth(19).bounding_box()  # round 20
        page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 4)
        page.wait_for_function(f"() => document.querySelector('{_CHART}')._fullLayout.sliders[0].active === 19")
        page.wait_for_function("() => window.__done !== undefined")
        after = page.evaluate(drawn)
        frame = page.evaluate(f"""() => Array.from(document.querySelector('{_CHART}')._transitionData._frameHash['20']
                                                  .data[0].y).slice(0, 50)""")
        latency_ms = page.evaluate("window.__done - window.__down")
        page.wait_for_timeout(1500)
        sends = page.evaluate("window.__sends") - idle_before
        title = page.evaluate(f"() => document.querySelector('{_CHART}')._fullLayout.title.text")
    finally:
        context.close()
    print(f"theory slider step: {latency_ms:.0f} ms from mousedown to the redrawn frame")
    assert after != before and np.allclose(after, frame)  # the drawn fit is round 20's
    assert title.startswith("round 20: ")
    assert sends == 0  # no message to the server: no Streamlit rerun
    assert 0 < latency_ms < 1000  # the goal is ≤ 100 ms on a quiet machine; this machine is shared and loaded
