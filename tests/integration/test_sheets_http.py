"""Spreadsheets over real HTTP on the embedded system: an assignment list (交办清单) as offices
send it (a title row, a header over two rows with merged cells, several leads, co-handlers,
an unknown bureau, a number given twice, blank rows, dates as Excel serials, as text and as
dates) previewed, committed and imported again; the result held equal to the same history
imported as JSON Lines; a bureau's reply list under its clerk's rights; and every list back as
.xlsx."""
from __future__ import annotations

import json
import uuid
from datetime import date
from typing import get_args
from io import BytesIO

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from banli.domain.views.intake_report import IntakeScope
from banli.domain.views.rates import Scope
from banli.domain.timing.deadlines import PROFILES
from banli.domain.types import CHOICES
from banli.sheets.values import EXCEL_EPOCH
from tests.integration.http_world import expect

BUREAUS = {"sh-ipa": ("上海市知识产权局", "Shanghai IPA"),
           "sh-edu": ("上海市教育委员会", "Shanghai Education Commission"),
           "sh-hrss": ("上海市人力资源和社会保障局", "Shanghai HRSS")}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# number, title, filers, sector, leads (cell), 分办, co (cell), 交办日期 (cell)
ITEMS = [
    ("101", "关于加强知识产权保护的提案", "张三、李四", "经济界别", "上海市知识产权局", None,
     "上海市教育委员会", (date(2020, 2, 3) - EXCEL_EPOCH).days),
    ("102", "关于职业教育与就业衔接的提案", "王五", "教育界别",
     "上海市教育委员会、上海市人力资源和社会保障局", "是", None, "2020年2月4日"),
    None,  # a blank row
    ("103", "关于某不存在单位的提案", "赵六", "科技界别", "上海市不存在局", None, None,
     date(2020, 2, 5)),
    ("101", "重复的案号", "钱七", "经济界别", "上海市知识产权局", None, None, "2020-02-06"),
    ("104", "关于专利转化的提案", "孙八", "科技界别", "Shanghai IPA", None, "sh-hrss",
     "2020/2/7"),
]
# the same items as the commands a person would write by hand (the refused rows left out)
JSONL = [
    {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "101",
     "title": "关于加强知识产权保护的提案", "filers": [{"name": "张三"}, {"name": "李四"}],
     "affiliation": "经济界别", "at": "2020-02-03T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-101", "lead": ["sh-ipa"],
     "co": ["sh-edu"], "at": "2020-02-03T09:01:00+08:00"},
    {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "102",
     "title": "关于职业教育与就业衔接的提案", "filers": [{"name": "王五"}], "affiliation": "教育界别",
     "at": "2020-02-04T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-102", "lead": ["sh-edu", "sh-hrss"],
     "at": "2020-02-04T09:01:00+08:00"},
    {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "104",
     "title": "关于专利转化的提案", "filers": [{"name": "孙八"}], "affiliation": "科技界别",
     "at": "2020-02-07T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-104", "lead": ["sh-ipa"],
     "co": ["sh-hrss"], "at": "2020-02-07T09:01:00+08:00"},
]


def assignment_list(items=ITEMS) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "交办清单"
    ws.append(["2020年市政协提案交办清单"])
    ws.merge_cells("A1:I1")
    ws.append([])
    ws.append(["提案号", "案由", "提案人", "界别", "承办单位", None, None, "交办日期", "备注"])
    ws.append([None, None, None, None, "主办单位", "分办", "会办单位", None, None])
    ws.merge_cells("E3:G3")
    for column in "ABCDH":
        ws.merge_cells(f"{column}3:{column}4")
    for item in items:
        ws.append(list(item) if item else [])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def reply_list(rows) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["提案号", "办理结果", "答复日期", "公开方式", "沟通方式"])
    for row in rows:
        ws.append(list(row))
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def register(client) -> None:
    for bureau, (name, name_en) in BUREAUS.items():
        expect(client.post("/api/bureaus", json={"bureau": bureau, "name": name,
                                                 "name_en": name_en,
                                                 "at": "2020-01-02T09:00:00+08:00"}), 201)


