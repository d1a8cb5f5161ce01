"""The end of a run reaching many watching pages: seconds from the run's end to each page showing it.

    .venv/bin/python bench/watchers.py [--pages 10]

Prints ``end_to_page_s_median``, ``end_to_page_s_max`` (goal: every page within 2 s, with 10 pages open: the
status badge drawn), ``end_delivered_s_max`` (the server's message saying so arriving at each page, before its
browser draws it: in a classroom each page has its own computer, here all ten share the server's two cores) and
the load average. A real ``streamlit run`` server, a real CLI run, Debian's Chromium; a fresh temporary store.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from playwright.sync_api import sync_playwright  # noqa: E402

from conftest import CHROMIUM, CHROMIUM_ARGS, start_server, stop_server, wait_healthy  # noqa: E402
from watch_support import end_latencies  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--split-cores", action="store_true",
                        help="server and run on core 0, every browser page on core 1: the classroom, where each "
                             "page has a computer of its own, approximated on one machine (needs 2 cores)")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="sdlab-watchers-"))
    server_cores = {0} if args.split_cores else None
    if server_cores:
        os.sched_setaffinity(0, server_cores)  # the server inherits it...
    process, url = start_server(folder / "store", folder / "streamlit.log")
    if server_cores:
        os.sched_setaffinity(0, {1})  # ...and the browser, started next, this one
    try:
        wait_healthy(url, process)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            delivered: list[float] = []
            latencies = end_latencies(browser, url, folder / "store", pages=args.pages, delivered=delivered,
                                      run_cores=server_cores)
            browser.close()
    finally:
        stop_server(process)
    print(f"pages: {args.pages}{' (server and run on core 0, browsers on core 1)' if server_cores else ''}")
    print(f"end_to_page_s: {' '.join(f'{x:.2f}' for x in sorted(latencies))}")
    print(f"end_to_page_s_median: {statistics.median(latencies):.2f}")
    print(f"end_to_page_s_max: {max(latencies):.2f}")
    print(f"end_delivered_s: {' '.join(f'{x:.2f}' for x in sorted(delivered))}")
    print(f"end_delivered_s_max: {max(delivered):.2f}")
    print(f"load_average_1min: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
