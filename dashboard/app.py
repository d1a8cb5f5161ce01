"""Self-Distillation Lab: ``streamlit run dashboard/serve.py`` (or ``dashboard/app.py``) from the repository root.
This file only routes."""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts only dashboard/ on the path; core/ lives one level up
    sys.path.insert(0, str(ROOT))

# pandas and plotly are imported here, once, before any page runs: a page's chart and the warm-up thread must
# never import them at the same moment (plotly probing a half-imported pandas raised AttributeError on cold
# starts with many sessions opening at once).
import pandas  # noqa: E402, F401
import plotly.graph_objects  # noqa: E402, F401
import streamlit as st  # noqa: E402

from dashboard import errors, presentation, state  # noqa: E402

st.set_page_config(page_title="Self-Distillation Lab", page_icon=":material/science:", layout="wide")

pages = [
    st.Page("views/intro.py", title="Introduction", icon=":material/school:", url_path="intro"),
    st.Page("views/launch.py", title="Launch", icon=":material/rocket_launch:", default=True),
    st.Page("views/runs.py", title="Runs", icon=":material/monitoring:"),
    st.Page("views/compare.py", title="Compare", icon=":material/compare_arrows:"),
    st.Page("views/sweep.py", title="Sweep", icon=":material/tune:"),
    st.Page("views/theory.py", title="Theory", icon=":material/functions:"),
]
try:
    presentation.navigate(pages).run()  # the navigation, hidden in presentation mode (?present=1)
except Exception as exc:  # a visitor sees one line with an id; the traceback goes to the server log
    if errors.raise_errors():
        raise
    errors.show_unexpected(exc)
finally:  # after the page is drawn, so the first visitor's page does not share the CPU with the warm-up
    state.start_warm_up()
