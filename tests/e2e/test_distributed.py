"""The distributed system end to end: intake, handling and reporting as real processes over a
real Kafka broker, driven over HTTP."""
from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
import warnings
from collections import defaultdict
from datetime import date, datetime, timezone

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.demo.model import MODEL_FILE
from banli.domain.views.rates import Scope
from banli.domain.types import business_date
from banli.history import reference_report, run_history
from tests.conftest import ROOT, token_for
from tests.integration.test_oversight_api import Listener
from tests.e2e.stack import Stack, wait_projected

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

MODEL_SCOPES = [
    Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20)),
    Scope(bureau="sh-ipa", years=(2018, 2020), as_of=date(2020, 11, 20)),
    Scope(bureau="sh-ipa", years=(2018, 2019), as_of=date(2019, 12, 31)),
    Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 12, 31)),
]


def report_params(scope: Scope) -> dict:
    params = {"years": f"{scope.years[0]}-{scope.years[1]}", "as_of": scope.as_of.isoformat()}
    params.update({"bureau": scope.bureau} if scope.bureau else {"all": "true"})
    params.update({k: v for k, v in (("level", scope.level), ("kind", scope.kind)) if v})
    return params


def assert_reports(client, ledger, scopes) -> None:
    for scope in scopes:
        actual = client.get("/api/report", params=report_params(scope))
        assert actual.status_code == 200, actual.text
        assert actual.json() == reference_report(ledger, scope).model_dump(mode="json"), scope


def event_count(ledger) -> int:
    return sum(len(stream) for stream in ledger.streams.values())


def read_topic(bootstrap: str, topic: str) -> list:
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                             enable_auto_commit=False)
    tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    end = consumer.end_offsets(tps)
    records = []
    while any(consumer.position(tp) < end[tp] for tp in tps):
        for batch in consumer.poll(timeout_ms=1000).values():
            records.extend(batch)
    consumer.close()
    return records


def assert_log_exact(bootstrap: str, prefix: str, ledger) -> None:
    """Every accepted command's events are in banli.events; copies of one (proposal, seq)
    (redeliveries) are the very same event; nothing else is there."""
    copies: dict[tuple[str, int], set[str]] = defaultdict(set)
    for record in read_topic(bootstrap, f"{prefix}banli.events"):
        data = json.loads(record.value)
        copies[(data["proposal_id"], data["seq"])].add(data["event_id"])
    assert all(len(ids) == 1 for ids in copies.values()), "conflicting events for one seq"
    expected = {(ev.proposal_id, ev.seq): ev.event_id
                for stream in ledger.streams.values() for ev in stream}
    assert {key: ids.pop() for key, ids in copies.items()} == expected


def test_model_history_over_kafka_gives_the_model_report(kafka_broker, tmp_path):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = (stack.start(n) for n in ("reporting", "handling", "intake"))
        for service in (reporting, handling, intake):
            service.wait_healthy()
        lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
        ledger, _ = run_history(lines, recorder=stack.actor())  # as the importer imports it
        r = stack.client(intake).post("/api/import", content="\n".join(lines).encode(),
                                      headers={"Content-Type": "application/x-ndjson"})
        assert r.status_code == 200, r.text
        assert r.json()["accepted"] == len(lines) and r.json()["problems"] == []
        read = stack.client(reporting, "overseer")
        wait_projected(read, event_count(ledger))
        assert_reports(read, ledger, MODEL_SCOPES)

        # reporting serves the oversight page, its dashboard and its live feed.
        assert read.get("/app/").status_code == 200
        assert read.get("/app/vendor/echarts.min.js").status_code == 200
        board = read.get("/api/dashboard", params={"bureau": "sh-ipa", "years": "2020",
                                                   "as_of": "2020-11-20"}).json()
        assert board["report"]["proposals"] == 29
        assert board["report"]["fractions"]["adoption"] == {"numerator": 9, "denominator": 10}
        live = Listener(reporting.url, token_for(stack.secret, "overseer"))
        live.start()
        assert live.ready.wait(30)

        # A clerk's workflow command through handling's API: decided, answered, projected.
        clerk = stack.client(handling, "clerk", "sh-ipa")
        r = clerk.post("/api/proposals/2020-cppcc_proposal-21001/contacts",
                       json={"bureau": "sh-ipa", "stage": "after", "method": "phone", "note": "回访"})
        assert r.status_code == 201, r.text
        assert r.json()["events"][0]["actor"]["bureau"] == "sh-ipa"
        # without `at` it happened when handling decided it: the broker's time for the command
        happened = datetime.fromisoformat(r.json()["events"][0]["occurred_at"])
        assert happened == datetime.fromisoformat(r.json()["events"][0]["recorded_at"])
        assert abs((datetime.now(timezone.utc) - happened).total_seconds()) < 600
        contact = r.json()["events"][0]
        assert live.wait_for(lambda frames: any(
            (e["proposal_id"], e["seq"]) == ("2020-cppcc_proposal-21001", contact["seq"])
            for kind, f in frames if kind == "events" for e in f["events"]), timeout=60)
        r = clerk.post("/api/proposals/2020-cppcc_proposal-21001/reply",
                       json={"bureau": "sh-hrss", "result": "solved"})
        assert r.status_code == 409 and r.json()["code"] == "wrong_bureau"
        wait_projected(read, event_count(ledger) + 1)

        # Poison messages go to the DLQ with the reason; the streams go on.
        prefix = stack.env["BANLI_TOPIC_PREFIX"]
        producer = KafkaProducer(bootstrap_servers=kafka_broker.bootstrap, acks="all")
        producer.send(f"{prefix}banli.commands", key=b"2020-x", value=b"{not json")
        producer.send(f"{prefix}banli.events", key=b"2020-x", value=b'{"type": "Nonsense"}')
        producer.flush()
        deadline = time.monotonic() + 60
        while len(dead := read_topic(kafka_broker.bootstrap, f"{prefix}banli.dlq")) < 2:
            assert time.monotonic() < deadline, dead
            time.sleep(0.5)
        reasons = sorted(json.loads(d.value)["reason"].split(":")[0] for d in dead)
        assert reasons == ["undecodable command", "undecodable event"]
        r = clerk.post("/api/proposals/2020-cppcc_proposal-21001/contacts",
                       json={"bureau": "sh-ipa", "stage": "after", "method": "visit"})
        assert r.status_code == 201, r.text
        wait_projected(read, event_count(ledger) + 2)

        # Drop the projections (a new reporting engine, same consumer group: nothing to read),
        # then replay rebuilds them from banli.events.
        reporting.terminate()
        stack.services.remove(reporting)
        reporting = stack.start("reporting", data="reporting-fresh").wait_healthy()
        read = stack.client(reporting, "overseer")
        time.sleep(2)
        assert read.get("/api/status").json()["projected_events"] == 0
        replay = subprocess.run([sys.executable, "-m", "apps.cli", "replay", "--url",
                                 reporting.url, "--data-dir", str(tmp_path / "cli")],
                                env=stack.env, cwd=ROOT, capture_output=True, text=True,
                                timeout=300)
        assert replay.returncode == 0, replay.stderr
        assert "replayed" in replay.stdout
        wait_projected(read, event_count(ledger) + 2)
        assert_reports(read, ledger, MODEL_SCOPES)

        # SIGTERM stops every service cleanly.
        for service in list(stack.services):
            assert service.terminate(timeout=60) == 0, service.log.read_text()[-2000:]
    finally:
        stack.stop()


