"""dashboard/status_route.py: the long-polled JSON route through which watching pages learn a run's status.

The unit tests drive the route's waiting against a real store; the last test asks a real ``streamlit run
dashboard/serve.py`` server over HTTP while the store changes underneath it.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
import urllib.error
import urllib.request

import pytest

from core.storage.run_store import RunStore
from dashboard import status_route
from dashboard.status_route import CHECK_EVERY_S, PATH, StatusWatch, status_token


@pytest.fixture
def store(tmp_path):
    return RunStore(tmp_path / "store")


def test_the_token_names_status_finished_generations_and_warnings(store):
    run_id = store.create_run({"seed": 0})
    assert status_token(store.get_run(run_id), 0) == "queued:0:0"
    store.claim(run_id)
    store.add_generation(run_id, 0, {"test_acc": 0.5})
    assert status_token(store.get_run(run_id), len(store.generations(run_id))) == "running:1:0"
    store.finish(run_id, "finished", summary={"warnings": ["collapsed", "noisy"]})
    assert status_token(store.get_run(run_id), 1) == "finished:1:2"


class CountingStore(RunStore):
    reads = 0

    def get_run(self, run_id):
        self.reads += 1
        return super().get_run(run_id)


def _wait(store, run_id, known, hold_s, change=None, after_s=0.3, pages=1):
    """``pages`` pages wait on the route's logic at once; ``change(store)`` runs ``after_s`` into the wait. Returns
    the answers, the seconds each page waited, and the seconds from the start to the change."""
    async def scenario():
        watch, started = StatusWatch(store), time.monotonic()

        async def page():
            answer = await watch.wait_for_change(run_id, known, hold_s)
            return answer, time.monotonic() - started

        waiting = [asyncio.create_task(page()) for _ in range(pages)]
        changed_at = None
        if change is not None:
            await asyncio.sleep(after_s)
            change(store)
            changed_at = time.monotonic() - started
        done = await asyncio.gather(*waiting)
        return [a for a, _ in done], [w for _, w in done], changed_at

    return asyncio.run(scenario())


def test_one_store_read_per_interval_serves_every_waiting_page(tmp_path):
    store = CountingStore(tmp_path / "store")
    run_id = store.create_run({"seed": 0})
    answers, waited, _ = _wait(store, run_id, "queued:0:0", hold_s=0.5, pages=10)
    assert all(a["token"] == "queued:0:0" for a in answers) and min(waited) >= 0.5
    assert store.reads <= 2 + 0.5 / CHECK_EVERY_S, store.reads  # one at the start, then one per interval


def test_a_finished_generation_wakes_every_waiting_page_at_once(store):
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)
    answers, waited, changed_at = _wait(store, run_id, "running:0:0", hold_s=10, pages=10,
                                        change=lambda s: s.add_generation(run_id, 0, {"test_acc": 0.9}))
    assert all(a == {"status": "running", "ended": False, "token": "running:1:0"} for a in answers)
    assert changed_at <= min(waited) and max(waited) - changed_at < CHECK_EVERY_S + 0.5, (changed_at, waited)
    assert max(waited) - min(waited) < 0.05  # woken by the same read


class FlakyStore(RunStore):
    """A store whose reads fail for a while (a disk hiccup, a locked database)."""
    failing = False

    def get_run(self, run_id):
        if self.failing:
            raise sqlite3.OperationalError("disk I/O error")
        return super().get_run(run_id)


def test_a_read_that_fails_for_a_while_delays_the_answer_and_loses_nothing(tmp_path):
    store = FlakyStore(tmp_path / "store")
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)

    def fail_then_end(s):
        s.failing = True
        threading.Timer(0.5, lambda: setattr(s, "failing", False)).start()
        s.finish(run_id, "cancelled")

    answers, waited, changed_at = _wait(store, run_id, "running:0:0", hold_s=10, pages=3, change=fail_then_end)
    assert all(a["status"] == "cancelled" and a["ended"] for a in answers)
    assert changed_at + 0.5 <= min(waited) and max(waited) < changed_at + 2.0, (changed_at, waited)


def test_holds_while_nothing_changes_and_answers_at_once_when_the_page_is_behind(store):
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)
    (answer,), (waited,), _ = _wait(store, run_id, "running:0:0", hold_s=0.5)
    assert answer["token"] == "running:0:0" and 0.5 <= waited < 1.5
    (answer,), (waited,), _ = _wait(store, run_id, "queued:0:0", hold_s=10)  # the page drew an older status
    assert answer["token"] == "running:0:0" and waited < 0.5
    store.finish(run_id, "cancelled")
    (answer,), (waited,), _ = _wait(store, run_id, "cancelled:0:0", hold_s=10)  # ended: nothing more will change
    assert answer["ended"] and waited < 0.5
    assert _wait(store, "no-such-run", "", hold_s=10)[0] == [None]


def _get(url: str, timeout: float = 30, host: str | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_server_answers_a_waiting_page_when_the_run_ends(server_and_store):
    url, store_root = server_and_store
    store = RunStore(store_root)
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)
    assert _get(f"{url}{PATH}")[0] == 400
    assert _get(f"{url}{PATH}?run={run_id}&known=", host="rebound.attacker.example")[0] == 403  # DNS rebinding
    code, body = _get(f"{url}{PATH}?run=nope&known=")
    assert code == 404 and "nope" in body["error"]
    code, body = _get(f"{url}{PATH}?run={run_id}&known=&session=not-a-session")
    assert code == 200 and body == {"status": "running", "ended": False, "token": "running:0:0", "watchers": 0}

    answers = []
    waiting = threading.Thread(target=lambda: answers.append((_get(f"{url}{PATH}?run={run_id}&known=running:0:0"),
                                                              time.monotonic())))
    waiting.start()
    time.sleep(1.0)
    assert answers == []  # held: nothing changed yet
    ended_at = time.monotonic()
    store.finish(run_id, "cancelled")
    waiting.join(timeout=status_route.HOLD_S + 10)
    (code, body), answered_at = answers[0]
    assert code == 200 and body["status"] == "cancelled" and body["ended"]
    assert answered_at - ended_at < 2.0
