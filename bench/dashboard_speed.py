"""How the dashboard feels, measured in a real headless Chromium against a real ``streamlit run`` server.

    .venv/bin/python bench/dashboard_speed.py [--repeats 5]

Prints ``name: value`` lines (seconds or milliseconds; medians over the repeats for interactions):
  first_paint_s               server healthy -> the Launch page's heading visible (cold process, first visitor)
  form_ready_s                server healthy -> the whole Launch form drawn (its Launch button visible)
  launch_to_first_loss_s      Launch click (dry-run) -> the first loss point drawn on the Runs page
  launch_to_first_loss_noisy_s  the same for the default preset digits-ban-noisy (cancelled afterwards)
  generation_slider_ms        click on the 2-D view's generation slider -> plotly reports the new frame drawn
  color_by_ms                 click on a colouring button of the 2-D view -> the view redrawn in it
Targets: first paint < 3 s, launch -> first loss < 2 s, interactions < 300 ms. Uses a fresh temporary store.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
LONG_MS = 180_000
CHART = ".st-key-embedding_chart .js-plotly-plot"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start_server(store: Path) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.address", "127.0.0.1",
         "--server.port", str(port), "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env={**os.environ, "SDLAB_STORE": str(store)}, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2):
                return process, url
        except OSError:
            time.sleep(0.05)
    process.kill()
    raise TimeoutError("streamlit did not become healthy")


def _mark_next_mousedown(page: Page) -> None:
    """Record (in page time) the moment of the next mouse press anywhere on the page."""
    page.evaluate("""() => { window.__t0 = null;
        document.addEventListener('mousedown', () => { window.__t0 = performance.now(); },
                                  {capture: true, once: true}); }""")


def _elapsed_ms(page: Page, condition: str) -> float:
    """Wait (polling every animation frame) until ``condition`` holds; ms since the recorded mouse press."""
    page.wait_for_function(f"() => {{ if ({condition}) {{ window.__t1 = performance.now(); return true; }}"
                           " return false; }", polling="raf", timeout=LONG_MS)
    return page.evaluate("() => window.__t1 - window.__t0")


def _launch(page: Page, url: str, preset: str) -> float:
    """Open Launch with ``preset``, click Launch; seconds from the click to the first loss point drawn."""
    page.goto(f"{url}/?preset={preset}")
    page.locator(".st-key-launch button").wait_for(timeout=LONG_MS)
    _mark_next_mousedown(page)
    page.locator(".st-key-launch button").click()
    loss_drawn = ("[...document.querySelectorAll('.st-key-loss_chart .js-plotly-plot')]"
                  ".some(gd => (gd._fullData || []).some(t => t.x && t.x.length > 0))")
    return _elapsed_ms(page, loss_drawn) / 1000


def _slider_ms(page: Page, generation: int) -> float:
    chart = page.locator(".st-key-embedding_chart")
    tick = chart.locator(".slider-tick-rect").nth(generation).bounding_box()
    page.evaluate(f"""() => {{ window.__animated = false;
        document.querySelector('{CHART}').once('plotly_animated', () => {{ window.__animated = true; }}); }}""")
    _mark_next_mousedown(page)
    page.mouse.click(tick["x"] + tick["width"] / 2, tick["y"] - 4)
    return _elapsed_ms(page, "window.__animated === true")


def _color_by_ms(page: Page, label: str, key: str) -> float:
    """Click a colouring button of the 2-D view; ms until the legend drawn on screen carries the new title and
    only that colouring's traces (``meta`` = ``key``) are shown."""
    _mark_next_mousedown(page)
    page.locator(f"{CHART} .updatemenu-button", has_text=label).click()
    return _elapsed_ms(page, f"[...document.querySelectorAll('{CHART}')].some(gd => "
                             f"(gd.querySelector('.legendtitletext') || {{}}).textContent === '{label}' && "
                             f"gd._fullData.filter(t => t.visible === true).every(t => t.meta === '{key}'))")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of each interaction (median shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        started = time.perf_counter()
        process, url = _start_server(Path(tmp) / "store")
        healthy = time.perf_counter()
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            launched_browser = time.perf_counter()
            page.goto(url)
            page.get_by_role("heading", name="Launch a run").wait_for(timeout=LONG_MS)
            print(f"first_paint_s: {time.perf_counter() - launched_browser:.2f}")
            page.locator(".st-key-launch button").wait_for(timeout=LONG_MS)
            print(f"form_ready_s: {time.perf_counter() - launched_browser:.2f}")
            print(f"server_start_s: {healthy - started:.2f}")

            print(f"launch_to_first_loss_s: {_launch(page, url, 'dry-run'):.2f}")
            page.locator(".stMarkdownBadge", has_text="finished").first.wait_for(timeout=LONG_MS)
            page.locator(f"{CHART} .slider-container").first.wait_for(timeout=LONG_MS)
            page.locator(".st-key-embedding_chart").scroll_into_view_if_needed()
            page.wait_for_timeout(1000)
            sliders = [_slider_ms(page, (i + 1) % 2) for i in range(args.repeats)]
            print(f"generation_slider_ms: {statistics.median(sliders):.0f}  (all: {[round(s) for s in sliders]})")
            labels = [("prediction", "prediction"), ("correct / wrong", "correct"), ("true label", "label")]
            colors = [_color_by_ms(page, *labels[i % 3]) for i in range(args.repeats)]
            print(f"color_by_ms: {statistics.median(colors):.0f}  (all: {[round(c) for c in colors]})")

            print(f"launch_to_first_loss_noisy_s: {_launch(page, url, 'digits-ban-noisy'):.2f}")
            page.locator(".st-key-cancel button").click()
            page.locator(".stMarkdownBadge", has_text="cancelled").first.wait_for(timeout=LONG_MS)
        finally:
            browser.close()
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
