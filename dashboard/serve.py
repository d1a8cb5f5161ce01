"""Self-Distillation Lab's server: ``streamlit run dashboard/serve.py`` from the repository root.

The app is dashboard/app.py; this adds the JSON route that watching pages ask for a run's status
(dashboard/status_route.py). ``streamlit run dashboard/app.py`` still serves the whole app without it: a live page
then learns of a run's end at its next chart redraw instead of at once.
"""
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # streamlit puts only dashboard/ on the path; core/ lives one level up
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from dashboard import status_route  # noqa: E402


def _store():
    from dashboard import state  # on the first request: the runtime exists by then (state caches with it)

    return state.store()


app = st.App("app.py", routes=status_route.routes(_store))
