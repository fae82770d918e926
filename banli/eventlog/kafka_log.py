"""The Kafka adapters of the handling loop (banli.handling): the event store of the partitions a
handling worker owns (`KafkaLog`, the EventStore port over `banli.events`), and the directory
its decisions read (`KafkaDirectory`: the worker's local cache, kept by a Follower, with natural
keys arbitrated on `banli.keys`).

A worker owns a partition of `banli.commands` and the same-numbered partition of `banli.events`
(commands and events are keyed by stream, with the same partition count and partitioner, and
events are written to their command's partition number). It is the only writer of its
partitions' streams (`sole_writer`): the repository above it (banli.eventlog.repository) keeps
their states, folded from the latest snapshot and the events after it, which this log keeps.

What it keeps of a stream (`Kept`): the version of its latest acked snapshot (`banli.snapshots`,
compacted, read through the local cache: banli.eventlog.snapshots), with that snapshot's
commands and directory entries, and the events after it (`tail`). A stream with a tail stays in
memory until a snapshot covering it is acked; the others leave, the least recently used first,
and are read again from their snapshot. When a partition is assigned the worker reads
`banli.events` only from the watermark the partition's last commit carries: every event before
it is covered by a snapshot. The events after it join their streams' tails, except those of the
commands from the committed offset on, which the previous owner decided but did not commit:
they are kept apart (`pending`) and those commands decided again in their turn, which appends
only what was not appended yet (a batch cut short). An event that cannot be decoded stops its
partition (a dead letter says why), and so does a stream missing an event: a stream is never
decided on a state that leaves one of its events out.

Pipelining. A batch's appends are sent as they are made and join their streams' tails at once:
the next batch is decided on them while the sends are in flight. A batch is durable when every
send is acked (`_Flight.wait`, batches in the order they were handed over); a send that fails
leaves the log untrusted (`broken`) until the partitions are loaded again.

Snapshots. Once the commands behind a stream's version are committed (`committed`), a snapshot
of it is due; due snapshots are written a little later (`SNAPSHOT_DELAY_S`: a stream busy in a
bulk import is written once, not once per command), of the state the repository gives at that
version, and once acked are kept in the local cache. A partition's watermark is the first offset
of an event that no acked snapshot covers (`PartitionLog.watermark`); the worker commits it with
the partition's offset.

Commands' outcomes are found by sender and command id: in flight, recent (refusals live only
there), a pending command's events, or the commands a stream's snapshot and tail hold.
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
from typing import Any, Callable, Iterable, Iterator, Sequence

from ..domain import events as e
from ..domain.directory import (FILER_NAME, MERGED, as_pairs, directory_entries, merged_of,
                                named_prefix)
from ..domain.envelope import event_sender
from ..domain.proposal import State
from ..domain.registry import load_event
from ..domain.rejections import Rejection
from . import CommandRecord, ConcurrencyError, Outcome, Stored
from .kafka import (Topics, dead_letter, encode_event, partitions_of, position_of,
                    split_position)
from .kafka_cache import Follower, LocalCache
from .snapshots import (CommandKey, Logged, Snapshot, decode_snapshot, encode_snapshot,
                        read_header)

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
    return int(murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def scan(consumer: Any, tp: Any, start: int | None) -> Iterator[Any]:
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
        # the overlay's keys of filers by name: every submit asks for those of its filers'
        # names, and scanning the whole overlay for them was a twentieth of a bulk import
        self.named: set[str] = set()
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
        return merged_of(self.overlay.get(f"{MERGED}{bureau}") or self.cache.merged(bureau))

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
                 **{k: self.overlay[k] for k in self.named if k.startswith(prefix)}}
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
        pairs = as_pairs(directory_entries(event))
        self.overlay.update(pairs)
        self.named.update(k for k in pairs if k.startswith(FILER_NAME))

    def settle(self, events: Sequence[e.Event], durable: bool) -> None:
        if not durable:
            self.overlay.clear()
            self.named.clear()
            return
        entries: dict[str, str] = {}
        for event in events:
            entries.update(as_pairs(directory_entries(event)))
        if entries:
            self.cache.write(entries=entries)
            for key, value in entries.items():
                if self.overlay.get(key) == value:
                    del self.overlay[key]
                    self.named.discard(key)


# --- the log of the partitions a worker owns ---------------------------------------------------
@dataclass(eq=False)
class Tail:
    """An event after a stream's latest acked snapshot: its position once the broker has it."""

    position: int | None
    event: e.Event


