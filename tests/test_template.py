"""The light chart template looks like plotly_white where the lab's charts look, and carries far less (cost:
bench/watchers.py)."""
from __future__ import annotations

import plotly.io as pio

from core.reports.template import TEMPLATE


def test_light_template_keeps_plotly_whites_flat_chart_look():
    white, light = pio.templates["plotly_white"].layout, pio.templates[TEMPLATE].layout
    assert light.plot_bgcolor == white.plot_bgcolor == "white"
    assert light.xaxis.gridcolor == white.xaxis.gridcolor and light.yaxis.gridcolor == white.yaxis.gridcolor
    assert tuple(light.colorway) == tuple(white.colorway)
    assert light.colorscale.sequential == white.colorscale.sequential
    assert light.scene.xaxis.gridcolor is None  # 3-D settings are what it leaves out


def test_light_template_carries_a_small_part_of_plotly_whites_settings():
    """What a figure copies and validates when a template is applied: the template's settings."""
    light, white = pio.templates[TEMPLATE].to_plotly_json(), pio.templates["plotly_white"].to_plotly_json()
    assert "data" not in light or not light["data"]  # no per-trace-type defaults (plotly_white has ~30 types)
    assert len(str(light)) < len(str(white)) / 3
