"""The shortcuts on the hot paths of deciding, importing and replaying give exactly what the plain
ways gave: the same event ids, copies, loaded events and outcomes."""
from __future__ import annotations

import hashlib
import json
import uuid
from datetime import date, datetime, timedelta, timezone

from banli.demo.generate import iter_history, to_jsonl
from banli.domain import commands as c
from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.events import upcast
from banli.domain.registry import EVENT_ADAPTER, load_event
from banli.domain.envelope import EVENT_ID_NAMESPACE, event_id
from banli.domain.proposal import Assignment, ReplyDraft
from banli.domain.rejections import Rejection
from banli.domain.types import SHANGHAI, replaced
from banli.eventlog.repository import Repository
from banli.eventlog.sqlite import SqliteEventStore
from banli.history import LineProblem, read_commands, run_history
from banli.handling import Handling


def test_event_ids_are_the_uuid5_of_sender_command_and_index():
    for sender in ("importer:importer@", "clerk:张三@sh-ipa", ""):
        for command_id in ("h-0123456789abcdef01234567-1", "", "办理/7", "x" * 300, "a/b/c"):
            for index in range(12):
                expected = str(uuid.uuid5(EVENT_ID_NAMESPACE,
                                          f"{len(sender)}:{sender}{command_id}/{index}"))
                assert event_id(sender, command_id, index) == expected
    # the sender's length first: no sender and id run into another pair's
    assert event_id("a:b@", "c/0", 1) != event_id("a:b@c", "/0", 1)


def test_a_replaced_model_is_what_model_copy_makes():
    duty = Assignment(bureau="sh-ipa", role="lead", assigned_on=date(2021, 1, 4),
                      due=date(2021, 4, 4), last_at=datetime(2021, 1, 4, 10, tzinfo=SHANGHAI),
                      draft=ReplyDraft(result="solved", drafted_on=date(2021, 2, 1)))
    for change in ({}, {"contacts": 2}, {"status": "removed", "acknowledged": True},
                   {"draft": None}):
        ours, pydantics = replaced(duty, change), duty.model_copy(update=change)
        assert ours == pydantics and type(ours) is type(pydantics)
        assert ours.model_fields_set == pydantics.model_fields_set
        assert ours.model_dump_json() == pydantics.model_dump_json()
        assert ours.model_dump_json(exclude_unset=True) == pydantics.model_dump_json(
            exclude_unset=True)
        assert (ours.__pydantic_extra__, ours.__pydantic_private__) == (None, None)
    assert duty.contacts == 0  # the original is untouched


FEEDBACK_V1 = {
    "type": "FeedbackRecorded", "event_id": "e-1", "proposal_id": "2021-cppcc_proposal-1",
    "seq": 5, "occurred_at": "2021-05-10T10:00:00+08:00",
    "recorded_at": "2021-05-10T10:05:00+08:00", "actor": {"user": "importer", "role": "importer"},
    "command_id": "c-1", "bureau": "sh-ipa", "satisfaction": "satisfied",
}


def _slow_load(text: str):
    return EVENT_ADAPTER.validate_python(upcast(json.loads(text)))


def test_json_text_loads_as_the_dict_does_with_or_without_upcasting():
    current = {**FEEDBACK_V1, "schema_version": 2, "channel": "paper"}
    v1_without_version = dict(FEEDBACK_V1)  # valid as v2 too: the upcaster must still run
    v1 = {**FEEDBACK_V1, "schema_version": 1}
    for data in (current, v1_without_version, v1):
        text = json.dumps(data, ensure_ascii=False)
        loaded = load_event(text)
        assert loaded == _slow_load(text) == load_event(data)
        assert loaded.model_fields_set == _slow_load(text).model_fields_set
        assert loaded.schema_version == 2


def _lines(*extra: dict) -> list[str]:
    at = datetime(2021, 1, 4, 9, 0, tzinfo=timezone(timedelta(hours=8)))
    commands = [
        {"type": "register_bureau", "bureau": "sh-ipa", "name": "上海市知识产权局"},
        {"type": "submit", "kind": "cppcc_proposal", "level": "municipal", "year": 2021,
         "number": "00001", "title": "关于第一号的提案"},
        {"type": "assign", "proposal": "2021-cppcc_proposal-00001", "lead": ["sh-ipa"]},
        *extra,
    ]
    return [json.dumps({"at": (at + timedelta(hours=i)).isoformat(), **c}, ensure_ascii=False)
            for i, c in enumerate(commands)]


def _outcomes(processor: Handling, lines: list[str]):
    commands = [item for _, item in read_commands(lines)]
    return processor.handle_batch(commands)


def test_a_batch_answers_a_command_seen_earlier_in_it_or_before_it(tmp_path):
    log = SqliteEventStore(tmp_path / "events.sqlite3")
    processor = Handling(Repository(log), log, DEFAULT_PROFILE)
    ack = {"type": "acknowledge", "proposal": "2021-cppcc_proposal-00001", "bureau": "sh-ipa",
           "command_id": "ack-1", "at": "2021-01-05T09:00:00+08:00"}
    first = _outcomes(processor, _lines(ack, ack, {**ack, "at": "2021-01-06T09:00:00+08:00"}))
    assert [bool(o.events) for o in first] == [True] * 5 + [False]
    assert [o.replayed for o in first] == [False] * 4 + [True, False]
    assert first[4].events == first[3].events
    assert first[5].rejection.code == "command_id_conflict"  # the same id, another command
    again = _outcomes(Handling(Repository(log), log, DEFAULT_PROFILE), _lines(ack))
    assert all(o.replayed for o in again)
    assert [o.events for o in again] == [o.events for o in first[:4]]