def import_in_background(client, lines: list[str]) -> tuple[threading.Thread, dict]:
    answer: dict = {}

    def run() -> None:
        r = client.post("/api/import", content="".join(lines).encode(),
                        headers={"Content-Type": "application/x-ndjson"})
        answer["status"], answer["body"] = r.status_code, r.json()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, answer


def wait_for_progress(read, at_least: int, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while read.get("/api/status").json()["projected_events"] < at_least:
        assert time.monotonic() < deadline, "the load did not progress"
        time.sleep(0.2)


def test_workers_killed_mid_load_lose_and_double_nothing(kafka_broker, tmp_path):
    """2,000 proposals; two handling workers share the partitions and one is SIGKILLed mid-load;
    the reporting worker is SIGKILLed mid-batch and restarted: the log holds every accepted
    command's events once (redelivered copies are identical), and the reports are exact."""
    stack = Stack(kafka_broker.bootstrap, tmp_path, partitions=6)
    try:
        reporting = stack.start("reporting")
        workers = [stack.start("handling", i) for i in range(2)]
        intake = stack.start("intake")
        for service in (reporting, *workers, intake):
            service.wait_healthy()
        lines = [to_jsonl(line) for line in generate_history(2000, seed=2000, noise=0.01)]
        ledger, problems = run_history(lines, recorder=stack.actor())
        total = event_count(ledger)
        read = stack.client(reporting, "overseer")
        thread, answer = import_in_background(stack.client(intake), lines)

        wait_for_progress(read, total // 4)
        workers[1].kill()
        wait_for_progress(read, total // 2)
        reporting.kill()
        reporting = stack.start("reporting", data="reporting0").wait_healthy()
        read = stack.client(reporting, "overseer")
        thread.join(timeout=900)
        assert answer.get("status") == 200, answer

        wait_projected(read, total, timeout=600)
        assert_log_exact(kafka_broker.bootstrap, stack.env["BANLI_TOPIC_PREFIX"], ledger)
        last = max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
        assert_reports(read, ledger, [
            Scope(bureau=None, years=(2018, 2020), as_of=last),
            Scope(bureau="sh-ipa", years=(2018, 2020), as_of=last),
            Scope(bureau="sh-jrj", years=(2019, 2019), as_of=date(2019, 9, 30)),
            Scope(bureau=None, years=(2020, 2020), as_of=date(2020, 6, 30), kind="npc_suggestion"),
        ])
        # Every refused line of the history is refused here too (or still pending an answer).
        refused = {p["line"] for p in answer["body"]["problems"]}
        assert refused <= {p.line for p in problems}
        assert len(refused) + answer["body"]["pending"] >= len(problems) - 0
    finally:
        stack.stop()


def test_broker_restart_mid_load_loses_and_doubles_nothing(kafka_broker, tmp_path):
    if not kafka_broker.managed:
        pytest.skip("an external broker cannot be restarted by the tests")
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    try:
        reporting, handling, intake = (stack.start(n) for n in ("reporting", "handling", "intake"))
        for service in (reporting, handling, intake):
            service.wait_healthy()
        lines = [to_jsonl(line) for line in generate_history(300, seed=4)]
        ledger, _ = run_history(lines, recorder=stack.actor())  # as the importer imports it
        total = event_count(ledger)
        read = stack.client(reporting, "overseer")
        thread, answer = import_in_background(stack.client(intake), lines)
        wait_for_progress(read, total // 3)
        kafka_broker.restart()
        thread.join(timeout=900)
        assert answer.get("status") == 200, answer
        wait_projected(read, total, timeout=600)
        assert_log_exact(kafka_broker.bootstrap, stack.env["BANLI_TOPIC_PREFIX"], ledger)
        last = max(business_date(s[-1].occurred_at) for s in ledger.streams.values())
        assert_reports(read, ledger, [Scope(bureau=None, years=(2018, 2020), as_of=last)])
    finally:
        stack.stop()