@dataclass
class Kept:
    """What the worker keeps of a stream it holds (its state is the repository's): the version
    its latest acked snapshot holds (`snapped`), with the offset that snapshot covers and the
    directory entries it sets; the events after it (`tail`, in seq order); and the commands
    whose events the stream holds, by (sender, command id)."""

    partition: int
    snapped: int = 0
    covers: int = -1
    directory: dict[str, str] = field(default_factory=dict)
    tail: list[Tail] = field(default_factory=list)
    commands: dict[CommandKey, Logged] = field(default_factory=dict)
    stale: bool = False  # its snapshot is of another format: one of this format is due

    @property
    def version(self) -> int:
        return self.tail[-1].event.seq if self.tail else self.snapped

    @property
    def clean(self) -> bool:
        """Whether the latest acked snapshot holds all of it (it may leave memory then)."""
        return not self.tail

    def extend(self, stream: str, logged: Iterable[tuple[int, e.Event]]) -> None:
        """Events read from the log, in seq order: those it holds already left out (copies of
        an event written twice, events its snapshot covers). Raises Gap for a missing one."""
        for position, event in sorted(logged, key=lambda pe: pe[1].seq):
            if event.seq <= self.version:
                continue
            if event.seq != self.version + 1:
                raise Gap(f"{stream}: seq {event.seq} follows {self.version} (an event is "
                          f"missing)")
            self.tail.append(Tail(position, event))
            key = (event_sender(event), event.command_id)
            known = self.commands.get(key)
            self.commands[key] = Logged((*(known.positions if known else ()), position),
                                        known.fingerprint if known else None)


@dataclass
class PartitionLog:
    """What a worker knows of one partition it owns beyond its streams: the commands the
    previous owner decided but did not commit (`pending`: their events, kept apart, by sender
    and command id), the streams with events that no acked snapshot covers (the first such
    offset, or a lower bound of it), the offset after the last event known to be in the log
    (`head`), and, when it could not be read, why the partition is stopped."""

    number: int
    pending: dict[CommandKey, list[tuple[int, e.Event]]] = field(default_factory=dict)
    pending_streams: dict[str, int] = field(default_factory=dict)  # stream -> pending commands
    uncovered: dict[str, int] = field(default_factory=dict)
    head: int = 0
    stopped: str | None = None

    def watermark(self) -> int:
        """Every event before this offset is covered by an acked snapshot."""
        return min(self.uncovered.values(), default=self.head)

    def keep_apart(self, key: CommandKey, position: int, event: e.Event) -> None:
        if key not in self.pending:
            self.pending_streams[event.proposal_id] = (
                self.pending_streams.get(event.proposal_id, 0) + 1)
        self.pending.setdefault(key, []).append((position, event))
        self.uncovered.setdefault(event.proposal_id, split_position(position)[1])

    def take_back(self, key: CommandKey) -> list[tuple[int, e.Event]]:
        """A pending command's events, as it is decided again (none for any other command)."""
        logged = self.pending.pop(key, [])
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

    def is_pending(self, event: e.Event) -> bool:
        return bool(self.pending) and (event_sender(event), event.command_id) in self.pending


@dataclass
class _Sent:
    """An append in flight: the command, the events the log had already (`logged`, a batch cut
    short), those sent now with their futures and encoded form, and their places in the
    stream's tail."""

    record: CommandRecord
    partition: int
    logged: list[tuple[int, e.Event]]
    sent: list[tuple[Any, e.Event, bytes]]
    tails: list[Tail]

    @property
    def events(self) -> list[e.Event]:
        """The command's events as the log holds them (or will, once acked)."""
        return [ev for _, ev in self.logged] + [ev for _, ev, _ in self.sent]

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


@dataclass(frozen=True)
class _Due:
    """A snapshot due: of a stream at a version, covering events up to an offset."""

    since: float
    version: int
    covers: int


