"""handling's worker: the only writer in the distributed mode. A kafka-python consumer group on
`banli.commands`; a loop and a call: poll a batch of commands, decode them (what does not decode
goes to the dead letters), start them through the one handling loop (banli.handling) over the
Kafka event log of the partitions it owns (banli.eventlog.kafka_log), and, once the batch before
is durable, send that one's answers to `banli.command-results`. Deciding a batch overlaps the
sends of the one before it.

The commit rule: a partition's offset is committed up to the longest prefix of its commands
whose events and answers are all acked (a dead letter counts as an answer), never further; the
commit carries the partition's events watermark (banli.eventlog.kafka_log: every event before it
is covered by an acked snapshot), from which a worker taking the partition over reads. Snapshots
of the streams behind the committed commands are written after the commit.

At-least-once, made exact by determinism: `recorded_at` is the command message's broker time,
so a command decided again against the same state gives the very same events (same ids, same
seqs), which consumers dedupe by (proposal_id, seq).

(This used to be a faust agent with a changelogged table. That lost and conflicted events when
a worker was killed: a table write goes to the changelog partition of faust's *current event*,
i.e. the last message of a batch, not the key's own partition, so a worker taking over restored
stale or missing records; and a rebalance with a noack batch in flight acked and committed
commands that were skipped, not decided.)"""
from __future__ import annotations

import logging
import threading
import time
import warnings
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from banli.domain.commands import sender_of
from banli.domain.registry import parse_command
from banli.eventlog.kafka import dead_letter, encode_outcome, heartbeat_ms, partitions_of
from banli.eventlog.kafka_cache import Follower, LocalCache
from banli.eventlog.kafka_log import (KafkaDirectory, KafkaLog, commit_metadata, scan,
                                      watermark_of)
from banli.eventlog.repository import Repository
from banli.handling import Decided, Handling
from banli.settings import Settings
from banli.workcalendar import CalendarBook

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata
    from kafka import TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

log = logging.getLogger("banli.handling")

BATCH = 500  # commands a poll takes at most
COMMIT_INTERVAL_S = 0.5  # commits (and due snapshots) at most this often while busy
# How long the broker holds a fetch that finds no new record. A record that arrives meanwhile
# answers it at once, so this is not a latency: it is how often an idle consumer asks again.
# At 20 ms an idle worker spent about a tenth of a core (its own and the broker's) asking.
IDLE_FETCH_MS = 500


@dataclass
class _Record:
    """A command message on its way: its key (sender, command id) once decoded, and its
    answer's send (or its dead letter's), once made."""

    partition: int
    offset: int
    key: tuple[str, str] | None = None
    answer: Any = None


def command_key(raw: bytes | None) -> tuple[str, str] | None:
    """A command message's (sender, command id), or None when it does not decode."""
    try:
        command = parse_command(raw or b"")
    except (ValidationError, ValueError):
        return None
    if not command.command_id or command.actor is None:
        return None
    return sender_of(command), command.command_id


def _committed(offsets, response) -> None:
    if isinstance(response, Exception):
        log.warning("a commit before a rebalance failed (the next owner decides again what it "
                    "left): %s", response)