def test_a_batch_decides_on_what_another_writer_appended_before_it(tmp_path):
    path = tmp_path / "events.sqlite3"
    first = SqliteEventStore(path)
    processor = Handling(Repository(first), first, DEFAULT_PROFILE)
    _outcomes(processor, _lines())
    second = SqliteEventStore(path)
    other = Handling(Repository(second), second, DEFAULT_PROFILE)  # another process, in effect
    ack = {"type": "acknowledge", "proposal": "2021-cppcc_proposal-00001", "bureau": "sh-ipa"}
    (_, _, _, acknowledged) = _outcomes(other, _lines(ack))
    assert acknowledged.events and not acknowledged.replayed
    (*_, again) = _outcomes(processor, _lines({**ack, "command_id": "ack-2"}))
    assert again.rejection is not None and again.rejection.code == "already_acknowledged"


# --- generated histories: the store holds, byte for byte, what the plain kernel decides ------
FIXED_CLOCK = datetime(2026, 11, 20, 9, 30, tzinfo=SHANGHAI)  # after every business time


def _generated(proposals: int, seed: int, noise: float) -> list[str]:
    return [to_jsonl(line) for line in iter_history(proposals, seed, (2018, 2021), 8, noise)]


def _plain_fingerprint(command) -> str:
    return hashlib.sha256(
        command.model_dump_json(exclude={"command_id", "actor"}).encode()).hexdigest()


def _plain(lines: list[str]):
    """What the plain path gives: every command decided in memory one at a time (the reference
    ledger: validated events, folded states), its events encoded by pydantic, its outcome
    and fingerprint computed here as the store's record of it would hold them."""
    ledger, _ = run_history(lines, clock=lambda command: FIXED_CLOCK)
    commands = [item for _, item in read_commands(lines) if not isinstance(item, LineProblem)]
    events, recorded, answers = [], {}, []
    for command in commands:
        key = (c.sender_of(command), command.command_id)
        decision = ledger.decided[key]
        if key in recorded:
            continue  # a repeat: answered from the first one's record
        if isinstance(decision, Rejection):
            recorded[key] = (command.stream, 0, decision.model_dump_json(),
                             _plain_fingerprint(command))
            answers.append(("refused", decision.model_dump_json()))
            continue
        events += [(ev.proposal_id, ev.seq, ev.event_id, ev.type, ev.command_id,
                    ev.occurred_at.isoformat(), ev.recorded_at.isoformat(), ev.model_dump_json())
                   for ev in decision]
        recorded[key] = (command.stream, 1, json.dumps([ev.event_id for ev in decision]),
                         _plain_fingerprint(command))
        answers.append(("accepted", [ev.model_dump_json() for ev in decision]))
    return commands, events, recorded, answers


def _answer(outcome):
    if outcome.rejection is not None:
        return ("refused", outcome.rejection.model_dump_json())
    return ("accepted", [stored.event.model_dump_json() for stored in outcome.events])


def test_a_generated_history_is_stored_and_answered_as_the_plain_kernel_decides_it(tmp_path):
    """Over generated histories (with broken and refused lines), through the handling loop and
    the SQLite store both ways (import batches of 500, and one command a transaction): the same
    event rows, byte for byte, in the same order; the same command records (event ids,
    rejections, senders, fingerprints); the same answers; and every stored event reads back
    and encodes to the same bytes by the plain pydantic path."""
    for seed, noise in ((7, 0.0), (11, 0.15)):
        lines = _generated(150, seed, noise)
        commands, events, recorded, answers = _plain(lines)
        assert len(events) > 1000 and (any(a[0] == "refused" for a in answers) or not noise)
        for batched in (True, False):
            log = SqliteEventStore(tmp_path / f"{seed}-{batched}" / "events.sqlite3")
            handling = Handling(Repository(log), log, DEFAULT_PROFILE, clock=lambda: FIXED_CLOCK)
            if batched:
                outcomes = [o for start in range(0, len(commands), 500)
                            for o in handling.handle_batch(commands[start:start + 500])]
            else:
                outcomes = [handling.handle(command) for command in commands]
            firsts = [o for o in outcomes if not o.replayed]
            assert [_answer(o) for o in firsts] == answers
            rows = log.db.execute("SELECT stream, seq, event_id, type, command_id, occurred_at,"
                                  " recorded_at, data FROM events ORDER BY position").fetchall()
            assert rows == events
            for *_, data in rows:
                assert EVENT_ADAPTER.validate_python(json.loads(data)).model_dump_json() == data
            kept = {(row[0], row[1]): tuple(row[2:]) for row in log.db.execute(
                "SELECT sender, command_id, stream, accepted, outcome, fingerprint FROM commands")}
            assert kept == recorded
