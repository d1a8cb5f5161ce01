"""Shared fixtures: a temporary store for the app, and a real ``streamlit run`` server for browser tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Nothing a test does may fall back to the default store ./runs in the repository: point the default elsewhere.
os.environ["SDLAB_STORE"] = tempfile.mkdtemp(prefix="sdlab-test-store-")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _clear_streamlit_caches() -> None:
    import streamlit as st

    from core.engine import jobs

    jobs.close_all()  # the app's cached queue: its idle worker processes would outlive the test
    st.cache_resource.clear()
    st.cache_data.clear()


@pytest.fixture
def app_store(tmp_path, monkeypatch) -> Path:
    """An empty store folder that the app under test (``AppTest``) uses through ``SDLAB_STORE``."""
    root = tmp_path / "store"
    monkeypatch.setenv("SDLAB_STORE", str(root))
    monkeypatch.setenv("SDLAB_RAISE_ERRORS", "1")  # a failing page fails its test (visitors get an error id)
    _clear_streamlit_caches()
    yield root
    _clear_streamlit_caches()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited early with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise TimeoutError(f"streamlit at {url} did not become healthy within {timeout_s} s")


def start_server(store: Path, log_path: Path) -> tuple[subprocess.Popen, str]:
    """``streamlit run dashboard/serve.py`` bound to 127.0.0.1 on a free port, with its own store."""
    port = free_port()
    env = {**os.environ, "SDLAB_STORE": str(store)}
    with open(log_path, "wb") as log:  # the child keeps its own handle
        process = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    return process, f"http://127.0.0.1:{port}"


def stop_server(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> str:
    """A running app with an empty temporary store; yields its base URL."""
    folder = tmp_path_factory.mktemp("server")
    process, url = start_server(folder / "store", folder / "streamlit.log")
    try:
        wait_healthy(url, process)
        yield url
    finally:
        stop_server(process)


@pytest.fixture
def server_and_store(tmp_path) -> tuple[str, Path]:
    """A running app of its own with an empty store; yields its base URL and the store folder."""
    process, url = start_server(tmp_path / "store", tmp_path / "streamlit.log")
    try:
        wait_healthy(url, process)
        yield url, tmp_path / "store"
    finally:
        stop_server(process)


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no download: the system browser is used)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        instance = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()
