"""The Theory page script runs headless, reacts to its sliders and reads its state from the URL."""

from __future__ import annotations

import json
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
    assert 1 < int(shown["best round of 50"]) < 50
    best_mse = float(app.metric[1].delta.split()[1])  # "MSE 0.0123"
    assert best_mse < float(shown["MSE at round 1"])
    assert len(app.get("plotly_chart")) == 1  # one figure: its own slider moves the rounds (test_theory_sliders)


def _figure(at: AppTest) -> dict:
    return json.loads(at.get("plotly_chart")[0].proto.spec)


def test_the_round_is_a_slider_inside_the_chart(app):
    sliders = _figure(app)["layout"]["sliders"]
    assert len(sliders) == 1 and len(sliders[0]["steps"]) == 50 and sliders[0]["active"] == 3  # round 4
    assert not [s for s in app.slider if s.key == "theory_round"]  # no server-side round slider any more


def test_lambda_and_alpha_change_the_numbers(app):
    before = _metrics(app)["MSE at round 1"]
    app.select_slider(key="theory_lam").set_value(0.01).run()
    assert not app.exception
    assert _metrics(app)["MSE at round 1"] != before
    app.slider(key="theory_alpha").set_value(1.0).run()
    assert not app.exception
    frames = {f["name"]: f for f in _figure(app)["frames"]}
    assert frames["4"]["data"][0]["y"] == frames["1"]["data"][0]["y"]  # alpha = 1 refits the labels


def test_widgets_start_from_query_params():
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.query_params.update({"theory_round": "7", "theory_gamma": "50", "theory_seed": "3"})
    at.run()
    assert not at.exception
    assert _figure(at)["layout"]["sliders"][0]["active"] == 6  # round 7
    assert at.select_slider(key="theory_gamma").value == 50.0
    assert at.number_input(key="theory_seed").value == 3
    assert _figure(at)["layout"]["title"]["text"].startswith("round 7: ")
