"""Command ids are scoped to their sender, over real HTTP on the embedded system: no one can make
another's command fail, or read its answer, by choosing ids. The attacks are on the ids that
are easiest to know in advance, those a spreadsheet's rows are given (banli.sheets: derived
from the item's natural key, the command's type and the bureau, the same for every import of
the sheet): a coordinator's assignment list (交办清单) and a bureau's reply list."""
from __future__ import annotations

from banli.domain import commands as c
from banli.domain.types import Actor
from banli.sheets import command_id
from tests.conftest import token_for
from tests.integration.test_http_api import expect
from tests.integration.test_sheets_http import (assignment_list, register, reply_list, upload)

KEY = "municipal/cppcc_proposal/2020/{}".format
P101 = "2020-cppcc_proposal-101"


def clerk_named(server, bureau: str, user: str):
    return server.client(token=token_for(server.system.settings.secret, "clerk", bureau, user))


def squat(client, ids: list[str], body: dict) -> list[dict]:
    """Send a command under each of these ids (refused or not, it is the attacker's)."""
    return [client.post("/api/commands", json={**body, "command_id": cid}).json()
            for cid in ids]


def test_squatting_an_assignment_lists_row_ids_blocks_nothing(server):
    """Every signed-in user sends commands under the ids the coordinator's 交办清单 rows will
    carry, before the coordinator imports it: refused ones (a clerk may not submit, nor assign)
    and accepted ones (an importer's own submit of another item). The import then takes every
    row; each side's poll answers with its own command; the sheet imported again decides
    nothing twice."""
    coordinator = server.client("coordinator")
    register(coordinator)
    rows = ("101", "102", "104")
    ids = [command_id(KEY(n), kind) for n in rows for kind in ("submit", "assign")]
    clerk = server.client("clerk", "sh-fin")
    refused = squat(clerk, ids, {"type": "assign", "proposal": P101, "lead": ["sh-fin"]})
    refused += squat(server.client("clerk", "sh-edu"), ids, {
        "type": "acknowledge", "proposal": P101, "bureau": "sh-edu"})
    assert {r["code"] for r in refused} == {"forbidden", "unknown_proposal"}, refused
    # (its own ids, for something else: that sender's conflict, nobody else's)
    assert {r["code"] for r in squat(clerk, ids, {"type": "acknowledge", "proposal": P101,
                                                  "bureau": "sh-fin"})} == {
        "command_id_conflict"}
    importer = server.client("importer")
    taken = squat(importer, ids[:1], {
        "type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "900",
        "title": "抢注的提案", "at": "2020-01-05T09:00:00+08:00"})
    assert taken[0]["accepted"] is True
    another_session = server.client("coordinator")  # the same person, signed in again
    preview = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                            kind="cppcc_proposal", year=2020), 200)
    done = expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert done["counts"]["imported"] == 3 and done["counts"]["refused"] == 0, done
    history = expect(coordinator.get(f"/api/proposals/{P101}/history"), 200)["events"]
    assert [e["type"] for e in history] == ["ProposalSubmitted", "ProposalAssigned"]
    assert {e["command_id"] for e in history} == set(ids[:2])
    # each sender's poll of the same id answers with its own command
    mine = expect(coordinator.get(f"/api/commands/{ids[0]}"), 200)
    assert mine["accepted"] and mine["events"][0]["proposal_id"] == P101
    theirs = expect(importer.get(f"/api/commands/{ids[0]}"), 200)
    assert theirs["accepted"] and theirs["events"][0]["proposal_id"] == "2020-cppcc_proposal-900"
    assert expect(clerk.get(f"/api/commands/{ids[1]}"), 200)["accepted"] is False
    # the same sheet again: nothing decided twice
    count = server.system.log.count()
    again = expect(upload(another_session, "/api/sheets/assignments", assignment_list(),
                          kind="cppcc_proposal", year=2020), 200)
    expect(another_session.post(f"/api/sheets/{again['preview_id']}/commit"), 200)
    expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert server.system.log.count() == count


def test_squatting_a_reply_lists_row_ids_blocks_nothing(server):
    """Another bureau's clerk, and another clerk of the same bureau, send commands under the
    ids a bureau's reply list will carry (its contact, reply and disclosure of item 101),
    refused and accepted: the clerk's reply list then imports whole."""
    coordinator = server.client("coordinator")
    register(coordinator)
    preview = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                            kind="cppcc_proposal", year=2020), 200)
    expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    ids = [command_id(KEY("101"), kind, "sh-ipa")
           for kind in ("log_contact", "reply", "decide_disclosure")]
    other_bureau = server.client("clerk", "sh-edu")  # a co-handler of 101
    refused = squat(other_bureau, ids, {"type": "reply", "proposal": P101, "bureau": "sh-ipa",
                                        "result": "reference"})
    assert {r["code"] for r in refused} == {"wrong_bureau"}
    opinion = squat(clerk_named(server, "sh-edu", "edu-2"), ids[:1], {
        "type": "submit_opinion", "proposal": P101, "bureau": "sh-edu", "summary": "会办意见"})
    assert opinion[0]["accepted"] is True
    colleague = clerk_named(server, "sh-ipa", "mallory")
    contact = squat(colleague, ids[:1], {"type": "log_contact", "proposal": P101,
                                         "bureau": "sh-ipa", "stage": "before",
                                         "method": "visit", "at": "2020-03-01T09:00:00+08:00"})
    assert contact[0]["accepted"] is True
    late = squat(colleague, ids[1:2], {"type": "reply", "proposal": P101, "bureau": "sh-ipa",
                                       "result": "reference", "at": "2020-01-01T09:00:00+08:00"})
    assert late[0]["accepted"] is False  # dated before the assignment: refused, its own id

    clerk = server.client("clerk", "sh-ipa")
    replies = reply_list([("101", "A类", "2020-04-01", "全文公开", "电话")])
    preview = expect(upload(clerk, "/api/sheets/replies", replies, kind="cppcc_proposal",
                            year=2020), 200)
    assert [cmd["command_id"] for row in preview["preview"]["rows"]
            for cmd in row["commands"]] == ids
    done = expect(clerk.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert done["counts"]["imported"] == 1 and done["counts"]["refused"] == 0, done
    issued = [ev for ev in server.system.log.load(P101) if ev.type == "ReplyIssued"]
    assert [(ev.result, ev.actor.user, ev.command_id) for ev in issued] == [
        ("solved", "test-clerk", ids[1])]
    sender = c.actor_key(Actor(user="test-clerk", bureau="sh-ipa", role="clerk"))
    polled = expect(server.client("admin").get(f"/api/commands/{ids[1]}",
                                               params={"sender": sender}), 200)
    assert polled["accepted"] and polled["events"][0]["result"] == "solved"
    assert expect(colleague.get(f"/api/commands/{ids[1]}"), 200)["accepted"] is False
