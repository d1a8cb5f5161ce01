"""A light plotly template: plotly_white's look for flat charts, built once, cheap to apply.

Every chart is rebuilt while a run is watched, and applying plotly's own "plotly_white" copies and validates its
settings for every trace type and for 3-D, polar and map axes: about 12 ms a figure on a quiet machine and over
60 ms on a busy one, the largest part of a live chart's cost. This template keeps only the settings of the flat
charts drawn here (colours, fonts, 2-D axes, colour scales), so a figure looks the same at a tenth of the cost.
"""
from __future__ import annotations

import plotly.graph_objects as go
import plotly.io as pio

NAME = "sdlab_white"
KEPT_LAYOUT = ("autotypenumbers", "colorway", "font", "hovermode", "hoverlabel", "paper_bgcolor", "plot_bgcolor",
               "coloraxis", "colorscale", "xaxis", "yaxis", "shapedefaults", "annotationdefaults", "title")


def register() -> str:
    """Register the template under ``NAME`` (once) and return the name to pass as ``template=``."""
    if NAME not in pio.templates:
        white = pio.templates["plotly_white"].layout.to_plotly_json()
        pio.templates[NAME] = go.layout.Template(layout={key: white[key] for key in KEPT_LAYOUT if key in white})
    return NAME


TEMPLATE = register()
