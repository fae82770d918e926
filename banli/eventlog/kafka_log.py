"""The Kafka adapters of the handling loop (banli.handling): the event log of the partitions a
handling worker owns (`KafkaLog`, the EventLog port over `banli.events`), and the directory its
decisions read (`KafkaDirectory`: the worker's local cache, kept by a Follower, with natural
keys arbitrated on `banli.keys`).

A worker owns a partition of `banli.commands` and the same-numbered partition of `banli.events`
(commands and events are keyed by stream, with the same partition count and partitioner, and
events are written to their command's partition number).

States. A stream's state is loaded when a command first needs it, from its latest snapshot
(`banli.snapshots`, compacted, read through the local cache: banli.eventlog.snapshots) and the
events after it. Only the streams in use stay in memory: a bounded cache, the least recently
used out first, except a stream whose state is newer than its latest acked snapshot, which stays
until that snapshot is acked (and then loads again from it). When a partition is assigned the
worker reads `banli.events` only from the watermark the partition's last commit carries: every
event before it is covered by a snapshot. The events after it are folded onto their streams'
snapshots, except those of the commands from the committed offset on, which the previous owner
decided but did not commit: they are kept apart (`pending`) and those commands decided again in
their turn, which appends only what was not appended yet (a batch cut short). An event that
cannot be decoded stops its partition (a dead letter says why), and so does a stream missing an
event: a stream is never decided on a state that leaves one of its events out.

Pipelining. A batch's appends are sent as they are made, and the states move on at once: the
next batch is decided on them while the sends are in flight. A batch is durable when every send
is acked (`_Flight.wait`, batches in the order they were handed over); a send that fails leaves
the states untrusted (`broken`) until the partitions are loaded again.

Snapshots. Once the commands behind a stream's state are committed (`committed`), a snapshot of
that state is due; due snapshots are written a little later (`SNAPSHOT_DELAY_S`: a stream busy
in a bulk import is written once, not once per command), and once acked are kept in the local
cache. A partition's watermark is the first offset of an event that no acked snapshot covers
(`PartitionLog.watermark`); the worker commits it with the partition's offset.
"""
from __future__ import annotations

import functools
import json
import logging
import time
import warnings
from collections import OrderedDict, deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterator, Mapping, Sequence

from ..domain import commands as c
from ..domain import events as e
from ..domain.registry import load_event
from ..domain.proposal import State, evolve
from ..domain.rejections import Rejection
from . import ConcurrencyError, Outcome, Stored
from .kafka import (Topics, dead_letter, encode_event, partitions_of, position_of,
                    split_position)
from .kafka_cache import Follower, LocalCache, directory_entries
from .snapshots import (Logged, Snapshot, decode_snapshot, encode_snapshot, merged_of,
                        named_prefix)

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition
    from kafka.partitioner.default import murmur2

log = logging.getLogger("banli.handling")

RECENT = 10_000  # outcomes kept to answer a command sent again soon (refusals live only here)
CACHE_SIZE = 10_000  # streams kept in memory (BANLI_STATE_CACHE)
SNAPSHOT_DELAY_S = 2.0  # a due snapshot waits this long for the stream's next commands
DUE_MAX = 5_000  # due snapshots beyond this many are written at once


@functools.lru_cache(maxsize=1 << 16)
def partition_for(key: str, partitions: int) -> int:
    """The partition the Kafka producers' default partitioner gives a key (murmur2)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def scan(consumer, tp, start: int | None):
    """The records of one partition from `start` (None: the beginning) to its end now."""
    consumer.assign([tp])
    if start is None:
        consumer.seek_to_beginning(tp)
    else:
        consumer.seek(tp, max(start, consumer.beginning_offsets([tp])[tp]))
    end = consumer.end_offsets([tp])[tp]
    while consumer.position(tp) < end:
        for records in consumer.poll(timeout_ms=500).values():
            for record in records:
                if record.offset < end:
                    yield record


def json_field(raw: bytes | None, name: str):
    try:
        value = json.loads(raw).get(name) if raw else None
    except Exception:
        return None
    return value if isinstance(value, str) else None


def watermark_of(metadata: str | None) -> int:
    """The events watermark a commit's metadata carries (0, the beginning, when it has none)."""
    try:
        return int(json.loads(metadata or "{}").get("events", 0))
    except (ValueError, TypeError, AttributeError):
        return 0


