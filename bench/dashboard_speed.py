"""How the dashboard feels, measured in a real headless Chromium against a real ``streamlit run`` server.

    .venv/bin/python bench/dashboard_speed.py [--repeats 5]

Prints ``name: value`` lines (seconds or milliseconds; medians over the repeats for interactions):
  first_paint_s               server healthy -> the Launch page's heading visible (cold process, first visitor)
  form_ready_s                server healthy -> the whole Launch form drawn (its Launch button visible)
  launch_to_first_loss_s      Launch click (dry-run) -> the first loss point drawn on the Runs page
  launch_to_first_loss_noisy_s  the same for the default preset digits-ban-noisy (cancelled afterwards)
  generation_slider_ms        click on the 2-D view's generation slider -> plotly reports the new frame drawn
  color_by_ms                 click on a colouring button of the 2-D view -> the view redrawn in it
  first_visit_s               server healthy -> the Launch button enabled (the browser is started before the
                              server, so its own start-up is not counted)
  watched_wall_s, unwatched_wall_s, watched_over_unwatched
                              the same run (dry-run with --watch-epochs epochs per generation: dry-run sized, over
                              15 s) launched from the page twice in this one server: once with the page left on
                              its Runs page until it ends, once with the page sent to about:blank right after the
                              click; each run's own wall_seconds from the store, and their ratio
Targets: first paint < 3 s, first visit < 3 s, launch -> first loss < 2 s, interactions < 300 ms, watched over
unwatched < 1.1. Uses a fresh temporary store.
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
sys.path.insert(0, str(ROOT))
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
        [sys.executable, "-m", "streamlit", "run", "dashboard/serve.py", "--server.address", "127.0.0.1",
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


def _enabled_launch_s(page: Page, url: str, healthy: float) -> float:
    """Open the app; seconds from ``healthy`` (perf_counter) to the Launch button drawn and enabled."""
    page.goto(url)
    page.locator(".st-key-launch button:not([disabled])").wait_for(timeout=LONG_MS)
    return time.perf_counter() - healthy


def _timed_run(page: Page, url: str, store: Path, epochs: int, watched: bool) -> float:
    """Launch dry-run with ``epochs`` epochs per generation from the page; watch it on the Runs page or leave
    for about:blank at once; the run's own wall_seconds once it has finished."""
    from core.storage.run_store import RunStore

    page.goto(f"{url}/?preset=dry-run&train.epochs={epochs}")
    page.locator(".st-key-launch button:not([disabled])").wait_for(timeout=LONG_MS)
    page.locator(".st-key-launch button").click()
    page.wait_for_url(lambda u: "/runs?run=" in u, timeout=LONG_MS)
    run_id = page.url.split("run=")[1].split("&")[0]
    if not watched:
        page.goto("about:blank")
    runs = RunStore(store)
    deadline = time.monotonic() + 1800
    while runs.get_run(run_id)["status"] in ("queued", "running"):
        if time.monotonic() > deadline:
            raise TimeoutError(f"run {run_id} did not end within 30 min")
        time.sleep(0.5)
    summary = runs.summary(run_id)
    if summary["status"] != "finished":
        raise RuntimeError(f"run {run_id} ended {summary['status']}: {summary['error']}")
    if watched:  # the page must have shown the end too
        page.locator(".stMarkdownBadge", has_text="finished").first.wait_for(timeout=LONG_MS)
    return float(summary["wall_seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5, help="repetitions of each interaction (median shown)")
    parser.add_argument("--watch-epochs", type=int, default=800,
                        help="epochs per generation of the watched / unwatched run (dry-run has 4; 800 take "
                             "over 15 s)")
    parser.add_argument("--only-watch", action="store_true", help="only first_visit_s and the watched ratio")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p:
        # the browser first: first_visit_s counts from the server being healthy, not the browser's start-up
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        started = time.perf_counter()
        store = Path(tmp) / "store"
        process, url = _start_server(store)
        healthy = time.perf_counter()
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            print(f"first_visit_s: {_enabled_launch_s(page, url, healthy):.2f}")
            print(f"server_start_s: {healthy - started:.2f}")
            if not args.only_watch:
                fresh = browser.new_page(viewport={"width": 1400, "height": 1000})
                opened = time.perf_counter()
                fresh.goto(url)
                fresh.get_by_role("heading", name="Launch a run").wait_for(timeout=LONG_MS)
                print(f"first_paint_s: {time.perf_counter() - opened:.2f}")
                fresh.locator(".st-key-launch button").wait_for(timeout=LONG_MS)
                print(f"form_ready_s: {time.perf_counter() - opened:.2f}")
                fresh.close()
            print(f"launch_to_first_loss_s: {_launch(page, url, 'dry-run'):.2f}")  # also warms the worker
            page.locator(".stMarkdownBadge", has_text="finished").first.wait_for(timeout=LONG_MS)
            if not args.only_watch:
                page.locator(f"{CHART} .slider-container").first.wait_for(timeout=LONG_MS)
                page.locator(".st-key-embedding_chart").scroll_into_view_if_needed()
                page.wait_for_timeout(1000)
                sliders = [_slider_ms(page, (i + 1) % 2) for i in range(args.repeats)]
                print(f"generation_slider_ms: {statistics.median(sliders):.0f}  "
                      f"(all: {[round(s) for s in sliders]})")
                labels = [("prediction", "prediction"), ("correct / wrong", "correct"), ("true label", "label")]
                colors = [_color_by_ms(page, *labels[i % 3]) for i in range(args.repeats)]
                print(f"color_by_ms: {statistics.median(colors):.0f}  (all: {[round(c) for c in colors]})")
                print(f"launch_to_first_loss_noisy_s: {_launch(page, url, 'digits-ban-noisy'):.2f}")
                page.locator(".st-key-cancel button").click()
                page.locator(".stMarkdownBadge", has_text="cancelled").first.wait_for(timeout=LONG_MS)
            # the same run unwatched then watched, in this one server; the load average says how quiet it was
            unwatched = _timed_run(page, url, store, args.watch_epochs, watched=False)
            watched = _timed_run(page, url, store, args.watch_epochs, watched=True)
            print(f"unwatched_wall_s: {unwatched:.2f}")
            print(f"watched_wall_s: {watched:.2f}")
            print(f"watched_over_unwatched: {watched / unwatched:.3f}")
            print(f"load_average_1min_at_end: {os.getloadavg()[0]:.2f}")
        finally:
            browser.close()
            process.terminate()
            process.wait(timeout=30)


if __name__ == "__main__":
    main()
