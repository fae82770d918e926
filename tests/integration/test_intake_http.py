"""The office's review over real HTTP on the embedded system (issue 25): the review's commands
on their routes (filed, not filed, returned, resubmitted by the filer themselves, merged), the
refusals (a clerk, an overseer, a filer reviewing; a filer resubmitting another's; assigning
before filing), the review queue, the office's report with every number's items, its documents
and workbook, and the filer's page telling each outcome."""
from __future__ import annotations

import io
import zipfile

from openpyxl import load_workbook

from tests.conftest import token_for

AT = "2020-03-02T10:00:00+08:00"
ZHANG, MINMENG = "d-zhang", "minmeng"
SCOPE = {"years": "2020", "as_of": "2020-11-20"}


def ok(response, status: int = 201):
    assert response.status_code == status, response.text
    return response.json()


def refused(response, status: int, code: str):
    assert response.status_code == status, response.text
    body = response.json()
    detail = body.get("detail", body)
    assert detail.get("code") == code, body
    assert detail.get("message") and detail.get("message_en"), body
    return detail


def pid(number: str) -> str:
    return f"2020-cppcc_proposal-{number}"


def filer(server, who: str):
    return server.client("filer", filer=who, token=token_for(
        server.system.settings.secret, "filer", user=who, filer=who))


def receive(coordinator, number: str, **more):
    return ok(coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": number, "title": f"关于第{number}号事项的提案",
        "filers": [{"name": "张伟"}], "affiliation": "经济界别", "review": True, "at": AT, **more}))


def seed(server):
    """A bureau, two registered filers (张伟, a person; 民盟市委, a party), and five proposals
    received for review: 1 to be filed, 2 declined, 3 returned and resubmitted, 4 merged into
    1, 5 filed by the party."""
    admin, coordinator = server.client("admin"), server.client("coordinator")
    ok(admin.post("/api/bureaus", json={"bureau": "sh-fgw", "name": "上海市发展和改革委员会"}))
    ok(coordinator.post("/api/filers", json={"filer": ZHANG, "name": "张伟", "account": ZHANG,
                                             "affiliation": "经济界别"}))
    ok(coordinator.post("/api/filers", json={"filer": MINMENG, "name": "民盟市委",
                                             "kind": "party", "account": MINMENG,
                                             "affiliation": "民盟市委"}))
    for number in "1234":
        body = receive(coordinator, number, area="economy" if number == "1" else None)
        assert [e["type"] for e in body["events"]] == ["ProposalSubmitted", "ProposalReceived"]
    receive(coordinator, "5", filers=[{"name": "民盟市委", "id": MINMENG}],
            affiliation="民盟市委", filer_kind="party")
    return admin, coordinator


def test_the_review_on_its_routes_and_the_filer_told(model):
    server = model
    _, coordinator = seed(server)
    zhang = filer(server, ZHANG)
    # not assigned before it is filed
    refused(coordinator.post(f"/api/proposals/{pid('1')}/assign", json={"lead": ["sh-fgw"]}),
            409, "not_filed_yet")
    # who reviews: the office, not a clerk, an overseer or a filer
    for who in (server.client("clerk", bureau="sh-fgw"), server.client("overseer"), zhang):
        refused(who.post(f"/api/proposals/{pid('1')}/review/file", json={}), 409, "forbidden")
    ok(coordinator.post(f"/api/proposals/{pid('1')}/review/file", json={"area": "society"}))
    ok(coordinator.post(f"/api/proposals/{pid('1')}/assign", json={"lead": ["sh-fgw"]}))
    ok(coordinator.post(f"/api/proposals/{pid('2')}/review/decline", json={
        "referred_to": ["浦东新区人民政府"], "reason": "属于具体事务"}))
    ok(coordinator.post(f"/api/proposals/{pid('3')}/review/return", json={"reason": "请补充措施"}))
    refused(coordinator.post(f"/api/proposals/{pid('3')}/review/file", json={}), 409,
            "not_under_review")
    # the filer resubmits their own; not another's (unknown to them)
    wang = filer(server, MINMENG)
    refused(wang.post(f"/api/proposals/{pid('3')}/resubmit", json={}), 409, "unknown_proposal")
    ok(zhang.post(f"/api/proposals/{pid('3')}/resubmit", json={
        "title": "关于第3号事项的提案（修改稿）", "note": "已补充"}))
    ok(coordinator.post("/api/commands", json={"type": "merge", "proposal": pid("4"),
                                                "into": pid("1")}))
    ok(coordinator.post(f"/api/proposals/{pid('5')}/review/file", json={"area": "politics"}))
    assert server.system.settle(30)

    queue = ok(coordinator.get("/api/intake/queue"), 200)
    assert [i["proposal_id"] for i in queue["pending"]] == [pid("3")]
    assert queue["pending"][0]["display"] and queue["returned"] == []
    assert [a["code"] for a in queue["areas"]["2020"]] == [
        "economy", "politics", "culture", "society", "ecology"]

    mine = {i["number"]: i for i in ok(zhang.get("/api/my/proposals"), 200)["items"]}
    assert mine["1"]["status"] == "handling" and mine["1"]["duties"][0]["bureau"] == "sh-fgw"
    assert [s["step"] for s in mine["1"]["review_steps"]] == ["received", "filed"]
    assert mine["2"]["status"] == "not_filed"
    assert mine["2"]["review_steps"][-1]["referred_to"] == ["浦东新区人民政府"]
    assert mine["3"]["status"] == "under_review"
    assert [s["step"] for s in mine["3"]["review_steps"]] == [
        "received", "returned", "resubmitted"]
    assert mine["3"]["review_steps"][1]["reason"] == "请补充措施"
    merged = mine["4"]["review_steps"][-1]
    assert (merged["step"], merged["merged_into"]) == ("merged", pid("1"))
    assert merged["merged_into_display"] == "2020年市政协提案 0001"
    party = {i["number"]: i for i in ok(wang.get("/api/my/proposals"), 200)["items"]}
    assert set(party) == {"5"} and party["5"]["review"] == "filed"

    # the review's letter (一件一函): the filer's own, and the office's; no one else's
    for number, said in (("1", "交由上海市发展和改革委员会主办"), ("2", "转送浦东新区人民政府"),
                         ("3", "正在审查"), ("4", "并案办理")):
        letter = zhang.get(f"/api/proposals/{pid(number)}/review-letter", params={"format": "md"})
        assert letter.status_code == 200 and said in letter.text, (number, letter.text)
        assert "张伟：" in letter.text and "attachment" in letter.headers["content-disposition"]
    docx = coordinator.get(f"/api/proposals/{pid('2')}/review-letter")
    with zipfile.ZipFile(io.BytesIO(docx.content)) as z:
        assert "不作立案" in z.read("word/document.xml").decode()
    english = zhang.get(f"/api/proposals/{pid('1')}/review-letter",
                        params={"format": "html", "lang": "en"})
    assert english.status_code == 200 and "was filed on" in english.text
    assert wang.get(f"/api/proposals/{pid('1')}/review-letter").status_code == 404
    assert server.client("clerk", bureau="sh-ipa").get(
        f"/api/proposals/{pid('2')}/review-letter").status_code == 404


