"""The event store port's contract, one suite run against every adapter (the pattern of
pyeventsourcing's recorder test cases): in memory (the reference's), the embedded SQLite store,
and the Kafka log of the partitions a worker owns, on the real broker. Each test goes through
the port, the one repository (banli.eventlog.repository) and the one handling loop
(banli.handling) that every mode runs."""
from __future__ import annotations

import json
import random
import sqlite3
import threading
import uuid
import warnings
from contextlib import nullcontext
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from banli.domain import commands as c
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.decide import decide
from banli.domain.envelope import EVENT_ID_NAMESPACE
from banli.domain.proposal import Context, fold
from banli.domain.registry import parse_command
from banli.eventlog import CommandRecord, ConcurrencyError
from banli.eventlog.kafka import Topics, ensure_topics
from banli.eventlog.memory import MemoryEventStore
from banli.eventlog.repository import Repository
from banli.eventlog.sqlite import SqliteEventStore
from banli.handling import Handling

NOW = datetime(2021, 3, 1, 2, 0, tzinfo=timezone.utc)
P = "2021-cppcc_proposal-00001"
IMPORTER = {"user": "importer", "role": "importer"}
CLERK = {"user": "ipa-clerk", "bureau": "sh-ipa", "role": "clerk"}
MALLORY = {"user": "mallory", "bureau": "sh-ipa", "role": "clerk"}


def command(n: int, type_: str, actor: dict[str, Any] = IMPORTER, **fields: Any) -> c.Command:
    """The n-th command of a history, a day after the one before it."""
    return parse_command({"type": type_, "command_id": f"c-{n}", "actor": actor,
                          "at": (NOW - timedelta(days=30 - n)).isoformat(), **fields})


def contact(n: int, actor: dict[str, Any] = CLERK, command_id: str | None = None) -> c.Command:
    return parse_command({"type": "log_contact", "proposal": P, "bureau": "sh-ipa",
                          "stage": "during", "method": "phone", "note": f"第{n}次",
                          "command_id": command_id or f"contact-{n}", "actor": actor,
                          "at": (NOW - timedelta(days=5)).isoformat()})


BUREAU = command(1, "register_bureau", bureau="sh-ipa", name="知识产权局")
SUBMIT = command(2, "submit", kind="cppcc_proposal", year=2021, number="00001", title="一号")
ASSIGN = command(3, "assign", proposal=P, lead=["sh-ipa"])
REPLY = command(4, "reply", proposal=P, bureau="sh-ipa", result="solved")
HISTORY = [BUREAU, SUBMIT, ASSIGN, REPLY]


class MemoryHarness:
    """One store in memory: every `open` is another repository over it."""

    guard = None  # writers may run at once (a batch holds the store's lock)

    def __init__(self, tmp_path: Any, _broker: Any):
        self.store = MemoryEventStore()

    def open(self, pending: frozenset[tuple[str, str]] = frozenset()) -> tuple[Any, Any]:
        return self.store, self.store

    def writer(self, store: Any, directory: Any) -> tuple[Any, Any]:
        """What another writer of the store opened uses: the same store."""
        return store, directory

    def close(self) -> None:
        pass


class SqliteHarness:
    """One SQLite file: every `open` is the store as a process starting now finds it."""

    guard = None  # writers may run at once (a batch holds SQLite's write lock)

    def __init__(self, tmp_path: Any, _broker: Any):
        self.path = tmp_path / "events.sqlite3"

    def open(self, pending: frozenset[tuple[str, str]] = frozenset()) -> tuple[Any, Any]:
        store = SqliteEventStore(self.path)
        return store, store

    def writer(self, store: Any, directory: Any) -> tuple[Any, Any]:
        """Another writer: another process's store on the same file."""
        return self.open()

    def close(self) -> None:
        pass


