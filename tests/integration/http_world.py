"""What the HTTP tests share (test_http_*.py and others): answers checked as the API gives
them, and the world every `world` test starts from (three bureaus, proposal P submitted and
assigned: lead sh-ipa, co sh-edu), set up the way a user would, over real HTTP."""
from __future__ import annotations

import re
from datetime import datetime, timezone


from apps.cli import main as cli_main

P = "2020-cppcc_proposal-0042"  # the derived id of the proposal every `world` test starts with
ASSIGNED_AT = "2020-03-02T10:00:00+08:00"
HAN = re.compile(r"[\u4e00-\u9fff]")

BUREAUS = {"sh-ipa": ("上海市知识产权局", "Shanghai IP Administration"),
           "sh-edu": ("上海市教育委员会", "Shanghai Education Commission"),
           "sh-fin": ("上海市地方金融监督管理局", "Shanghai Financial Regulatory Bureau")}


# --- helpers ----------------------------------------------------------------------------------
def expect(response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def accepted(response, *types: str) -> dict:
    """A 201 answer whose events are of `types`, in order."""
    body = expect(response, 201)
    assert body["accepted"] is True
    if types:
        assert [e["type"] for e in body["events"]] == list(types)
    return body


def refused(response, code: str) -> dict:
    """A 409 answer with a stable code and messages in both languages."""
    body = expect(response, 409)
    assert body["accepted"] is False
    assert body["code"] == code, body
    assert HAN.search(body["message"]), body["message"]
    assert body["message_en"] and body["message_en"] != body["message"]
    assert isinstance(body["details"], dict)
    return body


def malformed(response) -> dict:
    body = expect(response, 422)
    assert body["detail"]["code"] == "malformed", body
    assert body["detail"]["message"] and body["detail"]["message_en"]
    assert body["detail"]["errors"], body
    return body


def unauthorized(response, code: str) -> dict:
    body = expect(response, 401)
    assert body["detail"]["code"] == code, body
    assert response.headers.get("www-authenticate") == "Bearer"
    return body


def forbidden(response) -> dict:
    body = expect(response, 403)
    assert body["detail"]["code"] == "forbidden", body
    assert HAN.search(body["detail"]["message"]) and body["detail"]["message_en"]
    return body


def at_time(text: str) -> datetime:
    return datetime.fromisoformat(text)


def history(server, proposal_id: str, client=None) -> list[dict]:
    client = client or server.client("admin")
    return expect(client.get(f"/api/proposals/{proposal_id}/history"), 200)["events"]


def register_bureaus(server, *bureaus: str) -> None:
    admin = server.client("admin")
    for bureau in bureaus or BUREAUS:
        name, name_en = BUREAUS[bureau]
        accepted(admin.post("/api/bureaus", json={"bureau": bureau, "name": name,
                                                  "name_en": name_en}), "BureauRegistered")


def submit(coordinator, number: str = "0042", **extra) -> dict:
    body = {"kind": "cppcc_proposal", "year": 2020, "number": number,
            "title": "关于加强知识产权人才培养的建议", "filers": [{"name": "张委员"}],
            "affiliation": "无党派人士界别", "topics": ["知识产权保护", "人才"],
            "at": "2020-02-20T09:00:00+08:00", **extra}
    return accepted(coordinator.post("/api/proposals", json=body), "ProposalSubmitted")


class World:
    """Three bureaus; proposal P submitted and assigned: lead sh-ipa, co sh-edu."""

    def __init__(self, server, clock):
        self.server, self.clock = server, clock
        register_bureaus(server)
        self.admin = server.client("admin")
        self.coordinator = server.client("coordinator")
        self.overseer = server.client("overseer")
        self.ipa = server.client("clerk", "sh-ipa")
        self.edu = server.client("clerk", "sh-edu")
        self.fin = server.client("clerk", "sh-fin")
        submit(self.coordinator)
        accepted(self.coordinator.post(f"/api/proposals/{P}/assign", json={
            "lead": ["sh-ipa"], "co": ["sh-edu"], "at": ASSIGNED_AT}), "ProposalAssigned")


# --- the report's history (reads, commands, replay) ---------------------------------------------
REPORT_COMMANDS = [
    {"type": "register_bureau", "bureau": "sh-ipa", "name": "上海市知识产权局",
     "name_en": "Shanghai IP Administration", "at": "2020-01-02T09:00:00+08:00"},
    {"type": "register_bureau", "bureau": "sh-edu", "name": "上海市教育委员会",
     "at": "2020-01-02T09:00:00+08:00"},
    *({"type": "submit", "kind": kind, "year": year, "number": str(n), "title": f"件{n}",
       "at": f"{year}-01-15T09:00:00+08:00"}
      for n, (kind, year) in enumerate([("npc_suggestion", 2020), ("cppcc_proposal", 2020),
                                        ("cppcc_proposal", 2020), ("cppcc_proposal", 2019),
                                        ("npc_suggestion", 2020)], start=1)),
    {"type": "assign", "proposal": "2020-npc_suggestion-1", "lead": ["sh-ipa"],
     "co": ["sh-edu"], "at": "2020-02-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-2", "lead": ["sh-ipa"],
     "at": "2020-02-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-3", "lead": ["sh-edu"],
     "co": ["sh-ipa"], "at": "2020-02-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2019-cppcc_proposal-4", "lead": ["sh-ipa"],
     "at": "2019-02-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-npc_suggestion-5", "lead": ["sh-ipa", "sh-edu"],
     "at": "2020-02-01T09:00:00+08:00"},
    {"type": "log_contact", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
     "stage": "before", "method": "visit", "at": "2020-02-10T09:00:00+08:00"},
    {"type": "submit_opinion", "proposal": "2020-npc_suggestion-1", "bureau": "sh-edu",
     "summary": "意见", "at": "2020-03-15T09:00:00+08:00"},   # late: due 2020-03-01
    {"type": "reply", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
     "result": "solved", "at": "2020-04-01T09:00:00+08:00"},
    {"type": "decide_disclosure", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
     "disclosure": "full", "at": "2020-04-02T09:00:00+08:00"},
    {"type": "record_feedback", "proposal": "2020-npc_suggestion-1", "bureau": "sh-ipa",
     "satisfaction": "satisfied", "at": "2020-04-20T09:00:00+08:00"},
    {"type": "reply", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "result": "reference", "at": "2020-06-01T09:00:00+08:00"},   # late: due 2020-05-01
    {"type": "decide_disclosure", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "disclosure": "withheld", "at": "2020-06-02T09:00:00+08:00"},
    {"type": "record_feedback", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "satisfaction": "dissatisfied", "at": "2020-06-20T09:00:00+08:00"},
    {"type": "reopen", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "reason": "不满意", "reply_due": "2020-09-01", "at": "2020-06-21T09:00:00+08:00"},
    {"type": "reply", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "result": "planned", "at": "2020-08-01T09:00:00+08:00"},
    {"type": "decide_disclosure", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "disclosure": "summary", "at": "2020-08-02T09:00:00+08:00"},
    {"type": "record_feedback", "proposal": "2020-cppcc_proposal-2", "bureau": "sh-ipa",
     "satisfaction": "basically_satisfied", "at": "2020-08-20T09:00:00+08:00"},
    {"type": "reply", "proposal": "2020-cppcc_proposal-3", "bureau": "sh-edu",
     "result": "deferred", "at": "2020-03-01T09:00:00+08:00"},
    {"type": "reply", "proposal": "2019-cppcc_proposal-4", "bureau": "sh-ipa",
     "result": "reference", "at": "2019-04-01T09:00:00+08:00"},
    {"type": "decide_disclosure", "proposal": "2019-cppcc_proposal-4", "bureau": "sh-ipa",
     "disclosure": "exempt", "at": "2019-04-02T09:00:00+08:00"},
    {"type": "revise_result", "proposal": "2019-cppcc_proposal-4", "bureau": "sh-ipa",
     "result": "solved", "note": "两年后采纳", "at": "2020-10-01T09:00:00+08:00"},
    {"type": "reply", "proposal": "2020-npc_suggestion-5", "bureau": "sh-edu",
     "result": "solved", "at": "2020-12-01T09:00:00+08:00"},   # after the as-of date
]
# The day the tests below type REPORT_COMMANDS in (nothing is recorded ahead of its time).
AFTER_THE_REPORT_COMMANDS = datetime(2021, 1, 4, 2, 0, tzinfo=timezone.utc)


def cli_report(capsys, path, *args: str) -> str:
    capsys.readouterr()
    assert cli_main(["report", "--history", str(path), *args]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out
