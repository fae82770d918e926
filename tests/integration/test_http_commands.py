"""Commands over real HTTP: each route's 201 path, command ids decided once and owned by their
sender, polling, the bulk import, and concurrent requests losing nothing."""
from __future__ import annotations

import json
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from banli.domain.timing.deadlines import PROFILES
from banli.domain.registry import REGISTRY

from tests.integration.http_world import (AFTER_THE_REPORT_COMMANDS, HAN, P, REPORT_COMMANDS,
                                          accepted, at_time, cli_report, expect, history, malformed,
                                          refused, register_bureaus, submit)


# --- commands: the 201 path ---------------------------------------------------------------------
def test_register_bureau_route_and_list_of_bureaus(server, clock):
    admin = server.client("admin")
    body = accepted(admin.post("/api/bureaus", json={
        "bureau": "sh-ipa", "name": "上海市知识产权局", "name_en": "Shanghai IP Administration"}),
        "BureauRegistered")
    (event,) = body["events"]
    assert event["actor"] == {"user": "test-admin", "bureau": None, "role": "admin"}
    assert at_time(event["occurred_at"]) == clock.now  # `at` left out: the injectable clock
    assert at_time(event["recorded_at"]) == clock.now
    assert event["position"] >= 1 and event["seq"] == 1
    importer = server.client("importer")
    accepted(importer.post("/api/commands", json={"type": "register_bureau", "bureau": "sh-edu",
                                                  "name": "上海市教育委员会"}))
    refused(admin.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "again"}),
            "duplicate_bureau")
    for role in ("clerk", "overseer", "coordinator", "admin", "importer"):
        bureaus = expect(server.client(role, "sh-ipa").get("/api/bureaus"), 200)["bureaus"]
        bureaus = {b: {k: n[k] for k in ("name", "name_en")} for b, n in bureaus.items()}
        assert bureaus == {"sh-edu": {"name": "上海市教育委员会", "name_en": ""},
                           "sh-ipa": {"name": "上海市知识产权局",
                                      "name_en": "Shanghai IP Administration"}}


def test_submit_route_derives_the_id_and_keeps_both_clocks(server, clock):
    coordinator = server.client("coordinator")
    body = submit(coordinator)
    (event,) = body["events"]
    assert event["proposal_id"] == P
    assert at_time(event["occurred_at"]) == datetime(2020, 2, 20, 1, 0, tzinfo=timezone.utc)
    assert at_time(event["recorded_at"]) == clock.now
    assert event["actor"] == {"user": "test-coordinator", "bureau": None, "role": "coordinator"}
    assert event["command_id"] == body["command_id"] and body["command_id"].startswith("http-")
    assert body["replayed"] is False
    # an explicit id, a provincial item, and the natural key's uniqueness
    body = submit(coordinator, number="7", proposal="custom-1", level="provincial")
    assert body["events"][0]["proposal_id"] == "custom-1"
    refused(coordinator.post("/api/proposals", json={
        "proposal": "custom-2", "kind": "cppcc_proposal", "year": 2020, "number": "0042",
        "title": "same number"}), "duplicate_number")
    refused(coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "0042", "title": "again"}),
        "duplicate_proposal")
    state = expect(server.client("overseer").get(f"/api/proposals/{P}"), 200)
    assert state["id"] == P and state["filers"] == ["张委员"] and state["version"] == 1


def test_actor_is_the_signed_in_user_never_the_body(world):
    forged = {"user": "mallory", "bureau": "sh-edu", "role": "admin"}
    body = accepted(world.ipa.post("/api/commands", json={
        "type": "acknowledge", "proposal": P, "bureau": "sh-ipa", "actor": forged}),
        "AssignmentAcknowledged")
    assert body["events"][0]["actor"] == {"user": "test-clerk", "bureau": "sh-ipa",
                                          "role": "clerk"}
    # the body's actor does not lend its powers either
    refused(world.ipa.post("/api/commands", json={
        "type": "acknowledge", "proposal": P, "bureau": "sh-edu", "actor": forged}),
        "wrong_bureau")
    refused(world.overseer.post("/api/commands", json={
        "type": "withdraw", "proposal": P, "reason": "x", "actor": forged}), "forbidden")
    # resource routes do not even take an actor
    malformed(world.ipa.post(f"/api/proposals/{P}/acknowledge",
                             json={"bureau": "sh-ipa", "actor": forged}))
    assert [e["actor"]["user"] for e in history(world.server, P)] == [
        "test-coordinator", "test-coordinator", "test-clerk"]


