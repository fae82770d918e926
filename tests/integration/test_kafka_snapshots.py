"""Handling state that does not grow with the log, on the real broker: a worker taking
partitions over from the snapshots (banli.snapshots) and the events after them decides as one
folding every stream from offset 0; a snapshot of another format, or a corrupt one, is folded
past; a bounded cache that evicts streams and loads them again decides as one that keeps them
all. The worker's part (commit, then snapshots due, written, acked) is played here the way
services/handling/worker.py plays it."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from banli.demo.generate import generate_history, to_jsonl
from banli.domain import commands as c
from banli.domain.decide import decide
from banli.domain.directory import as_pairs, directory_entries
from banli.domain.registry import load_event
from banli.domain.proposal import Context, fold
from banli.domain.rejections import Rejection
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.eventlog.kafka_log import partition_for
from banli.eventlog.repository import Repository
from banli.eventlog.snapshots import (Logged, Snapshot, decode_snapshot, encode_snapshot,
                                      header, snapshot_format)
from banli.eventlog.sqlite import SqliteEventStore
from banli.handling import Handling
from banli.history import MemoryLedger, read_commands
from tests.integration.test_eventlog_contract import NOW, KafkaHarness, loop

pytestmark = pytest.mark.kafka


@pytest.fixture
def harness(kafka_broker, tmp_path):
    made = KafkaHarness(tmp_path, kafka_broker)
    yield made
    made.close()


def history(proposals: int, seed: int) -> list:
    """A generated history's commands, each with the id it is imported under."""
    return [cmd for _, cmd in read_commands(
        to_jsonl(line) for line in generate_history(proposals, seed=seed, years=(2019, 2020)))]


def keys(outcomes) -> set[tuple[str, str]]:
    return {(o.sender, o.command_id) for o in outcomes}


def commit(repository, outcomes) -> None:
    """What the worker does once the answers are acked: commit, then write the snapshots due
    (of the states the repository gives) and take in their acks."""
    log = repository.store
    log.committed([(o.sender, o.command_id) for o in outcomes])
    log.write_snapshots(repository.state_at, force=True)
    log.producer.flush(timeout=60)
    log.settle_snapshots()


def run(handling, commands, batch: int = 50, committed: bool = True) -> list:
    outcomes = []
    for start in range(0, len(commands), batch):
        chunk = handling.handle_batch(commands[start:start + batch])
        outcomes += chunk
        if committed:
            commit(handling.repository, chunk)
    return outcomes


def streams_of(commands) -> set[str]:
    return {cmd.stream for cmd in commands}


def folded_from_offset_0(harness) -> dict:
    """Every stream folded from all its events, read from the log's beginning (copies of an
    event left out)."""
    from tests.e2e.test_distributed import read_topic

    events: dict[str, dict[int, object]] = {}
    for record in read_topic(harness.bootstrap, harness.topics.events):
        event = load_event(record.value)
        events.setdefault(event.proposal_id, {}).setdefault(event.seq, event)
    return {stream: fold(by_seq[seq] for seq in sorted(by_seq))
            for stream, by_seq in events.items()}


def next_commands(commands) -> list:
    """Commands as they might come next: each of the history's again, a year later and under
    new ids (most are refused, some accepted; either way the state decides)."""
    return [cmd.model_copy(update={"command_id": f"next-{cmd.command_id}",
                                   "at": cmd.at + timedelta(days=365)})
            for cmd in commands if cmd.at is not None]


def decisions(state_of, directory, commands) -> list:
    made = []
    for cmd in commands:
        decision = decide(state_of(cmd.stream), cmd, Context(recorded_at=NOW, directory=directory))
        made.append(decision.code if isinstance(decision, Rejection)
                    else [ev.model_dump(mode="json") for ev in decision])
    return made


