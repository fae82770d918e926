"""handling's worker: the only writer. A kafka-python consumer group on `banli.commands`;
per batch of polled commands: decide each in order against its stream's state → send the events
and wait for the broker's ack → send the outcomes → commit the offsets. Nothing is committed
before the events and outcomes of every command up to that offset are in the log.

The state of the streams is the log's: when a partition is assigned, every stream's state in it
is folded from the same-numbered partition of `banli.events` (commands and events are keyed by
stream, with the same partition count and partitioner, and events are written to the partition
number of their command). Commands from the committed offset on whose events are already in the
log were decided by the previous owner before it died: they are kept out of the states and
answered from the log in their turn, so a redelivered command is never decided against a state
that already holds its own events or those of the commands after it.

(This used to be a faust agent with a changelogged table. That lost and conflicted events when a
worker was killed: a table write goes to the changelog partition of faust's *current event*,
i.e. the last message of a batch, not the key's own partition, so a worker taking over restored
stale or missing records; and a rebalance with a noack batch in flight acked and committed
commands that were skipped, not decided.)

At-least-once, made exact by determinism: `recorded_at` is the command message's own
timestamp, so a command decided again against the same state gives the very same events (same
ids, same seqs), which consumers dedupe by (proposal_id, seq)."""
from __future__ import annotations

import json
import logging
import threading
from collections import OrderedDict
from datetime import datetime, timezone
from typing import Any, Callable

from pydantic import ValidationError

from banli.domain import commands as c
from banli.domain import events as e
from banli.domain.deadlines import get_profile
from banli.domain.proposal import fold
from banli.domain.registry import parse_command
from banli.domain.rejections import Rejection
from banli.eventlog.kafka import dead_letter, encode_event, position_of
from banli.settings import Settings
from banli.workcalendar import CalendarBook

from .decisions import decide_on

log = logging.getLogger("banli.handling")


class Follower:
    """Reads every partition of a topic from its beginning, in a thread of its own (no consumer
    group), folding each record into `entries` with `absorb(entries, record)`. `catch_up` waits
    until everything in the topic now has been read, `wait_past` until given offsets have."""

    def __init__(self, bootstrap: str, topic: str, name: str,
                 absorb: Callable[[dict[str, str], Any], None]):
        import warnings

        from banli.eventlog.kafka import partitions_of

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaConsumer
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


BATCH = 200
RECENT = 20_000  # per partition: commands whose outcome is kept to answer a redelivery


class Partition:
    """What the worker knows of one commands partition it owns: the state of every stream in
    it, rebuilt from the same-numbered `banli.events` partition when the partition is
    assigned. Commands at or after the committed offset whose events are already in the log
    (decided by the previous owner, which died before committing) are kept apart in `pending`:
    the streams' states exclude them, so each is answered in its turn from the log."""

    def __init__(self, number: int):
        self.number = number
        self.states: dict[str, Any] = {}
        self.pending: dict[str, list[tuple[int, e.Event]]] = {}  # command id -> its logged events
        self.logged: set[str] = set()  # every command with events in the log
        self.recent: OrderedDict[str, dict[str, Any]] = OrderedDict()  # command id -> outcome

    def remember(self, command_id: str, outcome: dict[str, Any]) -> None:
        self.recent[command_id] = outcome
        self.recent.move_to_end(command_id)
        while len(self.recent) > RECENT:
            self.recent.popitem(last=False)