def upload(client, path: str, data: bytes, **params):
    return client.post(path, content=data, params=params, headers={"Content-Type": XLSX})


def imported(server):
    """The bureaus registered and the assignment list imported; the coordinator's client."""
    coordinator = server.client("coordinator")
    register(coordinator)
    preview = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                            kind="cppcc_proposal", year=2020), 200)
    expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    return coordinator


def sheet_rows(data: bytes, index: int = -1) -> list[list]:
    book = CalamineWorkbook.from_filelike(BytesIO(data))
    return book.get_sheet_by_index(index % len(book.sheet_names)).to_python()


def test_an_assignment_list_previewed_committed_and_imported_again(server):
    coordinator = server.client("coordinator")
    register(coordinator)
    preview = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                            kind="cppcc_proposal", year=2020), 200)
    rows = {r["row"]: r for r in preview["preview"]["rows"]}
    assert preview["preview"]["counts"] == {"rows": 5, "new": 3, "unchanged": 0, "differs": 0,
                                            "refused": 2, "commands": 6, "skipped": 0}
    assert rows[8]["reason"]["code"] == "unknown_bureau"
    assert "上海市不存在局" in rows[8]["reason"]["message"]
    assert rows[9]["reason"]["code"] == "duplicate_in_sheet"
    assert [c["lead"] for r in preview["preview"]["rows"] for c in r["commands"]
            if c["type"] == "assign"] == [["sh-ipa"], ["sh-edu", "sh-hrss"], ["sh-ipa"]]
    before = server.system.log.count()
    assert before == len(BUREAUS)  # previewing writes nothing

    done = expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert done["counts"]["imported"] == 3 and done["counts"]["refused"] == 0
    assert done["counts"]["refused_in_preview"] == 2
    history = expect(coordinator.get("/api/proposals/2020-cppcc_proposal-101/history"),
                     200)["events"]
    assert {e["actor"]["user"] for e in history} == {"test-coordinator"}  # the uploader acts

    # committing again, or importing the same sheet again, changes nothing
    after = server.system.log.count()
    expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    again = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(),
                          kind="cppcc_proposal", year=2020), 200)
    assert again["preview"]["counts"]["unchanged"] == 3
    assert again["preview"]["counts"]["commands"] == 0
    expect(coordinator.post(f"/api/sheets/{again['preview_id']}/commit"), 200)
    assert server.system.log.count() == after

    # a corrected sheet says what differs, and sends nothing
    corrected = [ITEMS[0][:1] + ("关于加强知识产权保护工作的提案",) + ITEMS[0][2:], *ITEMS[1:]]
    fixed = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(corrected),
                          kind="cppcc_proposal", year=2020), 200)
    (differs,) = [r for r in fixed["preview"]["rows"] if r["status"] == "differs"]
    assert differs["differences"] == [{"field": "title", "old": "关于加强知识产权保护的提案",
                                       "new": "关于加强知识产权保护工作的提案"}]


def test_the_sheet_gives_the_report_its_json_lines_give(server, tmp_path):
    """The same items imported from the sheet and from JSON Lines (in another system): the
    same report, count for count, for every bureau and all."""
    from apps.embedded import EmbeddedSystem

    imported(server)
    assert server.system.settle(30)

    twin = server.system.settings.model_copy(update={
        "data_dir": tmp_path / "jsonl", "clickhouse_database": f"t_{uuid.uuid4().hex[:12]}"})
    other = EmbeddedSystem(twin, clock=server.system.clock).start()
    try:
        lines = [{"type": "register_bureau", "bureau": b, "name": n, "name_en": en,
                  "at": "2020-01-02T09:00:00+08:00"} for b, (n, en) in BUREAUS.items()] + JSONL
        from banli.domain.registry import parse_command
        for number, line in enumerate(lines):
            command = parse_command({**line, "command_id": f"jsonl-{number}",
                                     "actor": {"user": "test-coordinator",
                                               "role": "coordinator"}})
            assert other.handle(command).rejection is None, line
        assert other.settle(30)
        for bureau in (*BUREAUS, None):
            scope = Scope(bureau=bureau, years=(2020, 2020), as_of=date(2020, 11, 20))
            assert (server.system.reporting.report(scope, PROFILES["default"])
                    == other.reporting.report(scope, PROFILES["default"])), bureau
    finally:
        other.stop()
        other.reporting.drop()