def test_the_assign_route_sets_due_dates(world):
    state = expect(world.admin.get(f"/api/proposals/{P}"), 200)
    assert state["assignments"]["sh-ipa"]["role"] == "lead"
    assert state["assignments"]["sh-ipa"]["assigned_on"] == "2020-03-02"
    assert state["assignments"]["sh-ipa"]["due"] == "2020-06-02"   # + 3 months
    assert state["assignments"]["sh-edu"]["due"] == "2020-04-02"   # + 1 month
    refused(world.coordinator.post(f"/api/proposals/{P}/assign", json={"lead": ["sh-fin"]}),
            "already_assigned")
    submit(world.coordinator, number="0043")
    p2 = "2020-cppcc_proposal-0043"
    refused(world.coordinator.post(f"/api/proposals/{p2}/assign", json={"lead": ["nobody"]}),
            "unknown_bureau")
    refused(world.coordinator.post(f"/api/proposals/{p2}/assign", json={"lead": []}), "no_lead")
    refused(world.coordinator.post("/api/proposals/nope/assign", json={"lead": ["sh-ipa"]}),
            "unknown_proposal")
    body = accepted(world.coordinator.post(f"/api/proposals/{p2}/assign", json={
        "lead": ["sh-ipa", "sh-fin"], "reply_due": "2020-12-31"}), "ProposalAssigned")
    assert {d["bureau"]: d["due"] for d in body["events"][0]["duties"]} == {
        "sh-ipa": "2020-12-31", "sh-fin": "2020-12-31"}


# every workflow route: (segment, who posts, body, the event, commands that must come first)
WORKFLOW_CASES = [
    ("acknowledge", "ipa", {"bureau": "sh-ipa"}, "AssignmentAcknowledged", []),
    ("contacts", "ipa", {"bureau": "sh-ipa", "stage": "before", "method": "visit",
                         "note": "走访"}, "ContactLogged", []),
    ("opinion", "edu", {"bureau": "sh-edu", "summary": "会办意见"}, "OpinionSubmitted", []),
    # a return comes within 10 working days of the assignment (2 March 2020)
    ("return", "edu", {"bureau": "sh-edu", "reason": "不属于本单位职责"}, "AssignmentReturned",
     ["a week after the assignment"]),
    ("reply", "ipa", {"bureau": "sh-ipa", "result": "solved", "summary": "已解决",
                      "signed_by": "李局长"}, "ReplyIssued", []),
    ("extend-deadline", "coordinator", {"bureau": "sh-ipa", "reply_due": "2020-08-01",
                                        "reason": "需调研"}, "DeadlineExtended", []),
    ("supervise", "coordinator", {"bureau": "sh-ipa", "note": "督办"}, "ProposalSupervised", []),
    ("supervise", "admin", {"note": "整件督办"}, "ProposalSupervised", []),
    ("disclosure", "ipa", {"bureau": "sh-ipa", "disclosure": "summary", "url": "https://x/1"},
     "DisclosureDecided", ["reply"]),
    ("feedback", "coordinator", {"bureau": "sh-ipa", "satisfaction": "satisfied"},
     "FeedbackRecorded", ["reply"]),
    ("feedback", "ipa", {"bureau": "sh-ipa", "satisfaction": "basically_satisfied",
                         "comment": "基本满意", "channel": "phone"}, "FeedbackRecorded", ["reply"]),
    ("reply/draft", "ipa", {"bureau": "sh-ipa", "result": "solved", "summary": "草稿"},
     "ReplyDrafted", []),
    ("reply/sign-off", "edu", {"bureau": "sh-edu", "lead": "sh-ipa", "remark": "同意"},
     "ReplySignedOff", ["draft"]),
    ("reply/regrade", "coordinator", {"bureau": "sh-ipa", "result": "planned",
                                      "reason": "审核调整为B类"}, "ReplyRegraded", ["draft"]),
    ("revise-result", "ipa", {"bureau": "sh-ipa", "result": "planned", "note": "列入计划"},
     "ResultRevised", ["reply"]),
    ("reopen", "ipa", {"bureau": "sh-ipa", "reason": "代表不满意", "reply_due": "2021-01-31"},
     "HandlingReopened", ["reply", "dissatisfied"]),
]
PREREQUISITES = {
    "reply": ("reply", "ipa", {"bureau": "sh-ipa", "result": "reference"}),
    "dissatisfied": ("feedback", "ipa", {"bureau": "sh-ipa", "satisfaction": "dissatisfied"}),
    "draft": ("reply/draft", "ipa", {"bureau": "sh-ipa", "result": "solved"}),
}
CLOCK_STEPS = {"a week after the assignment": datetime(2020, 3, 9, 2, 0, tzinfo=timezone.utc)}