class Handler:
    """handling's consumer loop over `banli.commands` (a kafka-python consumer group)."""

    def __init__(self, settings: Settings):
        from kafka import KafkaConsumer, KafkaProducer
        from kafka.consumer.subscription_state import ConsumerRebalanceListener

        self.settings = settings
        self.profile = get_profile(settings.profile)
        self.calendars = CalendarBook(settings.calendar_dir, settings.calendar_notices)
        self.topics = settings.topics
        bootstrap = settings.kafka_bootstrap
        self.bootstrap = bootstrap
        self.directory = EventDirectory(bootstrap, self.topics.events)
        self.directory.catch_up(timeout=600)
        self.claims = KeyClaims(bootstrap, self.topics.keys)
        self.claims.catch_up(timeout=600)
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=2,
                                      client_id="banli-handling")
        self.partitions: dict[int, Partition] = {}
        self.to_load: set[int] = set()
        handler = self

        class Listener(ConsumerRebalanceListener):
            # Called inside poll(), when no batch is in flight (each is committed before the
            # next poll). A partition revoked and given back in the same rebalance was owned
            # by no one else meanwhile: its states are kept; any other is loaded from the log.
            revoked: dict[int, Partition] = {}

            def on_partitions_revoked(self, revoked):
                for tp in revoked:
                    part = handler.partitions.pop(tp.partition, None)
                    if part is not None:
                        self.revoked[tp.partition] = part
                    handler.to_load.discard(tp.partition)

            def on_partitions_assigned(self, assigned):
                kept, self.revoked = self.revoked, {}
                for tp in assigned:
                    if tp.partition in kept and tp.partition not in handler.to_load:
                        handler.partitions[tp.partition] = kept[tp.partition]
                    else:
                        handler.partitions.pop(tp.partition, None)
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
                        self._handle({tp: records for tp, records in batches.items()
                                      if tp.partition in self.partitions})
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
            self.directory.close()
            self.claims.close()

    def _reset(self) -> None:
        from kafka import TopicPartition
        try:
            assigned = self.consumer.assignment()
        except Exception:
            assigned = set()
        self.partitions.clear()
        self.listener.revoked = {}
        for tp in assigned:
            self.to_load.add(tp.partition)
        for tp in assigned:
            try:
                committed = self.consumer.committed(tp)
                if committed is None:
                    self.consumer.seek_to_beginning(tp)
                else:
                    self.consumer.seek(tp, committed)
            except Exception:
                log.exception("seeking %s to its committed offset", tp)
                self.consumer.seek_to_beginning(TopicPartition(tp.topic, tp.partition))

    # --- loading a partition's states from the log -------------------------------------------
    def _load_assigned(self) -> None:
        from kafka import TopicPartition
        if not self.to_load:
            return
        numbers, self.to_load = sorted(self.to_load), set()
        assigned = {tp.partition for tp in self.consumer.assignment()}
        scanner = self._scanner()
        try:
            for number in numbers:
                if number not in assigned:
                    continue
                tp = TopicPartition(self.topics.commands, number)
                committed = self.consumer.committed(tp)
                if committed is None:
                    committed = scanner.beginning_offsets([tp])[tp]
                # The consumer resumes from the committed offset: commands from there on may
                # have been decided by the previous owner; their ids tell what is pending.
                pending_ids = {json_field(r.value, "command_id")
                               for r in scan(scanner, tp, committed)}
                pending_ids.discard(None)
                self.partitions[number] = self._load(scanner, number, pending_ids)
        finally:
            scanner.close()

    def _scanner(self):
        from kafka import KafkaConsumer
        return KafkaConsumer(bootstrap_servers=self.bootstrap, group_id=None,
                             enable_auto_commit=False, client_id="banli-handling-loader",
                             fetch_max_wait_ms=50, max_partition_fetch_bytes=4 << 20)

    def _load(self, scanner, number: int, pending_ids: set[str]) -> Partition:
        from kafka import TopicPartition
        part = Partition(number)
        tp = TopicPartition(self.topics.events, number)
        folded: dict[str, list[e.Event]] = {}
        for record in scan(scanner, tp, None):
            try:
                event = e.load_event(json.loads(record.value))
            except Exception:
                log.exception("undecodable event at %s/%s", number, record.offset)
                continue
            part.logged.add(event.command_id)
            if event.command_id in pending_ids:
                part.pending.setdefault(event.command_id, []).append(
                    (position_of(number, record.offset), event))
                continue
            events = folded.setdefault(event.proposal_id, [])
            version = events[-1].seq if events else 0
            if event.seq <= version:
                continue  # a redelivered copy
            events.append(event)
        for stream, events in folded.items():
            part.states[stream] = fold(events, None)
        log.info("partition %s: %s streams, %s commands to answer from the log", number,
                 len(part.states), len(part.pending))
        return part

    # --- one batch --------------------------------------------------------------------------
    def _handle(self, batches: dict) -> None:
        from kafka import OffsetAndMetadata
        if not batches:
            return
        self._claim_keys(batches)
        overlay = DirectoryOverlay(self.directory, self.claims)
        states: dict[tuple[int, str], Any] = {}  # the batch's new states, kept once all is acked
        answers: list[tuple[Partition, str, dict[str, Any], list]] = []
        futures = []
        for tp, records in batches.items():
            part = self.partitions[tp.partition]
            for m in records:
                try:
                    command = parse_command(m.value)
                    if not command.command_id or command.actor is None:
                        raise ValueError("a command on Kafka needs command_id and actor")
                except (ValidationError, ValueError) as exc:
                    futures.append(self.producer.send(self.topics.dlq, key=m.key, value=dead_letter(
                        f"undecodable command: {exc}", m.topic, m.partition, m.offset, m.value)))
                    continue
                cid, key = command.command_id, command.stream
                state = states.get((part.number, key), part.states.get(key))
                logged = part.pending.pop(cid, None)
                if logged is not None and c.actor_key(logged[0][1].actor) != c.sender_of(command):
                    logged = None  # another sender's command under that id: not its events
                if logged is None and cid in part.recent:
                    answers.append((part, cid, replay(part.recent[cid], command), []))
                    continue
                if logged is None and cid in part.logged:
                    # decided long ago (before the committed offset): answer from the log
                    found = find_in_log(self._scanner, self.topics.events, part.number, cid)
                    stored = [{"position": pos, "event": ev.model_dump(mode="json")}
                              for pos, ev in found]
                    answers.append((part, cid, replay({
                        "command_id": cid, "rejection": None, "events": stored,
                        "sender": c.actor_key(found[0][1].actor) if found else None,
                        "fingerprint": None}, command), []))
                    continue
                recorded_at = datetime.fromtimestamp(m.timestamp / 1000, timezone.utc)
                decided = decide_on(state, command, recorded_at, self.profile,
                                    overlay, self.calendars.current(),
                                    self.settings.clerk_backdate_days)
                outcome = {"command_id": cid, "rejection": None, "events": [],
                           "replayed": logged is not None, "sender": c.sender_of(command),
                           "fingerprint": c.fingerprint(command)}
                sends = []
                if logged is not None:
                    # Decided by the previous owner against this very state: its events are in
                    # the log. Send only what is missing of them (a batch cut short).
                    ids = [ev.event_id for _, ev in logged]
                    new = decided.events if [ev.event_id for ev in decided.events][:len(ids)] == ids \
                        else [ev for _, ev in logged]
                    events = [ev for _, ev in logged] + list(new[len(ids):])
                    sends = [(pos, ev, None) for pos, ev in logged] + [
                        (None, ev, self._send_event(part.number, ev)) for ev in new[len(ids):]]
                    state = fold(events, state) if events else state
                elif decided.rejection is not None:
                    outcome["rejection"] = decided.rejection.model_dump(mode="json")
                    events = []
                else:
                    events = decided.events
                    sends = [(None, ev, self._send_event(part.number, ev)) for ev in events]
                    state = decided.state
                for ev in events:
                    overlay.observe(ev)
                states[(part.number, key)] = state
                answers.append((part, cid, outcome, sends))
        # in the log before anything else moves
        for future in futures:
            future.get(timeout=300)
        for part, cid, outcome, sends in answers:
            if sends:
                stored = []
                for pos, ev, future in sends:
                    if future is not None:
                        metadata = future.get(timeout=300)
                        pos = position_of(metadata.partition, metadata.offset)
                    stored.append({"position": pos, "event": ev.model_dump(mode="json")})
                outcome["events"] = stored
        overlay.commit()
        for (number, key), state in states.items():
            self.partitions[number].states[key] = state
        results = []
        for part, cid, outcome, sends in answers:
            if (not outcome.get("replayed") or sends) and not is_conflict(outcome):
                part.remember(cid, outcome)
                if outcome["events"]:
                    part.logged.add(cid)
            results.append(self.producer.send(self.topics.results, key=cid.encode(),
                                              value=json.dumps(outcome).encode()))
        for future in results:
            future.get(timeout=300)
        self.consumer.commit({tp: OffsetAndMetadata(records[-1].offset + 1, "", -1)
                              for tp, records in batches.items() if records})

    def _claim_keys(self, batches: dict) -> None:
        """Claim the natural key of every submit of the batch that would be accepted and is not
        answered from the log, then read the claims back (KeyClaims)."""
        claims = []
        overlay = DirectoryOverlay(self.directory, self.claims)
        for tp, records in batches.items():
            part = self.partitions[tp.partition]
            for m in records:
                try:
                    command = parse_command(m.value)
                except ValidationError:
                    continue
                cid = command.command_id
                if (not isinstance(command, c.Submit) or command.actor is None or not cid
                        or cid in part.pending or cid in part.recent or cid in part.logged
                        or self.claims.winner(command.natural_key) is not None):
                    continue
                recorded_at = datetime.fromtimestamp(m.timestamp / 1000, timezone.utc)
                dry = decide_on(part.states.get(command.stream), command, recorded_at,
                                self.profile, overlay, self.calendars.current(),
                                self.settings.clerk_backdate_days)
                if dry.rejection is None:
                    claims.append((command.natural_key, command.stream, cid))
        self.claims.claim(self.producer, claims)

    def _send_event(self, partition: int, event: e.Event):
        return self.producer.send(self.topics.events, key=event.proposal_id.encode(),
                                  value=encode_event(event), partition=partition)


