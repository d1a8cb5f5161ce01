"""Run management on the Runs page: the search box over the run list, and a run's name, note and delete.

Changing a run needs ``access.may_act()`` (a read-only hosted session sees the name and note but cannot change
them). Delete asks first (a second button) and is refused for a queued or running run, as on the command line.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import streamlit as st

from core.storage import manage
from dashboard import access, state

_CONFIRM = "_sdlab_confirm_delete"


def matches(run: Mapping, text: str) -> bool:
    """Whether every word of ``text`` occurs (case-insensitively) in the run's id, name, preset, note, method,
    dataset or status."""
    config = run.get("config") or {}
    haystack = " ".join(str(v) for v in (
        run["id"], run.get("name"), run.get("label"), run.get("note"), run.get("status"),
        (config.get("method") or {}).get("name"), (config.get("data") or {}).get("name")) if v).lower()
    return all(word in haystack for word in text.lower().split())


def search(runs: Sequence[Mapping]) -> list[Mapping]:
    """The search box above the run list; the runs that match what is typed in it (all when it is empty)."""
    text = st.text_input("Search runs", key="runs_search", placeholder="name, preset, note, method, data or id",
                         label_visibility="collapsed", icon=":material/search:")
    return [run for run in runs if matches(run, text)] if text.strip() else list(runs)


def panel(run: Mapping) -> None:
    """Name, note and delete for one run, in a collapsed expander under the run list."""
    with st.expander("Name, note or delete this run", icon=":material/edit:"):
        allowed = access.may_act()
        if not allowed:
            st.caption("This server is read-only: runs cannot be renamed, annotated or deleted here.")
        with st.form(f"manage_{run['id']}", border=False):
            name = st.text_input("name", value=run.get("name") or "", max_chars=manage.MAX_NAME,
                                 key=f"run_name_{run['id']}", disabled=not allowed,
                                 placeholder=run.get("label") or run["id"])
            note = st.text_area("note", value=run.get("note") or "", max_chars=manage.MAX_NOTE, height=90,
                                key=f"run_note_{run['id']}", disabled=not allowed)
            if st.form_submit_button("Save name and note", icon=":material/save:", disabled=not allowed):
                _save(run["id"], name, note)
        _delete(run, allowed)


def _save(run_id: str, name: str, note: str) -> None:
    if not access.may_act():
        return
    store = state.store()
    try:
        manage.rename(store, run_id, name)
        manage.set_note(store, run_id, note)
    except ValueError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    st.rerun()


def _delete(run: Mapping, allowed: bool) -> None:
    active = run["status"] in ("queued", "running")
    why = ("cancel it first: a queued or running run cannot be deleted" if active
           else None if allowed else "read-only server")
    if st.session_state.get(_CONFIRM) != run["id"]:
        if st.button("Delete run…", key="delete_run", icon=":material/delete:", disabled=bool(why), help=why):
            st.session_state[_CONFIRM] = run["id"]
            st.rerun()
        return
    st.warning(f"Delete run {manage.display_name(run)}: its metrics and its artifacts folder? This cannot be "
               "undone.", icon=":material/warning:")
    yes, keep = st.columns(2)
    if keep.button("Keep it", key="delete_keep", width="stretch"):
        st.session_state.pop(_CONFIRM, None)
        st.rerun()
    if yes.button("Yes, delete", key="delete_confirm", type="primary", width="stretch", disabled=bool(why)):
        st.session_state.pop(_CONFIRM, None)
        try:
            manage.delete_run(state.store(), run["id"])
        except manage.RunBusy as exc:
            st.error(str(exc), icon=":material/error:")
            return
        st.query_params.pop("run", None)
        st.toast(f"Deleted run {run['id']}.", icon=":material/delete:")
        st.rerun()
