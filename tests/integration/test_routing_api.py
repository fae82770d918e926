"""Routing from history over real HTTP (the embedded app): suggestions at intake and for a
submitted proposal, a proposal's routing lineage, and days lost to misrouting per bureau —
with who may ask, and the refusals."""
from __future__ import annotations

import httpx
import pytest

from banli.web.app import build_app
from services.reporting.http.deps import ReportingPorts
from services.reporting.http.routing_api import router as routing_router
from services.reporting.projections.suggestions import Suggester
from banli.auth import Authority
from banli.settings import Settings
from tests.conftest import SECRET, LiveServer, token_for
from tests.integration.http_world import (
    HAN,
    accepted,
    expect,
    forbidden,
    malformed,
    register_bureaus,
)

EDU_A, EDU_B, IPA_A, FIN_A = ("2020-cppcc_proposal-0101", "2020-cppcc_proposal-0102",
                              "2020-cppcc_proposal-0103", "2020-cppcc_proposal-0104")
NEW = "2020-cppcc_proposal-0200"


def submit(coordinator, number: str, title: str, topics: list[str], at: str, **more) -> str:
    accepted(coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": number, "title": title,
        "filers": [{"name": "张委员"}], "affiliation": "教育界别", "topics": topics, "at": at,
        **more}), "ProposalSubmitted")
    return f"2020-cppcc_proposal-{number}"


def assign(coordinator, pid: str, lead: list[str], co: list[str], at: str) -> None:
    accepted(coordinator.post(f"/api/proposals/{pid}/assign",
                              json={"lead": lead, "co": co, "at": at}), "ProposalAssigned")


class History:
    """Past proposals on education, IP and finance. One on education went to the financial
    bureau first: it returned it and the coordinator reassigned it to education. On the IP one,
    the financial bureau was a co-handler removed unheard, and education one removed after its
    opinion (handled: not misrouted)."""

    def __init__(self, server):
        register_bureaus(server)
        self.server = server
        c = self.coordinator = server.client("coordinator")
        submit(c, "0101", "关于推进义务教育优质均衡发展的提案", ["教育"], "2020-01-10T09:00:00+08:00",
               summary="建议加强中小学师资均衡配置")
        assign(c, EDU_A, ["sh-edu"], [], "2020-01-20T09:00:00+08:00")
        submit(c, "0102", "关于加强中小学体育和心理健康教育的提案", ["教育"],
               "2020-01-11T09:00:00+08:00")
        assign(c, EDU_B, ["sh-fin"], ["sh-ipa"], "2020-01-21T09:00:00+08:00")
        accepted(server.client("clerk", "sh-fin").post(f"/api/proposals/{EDU_B}/return", json={
            "bureau": "sh-fin", "reason": "不属于本单位职责", "at": "2020-01-24T09:00:00+08:00"}),
            "AssignmentReturned")
        accepted(c.post("/api/commands", json={
            "type": "reassign", "proposal": EDU_B, "add_lead": ["sh-edu"],
            "at": "2020-01-31T09:00:00+08:00"}), "ProposalReassigned")
        submit(c, "0103", "关于加大专利侵权惩处力度的提案", ["知识产权保护"],
               "2020-01-12T09:00:00+08:00")
        assign(c, IPA_A, ["sh-ipa"], ["sh-fin", "sh-edu"], "2020-01-22T09:00:00+08:00")
        accepted(server.client("clerk", "sh-edu").post(f"/api/proposals/{IPA_A}/opinion", json={
            "bureau": "sh-edu", "summary": "同意", "at": "2020-01-25T09:00:00+08:00"}),
            "OpinionSubmitted")
        accepted(c.post("/api/commands", json={
            "type": "reassign", "proposal": IPA_A, "remove": ["sh-fin", "sh-edu"],
            "at": "2020-02-01T09:00:00+08:00"}), "ProposalReassigned")
        submit(c, "0104", "关于推广知识产权质押融资的提案", ["金融"], "2020-01-13T09:00:00+08:00")
        assign(c, FIN_A, ["sh-fin"], ["sh-ipa"], "2020-01-23T09:00:00+08:00")


