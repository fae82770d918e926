"""Filers on the embedded system over real HTTP (issue 21 §4, §5): a deputy or member signed in
reads only the proposals they filed, everywhere (their list, the history, the state, the
deadlines, the lineage, the live feed, the letters; the reports refused), and none of the
internal records; rates a lead's reply (不满意 lets the lead reopen it), counted as the filer's
own; and a lead and its co-handlers read each other's work where the rules need it."""
from __future__ import annotations

import asyncio

import pytest

from banli.domain.permissions import Parties
from services.reporting.http.live import LiveFeed, parties_of
from tests.conftest import token_for
from tests.integration.test_oversight_api import Listener

P, Q = "2020-cppcc_proposal-7", "2020-cppcc_proposal-8"
UNKNOWN = "2020-cppcc_proposal-424242"
ZHANG, LI, WANG = "d-zhang", "d-li", "d-wang"
SECTOR = "经济界别"
LETTER = b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n%%EOF\n"
INTERNAL = {"AssignmentReturned", "OpinionSubmitted", "ProposalSupervised", "ReplyDrafted",
            "ReplySignedOff", "ReplyRegraded", "ReplyApproved"}


def at(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def ok(response, status: int = 201):
    assert response.status_code == status, response.text
    return response.json()


def filer(server, who: str):
    return server.client("filer", filer=who, token=token_for(
        server.system.settings.secret, "filer", user=who.replace("d-", ""), filer=who))


def seed(server) -> dict:
    """Three bureaus and three filers; P filed by 张伟 (lead) and 李娜, handled by sh-ipa with
    sh-hrss co-handling (sh-jrj returned it), with a draft, an opinion, a supervision, an
    extension, a contact and a reply with its letter (not disclosed); Q filed by 王芳."""
    admin, coordinator = server.client("admin"), server.client("coordinator")
    for bureau, name in (("sh-ipa", "上海市知识产权局"), ("sh-hrss", "上海市人力资源和社会保障局"),
                         ("sh-jrj", "上海市地方金融监督管理局")):
        ok(admin.post("/api/bureaus", json={"bureau": bureau, "name": name}))
    for who, name, account in ((ZHANG, "张伟", "zhangwei"), (LI, "李娜", "lina"),
                               (WANG, "王芳", "wangfang")):
        ok(coordinator.post("/api/filers", json={"filer": who, "name": name, "account": account,
                                                 "affiliation": SECTOR, "term": "十四届"}))
    for number, names in (("7", ["张伟", "李娜"]), ("8", ["王芳"])):
        body = ok(coordinator.post("/api/proposals", json={
            "kind": "cppcc_proposal", "year": 2020, "number": number, "affiliation": SECTOR,
            "title": f"关于第{number}号事项的提案", "filers": [{"name": n} for n in names],
            "at": at("2020-02-01")}))
        assert body["events"][0]["filer_ids"]  # linked by name and affiliation
    ok(coordinator.post(f"/api/proposals/{P}/assign", json={
        "lead": ["sh-ipa"], "co": ["sh-hrss", "sh-jrj"], "at": at("2020-02-03")}))
    ok(coordinator.post(f"/api/proposals/{Q}/assign", json={"lead": ["sh-ipa"],
                                                            "at": at("2020-02-03")}))
    ipa, hrss, jrj = (server.client("clerk", b) for b in ("sh-ipa", "sh-hrss", "sh-jrj"))
    ok(ipa.post(f"/api/proposals/{P}/acknowledge", json={"bureau": "sh-ipa",
                                                         "at": at("2020-02-05")}))
    ok(jrj.post(f"/api/proposals/{P}/return", json={"bureau": "sh-jrj", "reason": "不属本单位",
                                                    "at": at("2020-02-06")}))
    ok(ipa.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-ipa", "stage": "before", "method": "visit", "at": at("2020-02-10")}))
    ok(hrss.post(f"/api/proposals/{P}/opinion", json={"bureau": "sh-hrss", "summary": "会办意见",
                                                      "at": at("2020-02-20")}))
    ok(server.client("overseer").post(f"/api/proposals/{P}/supervise", json={
        "bureau": "sh-ipa", "note": "请加快办理", "at": at("2020-03-01")}))
    ok(coordinator.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-06-03", "reason": "需调研", "at": at("2020-03-02")}))
    ok(ipa.post(f"/api/proposals/{P}/reply/draft", json={
        "bureau": "sh-ipa", "result": "planned", "summary": "草稿", "at": at("2020-03-05")}))
    letter = ok(ipa.post(f"/api/proposals/{P}/letters", params={"bureau": "sh-ipa"},
                         content=LETTER))
    ok(ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "planned", "summary": "列入计划", "letter": letter,
        "at": at("2020-03-10")}))
    ok(ipa.post(f"/api/proposals/{P}/disclosure", json={
        "bureau": "sh-ipa", "disclosure": "withheld", "reason": "内部", "at": at("2020-03-11")}))
    assert server.system.settle(30)
    return letter


def test_a_filers_list_is_the_proposals_they_filed(server):
    seed(server)
    mine = ok(filer(server, ZHANG).get("/api/my/proposals"), 200)
    assert mine["filer"] == {"id": ZHANG, "name": "张伟"}
    [item] = mine["items"]
    assert (item["proposal_id"], item["filed_as"], item["status"]) == (P, "lead", "replied")
    assert (item["display"], item["display_en"]) == ("市政协提案 0007",
                                                     "municipal CPPCC proposal 0007")
    assert item["duties"] == [  # the bureaus handling it; sh-jrj returned it: not shown
        {"bureau": "sh-ipa", "role": "lead", "due": "2020-06-03", "status": "replied",
         "acknowledged": True, "replied_on": "2020-03-10"},
        {"bureau": "sh-hrss", "role": "co", "due": "2020-03-03", "status": "handling",
         "acknowledged": False, "replied_on": None}]
    assert item["contacts"] == [{"bureau": "sh-ipa", "on": "2020-02-10", "stage": "before",
                                 "method": "visit"}]
    [reply] = item["replies"]
    assert (reply["bureau"], reply["result"], reply["summary"], reply["may_rate"]) == (
        "sh-ipa", "planned", "列入计划", True)
    assert reply["letter"]["media_type"] == "application/pdf" and reply["feedback"] is None
    assert [i["filed_as"] for i in ok(filer(server, LI).get("/api/my/proposals"), 200)[
        "items"]] == ["co_signer"]
    assert [i["proposal_id"] for i in ok(filer(server, WANG).get("/api/my/proposals"), 200)[
        "items"]] == [Q]
    for staff in (server.client("coordinator"), server.client("clerk", "sh-ipa")):
        assert ok(staff.get("/api/my/proposals"), 200) == {"filer": None, "areas": [],
                                                            "items": []}
    registry = ok(server.client("clerk", "sh-ipa").get("/api/filers"), 200)["filers"]
    assert {f["id"]: f["name"] for f in registry} == {ZHANG: "张伟", LI: "李娜", WANG: "王芳"}
    assert all("account" not in f for f in registry)


def test_a_filer_reads_the_handling_of_their_proposal_and_none_of_the_internal_records(server):
    letter = seed(server)
    zhang = filer(server, ZHANG)
    events = ok(zhang.get(f"/api/proposals/{P}/history"), 200)["events"]
    assert [e["type"] for e in events] == [
        "ProposalSubmitted", "ProposalAssigned", "AssignmentAcknowledged", "ContactLogged",
        "DeadlineExtended", "ReplyIssued", "DisclosureDecided"]
    assert all(e["command_id"] is None for e in events)  # none of them theirs
    everything = ok(server.client("overseer").get(f"/api/proposals/{P}/history"), 200)["events"]
    assert INTERNAL & {e["type"] for e in everything} == {
        "AssignmentReturned", "OpinionSubmitted", "ProposalSupervised", "ReplyDrafted"}

    state = ok(zhang.get(f"/api/proposals/{P}"), 200)
    assert set(state["assignments"]) == {"sh-ipa", "sh-hrss"} and state["supervisions"] == 0
    ipa, hrss = state["assignments"]["sh-ipa"], state["assignments"]["sh-hrss"]
    assert ipa["draft"] is None and ipa["supervisions"] == 0 and hrss["opinions"] == 0
    assert ipa["due"] == "2020-06-03" and ipa["result"] == "planned"

    deadlines = ok(zhang.get(f"/api/proposals/{P}/deadlines"), 200)
    assert {a["bureau"] for a in deadlines["assignments"]} == {"sh-ipa", "sh-hrss"}
    lineage = ok(zhang.get(f"/api/proposals/{P}/lineage"), 200)["steps"]
    assert [s["action"] for s in lineage] == ["assigned"]
    assert [s["action"] for s in ok(server.client("coordinator").get(
        f"/api/proposals/{P}/lineage"), 200)["steps"]] == ["assigned", "returned"]

    download = zhang.get(f"/api/proposals/{P}/letters/{letter['sha256']}")
    assert download.status_code == 200 and download.content == LETTER
    assert filer(server, LI).get(f"/api/proposals/{P}/letters/{letter['sha256']}"
                                 ).status_code == 200


@pytest.mark.parametrize("path", ["", "/history", "/deadlines", "/lineage"])
def test_another_filers_proposal_is_as_unknown_as_an_id_never_used(server, path):
    seed(server)
    wang = filer(server, WANG)
    theirs = wang.get(f"/api/proposals/{P}{path}")
    never = wang.get(f"/api/proposals/{UNKNOWN}{path}")
    assert theirs.status_code == never.status_code == 404
    assert theirs.json()["detail"]["code"] == never.json()["detail"]["code"] == "unknown_proposal"
    # a filer token naming no one in the registry files nothing
    nobody = filer(server, "d-nobody")
    assert nobody.get(f"/api/proposals/{P}{path}").status_code == 404


def test_another_filers_letter_is_unknown(server):
    letter = seed(server)
    refused = filer(server, WANG).get(f"/api/proposals/{P}/letters/{letter['sha256']}")
    assert refused.status_code == 404 and refused.json()["detail"]["code"] == "unknown_letter"
    assert server.client("clerk", "sh-jrj").get(  # it had a duty: reads the replies still
        f"/api/proposals/{P}/letters/{letter['sha256']}").status_code == 200


@pytest.mark.parametrize("path", [
    "/api/report?bureau=sh-ipa&years=2020&as_of=2020-11-20",
    "/api/report?all=true&years=2020&as_of=2020-11-20",
    "/api/items?all=true&years=2020&as_of=2020-11-20&measure=replied",
    "/api/dashboard?all=true&years=2020&as_of=2020-11-20",
    "/api/league?all=true&years=2020&as_of=2020-11-20",
    "/api/assignments", "/api/reminders", "/api/proposals/awaiting-assignment?years=2020",
    "/api/misrouting?years=2020&as_of=2020-11-20", "/api/status",
    f"/api/proposals/{P}/suggestions",
    "/api/report/document?format=md&all=true&year=2020&as_of=2020-11-20",
])
def test_the_reports_and_lists_of_others_proposals_are_refused_to_a_filer(server, path):
    seed(server)
    answer = filer(server, ZHANG).get(path)
    assert answer.status_code == 403, answer.text
    assert answer.json()["detail"]["code"] == "forbidden"


def test_the_live_feed_brings_a_filer_their_proposals_handling_only(server):
    seed(server)
    secret = server.system.settings.secret
    zhang = Listener(server.url, token_for(secret, "filer", user="zhangwei", filer=ZHANG))
    zhang.start()
    assert zhang.ready.wait(20)
    ipa = server.client("clerk", "sh-ipa")
    ok(ipa.post(f"/api/proposals/{Q}/contacts", json={"bureau": "sh-ipa", "stage": "after",
                                                      "method": "phone"}))
    ok(server.client("overseer").post(f"/api/proposals/{P}/supervise", json={"note": "再督办"}))
    ok(server.client("clerk", "sh-hrss").post(f"/api/proposals/{P}/opinion", json={
        "bureau": "sh-hrss", "summary": "补充意见"}))
    ok(ipa.post(f"/api/proposals/{P}/contacts", json={"bureau": "sh-ipa", "stage": "after",
                                                      "method": "phone"}))

    def seen(frames) -> list[dict]:
        return [e for kind, frame in frames if kind == "events" for e in frame["events"]]

    assert zhang.wait_for(lambda frames: any(e["type"] == "ContactLogged" for e in seen(frames)))
    assert [(e["proposal_id"], e["type"]) for e in seen(zhang.frames)] == [(P, "ContactLogged")]


def test_the_live_feed_sends_each_audience_its_own_frames(server):
    """Every batch goes to every reader, filtered once per audience: two clerks of one bureau
    get the very same frames, a clerk of a co-handling bureau never the lead's other proposal,
    each filer their own proposals' handling only."""
    seed(server)
    secret = server.system.settings.secret
    readers = {name: Listener(server.url, token_for(secret, *who)) for name, who in {
        "overseer": ("overseer",), "ipa": ("clerk", "sh-ipa", "ipa-1"),
        "ipa2": ("clerk", "sh-ipa", "ipa-2"), "hrss": ("clerk", "sh-hrss"),
        "zhang": ("filer", None, "zhangwei", ZHANG), "wang": ("filer", None, "wangfang", WANG),
    }.items()}
    for listener in readers.values():
        listener.start()
        assert listener.ready.wait(20)
    ipa = server.client("clerk", "sh-ipa")
    ok(ipa.post(f"/api/proposals/{Q}/contacts", json={"bureau": "sh-ipa", "stage": "after",
                                                      "method": "phone"}))
    ok(server.client("clerk", "sh-hrss").post(f"/api/proposals/{P}/opinion", json={
        "bureau": "sh-hrss", "summary": "补充意见"}))
    ok(ipa.post(f"/api/proposals/{P}/contacts", json={"bureau": "sh-ipa", "stage": "after",
                                                      "method": "visit"}))

    def batches(frames) -> list[dict]:
        return [frame for kind, frame in frames if kind == "events"]

    def seen(name: str) -> list[tuple[str, str]]:
        return [(e["proposal_id"], e["type"]) for f in batches(readers[name].frames)
                for e in f["events"]]

    assert readers["overseer"].wait_for(lambda frames: len(
        [e for f in batches(frames) for e in f["events"]]) == 3)
    sent = len(batches(readers["overseer"].frames))
    for listener in readers.values():  # every batch reaches every reader, empty or not
        assert listener.wait_for(lambda frames: len(batches(frames)) == sent)
    assert batches(readers["ipa"].frames) == batches(readers["ipa2"].frames)
    assert (Q, "ContactLogged") in seen("ipa") and all(p != Q for p, _ in seen("hrss"))
    assert (P, "OpinionSubmitted") in seen("hrss")
    assert seen("zhang") == [(P, "ContactLogged")] and seen("wang") == [(Q, "ContactLogged")]


def test_a_filer_rates_the_lead_reply_and_dissatisfaction_lets_the_lead_reopen(server):
    seed(server)
    zhang = filer(server, ZHANG)
    refused = ok(zhang.post(f"/api/proposals/{P}/feedback", json={
        "bureau": "sh-hrss", "satisfaction": "satisfied"}), 409)  # a co-handler: no reply
    assert refused["code"] == "not_lead"
    unknown = ok(filer(server, WANG).post(f"/api/proposals/{P}/feedback", json={
        "bureau": "sh-ipa", "satisfaction": "satisfied"}), 409)
    assert unknown["code"] == "unknown_proposal"
    assert ok(zhang.post(f"/api/proposals/{P}/supervise", json={"note": "x"}), 409)[
        "code"] == "forbidden"
    rated = ok(zhang.post(f"/api/proposals/{P}/feedback", json={
        "bureau": "sh-ipa", "satisfaction": "dissatisfied", "comment": "尚未解决"}))
    [event] = rated["events"]
    assert (event["channel"], event["actor"]["role"], event["actor"]["filer"]) == (
        "online", "filer", ZHANG)
    assert server.system.settle(30)

    [reply] = ok(zhang.get("/api/my/proposals"), 200)["items"][0]["replies"]
    assert reply["feedback"] == {"satisfaction": "dissatisfied", "comment": "尚未解决",
                                 "on": "2020-11-20", "recorder": "filer"}
    mine = ok(zhang.get(f"/api/proposals/{P}/history"), 200)["events"]
    assert mine[-1]["type"] == "FeedbackRecorded" and mine[-1]["command_id"] is not None
    report = ok(server.client("coordinator").get("/api/report", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}), 200)
    assert report["feedback_recorders"] == {"filer": 1, "office": 0, "bureau": 0}

    ipa = server.client("clerk", "sh-ipa")
    ok(ipa.post(f"/api/proposals/{P}/reopen", json={
        "bureau": "sh-ipa", "reason": "代表不满意", "reply_due": "2020-12-31"}))
    assert server.system.settle(30)
    [item] = ok(zhang.get("/api/my/proposals"), 200)["items"]
    assert item["status"] == "handling" and item["duties"][0]["status"] == "reopened"
    assert item["duties"][0]["due"] == "2020-12-31" and not item["replies"][0]["may_rate"]
    assert "HandlingReopened" in [e["type"] for e in ok(zhang.get(
        f"/api/proposals/{P}/history"), 200)["events"]]


