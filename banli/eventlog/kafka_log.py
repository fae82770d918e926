"""The Kafka adapters of the handling loop (banli.handling): the event log of the partitions a
handling worker owns (`KafkaLog`, the EventLog port over `banli.events`), and the directory its
decisions read (`KafkaDirectory`: `banli.events` followed by a thread of its own, with natural
keys arbitrated on `banli.keys`).

A worker owns a partition of `banli.commands` and the same-numbered partition of `banli.events`
(commands and events are keyed by stream, with the same partition count and partitioner, and
events are written to their command's partition number): its states are that partition's
streams, folded from the log when the partition is assigned. Commands from the committed offset
on whose events are already in the log were decided by the previous owner, which died before
committing: they are kept out of the states (`pending`) and decided again in their turn, which
appends only what the previous owner did not get to (a batch cut short). An event that cannot be
decoded stops its partition (a dead letter says why): a stream is never decided on a state that
leaves one of its events out.
"""
from __future__ import annotations

import json
import logging
import threading
import warnings
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Sequence

from ..domain import commands as c
from ..domain import events as e
from ..domain.proposal import State, fold
from ..domain.rejections import Rejection
from . import ConcurrencyError, Outcome, Stored
from .kafka import Topics, dead_letter, encode_event, partitions_of, position_of

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition
    from kafka.partitioner.default import murmur2

log = logging.getLogger("banli.handling")

RECENT = 20_000  # per partition: commands whose outcome is kept to answer a redelivery


