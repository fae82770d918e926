"""The event log port's contract, one suite run against both adapters (the pattern of
pyeventsourcing's recorder test cases): the embedded SQLite store and the Kafka log of the
partitions a worker owns, on the real broker. Each test goes through the port and the one
handling loop (banli.handling) that both modes run."""
from __future__ import annotations

import json
import uuid
import warnings
from datetime import datetime, timedelta, timezone

import pytest

from banli.domain.deadlines import DEFAULT_PROFILE
from banli.domain.decide import decide
from banli.domain.proposal import Context, fold
from banli.domain.registry import parse_command
from banli.eventlog import ConcurrencyError
from banli.eventlog.kafka import Topics, ensure_topics
from banli.eventlog.sqlite import SqliteEventStore
from banli.handling import Handling

NOW = datetime(2021, 3, 1, 2, 0, tzinfo=timezone.utc)
P = "2021-cppcc_proposal-00001"
IMPORTER = {"user": "importer", "role": "importer"}


def command(n: int, type_: str, **fields):
    """The n-th command of a history, a day after the one before it."""
    return parse_command({"type": type_, "command_id": f"c-{n}", "actor": IMPORTER,
                          "at": (NOW - timedelta(days=30 - n)).isoformat(), **fields})


BUREAU = command(1, "register_bureau", bureau="sh-ipa", name="知识产权局")
SUBMIT = command(2, "submit", kind="cppcc_proposal", year=2021, number="00001", title="一号")
ASSIGN = command(3, "assign", proposal=P, lead=["sh-ipa"])
REPLY = command(4, "reply", proposal=P, bureau="sh-ipa", result="solved")
HISTORY = [BUREAU, SUBMIT, ASSIGN, REPLY]


class SqliteHarness:
    def __init__(self, tmp_path, _broker):
        self.path = tmp_path / "events.sqlite3"

    def open(self, pending: set[str] = frozenset()):  # noqa: B006
        """The log as a process starting now finds it."""
        log = SqliteEventStore(self.path)
        return log, log

    def close(self) -> None:
        pass


class KafkaHarness:
    """A worker owning every partition of fresh topics on the session's broker; each `open` is
    a worker taking them over on a machine of its own (a local cache of its own), from the
    beginning of the log (or from `watermarks`, where the snapshots end)."""

    def __init__(self, tmp_path, broker):
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            from kafka import KafkaProducer
        self.tmp_path = tmp_path
        self.bootstrap = broker.bootstrap
        self.topics = Topics(f"contract-{uuid.uuid4().hex[:8]}.")
        ensure_topics(self.bootstrap, 2, self.topics)
        self.producer = KafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        self.opened: list = []

    def open(self, pending: set[str] = frozenset(), watermarks: dict[int, int] | None = None,
             **options):  # noqa: B006
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

    def close(self) -> None:
        for log, follower in self.opened:
            log.close()
            follower.close()
        self.producer.close(timeout=10)


@pytest.fixture(params=["sqlite", pytest.param("kafka", marks=pytest.mark.kafka)])
def harness(request, tmp_path):
    broker = request.getfixturevalue("kafka_broker") if request.param == "kafka" else None
    made = (SqliteHarness if request.param == "sqlite" else KafkaHarness)(tmp_path, broker)
    yield made
    made.close()


def loop(log, directory) -> Handling:
    return Handling(log, directory, DEFAULT_PROFILE, clock=lambda: NOW)


def test_appends_at_the_expected_version_are_read_back(harness):
    log, directory = harness.open()
    outcomes = loop(log, directory).handle_batch(HISTORY)
    assert [o.accepted for o in outcomes] == [True] * 4
    events = [s.event for o in outcomes[1:] for s in o.events]
    assert [ev.seq for ev in events] == [1, 2, 3]
    assert log.state(P) == fold(events) and log.state(P).version == 3
    assert log.load(P) == events and log.load(P, after_seq=2) == events[2:]
    positions = [s.position for o in outcomes for s in o.events]
    assert positions == sorted(positions) or len({p >> 40 for p in positions}) > 1
    read = [s for s in log.read() if s.event.proposal_id == P]
    assert [s.event for s in read] == events
    later = log.read(read[1].position)
    assert [s.event for s in later if s.event.proposal_id == P] == events[2:]
    recorded = log.outcome("c-4", P)
    assert recorded is not None and [s.event for s in recorded.events] == events[2:]
    assert recorded.sender == "importer:importer@"
    assert log.outcome("never-sent", P) is None
    again, _ = harness.open()  # the record, read back by another process
    recorded = again.outcome("c-4", P)
    assert recorded is not None and [s.event for s in recorded.events] == events[2:]
    assert recorded.sender == "importer:importer@"


def test_an_append_at_another_version_is_refused(harness):
    log, directory = harness.open()
    loop(log, directory).handle_batch(HISTORY[:3])
    state = log.state(P)
    late = decide(state, command(5, "acknowledge", proposal=P, bureau="sh-ipa"),
                  Context(recorded_at=NOW, directory=directory))
    with pytest.raises(ConcurrencyError):
        with log.batch():
            log.append(command(5, "acknowledge", proposal=P, bureau="sh-ipa"),
                       state.version - 1, late)
    assert harness.open()[0].state(P).version == 2