def test_a_lead_reads_its_co_handlers_opinions_and_no_other_bureau_does(server):
    seed(server)
    lead = ok(server.client("clerk", "sh-ipa").get(f"/api/proposals/{P}/history"), 200)
    assert "OpinionSubmitted" in {e["type"] for e in lead["events"]}
    co = ok(server.client("clerk", "sh-hrss").get(f"/api/proposals/{P}/history"), 200)
    # under the default profile no one co-signs: the co-handler reads no draft nor reply
    assert {"ReplyDrafted", "ReplyIssued", "ContactLogged"}.isdisjoint(
        {e["type"] for e in co["events"]})
    other = server.client("clerk", "sh-stcsm").get(f"/api/proposals/{P}/history")
    assert other.status_code == 404


@pytest.fixture
def settings(settings, request):
    """The tests' settings, with the profile a test asks for (`reviewed`: drafts co-signed)."""
    return settings.model_copy(update={"profile": getattr(request, "param", "default")})


@pytest.mark.parametrize("settings", ["reviewed"], indirect=True)
def test_a_co_handler_asked_to_sign_off_reads_the_draft_and_the_lead_the_sign_off(server):
    coordinator = server.client("coordinator")
    for bureau in ("sh-ipa", "sh-hrss", "sh-jrj"):
        ok(server.client("admin").post("/api/bureaus", json={"bureau": bureau, "name": bureau}))
    ok(coordinator.post("/api/proposals", json={"kind": "cppcc_proposal", "year": 2020,
                                                "number": "7", "title": "t",
                                                "at": at("2020-02-01")}))
    ok(coordinator.post(f"/api/proposals/{P}/assign", json={
        "lead": ["sh-ipa"], "co": ["sh-hrss", "sh-jrj"], "at": at("2020-02-03")}))
    ipa, hrss, jrj = (server.client("clerk", b) for b in ("sh-ipa", "sh-hrss", "sh-jrj"))
    ok(jrj.post(f"/api/proposals/{P}/return", json={"bureau": "sh-jrj", "reason": "不属本单位",
                                                    "at": at("2020-02-04")}))
    ok(ipa.post(f"/api/proposals/{P}/reply/draft", json={
        "bureau": "sh-ipa", "result": "solved", "summary": "拟采纳", "at": at("2020-03-01")}))
    assert server.system.settle(30)
    co = ok(hrss.get(f"/api/proposals/{P}/history"), 200)["events"]
    [draft] = [e for e in co if e["type"] == "ReplyDrafted"]
    assert draft["data"]["summary"] == "拟采纳" and draft["command_id"] is None
    # the co-handler that returned it is asked nothing, and reads nothing of the draft
    assert "ReplyDrafted" not in {e["type"] for e in ok(jrj.get(
        f"/api/proposals/{P}/history"), 200)["events"]}
    ok(hrss.post(f"/api/proposals/{P}/reply/sign-off", json={
        "bureau": "sh-hrss", "lead": "sh-ipa", "remark": "同意", "at": at("2020-03-02")}))
    assert server.system.settle(30)
    lead = ok(ipa.get(f"/api/proposals/{P}/history"), 200)["events"]
    assert [e["data"]["remark"] for e in lead if e["type"] == "ReplySignedOff"] == ["同意"]


def test_the_polled_feed_gives_each_event_its_proposals_parties(server):
    """A reporting API without a projector of its own reads the events back from the
    projections: each with its proposal's parties as the kernel has them."""
    seed(server)
    feed = LiveFeed(server.system.reporting)
    events = asyncio.run(feed.recent(lambda event: event, count=100))
    for proposal in (P, Q):
        expected = Parties.of(server.system.repository.state(proposal))
        found = {parties_of(e, False) for e in events if e["proposal_id"] == proposal}
        assert found == {expected}, proposal
    assert Parties.of(server.system.repository.state(P)).filers == {ZHANG, LI}