@pytest.fixture
def past(server) -> History:
    return History(server)


# --- suggestions ---------------------------------------------------------------------------
def test_a_new_proposal_gets_similar_ones_and_the_bureau_that_handled_them(past):
    body = expect(past.coordinator.post("/api/routing/suggest", json={
        "title": "关于加强中小学心理健康教育的建议", "topics": ["教育"], "kind": "npc_suggestion"}),
        200)
    assert body["based_on"] == 4 and "tfidf" in body["method"]
    assert [s["proposal_id"] for s in body["similar"][:2]] == [EDU_B, EDU_A]
    assert body["similar"][0]["leads"] == ["sh-edu"]  # who handled it, not who returned it
    assert body["similar"][0]["score"] > body["similar"][1]["score"] > 0
    lead = body["lead"][0]
    assert (lead["bureau"], lead["name"], lead["support"]) == ("sh-edu", "上海市教育委员会", 2)
    assert lead["name_en"] == "Shanghai Education Commission" and 0.5 < lead["score"] <= 1
    assert "sh-fin" not in [b["bureau"] for b in body["lead"][:1]]
    assert [b["bureau"] for b in body["co"]] == ["sh-ipa"]  # co-handled the misrouted one


def test_the_limit_bounds_every_list(past):
    body = expect(past.server.client("overseer").post("/api/routing/suggest", json={
        "title": "关于知识产权的提案", "limit": 1}), 200)
    assert len(body["similar"]) == 1 and len(body["lead"]) == 1 and len(body["co"]) <= 1


def test_a_submitted_proposal_gets_suggestions_without_itself(past):
    submit(past.coordinator, "0200", "关于发展职业教育产教融合的提案", ["教育"],
           "2020-03-01T09:00:00+08:00")
    body = expect(past.coordinator.get(f"/api/proposals/{NEW}/suggestions"), 200)
    assert body["proposal_id"] == NEW and body["leads"] == [] and body["cos"] == []
    assert NEW not in [s["proposal_id"] for s in body["similar"]]
    assert body["lead"][0]["bureau"] == "sh-edu"
    # an assigned one is routed the same way, from the others
    again = expect(past.coordinator.get(f"/api/proposals/{EDU_A}/suggestions",
                                        params={"limit": 2}), 200)
    assert again["leads"] == ["sh-edu"] and len(again["similar"]) <= 2
    assert EDU_A not in [s["proposal_id"] for s in again["similar"]]


def test_the_index_follows_new_history(past):
    query = {"title": "河道水环境整治", "topics": ["生态环境"]}  # nothing like it yet
    assert expect(past.coordinator.post("/api/routing/suggest", json=query), 200)["lead"] == []
    submit(past.coordinator, "0300", "关于加强河道水环境治理的提案", ["生态环境"],
           "2020-03-02T09:00:00+08:00")
    assign(past.coordinator, "2020-cppcc_proposal-0300", ["sh-ipa"], [],
           "2020-03-09T09:00:00+08:00")
    body = expect(past.coordinator.post("/api/routing/suggest", json=query), 200)
    assert body["based_on"] == 5 and body["lead"][0]["bureau"] == "sh-ipa"


def test_suggestions_are_for_coordinators_overseers_and_admins(past):
    query = {"title": "关于教育的提案"}
    for role in ("coordinator", "overseer", "admin"):
        expect(past.server.client(role).post("/api/routing/suggest", json=query), 200)
    for client in (past.server.client("clerk", "sh-edu"), past.server.client("importer")):
        forbidden(client.post("/api/routing/suggest", json=query))
        forbidden(client.get(f"/api/proposals/{EDU_A}/suggestions"))
    assert past.server.client(None).post("/api/routing/suggest", json=query).status_code == 401