def test_a_refusal_is_kept_and_a_used_id_is_its_senders_only(harness):
    log, directory = harness.open()
    handling = loop(log, directory)
    handling.handle_batch(HISTORY)
    [refused] = handling.handle_batch([command(9, "reply", proposal=P, bureau="sh-ipa",
                                               result="planned")])
    assert refused.rejection.code == "already_replied"
    again = handling.handle(command(9, "reply", proposal=P, bureau="sh-ipa", result="planned"))
    assert again.replayed and again.rejection.code == "already_replied"
    clerk = parse_command({**json.loads(REPLY.model_dump_json()), "actor": {
        "user": "mallory", "bureau": "sh-ipa", "role": "clerk"}})
    stolen = handling.handle(clerk)
    assert stolen.rejection.code == "command_id_conflict" and stolen.events == []
    same = handling.handle(REPLY)
    assert same.replayed and [s.event.type for s in same.events] == ["ReplyIssued"]


def test_a_command_sent_again_before_its_batch_is_durable_is_decided_once(harness):
    """Within one batch, and in the next batch decided while the first is on its way (the
    Kafka worker's pipeline): one decision, the same answer for each copy."""
    log, directory = harness.open()
    handling = loop(log, directory)
    handling.handle_batch(HISTORY[:2])
    first = handling.start_batch([ASSIGN, ASSIGN])
    second = handling.start_batch([ASSIGN])
    [once, twice], [thrice] = first.outcomes(), second.outcomes()
    assert once.accepted and not once.replayed
    assert twice.replayed and thrice.replayed and once.events == twice.events == thrice.events
    assert [ev.type for ev in log.load(P)] == ["ProposalSubmitted", "ProposalAssigned"]


def test_a_batch_cut_short_is_finished_exactly_once(harness):
    log, directory = harness.open()
    handling = loop(log, directory)
    handling.handle_batch(HISTORY[:3])

    class Crash(Exception):
        pass

    approve = [command(5, "draft_reply", proposal=P, bureau="sh-ipa", result="planned"),
               command(6, "approve_reply", proposal=P, bureau="sh-ipa", signed_by="局长")]
    original = log.batch

    def failing_batch(ids=()):
        manager = original(ids)

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

    log.batch = failing_batch
    with pytest.raises(Crash):
        handling.handle_batch(approve)
    log, directory = harness.open(pending={"c-5", "c-6"})  # a worker taking over
    outcomes = loop(log, directory).handle_batch(approve)
    assert [o.accepted for o in outcomes] == [True, True]
    events = [ev for ev in log.load(P)]
    assert [ev.type for ev in events] == ["ProposalSubmitted", "ProposalAssigned",
                                          "ReplyDrafted", "ReplyApproved", "ReplyIssued"]
    assert [ev.seq for ev in events] == [1, 2, 3, 4, 5]
    assert log.state(P) == fold(events)


def test_a_natural_key_is_one_proposals(harness):
    log, directory = harness.open()
    handling = loop(log, directory)
    handling.handle_batch(HISTORY[:2])
    other_id = parse_command({**json.loads(SUBMIT.model_dump_json()), "command_id": "c-20",
                              "proposal": "my-own-id"})
    [refused] = handling.handle_batch([other_id])
    assert refused.rejection.code == "duplicate_number"
    [same_id] = handling.handle_batch([parse_command({**json.loads(SUBMIT.model_dump_json()),
                                                      "command_id": "c-21"})])
    assert same_id.rejection.code == "duplicate_proposal"


def test_the_filer_registry_is_the_directorys(harness):
    """A registered filer is in the directory the decisions read, in every mode: by id, by
    name and affiliation (a submit links its filers by them), by account (one filer's); a
    worker starting afresh reads it from the log (its snapshots or its events)."""
    log, directory = harness.open()
    handling = loop(log, directory)
    registered = handling.handle_batch([
        command(10, "register_filer", filer="d-zhang", name="张伟", affiliation="经济界别",
                account="zhangwei"),
        command(11, "register_filer", filer="d-zhang-2", name="张伟", affiliation="科技界别"),
        command(12, "register_filer", filer="d-li", name="李娜", affiliation="经济界别",
                account="zhangwei")])
    assert [o.rejection.code if o.rejection else None for o in registered] == [
        None, None, "account_taken"]
    handling.handle_batch([BUREAU, parse_command({
        **json.loads(SUBMIT.model_dump_json()), "affiliation": "经济界别",
        "filers": [{"name": "张伟"}, {"name": "李娜"}]})])
    assert log.state(P).filer_ids == ("d-zhang", None)  # 李娜 was refused: not registered
    for reader in (directory, harness.open()[1]):  # this worker, and one starting afresh
        assert reader.filer_name("d-zhang") == "张伟" and reader.filer_name("d-li") is None
        assert reader.filers_named("张伟", "经济界别") == ["d-zhang"]
        assert reader.filers_named("张伟", "") == [] and reader.filers_named("李娜", "经济界别") == []
        assert reader.filer_of_account("zhangwei") == "d-zhang"
        assert reader.filer_of_account("nobody") is None
    [linked] = handling.handle_batch([command(13, "link_filers", proposal=P,
                                              filers=[{"id": "d-zhang-2", "name": "张伟"}])])
    assert linked.rejection.code == "not_a_filer_name"  # 张伟 is linked: no name left for it


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
