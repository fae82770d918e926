"""Short queries ahead of long ones (issue 24): a proposal's history and a bureau's work are read
on a chDB handle of their own (ReportingStore.point_query), so they are answered while a long
query holds the main one: real chDB, one engine, two handles."""
from __future__ import annotations

import threading
import time

IPA_ONLY = "2020-cppcc_proposal-21001"


def test_a_history_is_read_while_a_long_query_runs_on_the_main_client(model):
    store = model.system.reporting
    alone = store.history(IPA_ONLY)
    assert alone and store.work_duties("sh-ipa", False)
    started, finished = threading.Event(), []

    def long_query() -> None:
        started.set()
        store.query("SELECT sleep(2) AS slept")
        finished.append(time.monotonic())

    runner = threading.Thread(target=long_query)
    runner.start()
    started.wait()
    time.sleep(0.2)  # the long query holds the main client now
    begun = time.monotonic()
    assert store.history(IPA_ONLY) == alone
    assert store.work_duties("sh-ipa", False)
    answered = time.monotonic()
    runner.join()
    assert not finished or finished[0] > answered  # answered before the long query ended
    assert answered - begun < 1.5, f"the point reads waited {answered - begun:.2f} s"


def test_the_drawer_over_http_is_answered_while_a_long_query_runs(model):
    store, overseer = model.system.reporting, model.client("overseer")
    runner = threading.Thread(target=store.query, args=("SELECT sleep(2) AS slept",))
    runner.start()
    time.sleep(0.2)
    begun = time.monotonic()
    history = overseer.get(f"/api/proposals/{IPA_ONLY}/history")
    waited = time.monotonic() - begun
    runner.join()
    assert history.status_code == 200, history.text
    assert history.json()["events"]
    assert waited < 1.5, f"the history waited {waited:.2f} s"