def test_suggestion_requests_are_checked(past):
    c = past.coordinator
    nothing = expect(c.post("/api/routing/suggest", json={"title": "  ", "topics": []}), 422)
    assert nothing["detail"]["code"] == "nothing_to_route"
    assert HAN.search(nothing["detail"]["message"]) and nothing["detail"]["message_en"]
    malformed(c.post("/api/routing/suggest", json={"title": "教育", "limit": 0}))
    malformed(c.post("/api/routing/suggest", json={"title": "教育", "limit": 21}))
    malformed(c.post("/api/routing/suggest", json={"title": "教育", "kind": "petition"}))
    malformed(c.post("/api/routing/suggest", json={"title": "教育", "lead": ["sh-edu"]}))
    malformed(c.post("/api/routing/suggest", json={"title": "教" * 501}))
    malformed(c.get(f"/api/proposals/{EDU_A}/suggestions", params={"limit": 0}))
    unknown = expect(c.get("/api/proposals/no-such/suggestions"), 404)
    assert unknown["detail"]["code"] == "unknown_proposal"


def test_without_the_projections_a_service_says_who_has_them(tmp_path):
    # distributed intake over chDB (which only reporting may open) has no index: 503, not 500
    app = build_app("intake without projections", [routing_router],
                    ReportingPorts(authority=Authority(tmp_path, SECRET)),
                    Settings(data_dir=tmp_path, secret=SECRET))
    with LiveServer(app) as live:
        r = httpx.post(f"{live.url}/api/routing/suggest", json={"title": "教育"}, timeout=30,
                       headers={"Authorization": f"Bearer {token_for(SECRET, 'coordinator')}"})
    assert r.status_code == 503 and r.json()["detail"]["code"] == "routing_unavailable"
    assert "8003" in r.json()["detail"]["message_en"]
    assert HAN.search(r.json()["detail"]["message"])


def test_the_distributed_services_that_can_read_the_projections_serve_suggestions(past):
    from apps.intake import suggester
    from apps.reporting import create_api

    settings = past.server.system.settings
    # reporting holds the projections: it serves suggestions, from the same tables
    with LiveServer(create_api(settings, past.server.system.reporting)) as reporting:
        r = httpx.post(f"{reporting.url}/api/routing/suggest", timeout=60,
                       json={"title": "关于中小学心理健康教育的提案"},
                       headers={"Authorization": f"Bearer {token_for(SECRET, 'overseer')}"})
    assert r.status_code == 200, r.text
    assert r.json()["based_on"] == 4 and r.json()["lead"][0]["bureau"] == "sh-edu"
    # intake: only over a ClickHouse server (chDB opens in one process), connected when asked
    assert suggester(settings) is None
    assert isinstance(suggester(settings.model_copy(update={
        "clickhouse_dsn": "http://banli:banli@127.0.0.1:9/"})), Suggester)


# --- lineage -------------------------------------------------------------------------------
def test_a_proposals_lineage_keeps_every_return_and_reassignment_with_its_time(past):
    body = expect(past.server.client("overseer").get(f"/api/proposals/{EDU_B}/lineage"), 200)
    steps = body["steps"]
    assert [s["action"] for s in steps] == ["assigned", "returned", "reassigned"]
    assert [s["occurred_at"][:10] for s in steps] == ["2020-01-21", "2020-01-24", "2020-01-31"]
    assert all(s["recorded_at"] and s["actor"]["role"] for s in steps)
    assert steps[0]["started"] == [{"bureau": "sh-fin", "role": "lead", "due": "2020-04-21"},
                                   {"bureau": "sh-ipa", "role": "co", "due": "2020-02-21"}]
    assert steps[1]["reason"] == "不属于本单位职责" and steps[1]["actor"]["bureau"] == "sh-fin"
    assert steps[1]["ended"] == [{"bureau": "sh-fin", "role": "lead", "how": "returned",
                                  "assigned_on": "2020-01-21", "ended_on": "2020-01-24",
                                  "handled": False, "days": 3}]
    assert [d["bureau"] for d in steps[2]["started"]] == ["sh-edu"]
    removed = expect(past.coordinator.get(f"/api/proposals/{IPA_A}/lineage"), 200)["steps"][-1]
    assert [(d["bureau"], d["handled"], d["days"]) for d in removed["ended"]] == [
        ("sh-fin", False, 10), ("sh-edu", True, 10)]