class KafkaHarness:
    """A worker owning every partition of fresh topics on the session's broker; each `open` is
    a worker taking them over on a machine of its own (a local cache of its own), from the
    beginning of the log (or from `watermarks`, where the snapshots end)."""

    # A worker's log is one loop's: its writers take turns, a batch at a time (the consumer
    # group gives each partition one owner).
    guard = threading.Lock()

    def __init__(self, tmp_path: Any, broker: Any):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaProducer
        self.tmp_path = tmp_path
        self.bootstrap = broker.bootstrap
        self.topics = Topics(f"contract-{uuid.uuid4().hex[:8]}.")
        ensure_topics(self.bootstrap, 2, self.topics)
        self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        self.opened: list[Any] = []

    def open(self, pending: frozenset[tuple[str, str]] = frozenset(),
             watermarks: dict[int, int] | None = None, **options: Any) -> tuple[Any, Any]:
        from banli.eventlog.kafka_cache import Follower, LocalCache
        from banli.eventlog.kafka_log import KafkaDirectory, KafkaLog

        cache = LocalCache(self.tmp_path / f"cache-{len(self.opened)}.sqlite3")
        follower = Follower(self.bootstrap, self.topics, cache, watermarks)
        assert follower.catch_up(timeout=60)
        log = KafkaLog(self.bootstrap, self.topics, 2, self.producer, follower, cache, **options)
        self.opened.append((log, follower))
        for number in (0, 1):
            log.load_partition(number, set(pending), (watermarks or {}).get(number, 0))
        return log, KafkaDirectory(cache, follower, self.producer, self.topics)

    def writer(self, store: Any, directory: Any) -> tuple[Any, Any]:
        """Another writer: the same worker's log (a second worker on the same partitions is
        what the consumer group rules out)."""
        return store, directory

    def close(self) -> None:
        for log, follower in self.opened:
            log.close()
            follower.close()
        self.producer.close(timeout=10)


HARNESSES = {"memory": MemoryHarness, "sqlite": SqliteHarness, "kafka": KafkaHarness}


