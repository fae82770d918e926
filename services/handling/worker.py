"""handling's faust worker: the only writer. One agent on `banli.commands` (concurrency 1:
faust-streaming #606 can commit past an in-flight message otherwise); per command:
load the stream's record from the table → decide with the kernel → send the events and wait
for the broker's ack → update the table → send the outcome. Commands already waiting are
taken as one batch (decided in order; one round of acks for all their events).

At-least-once, made exact by determinism: `recorded_at` is the command message's own
timestamp, so a redelivered command decides to the very same events (same ids, same seqs),
which consumers dedupe by (proposal_id, seq); a command whose outcome is in the record is
answered from it. faust flushes the producer (events, table changelog) before it commits."""
from __future__ import annotations

import json
import logging
from datetime import datetime, timezone
from typing import Any

import faust
from pydantic import ValidationError

from banli.domain import commands as c
from banli.domain import events as e
from banli.domain.deadlines import get_profile
from banli.eventlog.kafka import dead_letter, encode_event, position_of
from banli.settings import Settings

from .decisions import Record, decide_on

log = logging.getLogger("banli.handling")


class EventDirectory:
    """The Directory of banli.domain.proposal, read from `banli.events` itself by a thread of
    its own (every partition, no consumer group), with this worker's own entries written
    through as soon as their events are in the log. A bureau or merge target not found here
    is looked up again after reading the log up to its current end, so whatever is in the log
    when a command is decided is seen. (faust's GlobalTable was the obvious tool, but does not
    work with several workers: faust-streaming#283.)"""

    INTERESTING = (b'"BureauRegistered"', b'"ProposalSubmitted"', b'"ProposalWithdrawn"',
                   b'"ProposalMerged"')

    def __init__(self, bootstrap: str, topic: str):
        import threading
        import warnings

        from banli.eventlog.kafka import partitions_of

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaConsumer
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      enable_auto_commit=False, client_id="banli-directory",
                                      fetch_max_wait_ms=50)
        self.tps = partitions_of(self.consumer, topic)
        self.consumer.assign(self.tps)
        self.consumer.seek_to_beginning(*self.tps)
        # KafkaConsumer is not thread-safe: the ends of the log are asked through another one
        self.ends = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                  enable_auto_commit=False, client_id="banli-directory-ends")
        self.ends_lock = threading.Lock()
        self.entries: dict[str, str] = {}
        self.positions: dict = {tp: 0 for tp in self.tps}
        self.lock = threading.Condition()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="directory", daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                batches = self.consumer.poll(timeout_ms=100)
                found: dict[str, str] = {}
                for records in batches.values():
                    for record in records:
                        if any(marker in record.value for marker in self.INTERESTING):
                            found.update(directory_entries(e.load_event(record.value)))
                positions = {tp: self.consumer.position(tp) for tp in self.tps}
            except Exception:
                log.exception("reading the directory from the log")
                self._stop.wait(1)
                continue
            with self.lock:
                self.entries.update(found)
                self.positions = positions
                self.lock.notify_all()

    def catch_up(self, timeout: float = 30) -> bool:
        """Wait until everything in the log now has been read."""
        with self.ends_lock:
            end = self.ends.end_offsets(self.tps)
        with self.lock:
            return self.lock.wait_for(
                lambda: all(self.positions[tp] >= end[tp] for tp in self.tps), timeout)

    def record(self, entries: dict[str, str]) -> None:
        with self.lock:
            self.entries.update(entries)

    def _get(self, key: str) -> str | None:
        with self.lock:
            return self.entries.get(key)

    def has_bureau(self, bureau: str) -> bool:
        if self._get(f"bureau:{bureau}") is None:
            self.catch_up()
        return self._get(f"bureau:{bureau}") is not None

    def owner_of(self, natural_key: str) -> str | None:
        return self._get(f"key:{natural_key}")

    def proposal_status(self, proposal_id: str) -> str | None:
        if self._get(f"status:{proposal_id}") != "open":
            self.catch_up()
        return self._get(f"status:{proposal_id}")

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        self.consumer.close()
        self.ends.close()


def directory_entries(event: e.Event) -> dict[str, str]:
    """The directory entries an event sets."""
    match event:
        case e.BureauRegistered():
            return {f"bureau:{event.bureau}": event.name}
        case e.ProposalSubmitted():
            key = c.natural_key(event.level, event.kind, event.year, event.number)
            return {f"key:{key}": event.proposal_id, f"status:{event.proposal_id}": "open"}
        case e.ProposalWithdrawn():
            return {f"status:{event.proposal_id}": "withdrawn"}
        case e.ProposalMerged():
            return {f"status:{event.proposal_id}": "merged"}
    return {}


def raw_topic(app: faust.App, name: str, partitions: int | None = None):
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=partitions, internal=False)


