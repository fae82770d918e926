"""Old events are read as the current schema: upcasters run on load, one version at a time."""
from __future__ import annotations

import json
from datetime import datetime

from banli.domain.events import ReplyIssued, upcast
from banli.domain.registry import CURRENT_VERSION, load_event
from banli.domain.types import SHANGHAI

V1_REPLY = {
    "type": "ReplyIssued", "schema_version": 1,
    "event_id": "6f1c2d9e-0000-5000-8000-000000000001",
    "proposal_id": "2018-cppcc_proposal-21001", "seq": 4,
    "occurred_at": "2018-04-10T10:00:00+08:00", "recorded_at": "2018-04-10T10:05:00+08:00",
    "actor": {"user": "importer", "role": "importer"}, "command_id": "legacy-17",
    "bureau": "sh-ipa", "result": "A", "summary": "答复意见",
}


def test_a_v1_reply_loads_as_v3_with_a_named_result_no_signer_and_no_letter():
    event = load_event(V1_REPLY)
    assert isinstance(event, ReplyIssued)
    assert (event.schema_version, event.result, event.signed_by, event.letter) == (
        3, "solved", None, None)
    assert (event.bureau, event.summary, event.seq, event.command_id) == (
        "sh-ipa", "答复意见", 4, "legacy-17")
    assert event.occurred_at == datetime(2018, 4, 10, 10, 0, tzinfo=SHANGHAI)


def test_each_letter_grade_becomes_its_result():
    grades = {"A": "solved", "B": "planned", "C": "deferred", "D": "reference"}
    for grade, result in grades.items():
        assert load_event({**V1_REPLY, "result": grade}).result == result


def test_a_v1_reply_without_a_version_is_v1_and_json_text_loads_too():
    unversioned = {k: v for k, v in V1_REPLY.items() if k != "schema_version"}
    assert load_event(json.dumps(unversioned)) == load_event(V1_REPLY)
    assert load_event(json.dumps(V1_REPLY).encode()) == load_event(V1_REPLY)


def test_upcasting_leaves_the_stored_dict_alone_and_current_events_as_they_are():
    stored = dict(V1_REPLY)
    upcast(stored)
    assert stored == V1_REPLY
    current = load_event(V1_REPLY).model_dump(mode="json")
    assert upcast(current) == current
    assert load_event(current) == load_event(V1_REPLY)
    assert CURRENT_VERSION["ReplyIssued"] == 3
    assert CURRENT_VERSION["ProposalSubmitted"] == 2


def test_a_v2_reply_loads_as_v3_without_a_letter_and_a_v3_one_keeps_its_letter():
    v2 = {**V1_REPLY, "schema_version": 2, "result": "planned", "signed_by": "局长"}
    event = load_event(json.dumps(v2, ensure_ascii=False))
    assert (event.schema_version, event.result, event.signed_by, event.letter) == (
        3, "planned", "局长", None)
    letter = {"sha256": "ab" * 32, "name": "答复函.pdf", "media_type": "application/pdf",
              "size": 1234}
    v3 = {**v2, "schema_version": 3, "letter": letter}
    assert upcast(dict(v3)) == v3
    loaded = load_event(json.dumps(v3, ensure_ascii=False))
    assert loaded.letter is not None and loaded.letter.model_dump() == letter
    assert load_event(loaded.model_dump_json()) == loaded