@pytest.mark.parametrize("segment,who,body,event_type,before", WORKFLOW_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in WORKFLOW_CASES])
def test_workflow_route(world, segment, who, body, event_type, before):
    for step in before:
        if step in CLOCK_STEPS:
            world.clock.now = CLOCK_STEPS[step]
            continue
        seg, by, data = PREREQUISITES[step]
        accepted(getattr(world, by).post(f"/api/proposals/{P}/{seg}", json=data))
    client = getattr(world, who)
    answer = accepted(client.post(f"/api/proposals/{P}/{segment}", json=body), event_type)
    (event,) = answer["events"]
    posted = [step for step in before if step not in CLOCK_STEPS]
    assert event["proposal_id"] == P and event["seq"] == 2 + len(posted) + 1
    for key, value in body.items():
        assert event[key] == value
    assert at_time(event["occurred_at"]) == world.clock.now
    assert at_time(event["recorded_at"]) == world.clock.now
    # the same command through the generic route is the same vocabulary
    generic = {"type": _command_type(segment), "proposal": P, **body}
    r = client.post("/api/commands", json=generic)
    assert r.status_code in (201, 409), r.text


def test_a_reviewed_reply_is_issued_by_its_approval(world):
    """签发: the leader's approval issues the draft, regraded by the coordinator, as the reply."""
    accepted(world.ipa.post(f"/api/proposals/{P}/reply/draft",
                            json={"bureau": "sh-ipa", "result": "solved"}), "ReplyDrafted")
    accepted(world.edu.post(f"/api/proposals/{P}/reply/sign-off",
                            json={"bureau": "sh-edu", "lead": "sh-ipa"}), "ReplySignedOff")
    accepted(world.coordinator.post(f"/api/proposals/{P}/reply/regrade", json={
        "bureau": "sh-ipa", "result": "planned", "reason": "审核调整"}), "ReplyRegraded")
    refused = expect(world.ipa.post(f"/api/proposals/{P}/reply/regrade", json={
        "bureau": "sh-ipa", "result": "reference", "reason": "自行调整"}), 409)
    assert refused["code"] == "forbidden"  # only the coordinator regrades
    answer = expect(world.ipa.post(f"/api/proposals/{P}/reply/approve",
                                   json={"bureau": "sh-ipa", "signed_by": "李局长"}), 201)
    assert [(e["type"], e.get("result")) for e in answer["events"]] == [
        ("ReplyApproved", None), ("ReplyIssued", "planned")]
    assert answer["events"][1]["signed_by"] == "李局长"


def _command_type(segment: str) -> str:
    return next(s.type for s in REGISTRY if s.route == f"/proposals/{{proposal_id}}/{segment}")


