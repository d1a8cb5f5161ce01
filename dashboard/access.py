"""Who may change things. On this machine (the server bound to loopback) everyone who reaches the app may launch
and cancel runs. A server reachable from elsewhere (a hosted deploy) is read-only unless ``SDLAB_PASSWORD`` is
set; then a visitor types it once per session. The comparison takes constant time."""
from __future__ import annotations

import hmac
import os

import streamlit as st

PASSWORD_ENV = "SDLAB_PASSWORD"
LOOPBACK = ("127.0.0.1", "localhost", "::1")
_UNLOCKED = "_sdlab_unlocked"


def hosted() -> bool:
    """Whether the server listens beyond loopback (``server.address`` unset counts as every interface)."""
    return (st.get_option("server.address") or "0.0.0.0") not in LOOPBACK


def password_matches(typed: str, expected: str) -> bool:
    return hmac.compare_digest(typed.encode(), expected.encode())


def may_act() -> bool:
    """Whether this session may launch, cancel or stop runs and sweeps."""
    expected = os.environ.get(PASSWORD_ENV)
    if expected:
        return bool(st.session_state.get(_UNLOCKED))
    return not hosted()


def gate(where: str) -> bool:
    """``may_act()``, drawing what the visitor needs when not: the password box, or the read-only notice."""
    if may_act():
        return True
    expected = os.environ.get(PASSWORD_ENV)
    if not expected:
        st.info("This server is reachable from other machines and has no password set, so it is read-only: "
                "browse the runs; launching, cancelling and sweeps are off. Its operator can set SDLAB_PASSWORD "
                "(README, Deploying).", icon=":material/lock:")
        return False
    typed = st.text_input("Password to launch and cancel runs", type="password", key=f"password_{where}")
    if typed:
        if password_matches(typed, expected):
            st.session_state[_UNLOCKED] = True
            return True
        st.error("Wrong password.", icon=":material/lock:")
    return False
