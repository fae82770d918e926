"""Bureaus as offices name them, over real HTTP on the embedded system: assignment lists and JSON
Lines naming bureaus by short names (简称) and former names, across a rename and a merger
(机构改革), give the report the same history gives with ids; a name that means no bureau is
refused with the closest registered names; the successor's clerk works on the duties it took
over, the merged bureau's clerk reads its past and records nothing more."""
from __future__ import annotations

import json
from datetime import date
from io import BytesIO

import openpyxl
import pytest

from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope
from banli.history import reference_report, run_history
from tests.integration.test_http_api import expect

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
FGW, KW, JXW, SZ = "sh-fgw", "sh-kw", "sh-jxw", "sh-sz"
BUREAUS = [  # id, full name, short name
    (FGW, "上海市发展和改革委员会", "市发展改革委"),
    (KW, "上海市科学技术委员会", "市科委"),      # renamed 上海市科学技术局 (市科技局) on 1 July 2019
    (JXW, "上海市经济和信息化委员会", "市经信委"),  # merged into sh-sz on 1 January 2020
    (SZ, "上海市数字经济局", "市数字经济局"),
]
IDS = {short: bureau for bureau, _, short in BUREAUS} | {
    full: bureau for bureau, full, _ in BUREAUS}

# the two assignment lists (交办清单), naming bureaus as offices write them: number, title,
# lead, co, date. The 2020 list is written after the rename and the merger, and names the
# renamed bureau by its former name, the successor by its short name; one row names a bureau
# no one registered.
LIST_2019 = [("1901", "关于优化营商环境的提案", "市发展改革委", "市科委", "2019-02-15"),
             ("1902", "关于发展工业互联网的提案", "市经信委", "", "2019-02-15"),
             ("1903", "关于数字化转型的提案", "市经信委", "市发展改革委", "2019-02-15"),
             ("1904", "关于科技成果转化的提案", "市科委", "", "2019-02-15")]
LIST_2020 = [("2001", "关于科创中心建设的提案", "上海市科学技术委员会", "市数字经济局", "2020-02-20"),
             ("2002", "关于数据要素市场的提案", "市数字经济局", "", "2020-02-20"),
             ("2003", "关于价格监管的提案", "市发改委", "", "2020-02-20")]


def at(day: str, hour: int = 10) -> str:
    return f"{day}T{hour:02d}:00:00+08:00"


# what the bureaus record, by name (JSON Lines), in business-time order around the two lists
BEFORE_RENAME = [
    {"type": "submit_opinion", "proposal": "2019-cppcc_proposal-1901", "bureau": "市科委",
     "at": at("2019-03-01")},
    {"type": "submit_opinion", "proposal": "2019-cppcc_proposal-1903",
     "bureau": "市发展改革委", "at": at("2019-03-20")},
    {"type": "reply", "proposal": "2019-cppcc_proposal-1901", "bureau": "上海市发展和改革委员会",
     "result": "solved", "at": at("2019-04-01")},
    {"type": "reply", "proposal": "2019-cppcc_proposal-1903", "bureau": "市经信委",
     "result": "planned", "at": at("2019-05-10")},
]
REORGANISATION = [
    {"type": "rename_bureau", "bureau": "市科委", "name": "上海市科学技术局",
     "name_en": "Shanghai Science and Technology Bureau", "short_names": ["市科技局"],
     "at": at("2019-07-01", 0)},
    {"type": "reply", "proposal": "2019-cppcc_proposal-1904", "bureau": "上海市科学技术委员会",
     "result": "solved", "at": at("2019-08-01")},
    {"type": "merge_bureau", "bureau": "市经信委", "into": "市数字经济局", "at": at("2020-01-01", 0)},
]
AFTER = [
    {"type": "reply", "proposal": "2019-cppcc_proposal-1902", "bureau": "市数字经济局",
     "result": "solved", "at": at("2020-03-01")},
    {"type": "submit_opinion", "proposal": "2020-cppcc_proposal-2001", "bureau": "市数字经济局",
     "at": at("2020-04-01")},
    {"type": "reply", "proposal": "2020-cppcc_proposal-2001", "bureau": "市科委",
     "result": "planned", "at": at("2020-05-01")},
    {"type": "revise_result", "proposal": "2020-cppcc_proposal-2001", "bureau": "市科技局",
     "result": "solved", "note": "已列入计划并实施", "at": at("2020-06-01")},
    {"type": "reply", "proposal": "2020-cppcc_proposal-2002", "bureau": "上海市数字经济局",
     "result": "reference", "at": at("2020-06-01")},
]


