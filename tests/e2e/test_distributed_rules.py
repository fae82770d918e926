"""The kernel's rules hold in the distributed mode, with real processes on the real broker:
a split-handling history typed in bureau by bureau reports as the same history sorted by date,
and two clients submitting the same number at the same moment through two intakes and two
handling workers get exactly one proposal."""
from __future__ import annotations

import threading
from datetime import date, timedelta

import pytest

from banli.demo.generate import generate_history, to_jsonl, typed_in_by_bureau
from banli.domain.views.rates import Scope
from banli.domain.types import business_date
from banli.history import run_history
from tests.e2e.stack import Stack, wait_projected
from tests.e2e.test_distributed import assert_reports, event_count, read_topic
from tests.unit.test_rule_of_time import out_of_proposal_order

pytestmark = [pytest.mark.kafka, pytest.mark.slow]


@pytest.fixture(scope="module")
def stack(kafka_broker, tmp_path_factory):
    """Two intakes, two handling workers sharing the partitions, one reporting service."""
    stack = Stack(kafka_broker.bootstrap, tmp_path_factory.mktemp("rules"), partitions=4)
    try:
        services = [stack.start("reporting"), stack.start("handling", 0),
                    stack.start("handling", 1), stack.start("intake", 0), stack.start("intake", 1)]
        for service in services:
            service.wait_healthy()
        yield stack
    finally:
        stack.stop()


def service(stack, name: str):
    return next(s for s in stack.services if s.name == name)


def test_a_history_typed_in_bureau_by_bureau_over_kafka_reports_as_the_sorted_one(stack):
    lines = generate_history(120, seed=1212, years=(2015, 2016), split=0.4)
    typed_in = typed_in_by_bureau(lines, seed=1212)
    assert out_of_proposal_order(typed_in) > 30
    sent = stack.client(service(stack, "intake0")).post(
        "/api/import", content="".join(map(to_jsonl, typed_in)).encode(),
        headers={"Content-Type": "application/x-ndjson"})
    assert sent.status_code == 200, sent.text
    assert sent.json()["problems"] == [] and sent.json()["accepted"] == len(lines)
    ledger, _ = run_history(map(to_jsonl, lines))  # the sorted history, in memory
    read = stack.client(service(stack, "reporting0"), "overseer")
    wait_projected(read, event_count(ledger))
    last = max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
    assert_reports(read, ledger, [
        Scope(bureau=b, years=(2015, 2016), as_of=d) for b in (None, "sh-ipa", "sh-hrss")
        for d in (date(2015, 5, 31), date(2015, 12, 31), date(2016, 8, 1), last,
                  last + timedelta(days=30))])


def test_the_same_number_submitted_at_once_through_two_intakes_is_one_proposal(stack):
    intakes = [stack.client(service(stack, f"intake{i}"), "coordinator") for i in range(2)]
    numbers = [f"{n:05d}" for n in range(1, 41)]
    answers: dict[tuple[str, int], dict] = {}
    start = threading.Barrier(2)

    def submit(side: int) -> None:
        start.wait()
        for k, number in enumerate(numbers):
            body = {"kind": "cppcc_proposal", "year": 2017, "number": number,
                    "title": f"同号提案 {number}"}
            if k % 2:  # half of them with ids of their own: the same number under two ids
                body["proposal"] = f"side{side}-{number}"
            r = intakes[side].post("/api/proposals", json=body)
            answers[(number, side)] = {"status": r.status_code, **r.json()}

    threads = [threading.Thread(target=submit, args=(side,)) for side in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    for k, number in enumerate(numbers):
        pair = [answers[(number, side)] for side in (0, 1)]
        assert sorted(a["status"] for a in pair) == [201, 409], pair
        refused = next(a for a in pair if a["status"] == 409)
        assert refused["code"] == ("duplicate_number" if k % 2 else "duplicate_proposal"), pair
    prefix = stack.env["BANLI_TOPIC_PREFIX"]
    submitted = [r for r in read_topic(stack_bootstrap(stack), f"{prefix}banli.events")
                 if b'"ProposalSubmitted"' in r.value and b'"year":2017' in r.value]
    numbers_logged = sorted(__import__("json").loads(r.value)["number"] for r in submitted)
    assert numbers_logged == numbers  # each number once in the log


def stack_bootstrap(stack) -> str:
    return stack.env["BANLI_KAFKA_BOOTSTRAP"]