def test_a_clerk_sees_its_own_bureaus_part_of_a_lineage(past):
    fin = past.server.client("clerk", "sh-fin")
    steps = expect(fin.get(f"/api/proposals/{EDU_B}/lineage"), 200)["steps"]
    assert [s["action"] for s in steps] == ["assigned", "returned"]
    assert [d["bureau"] for d in steps[0]["started"]] == ["sh-fin"]
    assert expect(past.server.client("clerk", "sh-edu").get(f"/api/proposals/{FIN_A}/lineage"),
                  404)["detail"]["code"] == "unknown_proposal"  # unknown to a bureau not on it
    assert expect(past.coordinator.get("/api/proposals/no-such/lineage"), 404)[
        "detail"]["code"] == "unknown_proposal"


# --- misrouting ----------------------------------------------------------------------------
def test_days_lost_to_misrouting_per_bureau(past):
    body = expect(past.server.client("overseer").get(
        "/api/misrouting", params={"years": "2020", "as_of": "2020-12-31"}), 200)
    assert body["scope"] == {"bureau": None, "years": [2020, 2020], "as_of": "2020-12-31"}
    assert HAN.search(body["definition"]) and body["definition_en"]
    # sh-fin: returned a lead (3 days), removed unheard as a co-handler (10 days); sh-edu's
    # removal after its opinion is not misrouting
    assert body["bureaus"] == [{"bureau": "sh-fin", "name": "上海市地方金融监督管理局",
                                "name_en": "Shanghai Financial Regulatory Bureau",
                                "returned": 1, "removed": 1, "as_lead": 1, "as_co": 1,
                                "days_lost": 13, "bounced": 2}]
    assert body["total"] == {"bounced": 2, "days_lost": 13}
    # as of a day between the return and the removal; and other years
    early = expect(past.coordinator.get("/api/misrouting", params={
        "years": "2020", "as_of": "2020-01-25"}), 200)
    assert [(b["bureau"], b["returned"], b["removed"], b["days_lost"])
            for b in early["bureaus"]] == [("sh-fin", 1, 0, 3)]
    assert expect(past.coordinator.get("/api/misrouting", params={
        "years": "2018-2019", "as_of": "2020-12-31"}), 200)["bureaus"] == []


def test_a_clerk_reads_its_own_bureaus_misrouting(past):
    fin = past.server.client("clerk", "sh-fin")
    own = expect(fin.get("/api/misrouting", params={"years": "2020", "as_of": "2020-12-31"}),
                 200)
    assert own["scope"]["bureau"] == "sh-fin" and own["total"]["bounced"] == 2
    edu = past.server.client("clerk", "sh-edu")
    assert expect(edu.get("/api/misrouting", params={"years": "2020", "as_of": "2020-12-31"}),
                  200)["bureaus"] == []
    forbidden(edu.get("/api/misrouting", params={"years": "2020", "as_of": "2020-12-31",
                                                  "bureau": "sh-fin"}))


def test_misrouting_requests_are_checked(past):
    c = past.coordinator
    malformed(c.get("/api/misrouting", params={"years": "20", "as_of": "2020-12-31"}))
    malformed(c.get("/api/misrouting", params={"years": "2020"}))
    bad = expect(c.get("/api/misrouting", params={"years": "2021-2020", "as_of": "2020-12-31"}),
                 422)
    assert bad["detail"]["code"] == "bad_years"
    malformed(c.get("/api/misrouting", params={"years": "2020", "as_of": "0001-01-01"}))
    assert past.server.client(None).get("/api/misrouting").status_code == 401