def replay(recorded: dict[str, Any], command: c.Command) -> dict[str, Any]:
    """A recorded outcome answering `command`, which carries its id: the record itself for the
    same sender asking the same (a record without a fingerprint compares the sender only), a
    refusal revealing nothing of it for anyone else."""
    if recorded.get("sender") == c.sender_of(command) and recorded.get("fingerprint") in (
            None, c.fingerprint(command)):
        return {**recorded, "replayed": True}
    return {"command_id": command.command_id, "events": [], "replayed": False,
            "rejection": Rejection.of("command_id_conflict").model_dump(mode="json"),
            "sender": c.sender_of(command), "fingerprint": c.fingerprint(command)}


def is_conflict(outcome: dict[str, Any]) -> bool:
    return (outcome.get("rejection") or {}).get("code") == "command_id_conflict"


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
    from kafka import TopicPartition
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


class DirectoryOverlay:
    """The directory as a batch sees it: the log's, plus what the batch's own events add
    (recorded in the directory only once those events are in the log)."""

    def __init__(self, base: EventDirectory, claims: KeyClaims):
        self.base, self.claims = base, claims
        self.pending: dict[str, str] = {}

    def has_bureau(self, bureau: str) -> bool:
        return f"bureau:{bureau}" in self.pending or self.base.has_bureau(bureau)

    def owner_of(self, natural_key: str) -> str | None:
        return (self.claims.winner(natural_key) or self.pending.get(f"key:{natural_key}")
                or self.base.owner_of(natural_key))

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.pending.get(f"status:{proposal_id}") or self.base.proposal_status(proposal_id)

    def observe(self, event: e.Event) -> None:
        self.pending.update(directory_entries(event))

    def commit(self) -> None:
        self.base.record(self.pending)