def partition_for(key: str, partitions: int) -> int:
    """The partition the Kafka producers' default partitioner gives a key (murmur2)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


# --- following a topic: the directory and the key claims ---------------------------------------
class Follower:
    """Reads every partition of a topic from its beginning, in a thread of its own (no consumer
    group), folding each record into `entries` with `absorb(entries, record)`. `catch_up` waits
    until everything in the topic now has been read, `wait_past` until given offsets have."""

    def __init__(self, bootstrap: str, topic: str, name: str,
                 absorb: Callable[[dict[str, str], Any], None]):
        self.absorb = absorb
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      enable_auto_commit=False, client_id=f"banli-{name}",
                                      fetch_max_wait_ms=50)
        self.tps = partitions_of(self.consumer, topic)
        self.consumer.assign(self.tps)
        self.consumer.seek_to_beginning(*self.tps)
        # KafkaConsumer is not thread-safe: the ends of the log are asked through another one
        self.ends = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                  enable_auto_commit=False, client_id=f"banli-{name}-ends")
        self.ends_lock = threading.Lock()
        self.entries: dict[str, str] = {}
        self.positions: dict = {tp: 0 for tp in self.tps}
        self.lock = threading.Condition()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, name=name, daemon=True)
        self.thread.start()

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                batches = self.consumer.poll(timeout_ms=100)
                positions = {tp: self.consumer.position(tp) for tp in self.tps}
            except Exception:
                log.exception("following %s", self.thread.name)
                self._stop.wait(1)
                continue
            with self.lock:
                for records in batches.values():
                    for record in records:
                        try:
                            self.absorb(self.entries, record)
                        except Exception:
                            log.exception("undecodable record at %s/%s", record.partition,
                                          record.offset)
                self.positions = positions
                self.lock.notify_all()

    def catch_up(self, timeout: float = 30) -> bool:
        """Wait until everything in the topic now has been read."""
        with self.ends_lock:
            end = self.ends.end_offsets(self.tps)
        with self.lock:
            return self.lock.wait_for(
                lambda: all(self.positions[tp] >= end[tp] for tp in self.tps), timeout)

    def wait_past(self, offsets: dict[int, int], timeout: float = 60) -> bool:
        """Wait until the records at these offsets (partition -> offset) have been read."""
        by_number = {tp.partition: tp for tp in self.tps}
        with self.lock:
            return self.lock.wait_for(lambda: all(
                self.positions[by_number[p]] > offset for p, offset in offsets.items()), timeout)

    def _get(self, key: str) -> str | None:
        with self.lock:
            return self.entries.get(key)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        self.consumer.close()
        self.ends.close()


class EventDirectory(Follower):
    """The Directory of banli.domain.proposal, read from `banli.events` itself (every
    partition), with this worker's own entries written through as soon as their events are in
    the log. A bureau or merge target not found here is looked up again after reading the log
    up to its current end, so whatever is in the log when a command is decided is seen. (faust's
    GlobalTable was the obvious tool, but does not work with several workers:
    faust-streaming#283.)"""

    INTERESTING = (b'"BureauRegistered"', b'"ProposalSubmitted"', b'"ProposalWithdrawn"',
                   b'"ProposalMerged"')

    def __init__(self, bootstrap: str, topic: str):
        super().__init__(bootstrap, topic, "directory", self._absorb)

    @classmethod
    def _absorb(cls, entries: dict[str, str], record: Any) -> None:
        if any(marker in record.value for marker in cls.INTERESTING):
            entries.update(directory_entries(e.load_event(record.value)))

    def record(self, entries: dict[str, str]) -> None:
        with self.lock:
            self.entries.update(entries)

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


class KeyClaims(Follower):
    """Natural keys, first come first served, with the log as the arbiter. Two submits of one
    number under two proposal ids land on two partitions, decided by two workers that cannot
    see each other's decision in time. So before deciding a submit it would accept, a worker
    appends a claim (the natural key, the proposal) to `banli.keys`, keyed by the natural key
    (one partition per key), and reads that partition past its own claim: the key belongs to
    the proposal of the first claim in the partition, and a later claimant is refused
    `duplicate_number`. A command decided again (after a crash) finds the same first claim."""

    def __init__(self, bootstrap: str, topic: str):
        super().__init__(bootstrap, topic, "key-claims", self._absorb)
        self.topic = topic

    @staticmethod
    def _absorb(entries: dict[str, str], record: Any) -> None:
        claim = json.loads(record.value)
        entries.setdefault(claim["key"], claim["proposal"])

    def winner(self, natural_key: str) -> str | None:
        return self._get(natural_key)

    def claim(self, producer, claims: list[tuple[str, str, str]]) -> None:
        """Append the claims (natural key, proposal id, command id) and read past them."""
        if not claims:
            return
        futures = [producer.send(self.topic, key=key.encode(), value=json.dumps(
            {"key": key, "proposal": proposal, "command_id": command_id}).encode())
            for key, proposal, command_id in claims]
        last: dict[int, int] = {}
        for future in futures:
            metadata = future.get(timeout=300)
            last[metadata.partition] = max(last.get(metadata.partition, -1), metadata.offset)
        if not self.wait_past(last, timeout=300):
            raise TimeoutError("the key claims were not read back in time")


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


class KafkaDirectory:
    """The directory a batch's decisions read (banli.handling.Directory): the log's (followed),
    the natural keys' first claims, and what the batch's own events add, recorded in the
    followed directory once those events are durable."""

    arbitrated = True  # workers decide at once on other partitions: the log arbitrates keys

    def __init__(self, base: EventDirectory, claims: KeyClaims, producer: Any):
        self.base, self.claims, self.producer = base, claims, producer
        self.pending: dict[str, str] = {}

    def has_bureau(self, bureau: str) -> bool:
        return f"bureau:{bureau}" in self.pending or self.base.has_bureau(bureau)

    def owner_of(self, natural_key: str) -> str | None:
        return (self.claims.winner(natural_key) or self.pending.get(f"key:{natural_key}")
                or self.base.owner_of(natural_key))

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.pending.get(f"status:{proposal_id}") or self.base.proposal_status(proposal_id)

    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None:
        self.claims.claim(self.producer, [k for k in claims if self.claims.winner(k[0]) is None])

    def observe(self, event: e.Event) -> None:
        self.pending.update(directory_entries(event))

    def settle(self, durable: bool) -> None:
        if durable:
            self.base.record(self.pending)
        self.pending = {}


def json_field(raw: bytes | None, name: str):
    try:
        value = json.loads(raw).get(name) if raw else None
    except Exception:
        return None
    return value if isinstance(value, str) else None


def scan(consumer, tp, start: int | None):
    """The records of one partition from `start` (None: the beginning) to its end now."""
    consumer.assign([tp])
    if start is None:
        consumer.seek_to_beginning(tp)
    else:
        consumer.seek(tp, start)
    end = consumer.end_offsets([tp])[tp]
    while consumer.position(tp) < end:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                if record.offset < end:
                    yield record


def find_in_log(new_scanner, topic: str, partition: int, command_id: str):
    """A command's events, read from its stream's partition of the log (a rare path: a command
    sent again long after it was decided)."""
    scanner = new_scanner()
    try:
        found = []
        marker = f'"command_id":"{command_id}"'.encode()
        for record in scan(scanner, TopicPartition(topic, partition), None):
            if marker in record.value:
                event = e.load_event(json.loads(record.value))
                if event.command_id == command_id and event.seq not in {
                        ev.seq for _, ev in found}:
                    found.append((position_of(partition, record.offset), event))
        return found
    finally:
        scanner.close()


# --- the log of the partitions a worker owns ---------------------------------------------------
@dataclass
class PartitionLog:
    """What a worker knows of one partition it owns: every stream's state, folded from the log
    when the partition was assigned; the commands the previous owner decided but did not commit
    (`pending`: kept out of the states, decided again in their turn); the ids of every command
    with events in the log; the recent outcomes, to answer a redelivery; and, when an event
    could not be decoded, why the partition is stopped."""

    number: int
    states: dict[str, State] = field(default_factory=dict)
    pending: dict[str, list[tuple[int, e.Event]]] = field(default_factory=dict)
    logged: set[str] = field(default_factory=set)
    recent: OrderedDict[str, Outcome] = field(default_factory=OrderedDict)
    stopped: str | None = None

    def remember(self, outcome: Outcome) -> None:
        self.recent[outcome.command_id] = outcome
        self.recent.move_to_end(outcome.command_id)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)