@pytest.fixture(params=["memory", "sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
def harness(request: Any, tmp_path: Any) -> Any:
    broker = request.getfixturevalue("kafka_broker") if request.param == "kafka" else None
    made = HARNESSES[request.param](tmp_path, broker)
    yield made
    made.close()


def loop(store: Any, directory: Any) -> Handling:
    return Handling(Repository(store), directory, DEFAULT_PROFILE, clock=lambda: NOW)


def test_appends_at_the_expected_version_are_read_back(harness):
    store, directory = harness.open()
    handling = loop(store, directory)
    outcomes = handling.handle_batch(HISTORY)
    assert [o.accepted for o in outcomes] == [True] * 4
    events = [s.event for o in outcomes[1:] for s in o.events]
    assert [ev.seq for ev in events] == [1, 2, 3]
    assert handling.repository.state(P) == fold(events) and fold(events).version == 3
    assert store.load(P) == events and store.load(P, after_seq=2) == events[2:]
    positions = [s.position for o in outcomes for s in o.events]
    assert positions == sorted(positions) or len({p >> 40 for p in positions}) > 1
    read = [s for s in store.read() if s.event.proposal_id == P]
    assert [s.event for s in read] == events
    later = store.read(read[1].position)
    assert [s.event for s in later if s.event.proposal_id == P] == events[2:]
    importer = c.sender_of(REPLY)
    recorded = store.outcome(importer, "c-4", P)
    assert recorded is not None and [s.event for s in recorded.events] == events[2:]
    assert recorded.sender == importer == "importer:importer@"
    assert store.outcome(importer, "never-sent", P) is None
    assert store.outcome("clerk:someone@sh-ipa", "c-4", P) is None  # not that sender's
    again, _ = harness.open()  # the record, read back by another process
    recorded = again.outcome(importer, "c-4", P)
    assert recorded is not None and [s.event for s in recorded.events] == events[2:]
    assert Repository(again).state(P) == fold(events)


def test_an_append_at_another_version_is_refused(harness):
    store, directory = harness.open()
    loop(store, directory).handle_batch(HISTORY[:3])
    repository = Repository(store)
    assert repository.state(P).version == 2
    assign = command(5, "assign", proposal=P, lead=["sh-ipa"])
    behind = fold(store.load(P)[:1])  # the state before the assignment
    late = decide(behind, assign, Context(recorded_at=NOW, directory=directory))
    assert [ev.seq for ev in late] == [2]
    with (harness.guard or nullcontext()), repository.batch([assign]):
        with pytest.raises(ConcurrencyError):  # caught in the batch, as the loop does
            repository.append(CommandRecord.of(assign), behind.version, late)
    assert Repository(harness.open()[0]).state(P).version == 2
    assert [ev.type for ev in store.load(P)] == ["ProposalSubmitted", "ProposalAssigned"]


def test_a_refusal_is_kept_and_an_id_is_its_senders_only(harness):
    """The same sender sending the same again gets its first answer; the same sender sending
    something else under it is refused `command_id_conflict`; another sender's command under
    the same id is another command, decided on its own, with events of its own."""
    store, directory = harness.open()
    handling = loop(store, directory)
    handling.handle_batch(HISTORY)
    [refused] = handling.handle_batch([command(9, "reply", proposal=P, bureau="sh-ipa",
                                               result="planned")])
    assert refused.rejection.code == "already_replied"
    again = handling.handle(command(9, "reply", proposal=P, bureau="sh-ipa", result="planned"))
    assert again.replayed and again.rejection.code == "already_replied"
    other = handling.handle(command(9, "reply", proposal=P, bureau="sh-ipa", result="solved"))
    assert other.rejection.code == "command_id_conflict" and not other.replayed
    # a clerk's contact under the importer's used ids: its own commands, decided on their own
    for used in ("c-4", "c-9"):
        theirs = handling.handle(contact(1, MALLORY, command_id=used))
        assert theirs.accepted and not theirs.replayed
        assert [s.event.type for s in theirs.events] == ["ContactLogged"]
        assert theirs.events[0].event.command_id == used
    same = handling.handle(REPLY)  # the importer's own still answers with its first events
    assert same.replayed and [s.event.type for s in same.events] == ["ReplyIssued"]
    ids = [ev.event_id for ev in store.load(P)]
    assert len(ids) == len(set(ids)) == 5
    assert [ev.type for ev in store.load(P)][-2:] == ["ContactLogged", "ContactLogged"]
    mallory = c.sender_of(contact(1, MALLORY))
    assert store.outcome(mallory, "c-4", P).events[0].event.type == "ContactLogged"
    assert store.outcome(c.sender_of(REPLY), "c-4", P).events[0].event.type == "ReplyIssued"


def test_a_refused_command_claims_only_its_own_senders_id(harness):
    """Squatting: a command sent first under an id another sender will use, and refused, does
    not keep that sender's command from being decided, nor hides its answer."""
    store, directory = harness.open()
    handling = loop(store, directory)
    handling.handle_batch(HISTORY[:3])
    squatting = contact(2, {**MALLORY, "bureau": "sh-fin"}, command_id="c-ack")
    squat = handling.handle(squatting)  # another bureau's clerk: refused
    assert squat.rejection is not None and squat.rejection.code != "command_id_conflict"
    ack = parse_command({"type": "acknowledge", "proposal": P, "bureau": "sh-ipa",
                         "command_id": "c-ack", "actor": CLERK,
                         "at": (NOW - timedelta(days=6)).isoformat()})
    [answer] = handling.handle_batch([ack])
    assert answer.accepted and [s.event.type for s in answer.events] == ["AssignmentAcknowledged"]
    found = store.outcome(c.sender_of(ack), "c-ack", P)
    assert found is not None and found.events == answer.events
    assert store.outcome(c.sender_of(squatting), "c-ack", P).rejection == squat.rejection
    assert handling.repository.prior(squatting).replayed  # its own answer, as it was


def test_a_command_sent_again_before_its_batch_is_durable_is_decided_once(harness):
    """Within one batch, and in the next batch decided while the first is on its way (the
    Kafka worker's pipeline): one decision, the same answer for each copy."""
    store, directory = harness.open()
    handling = loop(store, directory)
    handling.handle_batch(HISTORY[:2])
    first = handling.start_batch([ASSIGN, ASSIGN])
    second = handling.start_batch([ASSIGN])
    [once, twice], [thrice] = first.outcomes(), second.outcomes()
    assert once.accepted and not once.replayed
    assert twice.replayed and thrice.replayed and once.events == twice.events == thrice.events
    assert [ev.type for ev in store.load(P)] == ["ProposalSubmitted", "ProposalAssigned"]


def test_a_batch_cut_short_is_finished_exactly_once(harness):
    store, directory = harness.open()
    handling = loop(store, directory)
    handling.handle_batch(HISTORY[:3])

    class Crash(Exception):
        pass

    approve = [command(5, "draft_reply", proposal=P, bureau="sh-ipa", result="planned"),
               command(6, "approve_reply", proposal=P, bureau="sh-ipa", signed_by="局长")]
    original = store.batch

    def failing_batch(keys=()):
        manager = original(keys)

        class Failing:
            def __enter__(self):
                return manager.__enter__()

            def __exit__(self, *exc):
                try:
                    raise Crash
                except Crash as crash:
                    manager.__exit__(Crash, crash, crash.__traceback__)
                    raise

        return Failing()

    store.batch = failing_batch
    with pytest.raises(Crash):
        handling.handle_batch(approve)
    store.batch = original
    keys = frozenset((c.sender_of(cmd), cmd.command_id) for cmd in approve)
    store, directory = harness.open(pending=keys)  # a worker taking over
    handling = loop(store, directory)
    outcomes = handling.handle_batch(approve)
    assert [o.accepted for o in outcomes] == [True, True]
    events = store.load(P)
    assert [ev.type for ev in events] == ["ProposalSubmitted", "ProposalAssigned",
                                          "ReplyDrafted", "ReplyApproved", "ReplyIssued"]
    assert [ev.seq for ev in events] == [1, 2, 3, 4, 5]
    assert handling.repository.state(P) == fold(events)


def test_a_natural_key_is_one_proposals(harness):
    store, directory = harness.open()
    handling = loop(store, directory)
    handling.handle_batch(HISTORY[:2])
    other_id = parse_command({**json.loads(SUBMIT.model_dump_json()), "command_id": "c-20",
                              "proposal": "my-own-id"})
    [refused] = handling.handle_batch([other_id])
    assert refused.rejection.code == "duplicate_number"
    [same_id] = handling.handle_batch([parse_command({**json.loads(SUBMIT.model_dump_json()),
                                                      "command_id": "c-21"})])
    assert same_id.rejection.code == "duplicate_proposal"


def test_the_directory_follows_the_events(harness):
    """What decisions read beyond their stream, as every adapter keeps it from the events
    (banli.domain.directory's one mapping): bureaus registered and their names, the filer
    registry (a filer's name, the filers under a name and affiliation, an account's filer), a
    natural key's proposal, a proposal's status (open, withdrawn, not filed: a merge into it is
    refused); read again by a process starting now."""
    store, directory = harness.open()
    handling = loop(store, directory)
    other = command(7, "submit", kind="cppcc_proposal", year=2021, number="00002", title="二号")
    named = command(10, "register_bureau", bureau="sh-fin", name="财政局", name_en="Finance")
    filers = [command(11, "register_filer", filer="d-zhang", name="张伟", affiliation="经济界",
                      term="十四届", account="zhangwei"),
              command(12, "register_filer", filer="d-zhang-2", name="张伟", affiliation="经济界")]
    # received for the office's review and not filed (不立案): closed, as a withdrawal is
    declined = command(13, "submit", kind="cppcc_proposal", year=2021, number="00003",
                       title="三号", review=True)
    outcomes = handling.handle_batch([*HISTORY[:3], other,
                                      command(8, "withdraw", proposal=other.stream, reason="撤"),
                                      named, *filers, declined,
                                      command(14, "decline_filing", proposal=declined.stream,
                                              referred_to=["有关单位"], reason="不立案")])
    assert all(o.accepted for o in outcomes), outcomes
    [into_declined] = handling.handle_batch([command(15, "merge", proposal=P,
                                                     into=declined.stream)])
    assert into_declined.rejection.code == "merge_target"
    [merger] = handling.handle_batch([command(16, "merge_bureau", bureau="sh-fin",
                                              into="sh-ipa")])
    assert merger.accepted, merger
    for found in (harness.open()[1], directory):  # a process starting now, and this one
        assert found.has_bureau("sh-ipa") and not found.has_bureau("sh-tax")
        assert found.bureau_name("sh-ipa") == ("知识产权局", "")
        assert found.bureau_name("sh-fin") == ("财政局", "Finance")
        assert found.bureau_name("sh-tax") is None
        assert found.filer_name("d-zhang") == "张伟" and found.filer_name("d-li") is None
        assert found.filers_named("张伟", "经济界") == ["d-zhang", "d-zhang-2"]
        assert found.filers_named("张伟", "科技界") == []
        assert found.filer_of_account("zhangwei") == "d-zhang"
        assert found.filer_of_account("nobody") is None
        assert found.owner_of(SUBMIT.natural_key) == P
        assert found.owner_of(other.natural_key) == other.stream
        assert found.owner_of("municipal/cppcc_proposal/2021/99999") is None
        assert found.proposal_status(P) == "open"
        assert found.proposal_status(other.stream) == "withdrawn"
        assert found.proposal_status(declined.stream) == "not_filed"
        assert found.proposal_status("never-submitted") is None
        assert found.merged_into("sh-fin") == ("sh-ipa", command(16, "merge_bureau",
                                                                  bureau="sh-fin",
                                                                  into="sh-ipa").at)
        assert found.merged_into("sh-ipa") is None


def test_a_writer_behind_another_decides_again(harness):
    """Two writers on one stream: the second decides on the state it read before the first
    appended. Its append at that version is refused; through the loop it decides again and
    lands after the first, nothing lost, nothing twice."""
    store, directory = harness.open()
    first = loop(store, directory)
    first.handle_batch(HISTORY[:3])
    second = loop(*harness.writer(store, directory))  # a repository of its own
    stale = second.repository.state(P)
    [ours] = first.handle_batch([contact(1)])
    assert ours.accepted and ours.events[0].event.seq == stale.version + 1
    theirs = contact(2)
    late = decide(stale, theirs, Context(recorded_at=NOW, directory=second.directory))
    with (harness.guard or nullcontext()), second.repository.batch([theirs]):
        with pytest.raises(ConcurrencyError):  # the append at the version it read: refused
            second.repository.append(CommandRecord.of(theirs), stale.version, late)
    [answer] = second.handle_batch([theirs])
    assert answer.accepted and answer.events[0].event.seq == stale.version + 2
    events = store.load(P)
    assert [ev.seq for ev in events] == [1, 2, 3, 4]
    assert [ev.command_id for ev in events[2:]] == ["contact-1", "contact-2"]
    assert second.repository.state(P) == Repository(store).state(P) == fold(events)


def test_writers_racing_on_one_stream_lose_nothing_and_double_nothing(harness):
    """Two writers, each in a thread of its own with a repository of its own, send contacts
    on one proposal at once, some the same command (same sender, same id) in a different
    order: each command is decided once, every answer is its decision, and the stream holds
    each command's event once, in seq order."""
    store, directory = harness.open()
    loop(store, directory).handle_batch(HISTORY[:3])
    shared = [contact(n) for n in range(10)]
    own = {w: [contact(n, command_id=f"w{w}-{n}") for n in range(10, 20)] for w in (0, 1)}
    answers: dict[int, list[Any]] = {}
    errors: list[BaseException] = []

    def write(w: int) -> None:
        try:
            handling = loop(*harness.writer(store, directory))
            sent = shared + own[w]
            random.Random(w).shuffle(sent)
            answers[w] = []
            for start in range(0, len(sent), 3):
                chunk = sent[start:start + 3]
                with harness.guard or nullcontext():
                    outcomes = handling.handle_batch(chunk)
                answers[w] += list(zip(chunk, outcomes))
        except BaseException as exc:  # noqa: BLE001  # reported below
            errors.append(exc)

    writers = [threading.Thread(target=write, args=(w,)) for w in (0, 1)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    assert not errors, errors
    events = store.load(P)
    assert [ev.seq for ev in events] == list(range(1, len(events) + 1))
    contacts = [ev for ev in events if ev.type == "ContactLogged"]
    assert sorted(ev.command_id for ev in contacts) == sorted(
        [cmd.command_id for cmd in shared] + [cmd.command_id for w in own for cmd in own[w]])
    assert len({ev.event_id for ev in events}) == len(events)
    by_id = {ev.command_id: ev for ev in contacts}
    for w in (0, 1):
        for cmd, outcome in answers[w]:
            assert outcome.accepted, outcome.rejection
            assert [s.event for s in outcome.events] == [by_id[cmd.command_id]]
    firsts = [o for w in (0, 1) for cmd, o in answers[w]
              if cmd.command_id.startswith("contact-") and not o.replayed]
    assert len(firsts) == len(shared)  # each shared command decided once, replayed once
    assert Repository(harness.open()[0]).state(P) == fold(events)


def test_the_log_is_read_in_pages(harness):
    """`read(after, limit)`: pages of at most `limit` events, each after the last position of
    the one before, together the whole log once, in log order."""
    store, directory = harness.open()
    handling = loop(store, directory)
    submits = [command(0, "submit", kind="cppcc_proposal", year=2021, number=f"{n:05d}",
                       title=f"第{n}号") for n in range(2, 90)]
    submits = [parse_command({**json.loads(s.model_dump_json()), "command_id": f"s-{n}"})
               for n, s in enumerate(submits)]
    outcomes = handling.handle_batch([BUREAU, *submits])
    assert all(o.accepted for o in outcomes)
    whole = store.read()
    assert len(whole) == len(outcomes)
    for limit in (1, 7, 50, 1000):
        pages, after = [], -1
        while page := store.read(after, limit):
            assert len(page) <= limit
            pages.append(page)
            after = page[-1].position
        read = [s for page in pages for s in page]
        assert [s.position for s in read] == [s.position for s in whole]
        assert [s.event for s in read] == [s.event for s in whole]
        assert len(pages) == -(-len(whole) // limit)
    positions = [s.position for s in whole]
    assert positions == sorted(set(positions))
    assert store.read(positions[-1]) == []
    assert [s.position for s in store.read(positions[40], 5)] == positions[41:46]


# --- adapters' own cases ------------------------------------------------------------------------
@pytest.mark.kafka
def test_an_undecodable_event_stops_its_partition_with_a_dead_letter(kafka_broker, tmp_path):
    """Never skipped while deciding: the partition stops (its commands wait), the reason is on
    the dead letters, and the other partitions go on."""
    from banli.eventlog.kafka_log import partition_for
    from tests.e2e.test_distributed import read_topic

    harness = KafkaHarness(tmp_path, kafka_broker)
    try:
        log, directory = harness.open()
        loop(log, directory).handle_batch(HISTORY)
        poisoned = partition_for(P, 2)
        harness.producer.send(harness.topics.events, key=P.encode(), value=b'{"type": "Nonsense"}',
                              partition=poisoned).get(timeout=30)
        log, _ = harness.open()  # a worker taking the partitions over
        assert log.partitions[poisoned].stopped and "undecodable" in log.partitions[poisoned].stopped
        assert not log.partitions[1 - poisoned].stopped
        dead = [json.loads(r.value) for r in read_topic(kafka_broker.bootstrap,
                                                        harness.topics.dlq)]
        assert any(d["partition"] == poisoned and "stopped" in d["reason"] for d in dead)
    finally:
        harness.close()


# The `commands` table as stores written before command ids were scoped to their sender have it
# (main at 9f4d12d; and, older still, without `sender` and `fingerprint`).
UNSCOPED = """CREATE TABLE commands (
    command_id  TEXT PRIMARY KEY,
    stream      TEXT NOT NULL,
    accepted    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,
    sender      TEXT,
    fingerprint TEXT
)"""
UNSCOPED_OLDEST = """CREATE TABLE commands (
    command_id  TEXT PRIMARY KEY,
    stream      TEXT NOT NULL,
    accepted    INTEGER NOT NULL,
    outcome     TEXT NOT NULL
)"""


@pytest.mark.parametrize("table", [UNSCOPED, UNSCOPED_OLDEST])
def test_a_store_written_before_ids_were_scoped_keeps_working(tmp_path, table):
    """A store as the code before this change wrote it: its events under the ids of then (from
    the command id and index alone), its commands keyed by id alone, some without their sender.
    Opened now, it is migrated once: each record keyed by its sender (from its events where it
    was not kept), its events as they were; the same sender's command sent again is answered
    from its record, another sender's under the same id is decided on its own, and the stream
    goes on from where it was."""
    path = tmp_path / "events.sqlite3"
    made = loop(memory := MemoryEventStore(), memory)
    outcomes = made.handle_batch(HISTORY + [command(9, "reply", proposal=P, bureau="sh-ipa",
                                                    result="planned")])
    assert outcomes[-1].rejection is not None
    db = sqlite3.connect(path)
    db.executescript(_tables_but_commands())
    db.execute(table)
    db.execute("INSERT INTO bureaus VALUES ('sh-ipa', '知识产权局', '')")
    db.execute("INSERT INTO proposal_keys VALUES (?, ?)", (SUBMIT.natural_key, P))
    db.execute("INSERT INTO proposal_status VALUES (?, 'open')", (P,))
    for cmd, outcome in zip(HISTORY, outcomes):
        old_ids = []
        for index, stored in enumerate(outcome.events):
            event = stored.event
            old = str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{cmd.command_id}/{index}"))
            old_ids.append(old)
            db.execute("INSERT INTO events (stream, seq, event_id, type, command_id, occurred_at,"
                       " recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                       (event.proposal_id, event.seq, old, event.type, event.command_id,
                        event.occurred_at.isoformat(), event.recorded_at.isoformat(),
                        event.model_copy(update={"event_id": old}).model_dump_json()))
        row = [cmd.command_id, cmd.stream, 1, json.dumps(old_ids)]
        if "sender" in table:
            kept = cmd is not ASSIGN  # ASSIGN's recorded before senders were kept
            row += [c.sender_of(cmd) if kept else None, c.fingerprint(cmd) if kept else None]
        db.execute(f"INSERT INTO commands VALUES ({','.join('?' * len(row))})", row)
    row = ["c-9", P, 0, outcomes[-1].rejection.model_dump_json()]
    row += [None, None] if "sender" in table else []  # a refusal without its sender
    db.execute(f"INSERT INTO commands VALUES ({','.join('?' * len(row))})", row)
    db.commit()
    db.close()

    store = SqliteEventStore(path)  # migrated as it opens
    columns = [row[1] for row in store.db.execute("PRAGMA table_info(commands)")]
    assert set(columns) == {"sender", "command_id", "stream", "accepted", "outcome",
                            "fingerprint"}
    importer = c.sender_of(ASSIGN)
    assert {row[0] for row in store.db.execute("SELECT sender FROM commands")} == {importer, ""}
    handling = loop(store, store)
    replayed = handling.handle_batch(HISTORY)
    assert all(o.replayed for o in replayed)
    assert [s.event.event_id for s in replayed[2].events] == [
        str(uuid.uuid5(EVENT_ID_NAMESPACE, "c-3/0"))]  # its event as it was stored
    assert SqliteEventStore(path).outcome(importer, "c-3", P) is not None  # opened again: as is
    # the refusal without its sender: its id answers nobody, and is decided again
    [again] = handling.handle_batch([command(9, "reply", proposal=P, bureau="sh-ipa",
                                             result="planned")])
    assert again.rejection.code == "already_replied" and not again.replayed
    # another sender under an old id: its own command; the stream goes on
    [theirs] = handling.handle_batch([contact(1, MALLORY, command_id="c-3")])
    assert theirs.accepted and theirs.events[0].event.seq == 4
    assert [ev.event_id for ev in store.load(P)][:3] == [
        str(uuid.uuid5(EVENT_ID_NAMESPACE, f"c-{n}/0")) for n in (2, 3, 4)]
    assert Repository(store).state(P) == fold(store.load(P))


def _tables_but_commands() -> str:
    """The store's other tables, as they were then (they have not changed)."""
    from banli.eventlog.sqlite import SCHEMA

    return (SCHEMA[:SCHEMA.index("CREATE TABLE IF NOT EXISTS commands")]
            + SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS bureaus"):])
