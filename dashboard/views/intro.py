"""Introduction page: what self-distillation is, the teacher → student → next generation chain, what each preset
shows, and a button that opens Launch with the demo preset."""
from __future__ import annotations

import streamlit as st

from dashboard import intro

st.title("What is self-distillation?")
text_col, start_col = st.columns([3, 1], gap="large", vertical_alignment="center")
with text_col:
    st.markdown(intro.WHAT)
with start_col:
    if st.button("Start the demo", type="primary", key="start_demo", icon=":material/play_arrow:", width="stretch",
                 help=f"opens Launch with the {intro.DEMO_PRESET} preset"):
        st.switch_page("views/launch.py", query_params={"preset": intro.DEMO_PRESET})
    st.caption(f"Opens Launch with `{intro.DEMO_PRESET}`: {intro.PRESETS[intro.DEMO_PRESET].description}.")
st.graphviz_chart(intro.diagram(), width="stretch")
st.markdown(intro.WHY)
st.markdown(intro.WHERE)

st.subheader("What each preset shows")
st.caption("Open a preset for what kind of run it is and, where it has one, what to look for in its charts.")
for preset, kind in intro.preset_rows():
    with st.expander(f"**{preset.name}**: {preset.description}"):
        st.caption(kind)
        if preset.explanation:
            st.markdown(preset.explanation)
