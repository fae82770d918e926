"""Command ids are scoped to their sender on the distributed deployment too (intake, handling and
reporting as processes over a real Kafka broker), over HTTP: the ids a spreadsheet's rows are
given (banli.sheets.command_id: from the item's natural key, the command's type and the bureau,
known in advance) sent first by others, refused and accepted, block neither the coordinator's
assignment list (交办清单) nor a bureau's reply list, and each sender's poll of an id answers
with its own command. tests/integration/test_command_ids.py does the same on `banli serve`."""
from __future__ import annotations

import httpx
import pytest

from banli.sheets import command_id
from tests.conftest import token_for
from tests.e2e.stack import Stack
from tests.e2e.test_distributed_product import events_of, running
from tests.integration.test_sheets_http import BUREAUS, assignment_list, reply_list, upload

pytestmark = [pytest.mark.kafka, pytest.mark.slow]

KEY = "municipal/cppcc_proposal/2020/{}".format
P101 = "2020-cppcc_proposal-101"


def answer(response: httpx.Response, status: int = 200) -> dict:
    assert response.status_code == status, response.text
    return response.json()


def squat(client: httpx.Client, ids: list[str], body: dict) -> list[dict]:
    """Send a command under each of these ids (refused or not, it is the attacker's)."""
    return [client.post("/api/commands", json={**body, "command_id": cid}).json()
            for cid in ids]


def test_squatting_sheet_row_ids_blocks_nothing_over_kafka(kafka_broker, tmp_path):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    stack.env["BANLI_CLERK_BACKDATE_DAYS"] = "36500"  # the lists are of 2020, the clock today's
    try:
        reporting, handling, intake = running(stack)
        admin = stack.client(intake, "admin")
        for bureau, (name, name_en) in BUREAUS.items():
            answer(admin.post("/api/bureaus", json={
                "bureau": bureau, "name": name, "name_en": name_en,
                "at": "2020-01-02T09:00:00+08:00"}), 201)

        # the 交办清单's ids, used first: refused (a clerk may not assign), and accepted (an
        # importer's own submission of another item under the first row's id)
        ids = [command_id(KEY(n), kind) for n in ("101", "102", "104")
               for kind in ("submit", "assign")]
        clerk = stack.client(intake, "clerk", "sh-fin")
        refused = squat(clerk, ids, {"type": "assign", "proposal": P101, "lead": ["sh-fin"]})
        assert {r["code"] for r in refused} == {"forbidden"}, refused
        importer = stack.client(intake, "importer")
        [taken] = squat(importer, ids[:1], {
            "type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "900",
            "title": "抢注的提案", "at": "2020-01-05T09:00:00+08:00"})
        assert taken["accepted"] is True, taken
        coordinator = stack.client(reporting, "coordinator")
        events_of(coordinator)  # the bureaus projected: the preview reads them there

        preview = answer(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                                kind="cppcc_proposal", year=2020))
        done = answer(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"))
        assert done["counts"]["imported"] == 3 and done["counts"]["refused"] == 0, done
        # each sender's poll of the first id answers with its own command
        mine = answer(coordinator.get(f"/api/commands/{ids[0]}"))
        assert mine["accepted"] and mine["events"][0]["proposal_id"] == P101
        theirs = answer(importer.get(f"/api/commands/{ids[0]}"))
        assert theirs["events"][0]["proposal_id"] == "2020-cppcc_proposal-900"
        assert answer(clerk.get(f"/api/commands/{ids[1]}"))["accepted"] is False
        again = answer(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"))
        assert again["counts"]["already"] == 3, again  # nothing decided twice
        events_of(coordinator)

        # sh-ipa's reply list for 101: its ids used first by a co-handler's clerk (refused:
        # not its bureau's reply) and by a colleague of the same bureau (a contact accepted,
        # a reply refused: dated before the assignment)
        replies = [command_id(KEY("101"), kind, "sh-ipa")
                   for kind in ("log_contact", "reply", "decide_disclosure")]
        co_handler = stack.client(intake, "clerk", "sh-edu")
        assert {r["code"] for r in squat(co_handler, replies, {
            "type": "reply", "proposal": P101, "bureau": "sh-ipa",
            "result": "reference"})} == {"wrong_bureau"}
        colleague = httpx.Client(base_url=intake.url, timeout=600, headers={
            "Authorization": f"Bearer {token_for(stack.secret, 'clerk', 'sh-ipa', 'mallory')}"})
        [contact] = squat(colleague, replies[:1], {
            "type": "log_contact", "proposal": P101, "bureau": "sh-ipa", "stage": "before",
            "method": "visit", "at": "2020-03-01T09:00:00+08:00"})
        assert contact["accepted"] is True, contact
        [late] = squat(colleague, replies[1:2], {
            "type": "reply", "proposal": P101, "bureau": "sh-ipa", "result": "reference",
            "at": "2020-01-01T09:00:00+08:00"})
        assert late["accepted"] is False
        events_of(coordinator)

        own = stack.client(reporting, "clerk", "sh-ipa")
        listed = answer(upload(own, "/api/sheets/replies", reply_list(
            [("101", "A类", "2020-04-01", "全文公开", "电话")]), kind="cppcc_proposal", year=2020))
        assert [cmd["command_id"] for row in listed["preview"]["rows"]
                for cmd in row["commands"]] == replies
        done = answer(own.post(f"/api/sheets/{listed['preview_id']}/commit"))
        assert done["counts"]["imported"] == 1 and done["counts"]["refused"] == 0, done
        events_of(coordinator)
        history = answer(coordinator.get(f"/api/proposals/{P101}/history"))["events"]
        issued = [e for e in history if e["type"] == "ReplyIssued"]
        assert [(e["data"]["result"], e["actor"]["user"], e["command_id"]) for e in issued] == [
            ("solved", "test-clerk", replies[1])]
        assert answer(colleague.get(f"/api/commands/{replies[1]}"))["accepted"] is False
        colleague.close()
    finally:
        stack.stop()
