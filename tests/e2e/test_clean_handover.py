"""A handling worker that stops cleanly (SIGTERM: a rolling restart) leaves its consumer group at
once: its partitions move to the other worker without waiting for the group's session timeout.

The session timeout is set to 120 s here, so the history sent after the stop can only be
decided within the test's minute if the stopping worker left the group (a worker that vanished
without a word keeps its partitions for the whole session timeout). Everything ends exact: the
log holds every accepted command's events once and the reports equal the reference."""
from __future__ import annotations

import time
from datetime import date

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.domain.types import business_date
from banli.domain.views.rates import Scope
from banli.history import run_history
from bench.failover import loaded_partitions
from tests.e2e.stack import Stack, wait_projected
from tests.e2e.test_distributed import assert_log_exact, assert_reports, event_count

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

SESSION_TIMEOUT_S = 120


def wait_for(check, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (found := check()):
        assert time.monotonic() < deadline, what
        time.sleep(0.2)
    return found


def test_a_worker_stopped_cleanly_hands_its_partitions_over_at_once(kafka_broker, tmp_path):
    stack = Stack(kafka_broker.bootstrap, tmp_path, partitions=4,
                  env={"BANLI_GROUP_SESSION_TIMEOUT_S": str(SESSION_TIMEOUT_S)})
    try:
        reporting = stack.start("reporting")
        first = stack.start("handling", 0)
        intake = stack.start("intake")
        for service in (reporting, first, intake):
            service.wait_healthy()
        wait_for(lambda: loaded_partitions(first.log), 120, "the first worker took no partition")
        second = stack.start("handling", 1).wait_healthy()
        moved = wait_for(lambda: loaded_partitions(second.log), 120,
                         "the second worker took no partition")
        assert moved != set(range(4)), "the second worker should share the partitions"

        assert second.terminate(timeout=60) == 0  # drained, committed, left the group
        stopped = time.monotonic()
        lines = [to_jsonl(line) for line in generate_history(40, seed=17)]
        ledger, _ = run_history(lines, recorder=stack.actor())
        answer = stack.client(intake, timeout=SESSION_TIMEOUT_S / 2).post(
            "/api/import", content="".join(lines).encode(),
            headers={"Content-Type": "application/x-ndjson"})
        assert answer.status_code == 200, answer.text
        read = stack.client(reporting, "overseer")
        wait_projected(read, event_count(ledger), timeout=SESSION_TIMEOUT_S / 2)
        assert time.monotonic() - stopped < SESSION_TIMEOUT_S / 2
        assert moved <= loaded_partitions(first.log), (
            "the first worker took the stopped one's partitions")

        assert_log_exact(kafka_broker.bootstrap, stack.env["BANLI_TOPIC_PREFIX"], ledger)
        last = max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
        assert_reports(read, ledger, [Scope(bureau=None, years=(2018, 2020), as_of=last),
                                      Scope(bureau=None, years=(2019, 2019),
                                            as_of=date(2019, 12, 31))])
    finally:
        stack.stop()
