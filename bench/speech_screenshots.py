"""Redraw assets/audio_inspector.png: a speech run's clicked test clip on the Runs page (its log-mel image, each
generation's class probabilities, the player) and the WER per generation.

    .venv/bin/python bench/speech_screenshots.py [--out-dir assets] [--point 5]

Trains ``speech-ban-noisy`` through the CLI into a temporary store (synthesis and training: a minute or two),
serves the real app on 127.0.0.1 and takes the picture in Debian's headless Chromium. Look at it before committing.
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from playwright.sync_api import sync_playwright  # noqa: E402

from bench.classroom_screenshots import train_preset  # noqa: E402
from tests.conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_healthy  # noqa: E402

LOAD_MS = 120_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out-dir", type=Path, default=ROOT / "assets")
    parser.add_argument("--point", type=int, default=5, help="the test clip shown")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        store = Path(tmp) / "store"
        run_id = train_preset(store, "speech-ban-noisy")
        process, url = start_server(store, Path(tmp) / "server.log")
        try:
            wait_healthy(url, process)
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"{url}/runs?run={run_id}&point={args.point}")
                image = page.locator(".st-key-point_image .js-plotly-plot")
                image.wait_for(timeout=LOAD_MS)
                player = page.locator("audio").first
                player.wait_for(state="attached", timeout=LOAD_MS)
                player.scroll_into_view_if_needed()
                page.wait_for_timeout(2500)  # the charts' first layout pass
                top = image.bounding_box()["y"] - 120
                bottom = player.bounding_box()["y"] + player.bounding_box()["height"] + 120
                page.screenshot(path=str(args.out_dir / "audio_inspector.png"),
                                clip={"x": 0, "y": max(top, 0), "width": 1400, "height": bottom - max(top, 0)})
                browser.close()
        finally:
            stop_server(process)
    print(f"wrote {args.out_dir / 'audio_inspector.png'} (run {run_id})")


if __name__ == "__main__":
    main()