def watermarks(bootstrap: str, group: str, topic: str) -> dict[int, int]:
    """Each partition's events watermark, from the metadata of the group's last commits (asked
    by a consumer of the group that does not join it)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=group,
                             enable_auto_commit=False, client_id="banli-handling-watermarks")
    try:
        found = {}
        for tp in partitions_of(consumer, topic):
            committed = consumer.committed(tp, metadata=True)
            found[tp.partition] = watermark_of(committed.metadata) if committed else 0
        return found
    finally:
        consumer.close(autocommit=False)


class Handler:
    """handling's consumer loop over `banli.commands` (a kafka-python consumer group)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topics = topics = settings.topics
        bootstrap = self.bootstrap = settings.kafka_bootstrap
        group = f"{settings.app_id}-handling"
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5,
                                      batch_size=256 << 10, client_id="banli-handling")
        self.cache = LocalCache(settings.data_dir / "handling-cache.sqlite3")
        self.follower = Follower(bootstrap, topics, self.cache,
                                 watermarks(bootstrap, group, topics.commands))
        while not self.follower.catch_up(timeout=60):
            log.info("reading the snapshots, events and claims into the local cache: %s",
                     self.cache.counts())
        self.directory = KafkaDirectory(self.cache, self.follower, self.producer, topics)
        self.log = KafkaLog(bootstrap, topics, settings.topic_partitions, self.producer,
                            self.follower, self.cache, settings.state_cache)
        self.repository = Repository(self.log, settings.state_cache)
        self.handling = Handling(
            self.repository, self.directory, settings.rules(),
            CalendarBook(settings.calendar_dir, settings.calendar_notices),
            clerk_backdate_days=settings.clerk_backdate_days)
        self.flights: deque[tuple[Decided, list[_Record]]] = deque()  # answers to send, in order
        self.records: dict[int, deque[_Record]] = {}  # per partition: not committed yet
        self.commits: dict[int, tuple[int, int]] = {}  # per partition: (offset, watermark)
        self.last_commit = 0.0
        self.to_load: set[int] = set()
        self.stale = False  # a drain failed: nothing known is to be trusted
        handler = self

        class Listener(ConsumerRebalanceListener):
            # Called inside poll(), on the consumer's IO thread (kafka-python refuses blocking
            # consumer calls there: these commits are asynchronous). Before partitions go,
            # everything decided is answered and committed, and the streams' snapshots written.
            # A partition revoked and given back in the same rebalance was owned by no one else
            # meanwhile: what is known of it is kept; any other is loaded from the log.
            revoked: set[int] = set()

            def on_partitions_revoked(self, revoked):
                handler.drain(blocking=False)
                self.revoked = {tp.partition for tp in revoked}

            def on_partitions_lost(self, lost):
                # put out of the group (its session expired): nothing may be committed now,
                # and what it knows is not to be trusted (another worker decides meanwhile)
                handler.stale = True

            def on_partitions_assigned(self, assigned):
                numbers = {tp.partition for tp in assigned}
                if handler.stale:  # positions start again at the committed offsets
                    handler.forget()
                    self.revoked = set()
                if self.revoked - numbers:
                    handler.repository.forget()  # their states are another worker's now
                for number in self.revoked - numbers:
                    handler.log.drop_partition(number)
                    handler.records.pop(number, None)
                    handler.commits.pop(number, None)
                    handler.to_load.discard(number)
                handler.to_load |= {n for n in numbers if n not in handler.log.partitions}
                self.revoked = set()

        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=group, client_id="banli-handling",
            enable_auto_commit=False, auto_offset_reset="earliest",
            session_timeout_ms=int(settings.group_session_timeout_s * 1000),
            heartbeat_interval_ms=heartbeat_ms(settings.group_session_timeout_s),
            max_poll_records=BATCH, fetch_max_wait_ms=IDLE_FETCH_MS, max_poll_interval_ms=600_000)
        self.listener = Listener()
        self.consumer.subscribe([topics.commands], listener=self.listener)
        self._stop = threading.Event()

    # --- the loop ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    batches = self.consumer.poll(timeout_ms=0 if self.flights else 200)
                    if self.stale:
                        self._reset()
                        continue
                    self._load_assigned()
                    if batches:
                        self._start(batches)
                    self._answer(keep=1 if batches else 0)
                    self._commit()
                except Exception:
                    # Nothing is committed past what is acked; start again from the committed
                    # offsets with the states loaded again from the log.
                    log.exception("handling a batch; resuming from the committed offsets")
                    self._reset()
                    self._stop.wait(1)
            self.drain()
        finally:
            self.consumer.close(autocommit=False)
            self.producer.close(timeout=10)
            self.log.close()
            self.follower.close()

    def drain(self, blocking: bool = True) -> None:
        """Answer every batch decided, commit everything acked, write the due snapshots and
        commit their watermark (before partitions go, and on stop)."""
        try:
            self._answer(keep=0)
            self.producer.flush(timeout=60)
            self._commit(force=True, blocking=blocking)
            self.log.write_snapshots(self.repository.state_at, force=True)
            self.producer.flush(timeout=60)
            self._commit(force=True, blocking=blocking)
        except Exception:
            log.exception("draining before a rebalance or stop; the partitions load again")
            self.stale = True

    def forget(self) -> None:
        """Drop everything known beyond the committed offsets: the partitions load again."""
        self.flights.clear()
        self.records.clear()
        self.commits.clear()
        self.log.reset()
        self.repository.forget()
        self.directory.settle([], False)
        self.to_load.clear()
        self.stale = False

    def _reset(self) -> None:
        self.forget()
        try:
            assigned = self.consumer.assignment()
        except Exception:
            assigned = set()
        for tp in assigned:
            self.to_load.add(tp.partition)
            try:
                committed = self.consumer.committed(tp)
                if committed is None:
                    self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, committed)
            except Exception:
                log.exception("seeking %s to its committed offset", tp)
                self.consumer.seek_to_beginning(TopicPartition(tp.topic, tp.partition))

    def _load_assigned(self) -> None:
        """Load the partitions assigned since the last poll: the commands from the committed
        offset on (the previous owner may have decided them), and the events from the
        watermark the commit carries."""
        if not self.to_load:
            return
        numbers, self.to_load = sorted(self.to_load), set()
        assigned = {tp.partition for tp in self.consumer.assignment()}
        scanner = self.log.scanner()
        try:
            for number in numbers:
                if number not in assigned:
                    continue
                tp = TopicPartition(self.topics.commands, number)
                committed = self.consumer.committed(tp, metadata=True)
                start = (committed.offset if committed is not None
                         else scanner.beginning_offsets([tp])[tp])
                watermark = watermark_of(committed.metadata) if committed is not None else 0
                pending = {key for r in scan(scanner, tp, start)
                           if (key := command_key(r.value)) is not None}
                part = self.log.load_partition(number, pending, watermark)
                self.records[number] = deque()
                self.commits[number] = (start, watermark)
                if part.stopped:  # nothing more is decided here
                    self.consumer.pause(tp)
        finally:
            scanner.close()

    # --- batches ----------------------------------------------------------------------------
    def _start(self, batches: dict) -> None:
        """Decode a poll's commands and start them as one batch (its events on their way)."""
        commands, times, records = [], [], []
        for tp, messages in batches.items():
            part = self.log.partitions.get(tp.partition)
            if part is None or part.stopped:
                continue
            queue = self.records.setdefault(tp.partition, deque())
            for m in messages:
                record = _Record(tp.partition, m.offset)
                queue.append(record)
                try:
                    command = parse_command(m.value)
                    if not command.command_id or command.actor is None:
                        raise ValueError("a command on Kafka needs command_id and actor")
                except (ValidationError, ValueError) as exc:
                    record.answer = self.producer.send(self.topics.dlq, key=m.key, value=dead_letter(
                        f"undecodable command: {exc}", m.topic, m.partition, m.offset, m.value))
                    continue
                record.key = (sender_of(command), command.command_id)
                commands.append(command)
                times.append(datetime.fromtimestamp(m.timestamp / 1000, timezone.utc))
                records.append(record)
        if commands:
            self.flights.append((self.handling.start_batch(commands, times), records))

    def _answer(self, keep: int) -> None:
        """Send the answers of the batches started before the last `keep`, once each is
        durable (this waits for it)."""
        while len(self.flights) > keep:
            decided, records = self.flights.popleft()
            for record, outcome in zip(records, decided.outcomes()):
                record.answer = self.producer.send(
                    self.topics.results, key=outcome.command_id.encode(),
                    value=encode_outcome(outcome), partition=record.partition,
                    headers=[("sender", (outcome.sender or "").encode())])

    def _commit(self, force: bool = False, blocking: bool = True) -> None:
        """Commit each partition up to its longest prefix of answered commands (with its
        events watermark), then hand the committed commands to the log, whose snapshots are
        due then; send the snapshots due."""
        self.log.settle_snapshots()
        now = time.monotonic()
        if not force and now - self.last_commit < COMMIT_INTERVAL_S:
            self.log.write_snapshots(self.repository.state_at)
            return
        self.last_commit = now
        offsets, committed = {}, []
        for number, queue in self.records.items():
            part = self.log.partitions.get(number)
            if part is None or number not in self.commits:
                continue
            offset, _ = self.commits[number]
            while queue and queue[0].answer is not None and queue[0].answer.is_done:
                record = queue.popleft()
                record.answer.get()  # raises if the answer could not be sent
                offset = record.offset + 1
                if record.key is not None:
                    committed.append(record.key)
            mark = (offset, part.watermark())
            if mark != self.commits[number]:
                offsets[TopicPartition(self.topics.commands, number)] = OffsetAndMetadata(
                    offset, commit_metadata(mark[1]), -1)
                self.commits[number] = mark
        if offsets and blocking:
            self.consumer.commit(offsets)
        elif offsets:
            self.consumer.commit_async(offsets, callback=_committed)
        self.log.committed(committed)
        self.log.write_snapshots(self.repository.state_at)