def with_ids(line: dict) -> dict:
    """The same command naming its bureaus by id."""
    out = dict(line)
    for field in ("bureau", "into"):
        if field in out:
            out[field] = IDS.get(out[field], {"上海市科学技术局": KW, "市科技局": KW}.get(out[field]))
    return out


def assignment_list(title: str, rows) -> bytes:
    book = openpyxl.Workbook()
    ws = book.active
    ws.append([title])
    ws.append(["提案号", "案由", "提案人", "界别", "主办单位", "会办单位", "交办日期"])
    for number, subject, lead, co, day in rows:
        ws.append([number, subject, "张三", "经济界别", lead, co, day])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def id_history() -> list[str]:
    """The same history as commands naming every bureau by id (the row naming no registered
    bureau left out)."""
    lines = [{"type": "register_bureau", "bureau": b, "name": full, "short_names": [short],
              "at": at("2018-12-03")} for b, full, short in BUREAUS]
    for rows, year in ((LIST_2019, 2019), (LIST_2020[:2], 2020)):
        for number, subject, lead, co, day in rows:
            lines.append({"type": "submit", "kind": "cppcc_proposal", "year": year,
                          "number": number, "title": subject, "filers": [{"name": "张三"}],
                          "affiliation": "经济界别", "at": f"{day}T09:00:00+08:00"})
            lines.append({"type": "assign", "proposal": f"{year}-cppcc_proposal-{number}",
                          "lead": [IDS[lead]], "co": [IDS[co]] if co else [],
                          "at": f"{day}T09:01:00+08:00"})
    lines += [with_ids(line) for line in BEFORE_RENAME + REORGANISATION + AFTER]
    return [json.dumps(line, ensure_ascii=False) for line in
            sorted(lines, key=lambda line: line["at"])]


def jsonl(lines) -> bytes:
    return "\n".join(json.dumps(line, ensure_ascii=False) for line in lines).encode()


def upload_list(client, data: bytes) -> dict:
    preview = expect(client.post("/api/sheets/assignments", content=data,
                                 headers={"Content-Type": XLSX}), 200)
    expect(client.post(f"/api/sheets/{preview['preview_id']}/commit"), 200)
    return preview["preview"]


@pytest.fixture
def named(server):
    """The history above, entered as offices name bureaus: registrations with short names,
    the lists by short and former names, the bureaus' records and the reorganisation as JSON
    Lines by name. The 2020 list's preview and the last import's answer are kept."""
    coordinator, importer = server.client("coordinator"), server.client("importer")
    for bureau, full, short in BUREAUS:
        expect(coordinator.post("/api/bureaus", json={
            "bureau": bureau, "name": full, "short_names": [short], "at": at("2018-12-03")}), 201)
    upload_list(coordinator, assignment_list("2019年市政协提案交办清单", LIST_2019))
    for lines in (BEFORE_RENAME, REORGANISATION):
        done = expect(importer.post("/api/import", content=jsonl(lines)), 200)
        assert done["problems"] == [] and done["accepted"] == len(lines)
    assert server.system.settle(60)
    server.preview = upload_list(coordinator,
                                 assignment_list("2020年市政协提案交办清单", LIST_2020))
    server.imported = expect(importer.post("/api/import", content=jsonl(
        [*AFTER, {"type": "reply", "proposal": "2020-cppcc_proposal-2003", "bureau": "市发改委",
                  "result": "solved", "at": at("2020-06-02")}])), 200)
    assert server.system.settle(60)
    return server


def test_names_give_the_report_ids_give_across_a_rename_and_a_merger(named):
    assert named.imported["accepted"] == len(AFTER)
    ledger, problems = run_history(id_history())
    assert problems == []
    store, profile = named.system.reporting, PROFILES["default"]
    for day in (date(2019, 6, 30), date(2019, 12, 31), date(2020, 1, 1), date(2020, 11, 20)):
        for years in ((2019, 2019), (2020, 2020), (2019, 2020)):
            for bureau in (FGW, KW, JXW, SZ, None):
                scope = Scope(bureau=bureau, years=years, as_of=day)
                assert store.report(scope, profile) == reference_report(ledger, scope), scope
    # the merged bureau's two open duties are its successor's from the merger on
    leads = {day: {b: store.report(Scope(bureau=b, years=(2019, 2019), as_of=day),
                                   profile).assignments["cppcc_proposal"].lead
                   for b in (JXW, SZ)} for day in (date(2019, 12, 31), date(2020, 1, 1))}
    assert leads == {date(2019, 12, 31): {JXW: 2, SZ: 0}, date(2020, 1, 1): {JXW: 0, SZ: 2}}