def test_generic_route_takes_the_commands_without_a_route_of_their_own(world):
    submit(world.coordinator, number="0043")
    p2 = "2020-cppcc_proposal-0043"
    accepted(world.coordinator.post(f"/api/proposals/{p2}/assign", json={"lead": ["sh-fin"]}))
    accepted(world.coordinator.post("/api/commands", json={
        "type": "reassign", "proposal": P, "add_co": ["sh-fin"]}), "ProposalReassigned")
    accepted(world.coordinator.post("/api/commands", json={
        "type": "merge", "proposal": p2, "into": P}), "ProposalMerged")
    refused(world.fin.post(f"/api/proposals/{p2}/reply", json={
        "bureau": "sh-fin", "result": "solved"}), "closed")
    accepted(world.coordinator.post("/api/commands", json={
        "type": "withdraw", "proposal": P, "reason": "领衔人撤回"}), "ProposalWithdrawn")
    body = refused(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved"}), "closed")
    assert body["details"]["proposal"] == P
    assert expect(world.admin.get(f"/api/proposals/{P}"), 200)["status"] == "withdrawn"


# --- idempotency and polling --------------------------------------------------------------------
def test_the_same_command_id_is_decided_once(world):
    data = {"bureau": "sh-ipa", "result": "solved", "command_id": "reply-once"}
    first = accepted(world.ipa.post(f"/api/proposals/{P}/reply", json=data), "ReplyIssued")
    assert first["replayed"] is False and first["command_id"] == "reply-once"
    second = accepted(world.ipa.post(f"/api/proposals/{P}/reply", json=data), "ReplyIssued")
    assert second["replayed"] is True
    assert second["events"] == first["events"]
    # the same command through the generic route is the same request: the first answer
    third = accepted(world.ipa.post("/api/commands", json={
        "type": "reply", "proposal": P, **data}))
    assert third["replayed"] is True and third["events"] == first["events"]
    # the same id with another body is an error that says nothing of the first
    other = refused(world.ipa.post("/api/commands", json={
        "type": "reply", "proposal": P, "bureau": "sh-ipa", "result": "reference",
        "command_id": "reply-once"}), "command_id_conflict")
    assert other["replayed"] is False and "events" not in other and other["details"] == {}
    events = history(world.server, P)
    assert [e["type"] for e in events].count("ReplyIssued") == 1
    assert [e["seq"] for e in events] == [1, 2, 3]
    assert events[-1]["command_id"] == "reply-once"
    assert events[-1]["event_id"] == first["events"][0]["event_id"]
    assert world.server.system.log.count() == 3 + 3  # the bureaus, this proposal


def test_a_command_id_belongs_to_its_sender(world):
    """Command ids are scoped to their sender: another user's id (learnt from a feed, a log, a
    screen) names nothing of theirs. The same id sent by someone else is another command,
    decided on its own (never a 409 for the id, never the first one's answer), and the id's own
    sender still gets its first answer."""
    contact = accepted(world.edu.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-edu", "stage": "during", "method": "visit", "note": "会办单位走访记录",
        "command_id": "edu-contact-1"}), "ContactLogged")
    n = world.server.system.log.count()
    decided = []
    for client, path, body, outcome in (
            (world.ipa, "/api/commands", {"type": "acknowledge", "proposal": P,
                                          "bureau": "sh-ipa"}, "AssignmentAcknowledged"),
            (world.fin, "/api/commands", {"type": "acknowledge", "proposal": P,
                                          "bureau": "sh-fin"}, "unknown_proposal"),
            (world.coordinator, f"/api/proposals/{P}/supervise", {"note": "督办"},
             "ProposalSupervised")):
        answer = client.post(path, json={**body, "command_id": "edu-contact-1"})
        text = answer.text
        assert "会办单位走访记录" not in text and contact["events"][0]["event_id"] not in text
        if outcome[0].isupper():
            decided.append(accepted(answer, outcome))
        else:
            refused(answer, outcome)
    assert world.server.system.log.count() == n + 2
    assert all(body["command_id"] == "edu-contact-1" and not body["replayed"] for body in decided)
    # the id's own sender still gets its first answer, from the record ...
    again = accepted(world.edu.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-edu", "stage": "during", "method": "visit", "note": "会办单位走访记录",
        "command_id": "edu-contact-1"}))
    assert again["replayed"] is True and again["events"] == contact["events"]
    # ... and another command of its own under it is refused, revealing nothing of the first
    other = refused(world.edu.post(f"/api/proposals/{P}/acknowledge", json={
        "bureau": "sh-edu", "command_id": "edu-contact-1"}), "command_id_conflict")
    assert "events" not in other and other["details"] == {}
    assert world.server.system.log.count() == n + 2


