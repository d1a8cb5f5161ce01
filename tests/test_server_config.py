"""Safe server defaults, checked on the real server: a bare ``streamlit run`` listens on loopback only, and a
WebSocket whose Host header names another machine (DNS rebinding) is refused."""
from __future__ import annotations

import base64
import os
import socket
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ROOT, free_port, stop_server, wait_healthy


def _listening_addresses(port: int) -> set[str]:
    """Local addresses with a socket listening on ``port`` (from /proc/net/tcp and tcp6)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:  # 0A: LISTEN
                found.add(address)
    return found


def _handshake(port: int, host: str) -> str:
    """The status line the server answers to a WebSocket upgrade with this Host header."""
    key = base64.b64encode(os.urandom(16)).decode()
    request = (f"GET /_stcore/stream HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n\r\n")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(request.encode())
        return conn.recv(4096).decode(errors="replace").split("\r\n", 1)[0]


@pytest.fixture(scope="module")
def bare_server(tmp_path_factory):
    """``streamlit run dashboard/serve.py`` (the README's command) with only a port: the rest from the config file."""
    port = free_port()
    store = tmp_path_factory.mktemp("store")
    log = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.port",
                                    str(port)], cwd=ROOT, env={**os.environ, "SDLAB_STORE": str(store)},
                                   stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_healthy(f"http://127.0.0.1:{port}", process)
        yield port
    finally:
        stop_server(process)


def test_the_config_file_binds_loopback_and_allows_only_loopback_hosts():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    assert set(config["server"]["allowedHosts"]) == {"localhost", "127.0.0.1", "::1"}
    assert config["client"]["toolbarMode"] == "viewer"  # no Deploy button for visitors


def test_the_server_skips_work_that_a_live_page_would_repeat_every_poll():
    """A full garbage collection after every rerun and a re-listing of every imported module took ~75% of the
    server's CPU while a page watched a run (py-spy; bench/RESULTS.md), CPU taken from the training beside it."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["postScriptGC"] is False
    assert config["server"]["fileWatcherType"] == "none"


def test_a_bare_streamlit_run_listens_on_loopback_only(bare_server):
    assert _listening_addresses(bare_server) == {"0100007F"}  # 127.0.0.1, little-endian hex; no 0.0.0.0, no ::


def test_a_foreign_host_header_is_refused_and_loopback_is_accepted(bare_server):
    assert " 101 " in _handshake(bare_server, f"127.0.0.1:{bare_server}")
    assert " 101 " in _handshake(bare_server, f"localhost:{bare_server}")
    refused = _handshake(bare_server, "rebound.attacker.example")
    assert " 101 " not in refused and refused.startswith("HTTP/1.1 4"), refused


def test_the_procfile_refuses_to_start_without_a_host_name():
    procfile = (ROOT / "Procfile").read_text()
    assert "--server.address=0.0.0.0" in procfile and "--server.allowedHosts=${SDLAB_HOST:?" in procfile
