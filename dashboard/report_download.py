"""The "offline report (HTML)" download button of the Runs and Compare pages: the same self-contained file as
``python -m core report``, built only when the button is clicked (on Streamlit's download thread: no st.* there)."""
from __future__ import annotations

from typing import Sequence

import streamlit as st

from dashboard import state


def _html(root: str, run_ids: tuple[str, ...]) -> str:
    from core.reports.report import build_report  # plotly's inlined bundle: read only when a report is asked for
    from core.storage.run_store import RunStore

    return build_report(RunStore(root), run_ids)


def button(run_ids: Sequence[str], key: str) -> None:
    """One button that downloads the report of ``run_ids`` (one run, or a comparison of several)."""
    ids, root = tuple(run_ids), state.store_root()
    name = ids[0] if len(ids) == 1 else f"comparison-{len(ids)}-runs"
    st.download_button("offline report (HTML)", lambda: _html(root, ids), file_name=f"{name}-report.html",
                       mime="text/html", icon=":material/description:", key=key,
                       help="one self-contained file: config, explanation, every chart and the table; opens offline")