@dataclass
class _Sent:
    """An append in flight: the events of a command (those the log had already, then those sent
    now) and their positions once the broker has them all."""

    partition: int
    logged: list[tuple[int, e.Event]]
    sent: list[tuple[Any, e.Event]]

    def stored(self) -> list[Stored]:
        found = [Stored(position, event) for position, event in self.logged]
        for future, event in self.sent:
            metadata = future.get(timeout=300)
            found.append(Stored(position_of(metadata.partition, metadata.offset), event))
        return found


class KafkaLog:
    """The EventLog (banli.eventlog) of the `banli.events` partitions this worker owns. Appends
    are sent at once and durable when the batch ends (the producer flushed, every send acked);
    states, outcomes and the directory move on only then."""

    def __init__(self, bootstrap: str, topics: Topics, partitions: int, producer: Any):
        self.bootstrap, self.topics, self.count = bootstrap, topics, partitions
        self.producer = producer
        self.partitions: dict[int, PartitionLog] = {}
        self._batch: dict[str, State] | None = None  # states changed by the batch in progress
        self._sent: list[tuple[c.Command, _Sent]] = []
        self._refused: list[tuple[c.Command, Outcome]] = []

    # --- partitions ---------------------------------------------------------------------------
    def scanner(self) -> KafkaConsumer:
        return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                             enable_auto_commit=False, client_id="banli-handling-loader",
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=4 << 20)

    def load_partition(self, number: int, pending_ids: set[str]) -> PartitionLog:
        """Fold a partition's streams from `banli.events` (its events of `pending_ids` kept
        apart); an undecodable event stops the partition, with a dead letter saying why."""
        part = PartitionLog(number)
        scanner = self.scanner()
        try:
            folded: dict[str, list[e.Event]] = {}
            for record in scan(scanner, TopicPartition(self.topics.events, number), None):
                try:
                    event = e.load_event(json.loads(record.value))
                except Exception as exc:
                    part.stopped = (f"undecodable event at {self.topics.events}/{number}/"
                                    f"{record.offset}: {exc}")
                    log.error("partition %s stopped: %s", number, part.stopped)
                    self.producer.send(self.topics.dlq, key=record.key, value=dead_letter(
                        f"undecodable event, partition {number} stopped: {exc}",
                        record.topic, record.partition, record.offset, record.value)).get(
                        timeout=60)
                    break
                part.logged.add(event.command_id)
                if event.command_id in pending_ids:
                    part.pending.setdefault(event.command_id, []).append(
                        (position_of(number, record.offset), event))
                    continue
                events = folded.setdefault(event.proposal_id, [])
                if events and event.seq <= events[-1].seq:
                    continue  # a redelivered copy
                events.append(event)
            part.states = {stream: fold(events, None) for stream, events in folded.items()}
        finally:
            scanner.close()
        self.partitions[number] = part
        log.info("partition %s: %s streams, %s commands to decide again", number,
                 len(part.states), len(part.pending))
        return part

    def drop_partition(self, number: int) -> PartitionLog | None:
        return self.partitions.pop(number, None)

    def _part(self, stream: str) -> PartitionLog:
        number = partition_for(stream, self.count)
        part = self.partitions.get(number)
        if part is None:
            raise ConcurrencyError(f"partition {number} of {stream} is not this worker's")
        return part

    # --- the port -----------------------------------------------------------------------------
    def state(self, stream: str) -> State:
        if self._batch is not None and stream in self._batch:
            return self._batch[stream]
        return self._part(stream).states.get(stream)

    def load(self, stream: str, after_seq: int = 0) -> list[e.Event]:
        number = partition_for(stream, self.count)
        scanner = self.scanner()
        try:
            key = stream.encode()
            events = [e.load_event(json.loads(r.value)) for r in scan(
                scanner, TopicPartition(self.topics.events, number), None) if r.key == key]
        finally:
            scanner.close()
        seen: set[int] = set()
        ordered = []
        for event in sorted(events, key=lambda ev: ev.seq):
            if event.seq > after_seq and event.seq not in seen:
                seen.add(event.seq)
                ordered.append(event)
        return ordered

    def append(self, command: c.Command, expected_version: int,
               events: Sequence[e.Event]) -> _Sent:
        assert self._batch is not None, "appends happen inside a batch"
        part = self._part(command.stream)
        state = self.state(command.stream)
        if (state.version if state is not None else 0) != expected_version:
            raise ConcurrencyError(f"{command.stream} is not at {expected_version}")
        logged = part.pending.pop(command.command_id or "", [])
        if logged and [ev.event_id for _, ev in logged] != [
                ev.event_id for ev in events][:len(logged)]:
            new: Sequence[e.Event] = []  # decided otherwise now: what the log holds stands
        else:
            new = events[len(logged):]
        sent = _Sent(part.number, logged, [(self.producer.send(
            self.topics.events, key=command.stream.encode(), value=encode_event(event),
            partition=part.number), event) for event in new])
        self._batch[command.stream] = fold([*(ev for _, ev in logged), *new], state)
        self._sent.append((command, sent))
        return sent

    def record_rejection(self, command: c.Command, rejection: Rejection) -> None:
        self._refused.append((command, Outcome(command.command_id or "", rejection=rejection,
                                               sender=c.sender_of(command),
                                               fingerprint=c.fingerprint(command))))

    def outcome(self, command_id: str) -> Outcome | None:
        for part in self.partitions.values():
            if (known := part.recent.get(command_id)) is not None:
                return known
            if (logged := part.pending.get(command_id)) is not None:
                return Outcome(command_id, events=[Stored(p, ev) for p, ev in logged],
                               sender=c.actor_key(logged[0][1].actor), unfinished=True)
            if command_id in part.logged:  # decided long ago: answered from the log
                found = find_in_log(self.scanner, self.topics.events, part.number, command_id)
                if found:
                    outcome = Outcome(command_id, events=[Stored(p, ev) for p, ev in found],
                                      sender=c.actor_key(found[0][1].actor))
                    part.remember(outcome)
                    return outcome
        return None

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
        scanner = self.scanner()
        try:
            found = []
            for tp in partitions_of(scanner, self.topics.events):
                for record in scan(scanner, tp, None):
                    position = position_of(record.partition, record.offset)
                    if position > after:
                        found.append(Stored(position, e.load_event(json.loads(record.value))))
        finally:
            scanner.close()
        return sorted(found, key=lambda s: s.position)[:limit]

    @contextmanager
    def batch(self, command_ids: Sequence[str] = ()) -> Iterator[None]:
        """The batch's sends are durable when it ends: the producer flushed and every send
        acked; then its states, outcomes and ids are this worker's."""
        self._batch, self._sent, self._refused = {}, [], []
        try:
            yield
            self.producer.flush(timeout=300)
            answered = [(command, sent.stored()) for command, sent in self._sent]
            for stream, state in self._batch.items():
                self._part(stream).states[stream] = state
            for command, stored in answered:
                part = self._part(command.stream)
                part.logged.add(command.command_id or "")
                part.remember(Outcome(command.command_id or "", events=stored,
                                      sender=c.sender_of(command),
                                      fingerprint=c.fingerprint(command)))
            for command, refused in self._refused:
                self._part(command.stream).remember(refused)
        finally:
            self._batch, self._sent, self._refused = None, [], []