def test_a_name_that_means_no_bureau_is_refused_with_the_closest_names(named):
    [row] = [r for r in named.preview["rows"] if r["number"] == "2003"]
    assert row["status"] == "refused" and row["reason"]["code"] == "unknown_bureau"
    assert row["reason"]["message"] == (
        "第 5 行：承办单位“市发改委”未登记（最接近的已登记单位：市发展改革委（sh-fgw）、"
        + row["reason"]["message"].split("、", 1)[1])
    assert row["reason"]["details"]["suggestions"][0] == FGW
    assert "the closest registered: 市发展改革委 (sh-fgw)" in row["reason"]["message_en"]
    [problem] = named.imported["problems"]
    assert problem["line"] == len(AFTER) + 1 and problem["code"] == "invalid"
    assert problem["reason"].startswith("承办单位“市发改委”未登记；最接近的已登记单位：市发展改革委（sh-fgw）")
    assert problem["reason_en"].startswith(
        "bureau '市发改委' is not registered; the closest registered: 市发展改革委 (sh-fgw)")


def test_the_successor_s_clerk_works_on_the_duties_it_took_over(named):
    sz = named.client("clerk", SZ)
    work = expect(sz.get("/api/work"), 200)
    assert "2019-cppcc_proposal-1902" in {i["proposal_id"] for i in work["items"]}
    # it reads the merged bureau's records on the duty it took over (a reply of 2019)
    history = expect(sz.get("/api/proposals/2019-cppcc_proposal-1903/history"), 200)["events"]
    assert [(e["type"], e.get("bureau")) for e in history if e["type"] == "ReplyIssued"] == [
        ("ReplyIssued", JXW)]
    assert any(e["type"] == "DutyHandedOver" for e in history)
    expect(sz.post("/api/proposals/2019-cppcc_proposal-1902/disclosure", json={
        "bureau": SZ, "disclosure": "full", "at": at("2020-11-19")}), 201)


def test_the_merged_bureau_s_clerk_reads_its_past_and_records_nothing_more(named):
    jxw = named.client("clerk", JXW)
    refused = expect(jxw.post("/api/proposals/2019-cppcc_proposal-1903/disclosure", json={
        "bureau": JXW, "disclosure": "full", "at": at("2020-11-19")}), 409)
    assert refused["code"] == "bureau_merged"
    assert refused["message"] == ("上海市经济和信息化委员会 已于 2020年1月1日 并入 上海市数字经济局，不再办理")
    assert expect(jxw.get("/api/work"), 200)["total"] == 0
    report = expect(jxw.get("/api/report", params={"bureau": JXW, "years": "2019-2019",
                                                   "as_of": "2019-12-31"}), 200)
    assert report["assignments"]["cppcc_proposal"]["lead"] == 2
    # a bureau that never had a duty on it knows nothing of it
    expect(named.client("clerk", KW).get("/api/proposals/2019-cppcc_proposal-1902"), 404)


def test_the_page_names_bureaus_as_they_were_named_then(named):
    coordinator = named.client("coordinator")
    board = expect(coordinator.get("/api/dashboard", params={
        "years": "2019-2019", "as_of": "2019-06-30", "all": "true"}), 200)
    assert board["bureaus"][KW]["name"] == "上海市科学技术委员会"
    later = expect(coordinator.get("/api/dashboard", params={
        "years": "2019-2020", "as_of": "2020-11-20", "all": "true"}), 200)
    assert later["bureaus"][KW]["name"] == "上海市科学技术局"
    assert later["bureaus"][KW]["lineage"] == "原上海市科学技术委员会"
    assert later["bureaus"][SZ]["lineage"] == "2020年1月1日起承接原上海市经济和信息化委员会的办理工作"
    bureaus = expect(coordinator.get("/api/bureaus"), 200)["bureaus"]
    assert bureaus[KW]["short_names"] == ["市科技局"]
    assert bureaus[KW]["former_names"] == ["上海市科学技术委员会", "市科委"]
    assert (bureaus[JXW]["merged_into"], bureaus[JXW]["merged_on"]) == (SZ, "2020-01-01")