def test_a_worker_taking_over_from_snapshots_decides_as_one_folding_from_offset_0(harness):
    commands = history(60, seed=15)
    log, directory = harness.open()
    handling = loop(log, directory)
    cut = len(commands) * 2 // 3
    run(handling, commands[:cut])
    watermarks = {n: part.watermark() for n, part in log.partitions.items()}
    assert all(w > 0 for w in watermarks.values())  # the snapshots cover the first two thirds
    run(handling, commands[cut:], committed=False)  # the last third: events only

    taken, directory_taken = harness.open(watermarks=watermarks)  # from the snapshots
    states = Repository(taken)
    reference = folded_from_offset_0(harness)
    for stream in streams_of(commands):
        assert states.state(stream) == reference.get(stream), stream
    assert taken.loaded["snapshots"] > 0
    upcoming = next_commands(commands)
    made = decisions(states.state, directory_taken, upcoming)
    assert made == decisions(reference.get, directory_taken, upcoming)
    assert any(isinstance(d, list) for d in made) and any(isinstance(d, str) for d in made)


def test_a_snapshots_directory_entries_are_its_events(harness):
    """Each snapshot's header says what its stream's events set in the directory (the one
    mapping, banli.domain.directory), written over several snapshots of the stream."""
    commands = history(20, seed=22)
    log, directory = harness.open(snapshot_delay_s=0)
    run(loop(log, directory), commands, batch=7)
    reference = folded_from_offset_0(harness)
    events = {stream: log.load(stream) for stream in streams_of(commands)}
    checked = 0
    for stream, state in reference.items():
        raw = log.cache.snapshot(stream)
        assert raw is not None, stream
        version, entries = header(raw)
        assert version == state.version
        assert entries == as_pairs(entry for event in events[stream]
                                   for entry in directory_entries(event)), stream
        checked += 1
    assert checked == len(streams_of(commands))


def test_a_snapshot_of_another_format_or_a_corrupt_one_is_folded_past(harness):
    commands = history(30, seed=16)
    log, directory = harness.open()
    handling = loop(log, directory)
    run(handling, commands)
    watermarks = {n: part.watermark() for n, part in log.partitions.items()}
    proposals = sorted(s for s in streams_of(commands) if not s.startswith("bureau:"))
    old, corrupt, garbage = proposals[:3]
    version = {stream: handling.repository.state(stream).version for stream in proposals}
    for stream, value in [
            (old, json.dumps({"format": "0-old", "version": version[old],
                              "stream": old}).encode()),
            (corrupt, json.dumps({"format": snapshot_format(), "version": version[corrupt],
                                  "covers": 0, "stream": corrupt, "kind": "proposal",
                                  "commands": {}, "directory": {},
                                  "state": {"nonsense": True}}).encode()),
            (garbage, b"\x00not a snapshot")]:
        harness.producer.send(harness.topics.snapshots, key=stream.encode(), value=value,
                              partition=partition_for(stream, 2)).get(timeout=30)

    taken, _ = harness.open(watermarks=watermarks)
    states = Repository(taken)
    reference = folded_from_offset_0(harness)
    for stream in (old, corrupt, garbage):
        assert states.state(stream) == reference[stream], stream
    assert taken.loaded["folded"] == 3
    # the streams folded past their snapshots get new ones
    commit(states, [])
    again, _ = harness.open(watermarks=watermarks)
    for stream in (old, corrupt, garbage):
        assert Repository(again).state(stream) == reference[stream], stream
    assert again.loaded["folded"] == 0


def test_a_snapshot_is_never_ahead_of_the_commands_committed(harness):
    """Decided and acked but not committed: no snapshot covers it, and a worker taking over
    decides it again, appending nothing."""
    commands = history(10, seed=17)
    log, directory = harness.open()
    handling = loop(log, directory)
    run(handling, commands[:-5])
    outcomes = run(handling, commands[-5:], committed=False)
    log.write_snapshots(handling.repository.state_at, force=True)  # none of the last five's
    log.producer.flush(timeout=60)
    log.settle_snapshots()
    watermarks = {n: part.watermark() for n, part in log.partitions.items()}
    taken, directory_taken = harness.open(pending=keys(outcomes), watermarks=watermarks)
    taking = loop(taken, directory_taken)
    again = taking.handle_batch(commands[-5:])
    assert [[s.event for s in o.events] for o in again] == [
        [s.event for s in o.events] for o in outcomes]
    from tests.e2e.test_distributed import read_topic

    logged = [json.loads(r.value) for r in read_topic(harness.bootstrap, harness.topics.events)]
    assert len({(ev["proposal_id"], ev["seq"]) for ev in logged}) == len(logged)  # none twice
    reference = folded_from_offset_0(harness)
    for stream in streams_of(commands):
        assert taking.repository.state(stream) == reference.get(stream)


