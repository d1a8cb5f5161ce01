"""dashboard/status_route.py: the long-polled JSON route through which watching pages learn a run's status.

The unit tests drive the route's waiting against a real store; the last test asks a real ``streamlit run
dashboard/serve.py`` server over HTTP while the store changes underneath it.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from core.storage.run_store import RunStore
from dashboard import status_route
from dashboard.status_route import CHECK_EVERY_S, PATH, StatusReader, status_token, wait_for_change


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


def test_one_store_read_per_interval_serves_every_waiting_page(tmp_path):
    store = CountingStore(tmp_path / "store")
    run_id = store.create_run({"seed": 0})
    now = [10.0]
    reader = StatusReader(store, clock=lambda: now[0])

    async def ask_ten_three_times():
        reads = []
        for step in (0.0, CHECK_EVERY_S / 2, CHECK_EVERY_S):
            now[0] += step
            answers = await asyncio.gather(*(reader.latest(run_id) for _ in range(10)))
            assert all(a["token"] == "queued:0:0" for a in answers)
            reads.append(store.reads)
        return reads

    assert asyncio.run(ask_ten_three_times()) == [1, 1, 2]


def _wait(store, run_id, known, hold_s, change=None, after_s=0.3):
    """Wait on the route's logic as a page would; ``change(store)`` runs ``after_s`` into the wait."""
    checks = []

    async def scenario():
        waiting = asyncio.create_task(wait_for_change(StatusReader(store), run_id, known, hold_s,
                                                      on_check=lambda: checks.append(1)))
        if change is not None:
            await asyncio.sleep(after_s)
            await asyncio.to_thread(change, store)
        return await waiting

    started = time.monotonic()
    answer = asyncio.run(scenario())
    return answer, time.monotonic() - started, len(checks)


def test_answers_as_soon_as_a_generation_finishes(store):
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)
    answer, waited, checks = _wait(store, run_id, "running:0:0", hold_s=10,
                                   change=lambda s: s.add_generation(run_id, 0, {"test_acc": 0.9}))
    assert answer == {"status": "running", "ended": False, "token": "running:1:0"}
    assert 0.3 <= waited < 1.5, waited  # at the change, not at the end of the hold
    assert checks >= 2  # the page was counted all along its wait


def test_holds_while_nothing_changes_and_answers_at_once_when_the_page_is_behind(store):
    run_id = store.create_run({"seed": 0})
    store.claim(run_id)
    answer, waited, _ = _wait(store, run_id, "running:0:0", hold_s=0.5)
    assert answer["token"] == "running:0:0" and 0.5 <= waited < 1.5
    answer, waited, _ = _wait(store, run_id, "queued:0:0", hold_s=10)  # the page drew an older status
    assert answer["token"] == "running:0:0" and waited < 0.5
    store.finish(run_id, "cancelled")
    answer, waited, _ = _wait(store, run_id, "cancelled:0:0", hold_s=10)  # ended: nothing more will change
    assert answer["ended"] and waited < 0.5
    assert _wait(store, "no-such-run", "", hold_s=10)[0] is None


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
