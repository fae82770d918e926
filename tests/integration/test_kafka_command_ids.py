"""Command ids scoped to their sender over Kafka, on the real broker: a handling worker (the
distributed mode's, in a thread here) and the bus every API process sends through. Two senders'
commands under one id, sent at once, are two commands, each answered with its own decision;
`banli.command-results` carries each answer with its sender, and the bus hands it only to the
sender that waits for it, and keeps it for that sender's poll only."""
from __future__ import annotations

import asyncio
import threading
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from banli.domain import commands as c
from banli.domain.registry import parse_command
from banli.eventlog import Outcome
from banli.eventlog.kafka import encode_outcome, ensure_topics
from banli.eventlog.kafka_bus import KafkaBus
from banli.settings import Settings
from tests.conftest import SECRET

pytestmark = pytest.mark.kafka

P = "2021-cppcc_proposal-00001"
AT = datetime(2021, 3, 1, 2, 0, tzinfo=timezone.utc)
IMPORTER = {"user": "importer", "role": "importer"}


def clerk(user: str, bureau: str = "sh-ipa") -> dict[str, Any]:
    return {"user": user, "bureau": bureau, "role": "clerk"}


def command(type_: str, actor: dict[str, Any], command_id: str, **fields: Any) -> c.Command:
    return parse_command({"type": type_, "actor": actor, "command_id": command_id,
                          "at": (AT - timedelta(days=20)).isoformat(), **fields})


def contact(actor: dict[str, Any], command_id: str, note: str) -> c.Command:
    return command("log_contact", actor, command_id, proposal=P, bureau=actor["bureau"],
                   stage="during", method="phone", note=note)


@pytest.fixture
def worker(kafka_broker, tmp_path):
    """A handling worker owning every partition of fresh topics, and a bus to it."""
    from services.handling.worker import Handler

    settings = Settings(data_dir=tmp_path / "handling", kafka_bootstrap=kafka_broker.bootstrap,
                        topic_prefix=f"ids-{uuid.uuid4().hex[:8]}.", topic_partitions=2,
                        secret=SECRET, clerk_backdate_days=3650)
    ensure_topics(settings.kafka_bootstrap, settings.topic_partitions, settings.topics)
    handler = Handler(settings)
    thread = threading.Thread(target=handler.run, daemon=True)
    thread.start()
    bus = KafkaBus(settings.kafka_bootstrap, 60, settings.topics)
    try:
        yield bus
    finally:
        bus.close()
        handler.stop()
        thread.join(timeout=60)


async def sent(bus: KafkaBus, *commands: c.Command) -> list[Outcome]:
    answers = await asyncio.gather(*(bus.send(cmd) for cmd in commands))
    assert all(answer is not None for answer in answers), answers
    return [answer for answer in answers if answer is not None]


def test_two_senders_one_id_are_two_commands_each_answered_its_own(worker):
    bus = worker

    async def scenario() -> None:
        setup = await sent(bus, command("register_bureau", IMPORTER, "reg", bureau="sh-ipa",
                                        name="知识产权局"),
                           command("register_bureau", IMPORTER, "reg-2", bureau="sh-edu",
                                   name="教委"))
        setup += await sent(bus, command("submit", IMPORTER, "sub", kind="cppcc_proposal",
                                         year=2021, number="00001", title="一号"))
        setup += await sent(bus, command("assign", IMPORTER, "asg", proposal=P,
                                         lead=["sh-ipa"], co=["sh-edu"]))
        assert all(o.accepted for o in setup), setup
        # two clerks, one id, at once: two commands, two answers, each its own
        ours, theirs = contact(clerk("a"), "same-id", "甲"), contact(clerk("b"), "same-id", "乙")
        first, second = await sent(bus, ours, theirs)
        assert first.accepted and second.accepted and not first.replayed
        assert [s.event.note for s in first.events] == ["甲"]
        assert [s.event.note for s in second.events] == ["乙"]
        assert first.events[0].event.event_id != second.events[0].event.event_id
        # a refusal under an id claims only its sender's: another bureau's clerk first
        refused, = await sent(bus, contact(clerk("x", "sh-fin"), "edu-1", "抢"))
        assert refused.rejection is not None and refused.rejection.code != "command_id_conflict"
        edu, = await sent(bus, contact(clerk("e", "sh-edu"), "edu-1", "会办"))
        assert edu.accepted and edu.events[0].event.note == "会办"
        # each sender's poll: its own; anyone else's: nothing
        polled = await bus.outcome(c.sender_of(ours), "same-id")
        assert polled is not None and polled.events == first.events
        polled = await bus.outcome(c.sender_of(theirs), "same-id")
        assert polled is not None and polled.events == second.events
        assert await bus.outcome("clerk:nobody@sh-ipa", "same-id") is None
        # the same sender: the same command answered from its record, another one refused
        again, = await sent(bus, contact(clerk("a"), "same-id", "甲"))
        assert again.replayed and again.events == first.events
        other, = await sent(bus, contact(clerk("a"), "same-id", "丙"))
        assert other.rejection is not None and other.rejection.code == "command_id_conflict"
        polled = await bus.outcome(c.sender_of(ours), "same-id")
        assert polled is not None and polled.events == first.events  # not hidden by it

    asyncio.run(scenario())


def test_an_answer_without_its_sender_header_is_read_from_its_body(worker):
    """A result written before answers carried their sender (a worker of an older version
    during an upgrade): the bus finds the sender in the answer itself."""
    bus = worker
    answer = Outcome("old-1", sender="importer:importer@", fingerprint="f")
    bus.producer.send(bus.topics.results, key=b"old-1", value=encode_outcome(answer)).get(
        timeout=30)

    async def polled() -> Outcome | None:
        for _ in range(300):
            found = await bus.outcome("importer:importer@", "old-1")
            if found is not None:
                return found
            await asyncio.sleep(0.1)
        return None

    found = asyncio.run(polled())
    assert found is not None and found.command_id == "old-1" and found.fingerprint == "f"
    assert asyncio.run(bus.outcome("clerk:a@sh-ipa", "old-1")) is None
