"""What a visitor sees when a page fails unexpectedly: one line with an error id, never a traceback. The
traceback goes to the server's log under the same id, so whoever runs the server can find it."""
from __future__ import annotations

import logging
import os
import secrets

import streamlit as st

log = logging.getLogger("sdlab.dashboard")
RAISE_ENV = "SDLAB_RAISE_ERRORS"  # set (tests) to let errors propagate, so a failing page fails its test


def raise_errors() -> bool:
    return bool(os.environ.get(RAISE_ENV))


def show_unexpected(exc: BaseException) -> str:
    """Log ``exc`` with a fresh id and tell the visitor that id in one line; returns the id."""
    error_id = secrets.token_hex(4)
    log.error("unexpected error %s on a page", error_id, exc_info=exc)
    st.error(f"Something went wrong on this page (error {error_id}). The details are in the server's log; "
             f"reload the page to go on.", icon=":material/error:")
    return error_id