def build_worker(settings: Settings) -> faust.App:
    profile = get_profile(settings.profile)
    partitions = settings.topic_partitions
    app = faust.App(
        f"{settings.app_id}-handling", broker=f"kafka://{settings.kafka_bootstrap}",
        store=settings.faust_store, datadir=str(settings.data_dir / "handling"),
        web_enabled=False, topic_partitions=partitions, topic_allow_declare=True,
        producer_acks=-1, broker_commit_every=50, broker_commit_interval=0.5,
        consumer_auto_offset_reset="earliest", broker_session_timeout=10.0,
        broker_heartbeat_interval=1.0, table_cleanup_interval=3600,
    )
    topics = settings.topics
    commands = raw_topic(app, topics.commands, partitions)
    events = raw_topic(app, topics.events, partitions)
    results = raw_topic(app, topics.results, partitions)
    dlq = raw_topic(app, topics.dlq, 1)
    records = app.Table("streams", partitions=partitions, key_type=str, value_type=None)
    directory = EventDirectory(settings.kafka_bootstrap, topics.events)
    directory.catch_up(timeout=600)

    batcher = CommandBatch(profile, records, directory, events, results, dlq)

    @app.agent(commands, concurrency=1)
    async def handle(stream):
        # Messages are acked by hand, after their events are in the log: a batch cut short
        # (a crash, SIGTERM) is delivered again and decided again to the same events.
        channel = stream.channel
        async for message in stream.noack().events():
            batcher.add(message)
            if len(batcher) >= BATCH or channel.empty():
                await batcher.run()

    app.conf.handle_agent = handle  # for tests and introspection
    return app


BATCH = 200


class CommandBatch:
    """Commands waiting to be decided together: decided one by one in order (each seeing the
    records and directory entries of those before it), their events sent and acknowledged by
    the broker, then the table updated, the outcomes answered and the messages acked."""

    def __init__(self, profile, records, directory: EventDirectory, events, results, dlq):
        self.profile, self.records, self.directory = profile, records, directory
        self.events, self.results, self.dlq = events, results, dlq
        self.messages: list = []

    def __len__(self) -> int:
        return len(self.messages)

    def add(self, message) -> None:
        self.messages.append(message)

    async def run(self) -> None:
        messages, self.messages = self.messages, []
        overlay = DirectoryOverlay(self.directory)
        records: dict[str, Record] = {}
        answers: list[tuple[str, dict[str, Any]]] = []
        sent: list[tuple[str, list, list]] = []  # (command id, events, delivery futures)
        for message in messages:
            m = message.message
            try:
                command = c.parse_command(m.value)
                if not command.command_id or command.actor is None or command.at is None:
                    raise ValueError("a command on Kafka needs command_id, actor and at")
            except (ValidationError, ValueError) as exc:
                await self.dlq.send(key=m.key, value=dead_letter(
                    f"undecodable command: {exc}", m.topic, m.partition, m.offset, m.value))
                continue
            key = command.stream
            record = records.get(key) or Record.from_json(self.records.get(key))
            prior = record.decided.get(command.command_id)
            if prior is not None:
                answers.append((command.command_id, {**prior, "replayed": True}))
                continue
            recorded_at = datetime.fromtimestamp(m.timestamp, timezone.utc)
            decided = decide_on(record, command, recorded_at, self.profile, overlay)
            futures = [await self.events.send(key=key.encode(), value=encode_event(ev))
                       for ev in decided.events]
            for ev in decided.events:
                overlay.observe(ev)
            sent.append((command.command_id, decided.events, futures))
            outcome = {"command_id": command.command_id, "rejection": None, "events": [],
                       "replayed": False}
            if decided.rejection is not None:
                outcome["rejection"] = decided.rejection.model_dump(mode="json")
            answers.append((command.command_id, outcome))
            records[key] = Record(decided.record.state,
                                  {**decided.record.decided, command.command_id: outcome})
        by_command = {}
        for command_id, events, futures in sent:
            stored = []
            for ev, future in zip(events, futures):
                metadata = await future  # in the log before anything else moves
                stored.append({"position": position_of(metadata.partition, metadata.offset),
                               "event": ev.model_dump(mode="json")})
            by_command[command_id] = stored
        for outcome in (o for _, o in answers if not o.get("replayed")):
            outcome["events"] = by_command.get(outcome["command_id"], [])
        overlay.commit()
        for key, record in records.items():
            self.records[key] = record.to_json()
        for command_id, outcome in answers:
            await self.results.send(key=command_id.encode(), value=json.dumps(outcome).encode())
        for message in messages:
            message.ack()


class DirectoryOverlay:
    """The directory as a batch sees it: the log's, plus what the batch's own events add
    (recorded in the directory only once those events are in the log)."""

    def __init__(self, base: EventDirectory):
        self.base = base
        self.pending: dict[str, str] = {}

    def has_bureau(self, bureau: str) -> bool:
        return f"bureau:{bureau}" in self.pending or self.base.has_bureau(bureau)

    def owner_of(self, natural_key: str) -> str | None:
        return self.pending.get(f"key:{natural_key}") or self.base.owner_of(natural_key)

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.pending.get(f"status:{proposal_id}") or self.base.proposal_status(proposal_id)

    def observe(self, event: e.Event) -> None:
        self.pending.update(directory_entries(event))

    def commit(self) -> None:
        self.base.record(self.pending)