def commit_metadata(watermark: int) -> str:
    return json.dumps({"events": watermark})


class Gap(Exception):
    """A stream's events skip a seq: the event in between is not in the log."""


# --- the directory -------------------------------------------------------------------------
class KafkaDirectory:
    """The directory a batch's decisions read (banli.handling.Directory): the natural keys'
    first claims, what the batches decided but not yet durable add (`overlay`), and the local
    cache (the snapshots' entries and the events' after them, this worker's own written through
    once durable). A bureau or merge target not found is looked up again after reading the
    topics up to their current end, so whatever is in the log when a command is decided is seen.
    (faust's GlobalTable was the obvious tool, but does not work with several workers:
    faust-streaming#283.)

    Natural keys, first come first served, with the log as the arbiter: two submits of one
    number under two proposal ids land on two partitions, decided by two workers that cannot
    see each other's decision in time. So before deciding a submit it would accept, a worker
    appends a claim (the natural key, the proposal) to `banli.keys`, keyed by the natural key,
    and reads that partition past its own claim: the key belongs to the proposal of the first
    claim in the partition, and a later claimant is refused `duplicate_number`. A command
    decided again (after a crash) finds the same first claim."""

    arbitrated = True  # workers decide at once on other partitions: the log arbitrates keys
    KNOWN = 10_000  # natural keys' owners kept in memory (a key's owner never changes)

    def __init__(self, cache: LocalCache, follower: Follower, producer: Any, topics: Topics):
        self.cache, self.follower, self.producer, self.topics = cache, follower, producer, topics
        self.overlay: dict[str, str] = {}
        self.bureaus: set[str] = set()  # registered: a bureau stays registered
        self.owners: OrderedDict[str, str] = OrderedDict()

    def _get(self, key: str) -> str | None:
        return self.overlay.get(key) or self.cache.entry(key)

    def _caught_up(self) -> None:
        """Read the directory's topics up to their end now (a decision waits rather than
        answer from less than the log holds)."""
        if not self.follower.catch_up([self.topics.events, self.topics.snapshots], timeout=300):
            raise TimeoutError("the directory could not be read up to the end of the log")

    def has_bureau(self, bureau: str) -> bool:
        if bureau in self.bureaus:
            return True
        if self._get(f"bureau:{bureau}") is None:
            self._caught_up()
        if self.cache.entry(f"bureau:{bureau}") is not None:  # durable, not only decided
            self.bureaus.add(bureau)
        return self._get(f"bureau:{bureau}") is not None

    def bureau_name(self, bureau: str) -> tuple[str, str] | None:
        """As far as this worker has read (a refusal's words: it does not wait for the log)."""
        name = self._get(f"bureau:{bureau}")
        return None if name is None else (name, self._get(f"bureau_en:{bureau}") or "")

    def merged_into(self, bureau: str) -> tuple[str, datetime] | None:
        """As far as this worker has read (most bureaus are not merged: a decision does not
        wait for the log's end to learn it; the reporting service's reconciler records the
        handovers a decision missed)."""
        return merged_of(self._get(f"merged:{bureau}"))

    def owner_of(self, natural_key: str) -> str | None:
        if (owner := self.owners.get(natural_key)) is not None:
            return owner
        owner = self.cache.claim(natural_key) or self.cache.entry(f"key:{natural_key}")
        if owner is None:
            return self.overlay.get(f"key:{natural_key}")
        self.owners[natural_key] = owner
        if len(self.owners) > self.KNOWN:
            self.owners.popitem(last=False)
        return owner

    def proposal_status(self, proposal_id: str) -> str | None:
        if self._get(f"status:{proposal_id}") != "open":
            self._caught_up()
        return self._get(f"status:{proposal_id}")

    def filer_name(self, filer: str) -> str | None:
        if self._get(f"filer:{filer}") is None:
            self._caught_up()
        return self._get(f"filer:{filer}")

    def filers_named(self, name: str, affiliation: str) -> list[str]:
        """The filers registered under a name and affiliation, as far as the cache has read:
        a submit does not wait for the log's end for this (most names are of no registered
        filer), so a registration decided a moment before it elsewhere may be missed; the
        proposal's filer is linked later then (link_filers, the registry's import)."""
        prefix = named_prefix(name, affiliation)
        found = {**self.cache.entries(prefix),
                 **{k: v for k, v in self.overlay.items() if k.startswith(prefix)}}
        return sorted(set(found.values()))

    def filer_of_account(self, account: str) -> str | None:
        if self._get(f"account:{account}") is None:
            self._caught_up()
        return self.cache.entry(f"account:{account}") or self.overlay.get(f"account:{account}")

    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None:
        """Append the claims (natural key, proposal id, command id) not settled yet and read
        past them."""
        claims = [k for k in claims if self.cache.claim(k[0]) is None]
        if not claims:
            return
        futures = [self.producer.send(self.topics.keys, key=key.encode(), value=json.dumps(
            {"key": key, "proposal": proposal, "command_id": command_id}).encode())
            for key, proposal, command_id in claims]
        last: dict[int, int] = {}
        for future in futures:
            metadata = future.get(timeout=300)
            last[metadata.partition] = max(last.get(metadata.partition, -1), metadata.offset)
        if not self.follower.wait_past(self.topics.keys, last, timeout=300):
            raise TimeoutError("the key claims were not read back in time")

    def observe(self, event: e.Event) -> None:
        self.overlay.update(directory_entries(event))

    def settle(self, events: Sequence[e.Event], durable: bool) -> None:
        if not durable:
            self.overlay.clear()
            return
        entries: dict[str, str] = {}
        for event in events:
            entries.update(directory_entries(event))
        if entries:
            self.cache.write(entries=entries)
            for key, value in entries.items():
                if self.overlay.get(key) == value:
                    del self.overlay[key]


