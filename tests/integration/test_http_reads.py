"""Reads over real HTTP: a proposal's state and history as each reader may see them, open
assignments with their due dates, and the report (the CLI's numbers, and who may read them)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest

from tests.integration.http_world import (AFTER_THE_REPORT_COMMANDS, P, REPORT_COMMANDS, accepted,
                                          at_time, cli_report, expect, forbidden, history, submit)


# --- reads: a proposal, its history -------------------------------------------------------------
def test_proposal_state_by_role(world):
    full = expect(world.overseer.get(f"/api/proposals/{P}"), 200)
    assert set(full["assignments"]) == {"sh-ipa", "sh-edu"}
    assert full["kind"] == "cppcc_proposal" and full["year"] == 2020 and full["status"] == "open"
    for client, bureau in ((world.ipa, "sh-ipa"), (world.edu, "sh-edu")):
        own = expect(client.get(f"/api/proposals/{P}"), 200)
        assert own["assignments"] == {bureau: full["assignments"][bureau]}
        assert {k: v for k, v in own.items() if k != "assignments"} == {
            k: v for k, v in full.items() if k != "assignments"}
    # to a bureau without a duty on it, the proposal is as unknown as one that does not exist
    assert expect(world.fin.get(f"/api/proposals/{P}"), 404)["detail"]["code"] == (
        "unknown_proposal")
    for client in (world.admin, world.fin):
        body = expect(client.get("/api/proposals/no-such-thing"), 404)
        assert body["detail"]["code"] == "unknown_proposal"
    # a bureau's stream is not a proposal
    assert expect(world.admin.get("/api/proposals/bureau:sh-ipa"), 404)["detail"]["code"] == (
        "unknown_proposal")


def test_history_has_both_clocks_actor_and_command_per_event(world, clock):
    accepted(world.ipa.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-ipa", "stage": "before", "method": "visit",
        "at": "2020-03-10T10:00:00+08:00", "command_id": "visit-1"}))
    accepted(world.edu.post(f"/api/proposals/{P}/opinion", json={
        "bureau": "sh-edu", "summary": "意见", "at": "2020-03-20T10:00:00+08:00"}))
    clock.now = datetime(2020, 11, 21, 3, 0, tzinfo=timezone.utc)
    accepted(world.coordinator.post(f"/api/proposals/{P}/supervise", json={
        "bureau": "sh-edu", "note": "督办会办"}))
    accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved", "at": "2020-11-21T12:00:00+08:00"}))

    events = history(world.server, P, world.overseer)
    assert [(e["seq"], e["type"]) for e in events] == [
        (1, "ProposalSubmitted"), (2, "ProposalAssigned"), (3, "ContactLogged"),
        (4, "OpinionSubmitted"), (5, "ProposalSupervised"), (6, "ReplyIssued")]
    for event in events:
        assert set(event) >= {"position", "seq", "event_id", "type", "schema_version",
                              "occurred_at", "recorded_at", "actor", "command_id", "data"}
        assert event["command_id"]
        assert set(event["actor"]) == {"user", "bureau", "role"}
    assert at_time(events[2]["occurred_at"]) == datetime(2020, 3, 10, 2, 0, tzinfo=timezone.utc)
    assert at_time(events[2]["recorded_at"]) == datetime(2020, 11, 20, 2, 0, tzinfo=timezone.utc)
    assert events[2]["command_id"] == "visit-1"
    assert events[2]["actor"] == {"user": "test-clerk", "bureau": "sh-ipa", "role": "clerk"}
    assert events[2]["data"]["method"] == "visit"
    assert at_time(events[4]["occurred_at"]) == at_time(events[4]["recorded_at"]) == clock.now
    assert [e["position"] for e in events] == sorted(e["position"] for e in events)

    # a clerk sees proposal-level events and its own bureau's, and the lead its co-handlers'
    # opinions (the reply is written from them: banli.domain.permissions.event_for)
    seen = {b: [e["type"] for e in history(world.server, P, c)]
            for b, c in (("sh-ipa", world.ipa), ("sh-edu", world.edu))}
    assert seen["sh-ipa"] == ["ProposalSubmitted", "ProposalAssigned", "ContactLogged",
                              "OpinionSubmitted", "ReplyIssued"]
    assert seen["sh-edu"] == ["ProposalSubmitted", "ProposalAssigned", "OpinionSubmitted",
                              "ProposalSupervised"]
    assert expect(world.fin.get(f"/api/proposals/{P}/history"), 404)["detail"]["code"] == (
        "unknown_proposal")  # as unknown to a bureau without a duty as one never submitted
    for client in (world.admin, world.fin):
        body = expect(client.get("/api/proposals/nothing-here/history"), 404)
        assert body["detail"]["code"] == "unknown_proposal"


# --- reads: assignments -------------------------------------------------------------------------
def test_open_assignments_with_due_dates_and_the_injectable_clock(world, clock):
    clock.now = datetime(2020, 3, 5, 2, 0, tzinfo=timezone.utc)
    submit(world.coordinator, number="0050", at="2020-03-03T09:00:00+08:00")
    p2 = "2020-cppcc_proposal-0050"
    accepted(world.coordinator.post(f"/api/proposals/{p2}/assign", json={
        "lead": ["sh-fin"], "co": ["sh-ipa"], "reply_due": "2020-03-10"}))

    every = expect(world.coordinator.get("/api/assignments"), 200)
    assert every["bureau"] is None and every["today"] == "2020-03-05"
    items = {(i["proposal_id"], i["bureau"]): i for i in every["items"]}
    assert set(items) == {(P, "sh-ipa"), (P, "sh-edu"), (p2, "sh-fin"), (p2, "sh-ipa")}
    lead = items[(P, "sh-ipa")]
    assert lead == {
        "proposal_id": P, "bureau": "sh-ipa", "role": "lead", "kind": "cppcc_proposal",
        "level": "municipal", "year": 2020, "number": "0042",
        "display": "市政协提案 0042", "display_en": "municipal CPPCC proposal 0042",
        "title": "关于加强知识产权人才培养的建议", "assigned_on": "2020-03-02", "due": "2020-06-02",
        "owed": "reply", "overdue": False, "due_soon": False, "days_left": 89}
    assert items[(P, "sh-edu")]["owed"] == "opinion" and items[(P, "sh-edu")]["due"] == (
        "2020-04-02")
    assert items[(p2, "sh-fin")]["due_soon"] is True and items[(p2, "sh-fin")]["days_left"] == 5
    assert every["overdue"] == 0 and every["due_soon"] == 1

    # time passes: the injectable clock moves, the dates stay
    clock.now = datetime(2020, 4, 10, 2, 0, tzinfo=timezone.utc)
    every = expect(world.overseer.get("/api/assignments"), 200)
    assert every["today"] == "2020-04-10"
    overdue = {(i["proposal_id"], i["bureau"]) for i in every["items"] if i["overdue"]}
    assert overdue == {(P, "sh-edu"), (p2, "sh-fin"), (p2, "sh-ipa")}
    assert every["overdue"] == 3

    # per bureau: the route, the query parameter, and a clerk's default
    ipa = expect(world.coordinator.get("/api/bureaus/sh-ipa/assignments"), 200)
    assert ipa["bureau"] == "sh-ipa"
    assert {(i["proposal_id"], i["role"]) for i in ipa["items"]} == {(P, "lead"), (p2, "co")}
    assert ipa["overdue"] == 1
    assert expect(world.ipa.get("/api/assignments"), 200) == ipa
    assert expect(world.ipa.get("/api/assignments", params={"bureau": "sh-ipa"}), 200) == ipa
    assert expect(world.ipa.get("/api/bureaus/sh-ipa/assignments"), 200) == ipa
    forbidden(world.ipa.get("/api/bureaus/sh-edu/assignments"))
    forbidden(world.ipa.get("/api/assignments", params={"bureau": "sh-edu"}))
    assert expect(world.admin.get("/api/bureaus/nobody/assignments"), 200)["items"] == []

    # a duty done is no longer owed; a reopened one is owed again with its own due date
    accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "deferred"}))
    accepted(world.edu.post(f"/api/proposals/{P}/opinion", json={"bureau": "sh-edu"}))
    assert [(i["proposal_id"], i["role"]) for i in expect(
        world.ipa.get("/api/assignments"), 200)["items"]] == [(p2, "co")]
    assert expect(world.edu.get("/api/assignments"), 200)["items"] == []
    accepted(world.coordinator.post(f"/api/proposals/{P}/feedback", json={
        "bureau": "sh-ipa", "satisfaction": "dissatisfied"}))
    accepted(world.ipa.post(f"/api/proposals/{P}/reopen", json={
        "bureau": "sh-ipa", "reason": "不满意", "reply_due": "2020-05-10"}))
    (item,) = [i for i in expect(world.ipa.get("/api/assignments"), 200)["items"]
               if i["proposal_id"] == P]
    assert item["owed"] == "re-reply" and item["due"] == "2020-05-10"
    assert item["overdue"] is False
    clock.now = datetime(2020, 5, 11, 2, 0, tzinfo=timezone.utc)
    (item,) = [i for i in expect(world.ipa.get("/api/assignments"), 200)["items"]
               if i["proposal_id"] == P]
    assert item["overdue"] is True and item["days_left"] == -1


# --- reads: the report --------------------------------------------------------------------------
@pytest.mark.parametrize("scope,years,as_of", [
    (("--bureau", "sh-ipa"), "2020", "2020-11-20"),
    (("--bureau", "sh-ipa"), "2019-2020", "2020-11-20"),
    (("--bureau", "sh-ipa"), "2019-2020", "2020-05-01"),
    (("--bureau", "sh-edu"), "2020", "2020-12-31"),
    (("--all",), "2019-2020", "2020-11-20"),
])
def test_report_is_the_json_of_banli_report_history(server, clock, tmp_path, capsys, scope, years,
                                                    as_of):
    clock.now = AFTER_THE_REPORT_COMMANDS
    path = tmp_path / "history.jsonl"
    path.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n" for c in REPORT_COMMANDS),
                    encoding="utf-8")
    admin = server.client("admin")
    importer = server.client("importer")  # a migration, as `banli report --history` takes it
    for command in REPORT_COMMANDS:
        accepted(importer.post("/api/commands", json=command))

    params = {"years": years, "as_of": as_of}
    params |= {"bureau": scope[1]} if scope[0] == "--bureau" else {"all": "true"}
    cli_args = [*scope, "--years", years, "--as-of", as_of]
    served = expect(admin.get("/api/report", params=params), 200)
    expected = json.loads(cli_report(capsys, path, *cli_args))
    assert served == expected
    assert served["scope"]["profile"] == "default"
    # a profile that changes only what counts as adopted can be asked of any history
    served = expect(admin.get("/api/report", params={**params, "profile": "adopt_planned"}), 200)
    assert served == json.loads(cli_report(capsys, path, *cli_args, "--profile",
                                            "adopt_planned"))
    for lang in ("zh", "en"):
        r = admin.get("/api/report", params={**params, "format": "text", "lang": lang})
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
        assert r.text == cli_report(capsys, path, *cli_args, "--format", "text",
                                     "--lang", lang)
    for kind in ("npc_suggestion", "cppcc_proposal"):
        served = expect(admin.get("/api/report", params={**params, "kind": kind}), 200)
        assert served == json.loads(cli_report(capsys, path, *cli_args, "--kind", kind))


def test_report_numbers_and_who_may_read_them(server, clock):
    clock.now = AFTER_THE_REPORT_COMMANDS
    importer = server.client("importer")
    for command in REPORT_COMMANDS:
        accepted(importer.post("/api/commands", json=command))
    clerk = server.client("clerk", "sh-ipa")
    params = {"bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}
    report = expect(clerk.get("/api/report", params=params), 200)
    assert report["proposals"] == 4
    assert report["assignments"] == {"npc_suggestion": {"lead": 2, "co": 0},
                                     "cppcc_proposal": {"lead": 1, "co": 1}}
    assert report["results"] == {"solved": 1, "planned": 1, "deferred": 0, "reference": 0}
    # 1 on time (#1), 1 replied late (#2), 1 due and not replied (#5)
    assert report["rates"]["on_time_reply"] == pytest.approx(1 / 3)
    text = clerk.get("/api/report", params={**params, "format": "text"}).text
    assert "上海市知识产权局" in text
    text = clerk.get("/api/report", params={**params, "format": "text", "lang": "en"}).text
    assert "Shanghai IP Administration" in text
    # the audit clock: nothing had been recorded before the clock's reading
    audit = expect(clerk.get("/api/report", params={
        **params, "recorded_by": "2021-01-04T01:59:59Z"}), 200)
    assert audit["proposals"] == 0 and audit["rates"]["on_time_reply"] is None
    assert expect(clerk.get("/api/report", params={
        **params, "recorded_by": "2021-01-04T02:00:00Z"}), 200) == report
    assert expect(clerk.get("/api/report", params={
        **params, "recorded_by": "2021-01-04T09:59:59+08:00"}), 200)["proposals"] == 0
    assert expect(clerk.get("/api/report", params={
        **params, "recorded_by": "2021-01-04T10:00:00+08:00"}), 200) == report
    # a clerk reads its own bureau only; oversight reads everything
    forbidden(clerk.get("/api/report", params={**params, "bureau": "sh-edu"}))
    forbidden(clerk.get("/api/report", params={"all": "true", "years": "2020",
                                               "as_of": "2020-11-20"}))
    for role in ("overseer", "coordinator", "admin"):
        client = server.client(role)
        assert expect(client.get("/api/report", params=params), 200) == report
        expect(client.get("/api/report", params={"all": "true", "years": "2020",
                                                 "as_of": "2020-11-20"}), 200)
