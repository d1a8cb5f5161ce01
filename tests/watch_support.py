"""Many pages watching one run: how long after the run ends does each page show it?

Shared by ``tests/test_watchers.py`` (a bound that today's code meets with room, 212 s before the fix) and
``bench/watchers.py`` (the measured latencies against the 2 s goal). A CLI run trains into the server's store;
``pages`` browser pages open its Runs page and wait until each shows it running; then the run is cancelled
through the store (the same path as any end: the worker writes a final status), and each page is timed from
the store's ``finished`` timestamp to its status badge showing the new status.
"""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from core.storage.run_store import RunStore

ROOT = Path(__file__).resolve().parents[1]
# Long enough to open every page while it runs; cancelled long before it would end by itself.
LONG_RUN = ["--preset", "digits-ban-noisy", "--set", "train.epochs=10000", "--set", "method.generations=2",
            "--set", "eval.embedding=pca"]


def start_cli_run(store_root: Path, cores: set[int] | None = None) -> tuple[subprocess.Popen, str]:
    """Start a long run with the CLI into ``store_root`` (on ``cores`` only, if given); return the process and the
    run id once it is running."""
    store = RunStore(store_root)
    before = {run["id"] for run in store.list_runs()}
    process = subprocess.Popen([sys.executable, "-m", "core", "--store", str(store_root), "run", *LONG_RUN],
                               cwd=ROOT, env=os.environ.copy(), stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL,
                               preexec_fn=(lambda: os.sched_setaffinity(0, cores)) if cores else None)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        fresh = [r for r in store.list_runs() if r["id"] not in before and r["status"] == "running"]
        if fresh and store.epochs(fresh[0]["id"]):
            return process, fresh[0]["id"]
        if process.poll() is not None:
            raise RuntimeError(f"the CLI run exited early with code {process.returncode}")
        time.sleep(0.1)
    process.kill()
    raise TimeoutError("the CLI run did not start within 120 s")


def badge_text(page) -> str:
    return page.evaluate("""() => {
        const badge = document.querySelector('.stMarkdownBadge');
        return badge ? badge.textContent : '';
    }""")


def _record_end_frames(page, arrivals: list[float]) -> None:
    """Append to ``arrivals`` the time each WebSocket message naming the ended status reaches this page."""
    def on_frame(payload) -> None:
        if b"cancelled" in (payload if isinstance(payload, bytes) else payload.encode()):
            arrivals.append(time.time())
    page.on("websocket", lambda ws: ws.on("framereceived", on_frame))


def end_latencies(browser, url: str, store_root: Path, pages: int = 10, wait_s: float = 300.0,
                  delivered: list[float] | None = None, run_cores: set[int] | None = None,
                  settle_s: float = 5.0) -> list[float]:
    """Seconds from the run's end (the store's ``finished``) to each of ``pages`` pages showing it; inf if never.

    The run ends ``settle_s`` after every page shows it running: pages that are watching, not still opening (a
    page opening reruns once more when it learns how many others watch: dashboard/audience.py).

    ``delivered``, if given, receives for each page the seconds until the server's message saying so arrived at
    the page (before the browser drew it): what the server controls, apart from the browsers' own CPU.
    """
    process, run_id = start_cli_run(store_root, run_cores)
    store = RunStore(store_root)
    contexts = []
    arrivals: list[list[float]] = [[] for _ in range(pages)]
    try:
        for i in range(pages):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(120_000)
            _record_end_frames(page, arrivals[i])
            page.goto(f"{url}/runs?run={run_id}")
            contexts.append((context, page))
        for _, page in contexts:
            page.wait_for_function("""() => [...document.querySelectorAll('.stMarkdownBadge')]
                .some(b => b.textContent.includes('running'))""")
        time.sleep(settle_s)
        for frames in arrivals:
            frames.clear()  # only messages sent after the cancel request count
        store.request_cancel(run_id)
        seen: dict[int, float] = {}
        deadline = time.monotonic() + wait_s
        while len(seen) < pages and time.monotonic() < deadline:
            for i, (_, page) in enumerate(contexts):
                if i not in seen and "cancelled" in badge_text(page):
                    seen[i] = time.time()
            time.sleep(0.05)
        finished = store.get_run(run_id)["finished"]
        if delivered is not None:
            delivered[:] = [min(frames) - finished if frames else float("inf") for frames in arrivals]
        return [seen[i] - finished if i in seen else float("inf") for i in range(pages)]
    finally:
        for context, _ in contexts:
            context.close()
        process.terminate()
        process.wait(timeout=30)