# --- the log of the partitions a worker owns ---------------------------------------------------
@dataclass
class Stream:
    """A stream as this worker holds it: its state (with what the batches in flight append),
    the commands whose durable events it holds, and the version its latest acked snapshot
    holds (`snapped`). `commands` is replaced, never changed in place: a snapshot keeps the one
    it was taken with."""

    partition: int
    state: State
    commands: Mapping[str, Logged]
    snapped: int = 0

    @property
    def version(self) -> int:
        return self.state.version if self.state is not None else 0

    @property
    def clean(self) -> bool:
        """Whether the latest acked snapshot holds all of it (it may leave memory then)."""
        return self.version == self.snapped


@dataclass
class PartitionLog:
    """What a worker knows of one partition it owns beyond its streams: the commands the
    previous owner decided but did not commit (`pending`: their events, kept apart, by command
    id), the streams with events that no acked snapshot covers (the first such offset, or a
    lower bound of it), the offset after the last event known to be in the log (`head`), and,
    when it could not be read, why the partition is stopped."""

    number: int
    pending: dict[str, list[tuple[int, e.Event]]] = field(default_factory=dict)
    pending_streams: dict[str, int] = field(default_factory=dict)  # stream -> pending commands
    uncovered: dict[str, int] = field(default_factory=dict)
    head: int = 0
    stopped: str | None = None

    def watermark(self) -> int:
        """Every event before this offset is covered by an acked snapshot."""
        return min(self.uncovered.values(), default=self.head)

    def keep_apart(self, position: int, event: e.Event) -> None:
        if event.command_id not in self.pending:
            self.pending_streams[event.proposal_id] = (
                self.pending_streams.get(event.proposal_id, 0) + 1)
        self.pending.setdefault(event.command_id, []).append((position, event))
        self.uncovered.setdefault(event.proposal_id, split_position(position)[1])

    def take_back(self, command_id: str) -> list[tuple[int, e.Event]]:
        """A pending command's events, as it is decided again (none for any other command)."""
        logged = self.pending.pop(command_id, [])
        if logged:
            stream = logged[0][1].proposal_id
            self.pending_streams[stream] -= 1
            if not self.pending_streams[stream]:
                del self.pending_streams[stream]
        return logged

    def pending_seq(self, stream: str) -> int | None:
        """The first seq of the stream held by a pending command's events."""
        if stream not in self.pending_streams:
            return None
        return min(ev.seq for events in self.pending.values() for _, ev in events
                   if ev.proposal_id == stream)