def test_registrations_in_the_log_but_not_committed_are_decided_again_as_they_were(harness):
    """A worker dies once its registrations' events are in the log, before it commits them. The
    next owner's directory has read those events; each registration is still answered with its
    own event, appending nothing (the bureau's stream decides, not the directory: deciding by
    the directory refused them as duplicate_bureau, two answers for one command)."""
    registrations = [cmd for cmd in history(10, seed=19) if isinstance(cmd, c.RegisterBureau)]
    log, directory = harness.open()
    outcomes = run(loop(log, directory), registrations, committed=False)
    taken, directory_taken = harness.open(pending=keys(outcomes))
    assert all(directory_taken.has_bureau(cmd.bureau) for cmd in registrations)
    again = loop(taken, directory_taken).handle_batch(registrations)
    assert [o.rejection for o in again] == [None] * len(registrations)
    assert [[s.event for s in o.events] for o in again] == [
        [s.event for s in o.events] for o in outcomes]
    from tests.e2e.test_distributed import read_topic

    logged = [json.loads(r.value) for r in read_topic(harness.bootstrap, harness.topics.events)]
    assert len(logged) == len(registrations)  # none appended twice


def test_a_bounded_cache_decides_as_one_keeping_every_stream(harness, tmp_path):
    commands = history(80, seed=18)
    log, directory = harness.open(cache_size=12, snapshot_delay_s=0)
    handling = Handling(Repository(log, cache_size=12), directory, DEFAULT_PROFILE,
                        clock=lambda: NOW)
    outcomes = run(handling, commands, batch=20)
    assert log.loaded["snapshots"] > 50  # streams left the cache and came back from snapshots
    assert len(log.kept) <= 12
    store = SqliteEventStore(tmp_path / "reference.sqlite3")  # every stream at hand
    reference = loop(store, store).handle_batch(commands)
    assert [o.rejection.code if o.rejection else [s.event for s in o.events]
            for o in outcomes] == [o.rejection.code if o.rejection else [s.event for s in o.events]
                                   for o in reference]


def test_the_commands_a_snapshot_holds_answer_a_command_sent_again(harness):
    """A worker that never saw a command decided answers it from the record its stream's
    snapshot keeps: the same events, at the same positions, nothing appended."""
    commands = history(8, seed=19)
    log, directory = harness.open()
    outcomes = run(loop(log, directory), commands)
    watermarks = {n: part.watermark() for n, part in log.partitions.items()}
    taken, directory_taken = harness.open(watermarks=watermarks)
    again = loop(taken, directory_taken).handle_batch(commands)
    accepted = [(o, a) for o, a in zip(outcomes, again) if o.accepted]
    assert accepted and all(a.replayed and a.events == o.events for o, a in accepted)
    from tests.e2e.test_distributed import read_topic

    assert len(read_topic(harness.bootstrap, harness.topics.events)) == sum(
        len(o.events) for o in outcomes)


def test_a_snapshot_decodes_as_it_was_encoded():
    ledger = MemoryLedger()
    for cmd in history(3, seed=20):
        ledger.execute(cmd)
    for stream, state in ledger.states.items():
        snapshot = Snapshot(stream, state.version, 7, state,
                            {("importer:importer@", "c-1"): Logged((3, 5), "f"),
                             ("clerk:x@sh-ipa", "c-1"): Logged((6,), None)},
                            {f"status:{stream}": "open"})
        assert decode_snapshot(encode_snapshot(snapshot)) == snapshot


def test_a_snapshot_written_before_ids_were_scoped_still_decodes():
    """Its commands keyed by id alone, each with its sender: read by (sender, id)."""
    ledger = MemoryLedger()
    for cmd in history(2, seed=21):
        ledger.execute(cmd)
    stream, state = next((s, st) for s, st in ledger.states.items() if not s.startswith("b"))
    old = json.loads(encode_snapshot(Snapshot(stream, state.version, 7, state, {}, {})))
    old["commands"] = {"c-1": [[3, 5], "importer:importer@", "f"], "c-2": [[6], None, None]}
    snapshot = decode_snapshot(json.dumps(old).encode())
    assert snapshot is not None and snapshot.commands == {
        ("importer:importer@", "c-1"): Logged((3, 5), "f"), ("", "c-2"): Logged((6,), None)}