def review_list() -> bytes:
    """An assignment list that gives the office's review (审查立案): two filed, one not."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["提案号", "案由", "提案人", "界别", "主办单位", "交办日期", "立案情况", "领域",
               "不立案理由", "转送单位"])
    ws.append(["201", "关于知识产权质押融资的提案", "张三", "经济界别", "上海市知识产权局",
               "2020-03-02", "立案", "经济", None, None])
    ws.append(["202", "关于职业培训补贴的提案", "王五", "教育界别", "上海市人力资源和社会保障局",
               "2020-03-02", "立案", "社会", None, None])
    ws.append(["203", "关于某小区停车的提案", "赵六", "科技界别", None, "2020-03-02", "不立案",
               "社会", "属于具体事务，转有关单位参考", "上海市交通委员会、静安区人民政府"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def test_an_assignment_list_with_the_review_gives_the_offices_report(server):
    """Filed rows are received, filed in their area and assigned; the row not filed is passed
    on and not assigned; the office's report counts them; the list imported again sends
    nothing."""
    coordinator = server.client("coordinator")
    register(coordinator)
    preview = expect(upload(coordinator, "/api/sheets/assignments", review_list(),
                            kind="cppcc_proposal", year=2020), 200)
    assert preview["preview"]["counts"]["commands"] == 8  # 3 + 3 + 2
    done = expect(coordinator.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert done["counts"]["imported"] == 3 and done["counts"]["refused"] == 0
    assert server.system.settle(30)
    scope = IntakeScope(years=(2020, 2020), as_of=date(2020, 11, 20), profile="default")
    report = server.system.reporting.intake_report(scope, PROFILES["default"])
    outcomes = {p.measure: p.count for p in report.outcomes}
    areas = {p.measure: p.count for p in report.areas}
    assert report.received == 3 and (outcomes["filed"], outcomes["not_filed"]) == (2, 1)
    assert (areas["area.economy"], areas["area.society"]) == (1, 1)
    assert report.handling is not None and report.handling.proposals == 2
    again = expect(upload(coordinator, "/api/sheets/assignments", review_list(),
                          kind="cppcc_proposal", year=2020), 200)
    assert again["preview"]["counts"]["unchanged"] == 3
    assert again["preview"]["counts"]["commands"] == 0


def test_a_reply_list_imports_under_its_clerks_rights(server):
    coordinator = imported(server)
    clerk = server.client("clerk", "sh-ipa")
    replies = reply_list([("101", "A类", "2020-04-01", "全文公开", "电话"),
                          ("102", "B", "2020-04-02", None, None),   # not sh-ipa's item
                          ("999", "A", "2020-04-03", None, None)])  # no such item
    # the clerk's own bureau by default; another bureau's reply list is not its to send
    expect(upload(clerk, "/api/sheets/replies", replies, kind="cppcc_proposal", year=2020,
                  bureau="sh-edu"), 403)
    expect(upload(clerk, "/api/sheets/assignments", assignment_list(), kind="cppcc_proposal",
                  year=2020), 403)
    preview = expect(upload(clerk, "/api/sheets/replies", replies, kind="cppcc_proposal",
                            year=2020), 200)
    assert preview["bureau"] == "sh-ipa"
    by_number = {r["number"]: r for r in preview["preview"]["rows"]}
    assert by_number["999"]["reason"]["code"] == "unknown_proposal"
    # another bureau's item is refused as an unknown one is, in the same words: the preview
    # neither shows it as new nor tells the clerk it exists
    assert by_number["102"]["status"] == "refused"
    assert (by_number["102"]["reason"]["message"].replace("102", "999")
            == by_number["999"]["reason"]["message"].replace("第 4 行", "第 3 行"))
    assert [c["type"] for c in by_number["101"]["commands"]] == ["log_contact", "reply",
                                                                 "decide_disclosure"]
    # the preview is the uploader's: no one else sees or commits it
    for other in (server.client("clerk", "sh-edu"), coordinator, server.client("admin")):
        expect(other.get(f"/api/sheets/{preview['preview_id']}"), 404)
        expect(other.post(f"/api/sheets/{preview['preview_id']}/commit"), 404)
    done = expect(clerk.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    assert done["counts"]["imported"] == 1 and done["counts"]["refused"] == 0
    assert done["counts"]["refused_in_preview"] == 2 and done["rows"] == []
    assert server.system.settle(30)
    report = expect(clerk.get("/api/report", params={"bureau": "sh-ipa", "years": "2020",
                                                     "as_of": "2020-11-20"}), 200)
    assert report["replies"] == 1 and report["results"]["solved"] == 1
    assert report["disclosure"]["full"] == 1


def test_a_preview_is_answered_a_page_at_a_time_and_kept_per_uploader(server):
    coordinator = server.client("coordinator")
    register(coordinator)
    items = [(str(500 + n), f"关于第{n}项的提案", "张三", "经济界别",
              "上海市不存在局" if n % 4 == 0 else "上海市知识产权局", None, None, "2020-03-02")
             for n in range(230)]
    first = expect(upload(coordinator, "/api/sheets/assignments", assignment_list(items)), 200)
    assert first["page"] == {"offset": 0, "limit": 100, "total": 230, "status": None}
    assert len(first["preview"]["rows"]) == 100
    assert first["preview"]["counts"]["rows"] == 230  # the counts are the whole's
    preview_id = first["preview_id"]
    page = expect(coordinator.get(f"/api/sheets/{preview_id}",
                                  params={"offset": 200, "limit": 100}), 200)
    assert [r["number"] for r in page["preview"]["rows"]] == [str(500 + n) for n in range(200, 230)]
    refused = expect(coordinator.get(f"/api/sheets/{preview_id}",
                                     params={"status": "refused", "limit": 500}), 200)
    assert refused["page"]["total"] == 58 == len(refused["preview"]["rows"])
    expect(coordinator.get(f"/api/sheets/{preview_id}", params={"limit": 501}), 422)
    # committing reads the whole preview, not a page
    done = expect(coordinator.post(f"/api/sheets/{preview_id}/commit"), 200)
    assert done["counts"]["imported"] == 172 and done["counts"]["refused_in_preview"] == 58

    # a clerk's uploads push out only the clerk's own oldest previews
    clerk = server.client("clerk", "sh-ipa")
    replies = reply_list([("501", "A类", "2020-04-01", None, None)])
    ids = [expect(upload(clerk, "/api/sheets/replies", replies, kind="cppcc_proposal",
                         year=2020), 200)["preview_id"] for _ in range(4)]
    expect(clerk.get(f"/api/sheets/{ids[0]}"), 404)
    for kept in ids[1:]:
        expect(clerk.get(f"/api/sheets/{kept}"), 200)
    expect(coordinator.get(f"/api/sheets/{preview_id}"), 200)


def test_a_sheet_that_cannot_be_read_is_a_clear_422(server):
    coordinator = server.client("coordinator")
    for data, code in ((b"not a spreadsheet", "unreadable"), (b"", "empty_sheet"),
                       (reply_list([("1", "A", "2020-01-01", None, None)]), "missing_columns")):
        body = expect(upload(coordinator, "/api/sheets/assignments", data, year=2020), 422)
        assert body["detail"]["code"] == code, body
        assert body["detail"]["message"] and body["detail"]["message_en"]
    bad = coordinator.post("/api/sheets/assignments", content=assignment_list(),
                           params={"mapping": "not json"}, headers={"Content-Type": XLSX})
    assert expect(bad, 422)["detail"]["code"] == "bad_mapping"


# What an export must not show: the codes behind the words (a kind, a level, a role, a result
# ... as the API carries them), the bureaus' ids, and booleans (TRUE/FALSE for 是/否).
CODES = ({value for choice in CHOICES for value in get_args(choice.type)} | set(PROFILES)
         | set(BUREAUS) | {True, False, "TRUE", "FALSE", "True", "False"})
# an English word that is its code too (the role `lead` is "lead" in English)
SAME_IN_ENGLISH = {value for choice in CHOICES for value, (_, en) in choice.labels.items()
                   if value == en}


def replied(coordinator, server) -> None:
    """101's lead replies (solved), publishes it in full, and the office records the filer's
    feedback; 102's second lead returns it (misrouted); 105 comes in and waits to be assigned:
    the lists have results, disclosures, feedback and bureaus to show in words."""
    expect(server.client("clerk", "sh-hrss").post("/api/commands", json={
        "type": "return", "proposal": "2020-cppcc_proposal-102", "bureau": "sh-hrss",
        "reason": "不属于本单位职责", "at": "2020-02-06T09:00:00+08:00"}), 201)
    expect(coordinator.post("/api/commands", json={
        "type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "105",
        "title": "关于社区养老的提案", "filers": [{"name": "周九"}],
        "at": "2020-03-01T09:00:00+08:00"}), 201)
    clerk = server.client("clerk", "sh-ipa")
    proposal = "2020-cppcc_proposal-101"
    for client, body in ((clerk, {"type": "log_contact", "stage": "before", "method": "visit",
                                  "at": "2020-03-01T09:00:00+08:00"}),
                         (clerk, {"type": "reply", "result": "solved",
                                  "at": "2020-04-01T09:00:00+08:00"}),
                         (clerk, {"type": "decide_disclosure", "disclosure": "full",
                                  "at": "2020-04-02T09:00:00+08:00"}),
                         (coordinator, {"type": "record_feedback", "satisfaction": "satisfied",
                                        "at": "2020-04-20T09:00:00+08:00"})):
        expect(client.post("/api/commands", json={**body, "proposal": proposal,
                                                  "bureau": "sh-ipa"}), 201)
    assert server.system.settle(30)


def test_every_list_downloads_as_xlsx_in_words_with_the_rows_of_its_json(server):
    """Each list's spreadsheet: its columns in the order the page's table has them (the
    vocabulary's `lists`), a row for each of its JSON's, and no code anywhere: kinds, roles,
    results, disclosures, feedback, what is owed in words, 是/否, bureaus by name."""
    coordinator = imported(server)
    replied(coordinator, server)
    vocabulary = expect(coordinator.get("/api/vocabulary"), 200)
    headers = {entry["name"]: entry["columns"] for entry in vocabulary["lists"]}
    scope = {"all": "true", "years": "2020", "as_of": "2020-11-20"}
    lists = [("/api/assignments", {}, "items", "owed"),
             ("/api/items", {**scope, "measure": "lead"}, "items", "items"),
             ("/api/items", {**scope, "measure": "on_time_opinion"}, "items", "items"),
             ("/api/items", {**scope, "measure": "satisfaction"}, "items", "items"),
             ("/api/entries", {**scope, "which": "all"}, "items", "entries"),
             ("/api/proposals/awaiting-assignment", {"years": "2020"}, "items", "awaiting"),
             ("/api/reminders", {}, "items", "reminders"),
             ("/api/misrouting", {"years": "2020", "as_of": "2020-11-20"}, "bureaus",
              "misrouting"),
             ("/api/league", scope, "bureaus", "league")]
    for path, params, key, name in lists:
        body = expect(coordinator.get(path, params=params), 200)
        assert body[key], (path, "nothing to show")
        keys = body.get("columns") or [c["key"] for c in headers[name]]
        for lang in ("zh", "en"):
            r = coordinator.get(path, params={**params, "format": "xlsx", "lang": lang})
            assert r.status_code == 200, (path, r.text[:300])
            assert r.headers["content-type"] == XLSX
            assert "attachment" in r.headers["content-disposition"]
            rows = sheet_rows(r.content)
            assert rows[0] == [c["label_en" if lang == "en" else "label"] for c in headers[name]
                               if c["key"] in keys], (path, lang)
            assert len(rows) - 1 == len(body[key]), (path, lang)
            codes = CODES - SAME_IN_ENGLISH if lang == "en" else CODES
            shown = {cell for row in rows[1:] for cell in row if isinstance(cell, (str, bool))}
            assert not shown & codes, (path, lang, shown & codes)
            if path == "/api/items":  # behind a number: the report's numbers come first
                first = sheet_rows(r.content, 0)
                assert first[0] == (["项目", "数值"] if lang == "zh" else ["Item", "Value"])
                assert first[1] == (["承办单位", "全部单位"] if lang == "zh"
                                    else ["Bureau", "All bureaus"])

    # the deadlines list, cell by cell: as the page's table shows it
    owed = expect(coordinator.get("/api/assignments"), 200)["items"]
    rows = sheet_rows(coordinator.get("/api/assignments", params={"format": "xlsx"}).content)
    assert rows[0] == ["编号", "标题", "承办单位", "主办/会办", "待办", "期限", "剩余天数"]
    assert [(r[0], r[2]) for r in rows[1:]] == [(i["display"], BUREAUS[i["bureau"]][0])
                                                for i in owed]
    first = owed.index(next(i for i in owed if i["proposal_id"] == "2020-cppcc_proposal-101"
                            and i["bureau"] == "sh-edu"))
    assert rows[1 + first] == ["市政协提案 0101", "关于加强知识产权保护的提案", "上海市教育委员会",
                               "会办", "会办意见", date.fromisoformat(owed[first]["due"]),
                               owed[first]["days_left"]]
    # the items behind the satisfaction rate: the feedback, who recorded it, counted or not
    rows = sheet_rows(coordinator.get("/api/items", params={
        **scope, "measure": "satisfaction", "format": "xlsx"}).content)
    assert rows[0][-3:] == ["满意度", "满意度录入方", "计入分子"]
    assert rows[1][7:] == ["A 已解决或采纳", "全文公开", "满意", "交办单位", "是"]
    rows = sheet_rows(coordinator.get("/api/items", params={
        **scope, "measure": "satisfaction", "format": "xlsx", "lang": "en"}).content)
    assert rows[1][7:] == ["A: solved or adopted", "full text", "satisfied", "the office", "yes"]
    assert rows[1][2] == "Shanghai IPA"


@pytest.mark.parametrize("measure", ["replied", "adoption"])
def test_a_clerk_downloads_only_its_own_bureaus_rows(server, measure):
    imported(server)
    clerk = server.client("clerk", "sh-ipa")
    params = {"years": "2020", "as_of": "2020-11-20", "format": "xlsx", "measure": measure}
    expect(clerk.get("/api/items", params={**params, "bureau": "sh-edu"}), 403)
    r = clerk.get("/api/items", params={**params, "bureau": "sh-ipa"})
    assert r.status_code == 200
    rows = sheet_rows(r.content)
    assert rows[0][2] == "承办单位"
    assert all(row[2] == "上海市知识产权局" for row in rows[1:])
    seen = json.dumps(rows[1:], ensure_ascii=False)
    assert "sh-edu" not in seen and "上海市教育委员会" not in seen


def test_the_year_end_documents_attachment_as_xlsx(server):
    coordinator = imported(server)
    params = {"bureau": "sh-ipa", "year": 2020, "as_of": "2020-11-20"}
    r = coordinator.get("/api/report/document", params={**params, "format": "xlsx"})
    assert r.status_code == 200, r.text[:300]
    assert r.headers["content-type"] == XLSX and ".xlsx" in r.headers["content-disposition"]
    numbers, items = sheet_rows(r.content, 0), sheet_rows(r.content, 1)
    assert numbers[0] == ["项目", "数值"]
    lead = expect(coordinator.get("/api/items", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20", "measure": "lead"}), 200)
    assert len(items) - 1 == lead["count"] == 2
    md = coordinator.get("/api/report/document", params={**params, "format": "md"}).text
    for row in items[1:]:
        assert row[3] in md  # each title, as the document's attachment states it
