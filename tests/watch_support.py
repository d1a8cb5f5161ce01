"""Many pages watching one run: how long after the run ends does each page show it?

Shared by ``tests/test_watchers.py`` (a bound that today's code meets with room, 212 s before the fix) and
``bench/watchers.py`` (the measured latencies against the 2 s goal). A CLI run trains into the server's store;
``pages`` browser pages open its Runs page and wait until each shows it running; then the run is cancelled
through the store (the same path as any end: the worker writes a final status), and each page is timed from
the store's ``finished`` timestamp to the moment the page painted its status badge showing the new status (noted
by the page itself: WATCH_FOR_END).
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


# Installed in a page before the run ends: the page itself notes (Date.now(), the same clock as time.time() on this
# machine) when a status badge naming the end enters its DOM, and when the browser next paints (the animation
# frame after it). Reading a page from here waits for its renderer; with ten busy renderers a loop over the pages
# took seconds, so times taken by such a loop measured the loop, not the pages.
# A run's status badge: drawn by the page's own script while the run is active (dashboard/status_beacon.py), by
# Streamlit once the page has redrawn for the end.
BADGES = ".sdlab-status-badge, .stMarkdownBadge"
WATCH_FOR_END = """(status) => {
    window.__endInDom = null; window.__endPainted = null; window.__watchStatus = status;
    const seen = () => [...document.querySelectorAll(BADGES)]
        .some(b => b.textContent.includes(status));
    const note = () => {
        if (window.__endInDom !== null || !seen()) return;
        window.__endInDom = Date.now();
        requestAnimationFrame(() => { window.__endPainted = Date.now(); });
        observer.disconnect();
    };
    const observer = new MutationObserver(note);
    observer.observe(document.body, {subtree: true, childList: true, characterData: true});
    note();
}""".replace("BADGES", f"'{BADGES}'")


def painted_at(page) -> float | None:
    """When (seconds since the epoch) the page painted the ended badge, as the page noted it; None if not yet."""
    painted = page.evaluate("() => window.__endPainted")
    return None if painted is None else painted / 1000.0


# Added to every page before it loads: once WATCH_FOR_END has named a status, the page notes when the first
# WebSocket message or status route answer naming it arrives (before the browser draws anything of it).
NOTE_ARRIVALS = """(() => {
    const Native = window.WebSocket;
    window.__endArrived = null;
    window.WebSocket = function (...args) {
        const socket = new Native(...args);
        socket.addEventListener('message', (event) => {
            const status = window.__watchStatus;
            if (!status || window.__endArrived !== null) return;
            const text = typeof event.data === 'string' ? event.data
                : new TextDecoder('latin1').decode(new Uint8Array(event.data));
            if (text.includes(status)) window.__endArrived = Date.now();
        });
        return socket;
    };
    window.WebSocket.prototype = Native.prototype;
    Object.assign(window.WebSocket, {CONNECTING: 0, OPEN: 1, CLOSING: 2, CLOSED: 3});
    const nativeFetch = window.fetch;  // the status route's answers (dashboard/status_beacon.py)
    window.fetch = async (...args) => {
        const response = await nativeFetch(...args);
        const status = window.__watchStatus;
        if (status && window.__endArrived === null && String(args[0]).includes('/_sdlab/run-status')) {
            response.clone().text().then((text) => {
                if (text.includes(status) && window.__endArrived === null) window.__endArrived = Date.now();
            });
        }
        return response;
    };
})();"""


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
    try:
        for i in range(pages):
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            page = context.new_page()
            page.set_default_timeout(120_000)
            context.add_init_script(NOTE_ARRIVALS)
            page.goto(f"{url}/runs?run={run_id}")
            contexts.append((context, page))
        for _, page in contexts:
            page.wait_for_function(f"""() => [...document.querySelectorAll('{BADGES}')]
                .some(b => b.textContent.includes('running'))""")
        time.sleep(settle_s)
        for _, page in contexts:
            page.evaluate(WATCH_FOR_END, "cancelled")
        store.request_cancel(run_id)
        seen: dict[int, float] = {}
        deadline = time.monotonic() + wait_s
        while len(seen) < pages and time.monotonic() < deadline:
            for i, (_, page) in enumerate(contexts):
                if i not in seen and (at := painted_at(page)) is not None:
                    seen[i] = at
            time.sleep(0.05)
        finished = store.get_run(run_id)["finished"]
        if delivered is not None:
            arrived = [page.evaluate("() => window.__endArrived") for _, page in contexts]
            delivered[:] = [at / 1000.0 - finished if at is not None else float("inf") for at in arrived]
        return [seen[i] - finished if i in seen else float("inf") for i in range(pages)]
    finally:
        for context, _ in contexts:
            context.close()
        process.terminate()
        process.wait(timeout=30)