def test_no_feed_shows_a_clerk_another_bureaus_command_ids(world):
    """A clerk sees the events of its proposals that concern it, but never the command ids
    others sent (ids are idempotency keys: a known id is half a forged replay)."""
    accepted(world.coordinator.post(f"/api/proposals/{P}/supervise", json={
        "note": "督办", "command_id": "coordinator-supervise-1"}), "ProposalSupervised")
    accepted(world.edu.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-edu", "stage": "during", "method": "visit",
        "command_id": "edu-contact-2"}), "ContactLogged")
    world.server.system.settle()
    board = expect(world.ipa.get("/api/dashboard", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-12-31"}), 200)
    events = expect(world.ipa.get(f"/api/proposals/{P}/history"), 200)["events"]
    for seen in (board["recent"], events):
        supervised = [e for e in seen if e["type"] == "ProposalSupervised"]
        assert supervised and all(e["command_id"] is None for e in supervised)
        assert not any(e["type"] == "ContactLogged" and e["bureau"] == "sh-edu" for e in seen)
        text = json.dumps(seen)
        assert "coordinator-supervise-1" not in text and "edu-contact-2" not in text
    # an oversight role sees them all, ids included
    board = expect(world.overseer.get("/api/dashboard", params={
        "all": "true", "years": "2020", "as_of": "2020-12-31"}), 200)
    assert "coordinator-supervise-1" in json.dumps(board["recent"])


def test_polling_a_command(world):
    body = accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved", "command_id": "poll-me"}))
    ipa = "clerk:test-clerk@sh-ipa"  # the sender: role, user and bureau
    for client, query in ((world.ipa, {}), (world.ipa, {"sender": ipa}),
                          (world.admin, {"sender": ipa})):  # its sender, and an admin naming it
        polled = expect(client.get("/api/commands/poll-me", params=query), 200)
        assert polled["accepted"] is True and polled["command_id"] == "poll-me"
        assert polled["events"] == body["events"]
    refused(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-edu", "result": "solved", "command_id": "refused-one"}), "wrong_bureau")
    polled = expect(world.ipa.get("/api/commands/refused-one"), 200)
    assert (polled["accepted"], polled["code"]) == (False, "wrong_bureau")
    # nobody else learns of another's commands, accepted or refused, not even that they exist:
    # their own id is theirs (none here), another's they may not name
    for client in (world.edu, world.overseer, world.coordinator, world.admin,
                   world.server.client("importer")):
        for command_id in ("poll-me", "refused-one"):
            assert expect(client.get(f"/api/commands/{command_id}"), 404)["detail"]["code"] == (
                "pending")
            if client is not world.admin:
                r = client.get(f"/api/commands/{command_id}", params={"sender": ipa})
                assert expect(r, 404)["detail"]["code"] == "pending"
    r = world.admin.get("/api/commands/never-sent", params={"sender": ipa})
    assert expect(r, 404)["detail"]["code"] == "pending"
    # the auto-assigned id of a command without one can be polled too
    auto = accepted(world.ipa.post(f"/api/proposals/{P}/acknowledge", json={"bureau": "sh-ipa"}))
    assert expect(world.ipa.get(f"/api/commands/{auto['command_id']}"), 200)["events"] == (
        auto["events"])


# --- bulk import --------------------------------------------------------------------------------
def test_import_counts_problems_and_is_idempotent(server, clock):
    lines = [
        {"type": "register_bureau", "bureau": "sh-ipa", "name": "上海市知识产权局",
         "at": "2020-01-02T09:00:00+08:00"},
        {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "1",
         "title": "建议一", "at": "2020-01-10T09:00:00+08:00"},
        "{broken json",
        {"type": "assign", "proposal": "2020-npc_suggestion-1", "lead": ["sh-ipa"],
         "at": "2020-01-20T09:00:00+08:00"},
        {"type": "reply", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
         "result": "solved", "at": "2020-01-19T09:00:00+08:00"},   # before the assignment
        [1, 2, 3],
        {"type": "reply", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
         "result": "perfect", "at": "2020-02-01T09:00:00+08:00"},
        "",
        {"type": "reply", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
         "result": "solved", "at": "2020-03-01T09:00:00+08:00",
         "actor": {"user": "imported-clerk", "bureau": "sh-ipa", "role": "clerk"}},
        {"type": "log_contact", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
         "stage": "after", "method": "phone"},   # no `at`: a history line needs one
    ]
    body = "\n".join(line if isinstance(line, str) else json.dumps(line, ensure_ascii=False)
                     for line in lines) + "\n"
    importer = server.client("importer")
    result = expect(importer.post("/api/import", content=body.encode(),
                                  headers={"Content-Type": "application/x-ndjson"}), 200)
    assert result["accepted"] == 4 and result["already_decided"] == 0
    assert result["pending"] == 0
    problems = {p["line"]: p for p in result["problems"]}
    assert sorted(problems) == [3, 5, 6, 7, 10]
    assert problems[10]["code"] == "invalid" and "`at`" in problems[10]["reason"]
    assert problems[3]["code"] == "invalid" and "JSON" in problems[3]["reason"]
    assert problems[5]["code"] == "out_of_order" and HAN.search(problems[5]["reason"])
    assert problems[5]["reason_en"]
    assert problems[6]["code"] == "invalid"
    assert problems[7]["code"] == "invalid" and "result" in problems[7]["reason"]
    events = history(server, "2020-npc_suggestion-1")
    assert [e["type"] for e in events] == ["ProposalSubmitted", "ProposalAssigned",
                                           "ReplyIssued"]
    # an importer keeps the actors of the file; lines without one act as the importer
    assert events[0]["actor"]["user"] == "test-importer"
    assert events[2]["actor"] == {"user": "imported-clerk", "bureau": "sh-ipa", "role": "clerk"}
    assert all(at_time(e["recorded_at"]) == clock.now for e in events)
    # the same file again decides nothing twice
    again = expect(importer.post("/api/import", content=body.encode(),
                                 headers={"Content-Type": "application/x-ndjson"}), 200)
    assert again["accepted"] == 0 and again["already_decided"] == 4
    # the same problems again, the refusal of line 5 answered from its record
    assert sorted(p["line"] for p in again["problems"]) == [3, 5, 6, 7, 10]
    assert history(server, "2020-npc_suggestion-1") == events
    assert server.system.log.count() == 4


def test_import_by_a_coordinator_acts_as_the_coordinator(server):
    register_bureaus(server, "sh-ipa")
    coordinator = server.client("coordinator")
    lines = [
        {"type": "submit", "kind": "cppcc_proposal", "year": 2019, "number": "9",
         "title": "提案", "at": "2019-02-01T09:00:00+08:00",
         "actor": {"user": "someone-else", "role": "admin"}},
        {"type": "reply", "proposal": "2019-cppcc_proposal-9", "bureau": "sh-ipa",
         "result": "solved", "at": "2019-02-02T09:00:00+08:00"},
    ]
    body = "\n".join(json.dumps(line) for line in lines)
    result = expect(coordinator.post("/api/import", content=body.encode(),
                                     headers={"Content-Type": "application/x-ndjson"}), 200)
    assert result["accepted"] == 1
    assert [(p["line"], p["code"]) for p in result["problems"]] == [(2, "forbidden")]
    (event,) = history(server, "2019-cppcc_proposal-9")
    assert event["actor"] == {"user": "test-coordinator", "bureau": None, "role": "coordinator"}
    empty = expect(coordinator.post("/api/import", content=b"\n\n",
                                    headers={"Content-Type": "application/x-ndjson"}), 200)
    assert empty == {"accepted": 0, "already_decided": 0, "pending": 0, "problems": []}


# --- concurrency ----------------------------------------------------------------------------------
def test_parallel_requests_on_one_proposal_lose_nothing_and_apply_nothing_twice(world):
    contacts = 14
    retries = 6
    clients = [world.server.client("clerk", "sh-ipa" if i % 2 else "sh-edu")
               for i in range(contacts)] + [world.server.client("clerk", "sh-ipa")
                                            for _ in range(retries)]
    barrier = threading.Barrier(contacts + retries)

    def contact(i: int):
        bureau = "sh-ipa" if i % 2 else "sh-edu"
        barrier.wait()
        return clients[i].post(f"/api/proposals/{P}/contacts", json={
            "bureau": bureau, "stage": "during", "method": "phone", "note": f"#{i}",
            "command_id": f"contact-{i}-{uuid.uuid4().hex[:6]}"})

    def reply(i: int):
        barrier.wait()
        return clients[contacts + i].post(f"/api/proposals/{P}/reply", json={
            "bureau": "sh-ipa", "result": "solved", "command_id": "the-one-reply"})

    with ThreadPoolExecutor(max_workers=contacts + retries) as pool:
        contact_futures = [pool.submit(contact, i) for i in range(contacts)]
        reply_futures = [pool.submit(reply, i) for i in range(retries)]
        contact_answers = [f.result(timeout=120) for f in contact_futures]
        reply_answers = [f.result(timeout=120) for f in reply_futures]

    for r in contact_answers:
        body = accepted(r, "ContactLogged")
        assert body["replayed"] is False
    replies = [accepted(r, "ReplyIssued") for r in reply_answers]
    assert sorted(b["replayed"] for b in replies) == [False] + [True] * (retries - 1)
    assert len({json.dumps(b["events"], sort_keys=True) for b in replies}) == 1

    events = history(world.server, P)
    n = 2 + contacts + 1
    assert [e["seq"] for e in events] == list(range(1, n + 1))
    assert [e["type"] for e in events].count("ContactLogged") == contacts
    assert [e["type"] for e in events].count("ReplyIssued") == 1
    assert len({e["event_id"] for e in events}) == n
    assert len({e["command_id"] for e in events}) == n
    state = expect(world.admin.get(f"/api/proposals/{P}"), 200)
    assert state["version"] == n
    assert state["assignments"]["sh-ipa"]["contacts"] + state["assignments"]["sh-edu"][
        "contacts"] == contacts
    assert state["assignments"]["sh-ipa"]["replies"] == 1
    assert world.server.system.log.count() == 3 + n


def test_parallel_registrations_of_one_bureau_accept_exactly_one(server):
    clients = [server.client("admin") for _ in range(10)]
    barrier = threading.Barrier(len(clients))

    def register(client):
        barrier.wait()
        return client.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "上海市知识产权局"})

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        answers = list(pool.map(register, clients))
    assert sorted(r.status_code for r in answers) == [201] + [409] * 9
    for r in answers:
        if r.status_code == 409:
            refused(r, "duplicate_bureau")
    assert server.system.log.count() == 1


@pytest.mark.parametrize("settings_update", [{"profile": name} for name in PROFILES],
                         ids=list(PROFILES))
def test_report_under_the_servers_profile_is_the_cli_report_under_it(server, clock, tmp_path, capsys):
    """Deadlines are fixed when a command is decided, by the server's profile; the CLI decides
    the history under its --profile. Under the same profile both give the same report."""
    clock.now = AFTER_THE_REPORT_COMMANDS
    profile = server.system.settings.profile
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in REPORT_COMMANDS),
                    encoding="utf-8")
    importer = server.client("importer")
    result = expect(importer.post("/api/import", content=path.read_bytes(),
                                  headers={"Content-Type": "application/x-ndjson"}), 200)
    assert result["accepted"] == len(REPORT_COMMANDS) and result["problems"] == []
    for scope in (("--bureau", "sh-ipa"), ("--bureau", "sh-edu"), ("--all",)):
        params = {"years": "2019-2020", "as_of": "2020-11-20", "profile": profile}
        params |= {"bureau": scope[1]} if scope[0] == "--bureau" else {"all": "true"}
        served = expect(server.client("admin").get("/api/report", params=params), 200)
        assert served == json.loads(cli_report(
            capsys, path, *scope, "--years", "2019-2020", "--as-of", "2020-11-20",
            "--profile", profile))
        assert served["scope"]["profile"] == profile
