"""handling's worker: the only writer in the distributed mode. A kafka-python consumer group on
`banli.commands`; a loop and a call: poll a batch of commands, decode them (what does not decode
goes to the dead letters), run them through the one handling loop (banli.handling) over the
Kafka event log of the partitions it owns (banli.eventlog.kafka_log), send the answers to
`banli.command-results`, and commit the offsets only then: nothing is committed before the
events and answers of every command up to that offset are acked.

At-least-once, made exact by determinism: `recorded_at` is the command message's broker time,
so a command decided again against the same state gives the very same events (same ids, same
seqs), which consumers dedupe by (proposal_id, seq).

(This used to be a faust agent with a changelogged table. That lost and conflicted events when
a worker was killed: a table write goes to the changelog partition of faust's *current event*,
i.e. the last message of a batch, not the key's own partition, so a worker taking over restored
stale or missing records; and a rebalance with a noack batch in flight acked and committed
commands that were skipped, not decided.)"""
from __future__ import annotations

import json
import logging
import threading
import warnings
from datetime import datetime, timezone
from typing import Any

from pydantic import ValidationError

from banli.domain.deadlines import get_profile
from banli.domain.registry import parse_command
from banli.eventlog import Outcome
from banli.eventlog.kafka import dead_letter
from banli.eventlog.kafka_log import (EventDirectory, KafkaDirectory, KafkaLog, KeyClaims,
                                      json_field, scan)
from banli.handling import Handling
from banli.settings import Settings
from banli.workcalendar import CalendarBook

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer, OffsetAndMetadata, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener

log = logging.getLogger("banli.handling")

BATCH = 200


class Handler:
    """handling's consumer loop over `banli.commands` (a kafka-python consumer group)."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.topics = settings.topics
        bootstrap = self.bootstrap = settings.kafka_bootstrap
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2,
                                      client_id="banli-handling")
        events = EventDirectory(bootstrap, self.topics.events)
        events.catch_up(timeout=600)
        claims = KeyClaims(bootstrap, self.topics.keys)
        claims.catch_up(timeout=600)
        self.directory = KafkaDirectory(events, claims, self.producer)
        self.log = KafkaLog(bootstrap, self.topics, settings.topic_partitions, self.producer)
        self.handling = Handling(
            self.log, self.directory, get_profile(settings.profile),
            CalendarBook(settings.calendar_dir, settings.calendar_notices),
            clerk_backdate_days=settings.clerk_backdate_days)
        self.to_load: set[int] = set()
        handler = self

        class Listener(ConsumerRebalanceListener):
            # Called inside poll(), when no batch is in flight (each is committed before the
            # next poll). A partition revoked and given back in the same rebalance was owned
            # by no one else meanwhile: its states are kept; any other is loaded from the log.
            revoked: dict[int, Any] = {}

            def on_partitions_revoked(self, revoked):
                for tp in revoked:
                    part = handler.log.drop_partition(tp.partition)
                    if part is not None:
                        self.revoked[tp.partition] = part
                    handler.to_load.discard(tp.partition)

            def on_partitions_assigned(self, assigned):
                kept, self.revoked = self.revoked, {}
                for tp in assigned:
                    if tp.partition in kept and tp.partition not in handler.to_load:
                        handler.log.partitions[tp.partition] = kept[tp.partition]
                    else:
                        handler.log.drop_partition(tp.partition)
                        handler.to_load.add(tp.partition)

        self.consumer = KafkaConsumer(
            bootstrap_servers=bootstrap, group_id=f"{settings.app_id}-handling",
            client_id="banli-handling", enable_auto_commit=False,
            auto_offset_reset="earliest", session_timeout_ms=10_000,
            heartbeat_interval_ms=1_000, max_poll_records=BATCH, fetch_max_wait_ms=50,
            max_poll_interval_ms=600_000)
        self.listener = Listener()
        self.consumer.subscribe([self.topics.commands], listener=self.listener)
        self._stop = threading.Event()

    # --- the loop ---------------------------------------------------------------------------
    def stop(self) -> None:
        self._stop.set()

    def run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    batches = self.consumer.poll(timeout_ms=200)
                    self._load_assigned()
                    if batches:
                        self._handle(batches)
                except Exception:
                    # Nothing of an unfinished batch is committed; start again from the
                    # committed offsets with states rebuilt from the log.
                    log.exception("handling a batch; resuming from the committed offsets")
                    self._reset()
                    self._stop.wait(1)
        finally:
            try:
                self.producer.flush(timeout=30)
            except Exception:
                log.exception("flushing on stop")
            self.consumer.close(autocommit=False)
            self.producer.close(timeout=10)
            self.directory.base.close()
            self.directory.claims.close()

    def _reset(self) -> None:
        try:
            assigned = self.consumer.assignment()
        except Exception:
            assigned = set()
        self.log.partitions.clear()
        self.listener.revoked = {}
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
        """Load the partitions assigned since the last poll: their states from the log, and the
        commands from the committed offset on (the previous owner may have decided them)."""
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
                committed = self.consumer.committed(tp)
                if committed is None:
                    committed = scanner.beginning_offsets([tp])[tp]
                pending = {json_field(r.value, "command_id") for r in scan(scanner, tp, committed)}
                pending.discard(None)
                part = self.log.load_partition(number, pending)  # type: ignore[arg-type]
                if part.stopped:  # an undecodable event: nothing more is decided here
                    self.consumer.pause(tp)
        finally:
            scanner.close()

    # --- one batch --------------------------------------------------------------------------
    def _handle(self, batches: dict) -> None:
        commands, times, decided = [], [], []
        dead = []
        for tp, records in batches.items():
            part = self.log.partitions.get(tp.partition)
            if part is None or part.stopped:
                continue
            decided.append((tp, records))
            for m in records:
                try:
                    command = parse_command(m.value)
                    if not command.command_id or command.actor is None:
                        raise ValueError("a command on Kafka needs command_id and actor")
                except (ValidationError, ValueError) as exc:
                    dead.append(self.producer.send(self.topics.dlq, key=m.key, value=dead_letter(
                        f"undecodable command: {exc}", m.topic, m.partition, m.offset, m.value)))
                    continue
                commands.append(command)
                times.append(datetime.fromtimestamp(m.timestamp / 1000, timezone.utc))
        outcomes = self.handling.handle_batch(commands, times) if commands else []
        answers = [self.producer.send(self.topics.results, key=o.command_id.encode(),
                                      value=json.dumps(outcome_json(o)).encode())
                   for o in outcomes]
        for future in [*dead, *answers]:
            future.get(timeout=300)
        self.consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                              for tp, records in decided if records})


def outcome_json(outcome: Outcome) -> dict[str, Any]:
    """An outcome as `banli.command-results` carries it (banli.eventlog.kafka.decode_outcome
    reads it back)."""
    return {"command_id": outcome.command_id, "replayed": outcome.replayed,
            "rejection": (outcome.rejection.model_dump(mode="json")
                          if outcome.rejection is not None else None),
            "events": [{"position": s.position, "event": s.event.model_dump(mode="json")}
                       for s in outcome.events],
            "sender": outcome.sender, "fingerprint": outcome.fingerprint}
