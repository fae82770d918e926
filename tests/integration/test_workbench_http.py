"""The workbench's routes over real HTTP (issue 21): a bureau's work (/api/work), the coordinator's
desk (/api/desk), search (/api/search), the new commands and refusals that say what to do; the
grants and the refusals (another bureau's clerk, a filer, an importer, no token), the clocks'
colours on the fixed clock (Friday 20 November 2020), sorting and counts."""
from __future__ import annotations

import pytest

IPA, HRSS, JRJ = "sh-ipa", "sh-hrss", "sh-jrj"
A, B, C, D = ("2020-cppcc_proposal-7", "2020-cppcc_proposal-8", "2020-npc_suggestion-8",
              "2020-cppcc_proposal-9")
E, G, H = "2020-cppcc_proposal-10", "2020-cppcc_proposal-11", "2019-cppcc_proposal-12"


def at(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def created(response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def desk(server):
    """sh-ipa leads A (assigned 2 November: not signed for, its return window closed on 16
    November), B (due 25 November, an extension requested), C (due 1 October: overdue, a key
    item) and D (replied 10 November: to publish, feedback not in); sh-hrss co-handles A and
    leads E; sh-jrj returned G; H waits for its assignment."""
    admin, coordinator = server.client("admin"), server.client("coordinator")
    for bureau, name, name_en in ((IPA, "上海市知识产权局", "Shanghai Intellectual Property "
                                                          "Administration"),
                                  (HRSS, "上海市人力资源和社会保障局", ""),
                                  (JRJ, "上海市地方金融监督管理局", "")):
        created(admin.post("/api/bureaus", json={"bureau": bureau, "name": name,
                                                 "name_en": name_en}))
    for kind, year, number, title in (
            ("cppcc_proposal", 2020, "7", "关于知识产权保护的提案"),
            ("cppcc_proposal", 2020, "8", "关于知识产权质押融资的提案"),
            ("npc_suggestion", 2020, "8", "关于专利转化的建议"),
            ("cppcc_proposal", 2020, "9", "关于商标品牌保护的提案"),
            ("cppcc_proposal", 2020, "10", "关于人才落户知识产权人才的提案"),
            ("cppcc_proposal", 2020, "11", "关于普惠金融的提案"),
            ("cppcc_proposal", 2019, "12", "关于养老服务的提案")):
        created(coordinator.post("/api/proposals", json={
            "kind": kind, "year": year, "number": number, "title": title, "at": at("2020-05-01")}))
    for proposal, lead, co, day in ((A, IPA, [HRSS], "2020-11-02"), (B, IPA, [], "2020-08-25"),
                                    (C, IPA, [], "2020-07-01"), (D, IPA, [], "2020-06-01"),
                                    (E, HRSS, [], "2020-11-18"), (G, JRJ, [], "2020-11-12")):
        created(coordinator.post(f"/api/proposals/{proposal}/assign",
                                 json={"lead": [lead], "co": co, "at": at(day)}))
    ipa = server.client("clerk", IPA)
    for proposal, day in ((B, "2020-08-26"), (C, "2020-07-02"), (D, "2020-06-02")):
        created(ipa.post(f"/api/proposals/{proposal}/acknowledge",
                         json={"bureau": IPA, "at": at(day)}))
        created(ipa.post(f"/api/proposals/{proposal}/contacts", json={
            "bureau": IPA, "stage": "before", "method": "phone", "at": at(day)}))
    created(ipa.post(f"/api/proposals/{D}/reply", json={"bureau": IPA, "result": "solved",
                                                        "at": at("2020-11-10")}))
    created(ipa.post(f"/api/proposals/{B}/extension-request", json={
        "bureau": IPA, "reply_due": "2021-01-25", "reason": "需会同市财政局调研",
        "at": at("2020-11-19")}))
    created(server.client("clerk", JRJ).post(f"/api/proposals/{G}/return", json={
        "bureau": JRJ, "reason": "不属于本单位职责", "at": at("2020-11-13")}))
    created(coordinator.post(f"/api/proposals/{C}/key-item", json={
        "key": True, "reason": "市领导关注", "at": at("2020-11-19")}))
    return server


# --- my work ----------------------------------------------------------------------------------
def test_a_clerks_work_is_its_bureaus_sorted_by_due_date_with_clocks_and_counts(desk):
    work = ok(desk.client("clerk", IPA).get("/api/work"))
    assert (work["bureau"], work["today"], work["profile"]) == (IPA, "2020-11-20", "default")
    got = [(i["proposal_id"], i["owed"], i["due"], i["colour"]) for i in work["items"]]
    assert got == [
        (C, "reply", "2020-10-01", "red"),          # overdue since October
        (A, "acknowledge", "2020-11-16", "red"),    # its return window closed on Monday
        (B, "reply", "2020-11-25", "yellow"),       # due in 5 days
        (D, "disclose", "2020-12-08", None),        # 20 working days after the reply
        (A, "contact", "2021-02-02", None),
        (A, "reply", "2021-02-02", None),
        (D, "feedback", None, None)]                # no date: last
    by = {(i["proposal_id"], i["owed"]): i for i in work["items"]}
    assert (by[C, "reply"]["days_left"], by[C, "reply"]["working_days_left"]) == (-50, -32)
    assert (by[B, "reply"]["days_left"], by[B, "reply"]["working_days_left"]) == (5, 3)
    assert by[A, "acknowledge"]["commands"] == ["acknowledge"]  # too late to return it
    assert by[B, "reply"]["extension_requested"] == "2021-01-25"
    assert by[C, "reply"]["key_item"] and not by[B, "reply"]["key_item"]
    assert by[C, "reply"]["display"] == "市人大代表建议 0008"  # its kind and level
    assert (by[A, "reply"]["display"], by[A, "reply"]["display_en"]) == (
        "市政协提案 0007", "municipal CPPCC proposal 0007")
    assert not any(i["provisional"] for i in work["items"])
    assert work["counts"] == {"acknowledge": 1, "contact": 1, "reply": 3, "opinion": 0,
                              "draft": 0, "sign_off": 0, "approve": 0, "rehandle": 0,
                              "disclose": 1, "feedback": 1}
    assert work["total"] == 7 and work["colours"] == {"red": 2, "yellow": 1}
    assert [k["owed"] for k in work["kinds"]][:3] == ["acknowledge", "contact", "reply"]
    assert work["kinds"][0]["label"] == "签收或退回"
    # its reminders, as the webhook would get them, numbered
    assert sorted((r["proposal_id"], r["owed"], r["colour"]) for r in work["reminders"]) == [
        (A, "return", "red"), (B, "reply", "yellow"), (C, "reply", "red")]
    assert all(r["display"] for r in work["reminders"])


def test_a_co_handler_sees_its_opinion_and_not_the_leads_work(desk):
    work = ok(desk.client("clerk", HRSS).get("/api/work"))
    assert [(i["proposal_id"], i["owed"], i["role"]) for i in work["items"]] == [
        (A, "acknowledge", "co"), (A, "opinion", "co"),  # 0007 before 0010 on 2 December
        (E, "acknowledge", "lead"), (E, "contact", "lead"), (E, "reply", "lead")]


def test_the_limit_lists_the_most_urgent_and_counts_them_all(desk):
    work = ok(desk.client("clerk", IPA).get("/api/work", params={"limit": 2}))
    assert [i["proposal_id"] for i in work["items"]] == [C, A]
    assert work["total"] == 7 and sum(work["counts"].values()) == 7


def test_coordinators_and_oversight_read_any_bureaus_work_or_everyones(desk):
    clerk = ok(desk.client("clerk", IPA).get("/api/work"))
    for role in ("coordinator", "overseer", "admin"):
        assert ok(desk.client(role).get("/api/work", params={"bureau": IPA})) == clerk
    everyone = ok(desk.client("coordinator").get("/api/work"))
    assert everyone["bureau"] is None
    assert {i["bureau"] for i in everyone["items"]} == {IPA, HRSS}
    assert everyone["total"] == 7 + 5


def test_work_is_refused_to_another_bureau_a_filer_an_importer_and_no_token(desk):
    answer = desk.client("clerk", HRSS).get("/api/work", params={"bureau": IPA})
    assert answer.status_code == 403 and answer.json()["detail"]["code"] == "forbidden"
    for role in ("filer", "importer"):
        assert desk.client(role, filer="f-nobody" if role == "filer" else None).get(
            "/api/work").status_code == 403, role
    assert desk.client(None).get("/api/work").status_code == 401
    assert desk.client(token="not-a-token").get("/api/work").status_code == 401
    assert desk.client("clerk", IPA).get("/api/work", params={"limit": 0}).status_code == 422


# --- the desk -----------------------------------------------------------------------------------
def test_the_desk_lists_what_the_coordinator_has_to_do(desk):
    board = ok(desk.client("coordinator").get("/api/desk"))
    assert [(i["proposal_id"], i["assigned_before"]) for i in board["awaiting"]] == [
        (H, False), (G, True)]
    assert board["awaiting"][0]["display"] == "2019年市政协提案 0012"  # the list spans years
    [returned] = board["returned"]
    assert (returned["proposal_id"], returned["bureau"], returned["role"],
            returned["returned_on"], returned["reason"]) == (
        G, JRJ, "lead", "2020-11-13", "不属于本单位职责")
    assert returned["display"] == "市政协提案 0011" and returned["title"] == "关于普惠金融的提案"
    [request] = board["extension_requests"]
    assert {k: request[k] for k in ("proposal_id", "bureau", "current_due", "requested_due",
                                    "requested_on", "reason", "title")} == {
        "proposal_id": B, "bureau": IPA, "current_due": "2020-11-25",
        "requested_due": "2021-01-25", "requested_on": "2020-11-19",
        "reason": "需会同市财政局调研", "title": "关于知识产权质押融资的提案"}
    [key] = board["key_items"]
    assert (key["proposal_id"], key["state"], key["overdue"]) == (C, "in_hand", True)
    assert key["duties"] == [{"bureau": IPA, "role": "lead", "due": "2020-10-01",
                              "answered_on": None, "status": "overdue"}]
    assert board["counts"] == {"awaiting": 2, "returned": 1, "extension_requests": 1,
                               "key_items": 1, "key_items_overdue": 1}
    assert ok(desk.client("overseer").get("/api/desk")) == board


def test_the_desk_follows_the_coordinators_decisions(desk):
    coordinator = desk.client("coordinator")
    created(coordinator.post("/api/commands", json={"type": "reassign", "proposal": G,
                                                     "add_lead": [IPA]}))
    denied = created(coordinator.post(f"/api/proposals/{B}/extension-request/deny", json={
        "bureau": IPA, "reason": "请按期答复"}))
    assert denied["events"][0]["type"] == "ExtensionDenied"
    created(coordinator.post(f"/api/proposals/{C}/key-item", json={"key": False,
                                                                    "reason": "已答复"}))
    board = ok(coordinator.get("/api/desk"))
    assert (board["returned"], board["extension_requests"], board["key_items"]) == ([], [], [])
    assert [i["proposal_id"] for i in board["awaiting"]] == [H]
    # and the bureau's work: B's request is no longer pending, G is its own now
    work = ok(desk.client("clerk", IPA).get("/api/work"))
    by = {(i["proposal_id"], i["owed"]): i for i in work["items"]}
    assert "extension_requested" not in by[B, "reply"] and (G, "acknowledge") in by


def test_the_desk_is_refused_to_clerks_filers_importers_and_no_token(desk):
    for client in (desk.client("clerk", IPA), desk.client("filer", filer="f-nobody"),
                   desk.client("importer")):
        answer = client.get("/api/desk")
        assert answer.status_code == 403 and answer.json()["detail"]["code"] == "forbidden"
    assert desk.client(None).get("/api/desk").status_code == 401


# --- search -------------------------------------------------------------------------------------
def found(client, q: str, **params) -> list[str]:
    return [i["proposal_id"] for i in ok(client.get("/api/search", params={"q": q, **params}))
            ["items"]]


def test_search_finds_by_number_or_words_of_the_title_what_the_reader_may_read(desk):
    coordinator, ipa = desk.client("coordinator"), desk.client("clerk", IPA)
    assert found(coordinator, "知识产权") == [A, B, E]  # newest year first, then by number
    assert found(ipa, "知识产权") == [A, B]              # E is sh-hrss's alone
    assert found(desk.client("clerk", HRSS), "知识产权") == [A, E]  # a co-handler's too
    assert found(ipa, "0007") == found(ipa, "7") == [A]
    assert set(found(ipa, "8")) == {B, C}                  # 建议 0008 and 提案 0008
    assert found(ipa, "知识产权 质押") == [B]               # every word
    assert found(ipa, "养老") == [] and found(coordinator, "养老") == [H]
    assert found(desk.client("clerk", JRJ), "普惠") == [G]  # it returned it: it had a duty
    [hit] = ok(ipa.get("/api/search", params={"q": "7"}))["items"]
    assert (hit["display"], hit["status"], hit["title"]) == ("市政协提案 0007", "open",
                                                             "关于知识产权保护的提案")
    assert found(coordinator, "提案", limit=2) == [A, B]


def test_search_is_refused_without_the_right_and_checks_its_input(desk):
    answer = desk.client("importer").get("/api/search", params={"q": "知识产权"})
    assert answer.status_code == 403  # the importer reads no proposal
    # a filer searches what they filed (the reach `filed`): one who filed nothing finds nothing
    answer = desk.client("filer", filer="f-nobody").get("/api/search", params={"q": "知识产权"})
    assert answer.status_code == 200 and answer.json()["items"] == []
    assert desk.client(None).get("/api/search", params={"q": "7"}).status_code == 401
    ipa = desk.client("clerk", IPA)
    for params in ({}, {"q": ""}, {"q": "x" * 201}, {"q": "7", "limit": 101}):
        assert ipa.get("/api/search", params=params).status_code == 422, params
    assert ipa.get("/api/search", params={"q": "   "}).json()["detail"]["code"] == "bad_search"


# --- the new commands and refusals that say what to do -----------------------------------------
def test_a_refusal_says_why_and_what_to_do_naming_the_bureau_and_the_date(desk):
    ipa = desk.client("clerk", IPA)
    body = ipa.post(f"/api/proposals/{A}/acknowledge", json={
        "bureau": IPA, "at": at("2020-11-01")}).json()
    assert body["code"] == "out_of_order"
    assert body["message"] == ("业务时间 2020年11月1日 10:00 早于其所依据的上海市知识产权局在该件的"
                               "最后一条记录（2020年11月2日 10:00）")
    assert body["hint"] == "请把业务时间改为 2020年11月2日 10:00 或之后"
    assert "Shanghai Intellectual Property Administration's last record" in body["message_en"]
    assert body["hint_en"] == "date it 2 November 2020, 10:00 or later"
    assert body["details"]["bureau"] == IPA and body["details"]["last"].startswith("2020-11-02")
    refused = ipa.post(f"/api/proposals/{B}/extension-request", json={
        "bureau": IPA, "reply_due": "2021-03-01", "reason": "再延"}).json()
    assert refused["code"] == "extension_too_long"
    assert refused["hint"] == "请选择 2021年2月25日 或更早的日期"
    wrong = ipa.post(f"/api/proposals/{E}/opinion", json={"bureau": HRSS}).json()
    assert wrong["code"] == "wrong_bureau" and "上海市人力资源和社会保障局" in wrong["message"]
    assert wrong["hint"] == "请以本单位（上海市知识产权局）的名义办理"
    forbidden = ipa.post(f"/api/proposals/{C}/key-item", json={"reason": "x"}).json()
    assert forbidden["code"] == "forbidden" and "重点督办件标记" in forbidden["message"]


def test_only_a_lead_clerk_requests_and_only_the_coordinator_denies_or_marks(desk):
    hrss = desk.client("clerk", HRSS)
    assert hrss.post(f"/api/proposals/{A}/extension-request", json={
        "bureau": HRSS, "reply_due": "2021-03-01", "reason": "x"}).json()["code"] == "not_lead"
    for client in (desk.client("clerk", IPA), desk.client("overseer")):
        for path, body in ((f"{B}/extension-request/deny", {"bureau": IPA, "reason": "x"}),
                           (f"{C}/key-item", {"key": False, "reason": "x"})):
            answer = client.post(f"/api/proposals/{path}", json=body)
            assert answer.status_code == 409 and answer.json()["code"] == "forbidden", path
    # to a clerk without a duty on it, a proposal is as unknown as one never submitted
    jrj = desk.client("clerk", JRJ)
    assert jrj.post(f"/api/proposals/{B}/extension-request", json={
        "bureau": JRJ, "reply_due": "2021-01-01", "reason": "x"}).json()["code"] == (
        "unknown_proposal")


# --- every list carries the item's number -------------------------------------------------------
def test_the_existing_lists_show_each_items_number(desk):
    coordinator = desk.client("coordinator")
    owed = ok(coordinator.get("/api/assignments", params={"bureau": IPA}))["items"]
    assert {i["proposal_id"]: i["display"] for i in owed}[C] == "市人大代表建议 0008"
    awaiting = ok(coordinator.get("/api/proposals/awaiting-assignment",
                                  params={"years": "2019-2020"}))["items"]
    assert [i["display"] for i in awaiting] == ["2019年市政协提案 0012", "2020年市政协提案 0011"]
    scope = {"bureau": IPA, "years": "2020", "as_of": "2020-11-20"}
    items = ok(coordinator.get("/api/items", params={**scope, "measure": "lead"}))["items"]
    assert {i["display"] for i in items} == {"市政协提案 0007", "市政协提案 0008",
                                             "市人大代表建议 0008", "市政协提案 0009"}
    entries = ok(coordinator.get("/api/entries", params={**scope, "which": "all"}))["items"]
    assert entries and all(e["display"] and e["display_en"] for e in entries)
    reminders = ok(coordinator.get("/api/reminders", params={"bureau": IPA}))["items"]
    assert {r["display"] for r in reminders} == {"市政协提案 0007", "市政协提案 0008",
                                                 "市人大代表建议 0008"}
    board = ok(coordinator.get("/api/dashboard", params=scope))
    assert all(i["display"] for i in board["open"]["items"])
