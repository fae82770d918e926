"""One product in both modes: on the distributed deployment (intake, handling and reporting as
processes over a real Kafka broker) the page does what it does on `banli serve` — a coordinator
assigns from the routing suggestions, the event reaches the live feed — and says how fresh its
numbers are (the reporting consumer group's lag behind banli.events); reminders reach their
webhook once, across a SIGKILL of the reporting service."""
from __future__ import annotations

import json
import time
from collections import Counter

import pytest

from banli.demo.model import MODEL_FILE
from services.reporting.projections.freshness import ConsumerLag
from tests.conftest import token_for
from tests.e2e.stack import Stack
from tests.e2e.test_oversight_page import Page, browser, until  # noqa: F401  (a fixture)
from tests.integration.test_reminders import Receiver

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


def load(intake, lines) -> int:
    r = intake.post("/api/import", content="\n".join(lines).encode(),
                    headers={"Content-Type": "application/x-ndjson"})
    assert r.status_code == 200, r.text
    assert r.json()["problems"] == [], r.json()["problems"][:3]
    return r.json()["accepted"]


def running(stack: Stack):
    """reporting, handling and intake, up."""
    services = [stack.start(name) for name in ("reporting", "handling", "intake")]
    return [service.wait_healthy() for service in services]


def events_of(reporting) -> int:
    """The events in the log (the status's own count of banli.events), once it has settled."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = reporting.get("/api/status").json()
        if status["lag"] == 0 and status["projected_events"] == status["log_events"]:
            return status["log_events"]
        time.sleep(0.3)
    raise AssertionError(f"the projections did not catch up: {status}")


@pytest.mark.browser
def test_the_page_assigns_from_suggestions_on_the_distributed_deployment(kafka_broker, tmp_path,
                                                                         browser):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = running(stack)
        load(stack.client(intake), MODEL_FILE.read_text(encoding="utf-8").splitlines())
        read = stack.client(reporting, "coordinator")
        r = read.post("/api/proposals", json={  # through the reporting service's command path
            "kind": "cppcc_proposal", "year": 2020, "number": "9100",
            "title": "关于加强知识产权保护、促进知识产权运营交易的提案", "topics": ["知识产权保护"],
            "at": "2020-11-19T09:00:00+08:00"})
        assert r.status_code == 201, r.text
        events_of(read)
        proposal = "2020-cppcc_proposal-9100"

        # the coordinator's desk (交办台), where what awaits assignment is
        tab = Page(browser, reporting, "view=desk&years=2020&as_of=2020-11-20").sign_in(
            token_for(stack.secret, "coordinator"), ready="#awaiting tbody tr")
        page = tab.page
        until(page, "document.querySelector('#freshness').dataset.state === 'fresh'")
        assert page.inner_text("#freshness") == "统计数据已与记录同步"
        page.click(f'#awaiting tr[data-assign="{proposal}"]')
        page.wait_for_selector("#suggest-lead li")
        suggested = page.eval_on_selector_all("#suggest-lead li",
                                              "items => items.map(i => i.dataset.bureau)")
        api = read.get(f"/api/proposals/{proposal}/suggestions", params={"limit": 5}).json()
        assert suggested == [s["bureau"] for s in api["lead"]] and suggested[0] == "sh-ipa"
        form = tab.open_form("assign")  # the registry's form, the suggested lead checked
        assert form.locator("[data-field=lead] input:checked").evaluate_all(
            "boxes => boxes.map(b => b.value)") == ["sh-ipa"]
        form.locator("button[type=submit]").click()
        form.locator(".form-answer.ok").wait_for(timeout=60_000)
        # the event went intake-less through Kafka: decided by handling, projected by reporting,
        # and the desk, following the live feed, no longer lists it (waited for, not timed: the
        # bench times freshness)
        until(page, f"!document.querySelector('#awaiting tr[data-assign=\"{proposal}\"]')",
              timeout=60)
        events = read.get(f"/api/proposals/{proposal}/history").json()["events"]
        assert [e["type"] for e in events] == ["ProposalSubmitted", "ProposalAssigned"]
        assert events[-1]["actor"] == {"user": "test-coordinator", "bureau": None,
                                       "role": "coordinator"}
        tab.shot("distributed-assign")
        tab.close()
    finally:
        stack.stop()


def test_the_status_says_how_far_the_projections_are_behind_the_log(kafka_broker, tmp_path):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = running(stack)
        lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
        load(stack.client(intake), lines[:200])
        read = stack.client(reporting, "overseer")
        before = events_of(read)
        # the reporting service away: what the log gains, the group has not projected
        reporting.terminate()
        stack.services.remove(reporting)
        load(stack.client(intake), lines[200:])
        topics_prefix, app_id = stack.env["BANLI_TOPIC_PREFIX"], stack.env["BANLI_APP_ID"]
        lag = ConsumerLag(kafka_broker.bootstrap, f"{topics_prefix}banli.events",
                          f"{app_id}-reporting")
        try:
            behind = lag()
        finally:
            lag.close()
        assert behind["lag"] == behind["log_events"] - before > 0
        reporting = stack.start("reporting", data="reporting0").wait_healthy()
        read = stack.client(reporting, "overseer")
        assert events_of(read) == behind["log_events"]
        status = read.get("/api/status").json()
        assert set(status["partitions"]) == {"0", "1", "2", "3"}
        assert all(p["lag"] == 0 for p in status["partitions"].values())
    finally:
        stack.stop()


def test_reminders_reach_the_webhook_once_on_the_distributed_deployment(kafka_broker, tmp_path):
    receiver = Receiver()
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = running(stack)
        load(stack.client(intake), MODEL_FILE.read_text(encoding="utf-8").splitlines())
        events_of(stack.client(reporting, "overseer"))
        # the model's history in, the reporting service starts reminding (while a history is
        # still arriving, a duty owed for a moment is reminded of: true when it is sent)
        reporting.terminate()
        stack.services.remove(reporting)
        stack.env.update({"BANLI_WEBHOOK_URL": receiver.url, "BANLI_REMINDER_INTERVAL_S": "1"})
        reporting = stack.start("reporting", data="reporting0").wait_healthy()
        read = stack.client(reporting, "overseer")
        due = read.get("/api/reminders").json()
        expected = {r["key"] for r in due["items"]}
        assert expected and due["red"] == len(expected)  # the model's open duties: overdue
        deadline = time.monotonic() + 60
        while set(receiver.delivered()) != expected and time.monotonic() < deadline:
            time.sleep(0.2)
        assert set(receiver.delivered()) == expected
        bodies = {key: body for key, body in receiver.received}
        # each sent as the list shows it (the list adds the item's number and title)
        assert all({k: r.get(k) for k in bodies[r["key"]]} == bodies[r["key"]] for r in due["items"])

        # SIGKILL, then the same data dir (its outbox): a new overdue duty is reminded of, the
        # delivered ones are not sent again
        reporting.kill()
        stack.services.remove(reporting)
        r = stack.client(intake, "coordinator").post("/api/proposals", json={
            "kind": "npc_suggestion", "year": 2020, "number": "9300", "title": "关于新事项的建议",
            "at": "2020-03-01T09:00:00+08:00"})
        assert r.status_code == 201, r.text
        r = stack.client(intake, "coordinator").post(
            "/api/proposals/2020-npc_suggestion-9300/assign",
            json={"lead": ["sh-ipa"], "at": "2020-03-02T09:00:00+08:00"})
        assert r.status_code == 201, r.text
        reporting = stack.start("reporting", data="reporting0").wait_healthy()
        new = "2020-npc_suggestion-9300/sh-ipa/"
        deadline = time.monotonic() + 60
        while not any(k.startswith(new) for k in receiver.delivered()) and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        fresh = [k for k in receiver.delivered() if k.startswith(new)]
        assert fresh, "the restarted service reminds of the new duty"
        counted = receiver.delivered()
        assert set(counted) == expected | set(fresh)
        assert all(n == 1 for n in counted.values()), Counter(
            {k: n for k, n in counted.items() if n > 1})
        assert json.dumps(receiver.received[0][1], ensure_ascii=False)  # bodies are JSON
    finally:
        stack.stop()
        receiver.close()
