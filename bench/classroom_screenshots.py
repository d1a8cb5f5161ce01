"""Redraw assets/intro.png (the Introduction page), assets/runs_page.png (the Runs page of the preset's finished run,
the README's first picture) and assets/presentation.png (presentation mode).

    .venv/bin/python bench/classroom_screenshots.py [--out-dir assets] [--preset digits-ban-noisy]

Trains the preset (and a dry-run, so the one-line list shows two runs) through the CLI into a temporary store,
serves the real app on 127.0.0.1 and takes the pictures in Debian's headless Chromium: the introduction at a
laptop's size, presentation mode at a projector's 1600×900. Look at the result before committing it.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_healthy  # noqa: E402

LOAD_MS = 120_000


def train_preset(store: Path, preset: str) -> str:
    """Train ``preset`` with the CLI into ``store``; its run id."""
    done = subprocess.run([sys.executable, "-m", "core", "run", "--preset", preset, "--json"], cwd=ROOT,
                          env={**os.environ, "SDLAB_STORE": str(store)}, capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])["run_id"]


def _full_height(page) -> int:
    """The app scrolls inside its main block, so a full-page shot would stop at the window: measure the content."""
    return int(page.evaluate("() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], "
                             "[data-testid=stMainBlockContainer]')].map(e => e.scrollHeight))"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "assets")
    parser.add_argument("--preset", default="digits-ban-noisy", help="the run presented")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        train_preset(store, "dry-run")
        run_id = train_preset(store, args.preset)
        process, url = start_server(store, Path(tmp) / "server.log")
        try:
            wait_healthy(url, process)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/intro")
                page.locator("[data-testid=stGraphVizChart] svg").first.wait_for(timeout=LOAD_MS)
                page.set_viewport_size({"width": 1400, "height": _full_height(page) + 40})
                page.wait_for_timeout(1500)
                page.screenshot(path=str(args.out_dir / "intro.png"))
                page.set_viewport_size({"width": 1400, "height": 1000})
                page.goto(f"{url}/runs?run={run_id}")
                page.locator(".st-key-loss_chart .js-plotly-plot").wait_for(timeout=LOAD_MS)
                page.get_by_text("Downloads").first.wait_for(timeout=LOAD_MS)
                page.set_viewport_size({"width": 1400, "height": _full_height(page) + 40})
                page.wait_for_timeout(3000)  # the charts' layout pass at the new height
                page.screenshot(path=str(args.out_dir / "runs_page.png"))
                page.set_viewport_size({"width": 1600, "height": 900})
                page.goto(f"{url}/runs?run={run_id}&present=1")
                page.locator(".st-key-present_accuracy_chart .js-plotly-plot").wait_for(timeout=LOAD_MS)
                page.locator(".st-key-present_epoch_chart .js-plotly-plot").wait_for(timeout=LOAD_MS)
                page.wait_for_timeout(2500)  # the charts' first layout pass
                page.screenshot(path=str(args.out_dir / "presentation.png"))
                browser.close()
        finally:
            stop_server(process)
    print(f"wrote intro.png, runs_page.png and presentation.png in {args.out_dir} (run {run_id})")


if __name__ == "__main__":
    main()
