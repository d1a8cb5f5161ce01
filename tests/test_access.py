"""Who may change things: everyone on a loopback server; on a hosted one, only after the password, or no one."""
from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

from dashboard.access import password_matches

APP = str(Path(__file__).resolve().parents[1] / "dashboard" / "app.py")


@pytest.fixture
def server_address():
    """Set ``server.address`` as the server's config would, and put it back afterwards."""
    before = config.get_option("server.address")
    yield lambda address: config.set_option("server.address", address)
    config.set_option("server.address", before)


def _launch_page(monkeypatch, address_setter, address: str, **env) -> AppTest:
    address_setter(address)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    at = AppTest.from_file(APP, default_timeout=90).run()
    assert not at.exception, at.exception
    return at


def test_a_loopback_server_without_a_password_lets_everyone_launch(app_store, monkeypatch, server_address):
    at = _launch_page(monkeypatch, server_address, "127.0.0.1")
    assert not at.button(key="launch").disabled
    assert not any(e.type == "text_input" and "Password" in e.label for e in at.text_input)


def test_a_hosted_server_without_a_password_is_read_only(app_store, monkeypatch, server_address):
    at = _launch_page(monkeypatch, server_address, "0.0.0.0")
    assert at.button(key="launch").disabled
    assert any("read-only" in i.value for i in at.info)


def test_the_password_unlocks_launching_for_the_session(app_store, monkeypatch, server_address):
    at = _launch_page(monkeypatch, server_address, "0.0.0.0", SDLAB_PASSWORD="s3cret-ü")
    assert at.button(key="launch").disabled
    at.text_input(key="password_launch").input("wrong").run()
    assert at.button(key="launch").disabled and any("Wrong password" in e.value for e in at.error)
    at.text_input(key="password_launch").input("s3cret-ü").run()
    assert not at.button(key="launch").disabled
    at.run()  # stays unlocked on the next rerun of the session
    assert not at.button(key="launch").disabled


def test_password_comparison():
    assert password_matches("abc", "abc") and not password_matches("abd", "abc") and not password_matches("", "abc")