def test_the_office_report_drills_down_and_downloads(model):
    server = model
    _, coordinator = seed(server)
    ok(coordinator.post(f"/api/proposals/{pid('1')}/review/file", json={}))
    ok(coordinator.post(f"/api/proposals/{pid('2')}/review/decline", json={
        "referred_to": ["有关单位"], "reason": "不立案"}))
    ok(coordinator.post(f"/api/proposals/{pid('5')}/review/file", json={"area": "politics"}))
    assert server.system.settle(30)
    report = ok(coordinator.get("/api/intake/report", params=SCOPE), 200)
    outcomes = {p["measure"]: p["count"] for p in report["outcomes"]}
    # the model history's 2020 proposals are filed on submit; ours are reviewed
    assert outcomes["not_filed"] == 1 and outcomes["pending"] == 2
    filers = {p["measure"]: (p["count"], p["share"]) for p in report["filers"]}
    assert filers["collective.party"][0] == 1
    assert report["handling"]["scope"]["bureau"] is None
    for part in [*report["outcomes"], *report["filers"], *report["areas"]]:
        listed = ok(coordinator.get("/api/intake/items",
                                    params={**SCOPE, "measure": part["measure"]}), 200)
        assert listed["count"] == part["count"] == len(listed["items"]), part
    timeliness = ok(coordinator.get("/api/intake/items",
                                    params={**SCOPE, "measure": "review_timeliness"}), 200)
    assert timeliness["counted"] == report["timeliness"]["fraction"]["numerator"]
    refused(coordinator.get("/api/intake/items", params={**SCOPE, "measure": "area.nosuch"}),
            422, "bad_measure")
    for fmt, magic in (("docx", b"PK"), ("html", b"<!DOCTYPE"), ("md", b"**"),
                       ("text", "建议提案办理工作办公室".encode()), ("xlsx", b"PK")):
        got = coordinator.get("/api/intake/report/document", params={**SCOPE, "format": fmt})
        assert got.status_code == 200 and got.content.startswith(magic), (fmt, got.text[:200])
        assert "attachment" in got.headers["content-disposition"]
    html = coordinator.get("/api/intake/report/document", params={**SCOPE, "format": "html"}).text
    assert "view=intake" in html and "measure=not_filed" in html
    docx = coordinator.get("/api/intake/report/document", params={**SCOPE, "format": "docx"})
    with zipfile.ZipFile(io.BytesIO(docx.content)) as z:
        assert "审查立案情况" in z.read("word/document.xml").decode()
    book = load_workbook(io.BytesIO(coordinator.get("/api/intake/items", params={
        **SCOPE, "measure": "not_filed", "format": "xlsx"}).content))
    assert len(book.sheetnames) == 2


def test_who_reads_the_office_report(model):
    server = model
    for who in (server.client("clerk", bureau="sh-ipa"), server.client("importer"),
                filer(server, ZHANG)):
        for path, params in (("/api/intake/report", SCOPE),
                             ("/api/intake/items", {**SCOPE, "measure": "filed"}),
                             ("/api/intake/queue", {}),
                             ("/api/intake/report/document", {**SCOPE, "format": "md"})):
            response = who.get(path, params=params)
            assert response.status_code == 403, (path, response.text)
    for role in ("coordinator", "overseer", "admin"):
        assert server.client(role).get("/api/intake/report", params=SCOPE).status_code == 200
    assert server.client(None).get("/api/intake/report", params=SCOPE).status_code == 401
