"""The Theory page script runs headless, reacts to its sliders and reads its state from the URL."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

PAGE = str(Path(__file__).resolve().parents[1] / "dashboard" / "views" / "theory.py")


def _metrics(at: AppTest) -> dict[str, str]:
    """Metric label -> displayed value."""
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def app() -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60).run()
    assert not at.exception
    return at


def test_defaults_show_a_few_rounds_helping(app):
    shown = _metrics(app)
    assert float(shown["MSE at round 4"]) < float(shown["MSE at round 1"])
    assert 1 < int(shown["best round of 50"]) < 50
    assert len(app.get("plotly_chart")) == 3


def test_round_slider_changes_the_numbers(app):
    before = _metrics(app)
    app.slider(key="theory_round").set_value(30).run()
    assert not app.exception
    after = _metrics(app)
    assert float(after["MSE at round 30"]) > float(before["MSE at round 4"])  # many rounds underfit
    assert after["MSE at round 1"] == before["MSE at round 1"]


def test_lambda_and_alpha_change_the_numbers(app):
    before = _metrics(app)["MSE at round 1"]
    app.select_slider(key="theory_lam").set_value(0.01).run()
    assert not app.exception
    assert _metrics(app)["MSE at round 1"] != before
    app.slider(key="theory_alpha").set_value(1.0).run()
    assert not app.exception
    shown = _metrics(app)
    assert shown["MSE at round 4"] == shown["MSE at round 1"]  # alpha = 1 refits the labels


def test_widgets_start_from_query_params():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"theory_round": "7", "theory_gamma": "50", "theory_seed": "3"})
    at.run()
    assert not at.exception
    assert at.slider(key="theory_round").value == 7
    assert at.select_slider(key="theory_gamma").value == 50.0
    assert at.number_input(key="theory_seed").value == 3
    assert "MSE at round 7" in _metrics(at)