@dataclass
class _Sent:
    """An append in flight: the command's events the log had already (`logged`, a batch cut
    short), those sent now with their futures and encoded form, and its stream's state after
    them."""

    command: c.Command
    partition: int
    logged: list[tuple[int, e.Event]]
    sent: list[tuple[Any, e.Event, bytes]]
    after: State

    def stored(self) -> list[Stored]:
        """Its events with their positions (once the broker has them all)."""
        found = [Stored(position, event) for position, event in self.logged]
        for future, event, raw in self.sent:
            metadata = future.get(timeout=300)
            found.append(Stored(position_of(metadata.partition, metadata.offset), event, raw))
        return found


class _Flight:
    """A batch handed to the log (the Durability of banli.eventlog): its appends and refusals."""

    def __init__(self, log: "KafkaLog"):
        self.log = log
        self.sent: list[_Sent] = []
        self.refused: list[Outcome] = []
        self.landed = False

    def wait(self) -> None:
        self.log._land(self)


class KafkaLog:
    """The EventLog (banli.eventlog) of the `banli.events` partitions this worker owns."""

    def __init__(self, bootstrap: str, topics: Topics, partitions: int, producer: Any,
                 follower: Follower, cache: LocalCache, cache_size: int = CACHE_SIZE,
                 snapshot_delay_s: float = SNAPSHOT_DELAY_S):
        self.bootstrap, self.topics, self.count = bootstrap, topics, partitions
        self.producer, self.follower, self.cache = producer, follower, cache
        self.cache_size, self.snapshot_delay_s = cache_size, snapshot_delay_s
        self.partitions: dict[int, PartitionLog] = {}
        self.streams: OrderedDict[str, Stream] = OrderedDict()
        self.recent: OrderedDict[str, Outcome] = OrderedDict()
        self.flights: deque[_Flight] = deque()  # handed over, not durable yet
        self.flying: dict[str, _Sent] = {}  # command id -> its append, not durable yet
        self.durable: dict[str, Snapshot] = {}  # command id -> its stream after it, uncommitted
        self.due: dict[str, tuple[float, Snapshot]] = {}  # stream -> (due since, snapshot)
        self.snapping: deque[tuple[Any, Snapshot, bytes]] = deque()  # sent, not acked yet
        self.broken: str | None = None
        self._batch: _Flight | None = None
        self._reader: KafkaConsumer | None = None  # for the rare reads of single streams
        self.loaded = {"snapshots": 0, "folded": 0}  # how streams were loaded (logged)

    # --- partitions ---------------------------------------------------------------------------
    def scanner(self) -> KafkaConsumer:
        return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                             enable_auto_commit=False, client_id="banli-handling-loader",
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=4 << 20)

    def load_partition(self, number: int, pending_ids: set[str],
                       watermark: int = 0) -> PartitionLog:
        """Take a partition over: its snapshots read into the local cache, then its events
        from `watermark` (where its last commit says the snapshots end): those of
        `pending_ids` kept apart, the others folded onto their streams' snapshots. An
        undecodable event or a stream missing one stops the partition."""
        started = time.perf_counter()
        part = PartitionLog(number)
        self.partitions[number] = part
        if not self.follower.catch_up([self.topics.snapshots], number, timeout=600):
            raise TimeoutError(f"the snapshots of partition {number} were not read in time")
        tail: dict[str, list[tuple[int, e.Event]]] = {}
        scanner = self.scanner()
        try:
            tp = TopicPartition(self.topics.events, number)
            part.head = scanner.end_offsets([tp])[tp]
            for record in scan(scanner, tp, watermark):
                try:
                    event = load_event(record.value)
                except Exception as exc:
                    self._stop(part, f"undecodable event at {self.topics.events}/{number}/"
                                     f"{record.offset}: {exc}")
                    self.producer.send(self.topics.dlq, key=record.key, value=dead_letter(
                        f"undecodable event, partition {number} stopped: {exc}",
                        record.topic, record.partition, record.offset, record.value)).get(
                        timeout=60)
                    return part
                position = position_of(number, record.offset)
                if event.command_id in pending_ids:
                    part.keep_apart(position, event)
                else:
                    tail.setdefault(event.proposal_id, []).append((position, event))
        finally:
            scanner.close()
        try:
            for stream, events in tail.items():
                entry = self.streams[stream] = self._load(stream, part, events)
                if not entry.clean:  # events its snapshot does not cover: one that does is due
                    part.uncovered[stream] = min(split_position(events[0][0])[1],
                                                 part.uncovered.get(stream, part.head))
                    self._due(entry, stream)
        except Gap as gap:
            self._stop(part, str(gap))
        self._evict()
        log.info("partition %s: from offset %s of the events, %s streams folded onto their "
                 "snapshots, %s commands to decide again, in %.2f s", number, watermark,
                 len(tail), len(part.pending), time.perf_counter() - started)
        return part

    def _stop(self, part: PartitionLog, reason: str) -> None:
        part.stopped = reason
        log.error("partition %s stopped: %s", part.number, reason)

    def drop_partition(self, number: int) -> PartitionLog | None:
        """Forget a partition and its streams (another worker owns it now)."""
        part = self.partitions.pop(number, None)
        for stream in [s for s, entry in self.streams.items() if entry.partition == number]:
            del self.streams[stream]
        for stream in [s for s in self.due if partition_for(s, self.count) == number]:
            del self.due[stream]
        for cid in [cid for cid, snap in self.durable.items()
                    if partition_for(snap.stream, self.count) == number]:
            del self.durable[cid]
        return part

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def reset(self) -> None:
        """Forget everything but the local cache: the partitions are to be loaded again."""
        self.partitions.clear()
        self.streams.clear()
        self.recent.clear()
        self.flights.clear()
        self.flying.clear()
        self.durable.clear()
        self.due.clear()
        self.snapping.clear()
        self.broken = None

    def _part(self, stream: str) -> PartitionLog:
        number = partition_for(stream, self.count)
        part = self.partitions.get(number)
        if part is None:
            raise ConcurrencyError(f"partition {number} of {stream} is not this worker's")
        return part

    # --- streams --------------------------------------------------------------------------------
    def _stream(self, stream: str) -> Stream:
        entry = self.streams.get(stream)
        if entry is not None:
            self.streams.move_to_end(stream)
            return entry
        entry = self._load(stream, self._part(stream))
        self._evict(room=1)  # before it comes in: the entry given back stays in the cache
        self.streams[stream] = entry
        self._due(entry, stream)  # folded from the log, its snapshot unusable: a new one is due
        return entry

    def _load(self, stream: str, part: PartitionLog,
              tail: Sequence[tuple[int, e.Event]] = ()) -> Stream:
        """The stream from its snapshot and the events after it (`tail`), or from all its
        events when its snapshot is of another format, does not decode, or holds an event of a
        pending command (a snapshot is never written before its commands are committed: that
        would be a bug, and the log is the truth)."""
        raw = self.cache.snapshot(stream)
        snapshot = decode_snapshot(raw) if raw is not None else None
        pending = part.pending_seq(stream)
        if snapshot is not None and pending is not None and snapshot.version >= pending:
            log.error("the snapshot of %s holds an uncommitted command's event: ignored", stream)
            snapshot = None
        if raw is not None and snapshot is None:  # the stream folded from all its events
            pending_ids = set(part.pending)
            tail = [(p, ev) for p, ev in self._scan_stream(stream, part.number)
                    if ev.command_id not in pending_ids]
            entry = Stream(part.number, None, {})
            self.loaded["folded"] += 1
        elif snapshot is not None:
            entry = Stream(part.number, snapshot.state, snapshot.commands, snapshot.version)
            self.loaded["snapshots"] += 1
        else:
            entry = Stream(part.number, None, {})
        self._fold_onto(entry, stream, tail)
        return entry

    @staticmethod
    def _fold_onto(entry: Stream, stream: str, events: Sequence[tuple[int, e.Event]]) -> None:
        """Fold events onto a stream in seq order, leaving out those it holds already (copies
        of an event written twice, events a snapshot covers)."""
        state, commands = entry.state, dict(entry.commands)
        for position, event in sorted(events, key=lambda pe: pe[1].seq):
            version = state.version if state is not None else 0
            if event.seq <= version:
                continue
            if event.seq != version + 1:
                raise Gap(f"{stream}: seq {event.seq} follows {version} (an event is missing)")
            state = evolve(state, event)
            known = commands.get(event.command_id)
            commands[event.command_id] = Logged(
                (*(known.positions if known else ()), position),
                known.sender if known else c.actor_key(event.actor), None)
        entry.state, entry.commands = state, commands

    def _scan_stream(self, stream: str, number: int) -> list[tuple[int, e.Event]]:
        """A stream's events from the beginning of its partition (a rare path: a snapshot that
        cannot be used)."""
        key = stream.encode()
        return [(position_of(number, r.offset), load_event(r.value)) for r in scan(
            self.reader, TopicPartition(self.topics.events, number), None) if r.key == key]

    @property
    def reader(self) -> KafkaConsumer:
        if self._reader is None:
            self._reader = self.scanner()
        return self._reader

    def _evict(self, room: int = 0) -> None:
        """Keep at most `cache_size - room` streams, the least recently used out first; a
        stream newer than its acked snapshot stays (moved to the back, looked at again
        later)."""
        excess = len(self.streams) - self.cache_size + room
        looked = 0
        while excess > 0 and looked < len(self.streams):
            stream, entry = next(iter(self.streams.items()))
            looked += 1
            if entry.clean:
                del self.streams[stream]
                excess -= 1
            else:
                self.streams.move_to_end(stream)

    # --- the port -----------------------------------------------------------------------------
    def _usable(self) -> None:
        if self.broken:
            raise RuntimeError(f"the log is to be loaded again: {self.broken}")

    def state(self, stream: str) -> State:
        self._usable()
        return self._stream(stream).state

    def load(self, stream: str, after_seq: int = 0) -> list[e.Event]:
        found = sorted(self._scan_stream(stream, partition_for(stream, self.count)),
                       key=lambda pe: pe[1].seq)
        seen: set[int] = set()
        ordered = []
        for _, event in found:
            if event.seq > after_seq and event.seq not in seen:
                seen.add(event.seq)
                ordered.append(event)
        return ordered

    def append(self, command: c.Command, expected_version: int,
               events: Sequence[e.Event]) -> _Sent:
        assert self._batch is not None, "appends happen inside a batch"
        part = self._part(command.stream)
        entry = self._stream(command.stream)
        if entry.version != expected_version:
            raise ConcurrencyError(f"{command.stream} is not at {expected_version}")
        cid = command.command_id or ""
        logged = part.take_back(cid)
        if logged and [ev.event_id for _, ev in logged] != [
                ev.event_id for ev in events][:len(logged)]:
            new: Sequence[e.Event] = []  # decided otherwise now: what the log holds stands
        else:
            new = events[len(logged):]
        sent = []
        for event in new:
            raw = encode_event(event)
            sent.append((self.producer.send(self.topics.events, key=command.stream.encode(),
                                            value=raw, partition=part.number), event, raw))
        state = entry.state
        for event in [*(ev for _, ev in logged), *new]:
            state = evolve(state, event)
        entry.state = state
        appended = _Sent(command, part.number, logged, sent, state)
        self._batch.sent.append(appended)
        self.flying[cid] = appended
        return appended

    def record_rejection(self, command: c.Command, rejection: Rejection) -> None:
        assert self._batch is not None, "refusals are recorded inside a batch"
        self._batch.refused.append(Outcome(command.command_id or "", rejection=rejection,
                                           sender=c.sender_of(command),
                                           fingerprint=c.fingerprint(command)))

    def outcome(self, command_id: str, stream: str | None = None) -> Outcome | None:
        self._usable()
        if (flying := self.flying.get(command_id)) is not None:
            return Outcome(command_id, sender=c.sender_of(flying.command),
                           fingerprint=c.fingerprint(flying.command), in_flight=True)
        if (known := self.recent.get(command_id)) is not None:
            return known
        parts = ([self.partitions.get(partition_for(stream, self.count))] if stream is not None
                 else list(self.partitions.values()))
        for part in parts:
            if part is not None and (logged := part.pending.get(command_id)) is not None:
                return Outcome(command_id, events=[Stored(p, ev) for p, ev in logged],
                               sender=c.actor_key(logged[0][1].actor), unfinished=True)
        if stream is None or parts[0] is None:
            return None
        record = self._stream(stream).commands.get(command_id)
        if record is None:
            return None
        found = self._fetch(record.positions)  # decided long ago: answered from the log
        outcome = Outcome(command_id, events=found,
                          sender=record.sender or c.actor_key(found[0].event.actor),
                          fingerprint=record.fingerprint)
        self._remember(outcome)
        return outcome

    def _fetch(self, positions: Sequence[int]) -> list[Stored]:
        """The events at these positions, read from the log."""
        found = []
        for position in positions:
            number, offset = split_position(position)
            record = next(scan(self.reader, TopicPartition(self.topics.events, number), offset))
            found.append(Stored(position, load_event(record.value), record.value))
        return found

    def _remember(self, outcome: Outcome) -> None:
        self.recent[outcome.command_id] = outcome
        self.recent.move_to_end(outcome.command_id)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
        scanner = self.scanner()
        try:
            found = []
            for tp in partitions_of(scanner, self.topics.events):
                for record in scan(scanner, tp, None):
                    position = position_of(record.partition, record.offset)
                    if position > after:
                        found.append(Stored(position, load_event(record.value), record.value))
        finally:
            scanner.close()
        return sorted(found, key=lambda s: s.position)[:limit]

    @contextmanager
    def batch(self, command_ids: Sequence[str] = ()) -> Iterator[_Flight]:
        """Appends are sent as they are made and the states move on at once; the batch is
        durable when `wait` on what this gives returns (every send acked, and every batch handed
        over before it). A batch that fails while it is decided leaves the log `broken`."""
        self._usable()
        flight = self._batch = _Flight(self)
        try:
            yield flight
        except BaseException as exc:
            self.broken = f"a batch failed while it was decided: {exc!r}"
            raise
        finally:
            self._batch = None
        self.flights.append(flight)

    def _land(self, flight: _Flight) -> None:
        """Wait for the batches handed over up to `flight` to be durable, in order; then their
        outcomes are known, their streams' commands recorded, and a snapshot of each command's
        stream is ready for when the command is committed."""
        while not flight.landed:
            self._usable()
            if not self.flights:
                raise RuntimeError("a batch handed over before the log was loaded again")
            first = self.flights[0]
            try:
                stored = [sent.stored() for sent in first.sent]
            except BaseException as exc:
                self.broken = f"a batch's sends failed: {exc!r}"
                raise
            self.flights.popleft()
            first.landed = True
            for sent, events in zip(first.sent, stored):
                self._landed(sent, events)
            for refused in first.refused:
                self._remember(refused)

    def _landed(self, sent: _Sent, stored: list[Stored]) -> None:
        command, cid = sent.command, sent.command.command_id or ""
        del self.flying[cid]
        sender, fingerprint = c.sender_of(command), c.fingerprint(command)
        self._remember(Outcome(cid, events=stored, sender=sender, fingerprint=fingerprint))
        if not stored:
            return
        entry, part = self.streams[command.stream], self.partitions[sent.partition]
        entry.commands = {**entry.commands, cid: Logged(
            tuple(s.position for s in stored), sender, fingerprint)}
        new = [split_position(s.position)[1] for s in stored[len(sent.logged):]]
        if new:
            part.uncovered.setdefault(command.stream, new[0])
            part.head = max(part.head, new[-1] + 1)
        covers = split_position(stored[-1].position)[1]
        if sent.after is not None:
            self.durable[cid] = Snapshot(command.stream, sent.after.version, covers, sent.after,
                                         entry.commands)

    # --- snapshots ------------------------------------------------------------------------------
    def committed(self, command_ids: Sequence[str]) -> None:
        """These commands are committed (in this order): a snapshot of their streams after them
        is due."""
        now = time.monotonic()
        for cid in command_ids:
            snapshot = self.durable.pop(cid, None)
            if snapshot is not None:
                since = self.due[snapshot.stream][0] if snapshot.stream in self.due else now
                self.due[snapshot.stream] = (since, snapshot)

    def _due(self, entry: Stream, stream: str) -> None:
        """A snapshot of a stream just loaded (from committed events only: those of pending
        commands are kept apart) is due, unless it is one already."""
        if entry.clean or entry.state is None:
            return
        last = max((p for logged in entry.commands.values() for p in logged.positions),
                   default=0)
        snapshot = Snapshot(stream, entry.version, split_position(last)[1], entry.state,
                            entry.commands)
        self.due[stream] = (time.monotonic(), snapshot)

    def write_snapshots(self, force: bool = False) -> int:
        """Send the snapshots due for `snapshot_delay_s` (all of them when forced, and the
        oldest beyond DUE_MAX); returns how many were sent."""
        now = time.monotonic()
        ready = [stream for stream, (since, _) in self.due.items()
                 if force or now - since >= self.snapshot_delay_s]
        if len(self.due) - len(ready) > DUE_MAX:
            ready = list(self.due)[:len(self.due) - DUE_MAX] + ready
        for stream in dict.fromkeys(ready):
            _, snapshot = self.due.pop(stream)
            raw = encode_snapshot(snapshot)
            future = self.producer.send(self.topics.snapshots, key=stream.encode(), value=raw,
                                        partition=partition_for(stream, self.count))
            self.snapping.append((future, snapshot, raw))
        return len(ready)

    def settle_snapshots(self) -> None:
        """Take in the snapshots acked so far: into the local cache, and off the partitions'
        uncovered streams (raises if one failed)."""
        acked = []
        while self.snapping and self.snapping[0][0].is_done:
            future, snapshot, raw = self.snapping.popleft()
            future.get()
            acked.append((snapshot, raw))
        if not acked:
            return
        self.cache.write([(s.stream, s.version, raw) for s, raw in acked])
        for snapshot, _ in acked:
            entry = self.streams.get(snapshot.stream)
            if entry is not None:
                entry.snapped = max(entry.snapped, snapshot.version)
            part = self.partitions.get(partition_for(snapshot.stream, self.count))
            if part is None or snapshot.stream not in part.uncovered:
                continue
            if (entry is None or entry.clean) and snapshot.stream not in part.pending_streams:
                del part.uncovered[snapshot.stream]
            else:  # newer events than the snapshot's: they come after what it covers
                part.uncovered[snapshot.stream] = max(part.uncovered[snapshot.stream],
                                                      snapshot.covers + 1)