class KafkaLog:
    """The EventStore (banli.eventlog) of the `banli.events` partitions this worker owns."""

    sole_writer = True  # a partition's owner is its streams' only writer (the consumer group)

    def __init__(self, bootstrap: str, topics: Topics, partitions: int, producer: Any,
                 follower: Follower, cache: LocalCache, cache_size: int = CACHE_SIZE,
                 snapshot_delay_s: float = SNAPSHOT_DELAY_S):
        self.bootstrap, self.topics, self.count = bootstrap, topics, partitions
        self.producer, self.follower, self.cache = producer, follower, cache
        self.cache_size, self.snapshot_delay_s = cache_size, snapshot_delay_s
        self.partitions: dict[int, PartitionLog] = {}
        self.kept: OrderedDict[str, Kept] = OrderedDict()
        self.recent: OrderedDict[CommandKey, Outcome] = OrderedDict()
        self.flights: deque[_Flight] = deque()  # handed over, not durable yet
        self.flying: dict[CommandKey, _Sent] = {}  # its append, not durable yet
        self.durable: dict[CommandKey, tuple[str, int, int]] = {}  # uncommitted: its stream,
        # the stream's version after it and the offset of its last event
        self.due: dict[str, _Due] = {}  # stream -> the snapshot due
        self.snapping: deque[tuple[Any, Snapshot, bytes]] = deque()  # sent, not acked yet
        self.broken: str | None = None
        self._batch: _Flight | None = None
        self._reader: KafkaConsumer | None = None  # for the rare reads of single streams
        self._parsed: tuple[str, dict[str, Any]] | None = None  # the last snapshot read
        self.loaded = {"snapshots": 0, "folded": 0}  # how streams were loaded (logged)

    # --- partitions ---------------------------------------------------------------------------
    def scanner(self) -> KafkaConsumer:
        return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                             enable_auto_commit=False, client_id="banli-handling-loader",
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=4 << 20)

    def load_partition(self, number: int, pending: set[CommandKey],
                       watermark: int = 0) -> PartitionLog:
        """Take a partition over: its snapshots read into the local cache, then its events
        from `watermark` (where its last commit says the snapshots end): those of the `pending`
        commands (sender, command id) kept apart, the others added to their streams' tails. An
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
                key = (event_sender(event), event.command_id)
                if key in pending:
                    part.keep_apart(key, position, event)
                else:
                    tail.setdefault(event.proposal_id, []).append((position, event))
        finally:
            scanner.close()
        try:
            for stream, events in tail.items():
                kept = self.kept[stream] = self._read_kept(stream, part)
                kept.extend(stream, events)
                if not kept.clean:  # events its snapshot does not cover: one that does is due
                    part.uncovered[stream] = min(split_position(events[0][0])[1],
                                                 part.uncovered.get(stream, part.head))
                    self._due_now(stream, kept)
        except Gap as gap:
            self._stop(part, str(gap))
        self._evict()
        log.info("partition %s: from offset %s of the events, %s streams' events after their "
                 "snapshots, %s commands to decide again, in %.2f s", number, watermark,
                 len(tail), len(part.pending), time.perf_counter() - started)
        return part

    def _stop(self, part: PartitionLog, reason: str) -> None:
        part.stopped = reason
        log.error("partition %s stopped: %s", part.number, reason)

    def drop_partition(self, number: int) -> PartitionLog | None:
        """Forget a partition and its streams (another worker owns it now; the repository
        above forgets their states too)."""
        part = self.partitions.pop(number, None)
        for stream in [s for s, kept in self.kept.items() if kept.partition == number]:
            del self.kept[stream]
        for stream in [s for s in self.due if partition_for(s, self.count) == number]:
            del self.due[stream]
        for key in [k for k, (stream, _, _) in self.durable.items()
                    if partition_for(stream, self.count) == number]:
            del self.durable[key]
        return part

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None

    def reset(self) -> None:
        """Forget everything but the local cache: the partitions are to be loaded again (and
        the repository above forgets its states)."""
        self.partitions.clear()
        self.kept.clear()
        self.recent.clear()
        self.flights.clear()
        self.flying.clear()
        self.durable.clear()
        self.due.clear()
        self.snapping.clear()
        self.broken = None
        self._parsed = None

    def _part(self, stream: str) -> PartitionLog:
        number = partition_for(stream, self.count)
        part = self.partitions.get(number)
        if part is None:
            raise ConcurrencyError(f"partition {number} of {stream} is not this worker's")
        return part

    # --- streams --------------------------------------------------------------------------------
    def _kept(self, stream: str) -> Kept:
        kept = self.kept.get(stream)
        if kept is not None:
            self.kept.move_to_end(stream)
            return kept
        kept = self._read_kept(stream, self._part(stream))
        self._evict(room=1)  # before it comes in: the one given back stays in memory
        self.kept[stream] = kept
        return kept

    def _read_kept(self, stream: str, part: PartitionLog) -> Kept:
        """A stream as its latest snapshot says, or from all its events when that snapshot
        cannot be read, or holds an event of a pending command (a snapshot is never written
        before its commands are committed: that would be a bug, and the log is the truth)."""
        raw = self.cache.snapshot(stream)
        if raw is None:
            return Kept(part.number)
        try:
            data = json.loads(raw)
            head = read_header(data)
        except Exception:
            return self._from_log(stream, part)
        pending = part.pending_seq(stream)
        if pending is not None and head.version >= pending:
            log.error("the snapshot of %s holds an uncommitted command's event: ignored", stream)
            return self._from_log(stream, part)
        self._parsed = (stream, data)  # the repository asks for its state next
        return Kept(part.number, head.version, head.covers, head.directory, [], head.commands)

    def _from_log(self, stream: str, part: PartitionLog) -> Kept:
        """A stream read from its partition from the beginning (a rare path: a snapshot that
        cannot be used); a snapshot of it is due."""
        kept = Kept(part.number)
        kept.extend(stream, [(p, ev) for p, ev in self._scan_stream(stream, part.number)
                             if not part.is_pending(ev)])
        self.loaded["folded"] += 1
        self._due_now(stream, kept)
        return kept

    def _due_now(self, stream: str, kept: Kept) -> None:
        """A snapshot of a stream read from the log (committed events only: those of pending
        commands are kept apart) is due, unless one is already."""
        if stream in self.due or kept.clean:
            return
        position = kept.tail[-1].position
        assert position is not None, "read from the log"
        self.due[stream] = _Due(time.monotonic(), kept.version, split_position(position)[1])

    def _scan_stream(self, stream: str, number: int) -> list[tuple[int, e.Event]]:
        """A stream's events from the beginning of its partition."""
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
        stream with events after its acked snapshot stays (moved to the back, looked at again
        later)."""
        excess = len(self.kept) - self.cache_size + room
        looked = 0
        while excess > 0 and looked < len(self.kept):
            stream, kept = next(iter(self.kept.items()))
            looked += 1
            if kept.clean:
                del self.kept[stream]
                excess -= 1
            else:
                self.kept.move_to_end(stream)

    # --- the port -----------------------------------------------------------------------------
    def _usable(self) -> None:
        if self.broken:
            raise RuntimeError(f"the log is to be loaded again: {self.broken}")

    def snapshot(self, stream: str) -> State:
        """The state of the stream's latest acked snapshot, when it is of this format (else a
        snapshot in this format is due, and the stream is read from the log)."""
        self._usable()
        kept = self._kept(stream)
        if not kept.snapped:
            return None
        parsed, self._parsed = self._parsed, None
        if parsed is not None and parsed[0] == stream:
            snapshot = decode_snapshot(parsed[1])
        else:
            raw = self.cache.snapshot(stream)
            snapshot = decode_snapshot(raw) if raw is not None else None
        if snapshot is None or snapshot.version != kept.snapped:
            self.loaded["folded"] += 1
            kept.stale = True
            if stream not in self.due:  # one of this format, then
                self.due[stream] = _Due(time.monotonic(), kept.snapped, kept.covers)
            return None
        self.loaded["snapshots"] += 1
        return snapshot.state

    def load(self, stream: str, after_seq: int = 0) -> list[e.Event]:
        """The events after `after_seq`: from the stream's tail when its latest snapshot holds
        every event up to there; else (a rare path) read from the partition."""
        self._usable()
        kept = self._kept(stream)
        if after_seq >= kept.snapped:
            return [t.event for t in kept.tail if t.event.seq > after_seq]
        part = self._part(stream)
        found: dict[int, e.Event] = {}
        for _, event in self._scan_stream(stream, part.number):
            if event.seq > after_seq and not part.is_pending(event):
                found.setdefault(event.seq, event)
        for t in kept.tail:
            found.setdefault(t.event.seq, t.event)
        return [found[seq] for seq in sorted(found)]

    def append(self, record: CommandRecord, expected_version: int,
               events: Sequence[e.Event]) -> _Sent:
        assert self._batch is not None, "appends happen inside a batch"
        self._usable()
        part = self._part(record.stream)
        kept = self._kept(record.stream)
        if kept.version != expected_version:
            raise ConcurrencyError(f"{record.stream} is at {kept.version}, "
                                   f"not {expected_version}")
        key = (record.sender, record.command_id)
        logged = part.take_back(key)
        if logged and [(ev.seq, ev.type) for _, ev in logged] != [
                (ev.seq, ev.type) for ev in events][:len(logged)]:
            new: Sequence[e.Event] = []  # decided otherwise now: what the log holds stands
        else:
            new = events[len(logged):]
        sent, tails = [], []
        for position, event in logged:
            kept.tail.append(Tail(position, event))
        for event in new:
            raw = encode_event(event)
            sent.append((self.producer.send(self.topics.events, key=record.stream.encode(),
                                            value=raw, partition=part.number), event, raw))
            tails.append(Tail(None, event))
        kept.tail.extend(tails)
        appended = _Sent(record, part.number, logged, sent, tails)
        self._batch.sent.append(appended)
        self.flying[key] = appended
        return appended

    def refuse(self, record: CommandRecord, rejection: Rejection) -> None:
        assert self._batch is not None, "refusals are recorded inside a batch"
        self._batch.refused.append(Outcome(record.command_id, rejection=rejection,
                                           sender=record.sender,
                                           fingerprint=record.fingerprint))

    def outcome(self, sender: str, command_id: str, stream: str | None = None
                ) -> Outcome | None:
        self._usable()
        key = (sender, command_id)
        if (flying := self.flying.get(key)) is not None:
            return Outcome(command_id, sender=sender, fingerprint=flying.record.fingerprint,
                           in_flight=True)
        if (known := self.recent.get(key)) is not None:
            return known
        number = partition_for(stream, self.count) if stream is not None else None
        parts = ([self.partitions.get(number)] if number is not None
                 else list(self.partitions.values()))
        for part in parts:
            if part is not None and (logged := part.pending.get(key)) is not None:
                return Outcome(command_id, events=[Stored(p, ev) for p, ev in logged],
                               sender=sender, unfinished=True)
        if stream is None or parts[0] is None:
            return None
        found = self._kept(stream).commands.get(key)
        if found is None:
            return None
        outcome = Outcome(command_id, events=self._fetch(found.positions), sender=sender,
                          fingerprint=found.fingerprint)  # decided long ago: from the log
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
        key = (outcome.sender or "", outcome.command_id)
        self.recent[key] = outcome
        self.recent.move_to_end(key)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
        """At most `limit` events after a position, in the order of positions: partition by
        partition, each in offset order."""
        scanner = self.scanner()
        found: list[Stored] = []
        try:
            for tp in partitions_of(scanner, self.topics.events):
                start = 0
                if after >= 0:
                    number, offset = split_position(after)
                    if tp.partition < number:
                        continue
                    start = offset + 1 if tp.partition == number else 0
                for record in scan(scanner, tp, start):
                    found.append(Stored(position_of(record.partition, record.offset),
                                        load_event(record.value), record.value))
                    if len(found) >= limit:
                        return found
        finally:
            scanner.close()
        return found

    @contextmanager
    def batch(self, keys: Sequence[CommandKey] = ()) -> Iterator[_Flight]:
        """Appends are sent as they are made and join their streams' tails at once; the batch
        is durable when `wait` on what this gives returns (every send acked, and every batch
        handed over before it). A batch that fails while it is decided leaves the log
        `broken`."""
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
        record = sent.record
        key = (record.sender, record.command_id)
        del self.flying[key]
        self._remember(Outcome(record.command_id, events=stored, sender=record.sender,
                               fingerprint=record.fingerprint))
        if not stored:
            return
        for tail, landed in zip(sent.tails, stored[len(sent.logged):]):
            tail.position = landed.position
        kept, part = self.kept[record.stream], self.partitions[sent.partition]
        kept.commands[key] = Logged(tuple(s.position for s in stored), record.fingerprint)
        new = [split_position(s.position)[1] for s in stored[len(sent.logged):]]
        if new:
            part.uncovered.setdefault(record.stream, new[0])
            part.head = max(part.head, new[-1] + 1)
        self.durable[key] = (record.stream, stored[-1].event.seq,
                             split_position(stored[-1].position)[1])

    # --- snapshots ------------------------------------------------------------------------------
    def committed(self, keys: Sequence[CommandKey]) -> None:
        """These commands (sender, command id) are committed, in this order: a snapshot of
        their streams after them is due."""
        now = time.monotonic()
        for key in keys:
            found = self.durable.pop(key, None)
            if found is not None:
                stream, version, covers = found
                since = self.due[stream].since if stream in self.due else now
                self.due[stream] = _Due(since, version, covers)

    def write_snapshots(self, state_at: Callable[[str, int], State], force: bool = False) -> int:
        """Send the snapshots due for `snapshot_delay_s` (all of them when forced, and the
        oldest beyond DUE_MAX), of the states `state_at` (the repository's) gives at their
        versions; returns how many were sent."""
        now = time.monotonic()
        ready = [stream for stream, due in self.due.items()
                 if force or now - due.since >= self.snapshot_delay_s]
        if len(self.due) - len(ready) > DUE_MAX:
            ready = list(self.due)[:len(self.due) - DUE_MAX] + ready
        sent = 0
        for stream in dict.fromkeys(ready):
            due = self.due.pop(stream)
            kept = self.kept.get(stream)
            if kept is None or (kept.snapped >= due.version and not kept.stale):
                continue  # an acked snapshot holds it already (a stream out of memory is clean)
            snapshot = self._snapshot_of(stream, kept, due, state_at(stream, due.version))
            if snapshot is None:
                continue
            raw = encode_snapshot(snapshot)
            future = self.producer.send(self.topics.snapshots, key=stream.encode(), value=raw,
                                        partition=partition_for(stream, self.count))
            self.snapping.append((future, snapshot, raw))
            sent += 1
        return sent

    @staticmethod
    def _snapshot_of(stream: str, kept: Kept, due: _Due, state: State) -> Snapshot | None:
        """The snapshot of `state` at the due version: the commands and directory entries of
        the events up to it."""
        if state is None:
            return None
        directory = dict(kept.directory)
        for tail in kept.tail:
            if tail.event.seq <= due.version:
                directory.update(as_pairs(directory_entries(tail.event)))
        commands = {key: logged for key, logged in kept.commands.items()
                    if all(split_position(p)[1] <= due.covers for p in logged.positions)}
        return Snapshot(stream, due.version, due.covers, state, commands, directory)

    def settle_snapshots(self) -> None:
        """Take in the snapshots acked so far: into the local cache, off their streams' tails,
        and off the partitions' uncovered streams (raises if one failed)."""
        acked = []
        while self.snapping and self.snapping[0][0].is_done:
            future, snapshot, raw = self.snapping.popleft()
            future.get()
            acked.append((snapshot, raw))
        if not acked:
            return
        self.cache.write([(s.stream, s.version, raw) for s, raw in acked])
        for snapshot, _ in acked:
            kept = self.kept.get(snapshot.stream)
            if kept is not None and snapshot.version >= kept.snapped:
                kept.snapped, kept.covers, kept.stale = snapshot.version, snapshot.covers, False
                kept.directory = dict(snapshot.directory)
                kept.tail = [t for t in kept.tail if t.event.seq > snapshot.version]
            part = self.partitions.get(partition_for(snapshot.stream, self.count))
            if part is None or snapshot.stream not in part.uncovered:
                continue
            if (kept is None or kept.clean) and snapshot.stream not in part.pending_streams:
                del part.uncovered[snapshot.stream]
            else:  # newer events than the snapshot's: they come after what it covers
                part.uncovered[snapshot.stream] = max(part.uncovered[snapshot.stream],
                                                      snapshot.covers + 1)
