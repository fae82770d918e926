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


def test_a_v1_reply_loads_as_v2_with_a_named_result_and_no_signer():
    event = load_event(V1_REPLY)
    assert isinstance(event, ReplyIssued)
    assert (event.schema_version, event.result, event.signed_by) == (2, "solved", None)
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
    assert CURRENT_VERSION["ReplyIssued"] == 2
    assert CURRENT_VERSION["ProposalSubmitted"] == 1
