"""banli.sheets: reading assignment and reply lists into command previews, and writing .xlsx."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from io import BytesIO
from typing import Any

import openpyxl
import pytest

from banli.documents import percent

from banli.domain.proposal import Proposal
from banli.domain.registry import parse_command
from banli.domain.rejections import Rejection
from banli.domain.types import Actor
from banli.history import MemoryLedger
from banli.sheets import (Column, Sheet, SheetError, assignment_preview, load_mapping, parse_date,
                          preview_commands, read_sheet, reply_preview, write_xlsx)
from banli.sheets.example import (EXAMPLE_BUREAUS, EXAMPLE_PATH, REPLY_EXAMPLE_BUREAU,
                                  REPLY_EXAMPLE_PATH, example_assignment_list,
                                  example_reply_list)
from banli.sheets.read import REPLY_HEADERS
from banli.sheets.values import EXCEL_EPOCH
from banli.sheets.write import text_width

BUREAUS = EXAMPLE_BUREAUS
OPTIONS = {"kind": "cppcc_proposal", "year": 2027}  # the sheets made here
COORDINATOR = Actor(user="coord", role="coordinator")
HEADER = ["提案号", "案由", "提案人", "界别", "主办单位", "会办单位", "交办日期"]


def serial(day: date) -> int:
    return (day - EXCEL_EPOCH).days


def xlsx(rows: list[list[Any] | None], merges: tuple[str, ...] = (),
         formats: dict[str, str] | None = None, title: str = "Sheet1") -> bytes:
    """A workbook from rows (None for a blank row), with merged ranges and number formats."""
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = title
    for row in rows:
        ws.append(row or [])
    for merged in merges:
        ws.merge_cells(merged)
    for ref, fmt in (formats or {}).items():
        ws[ref].number_format = fmt
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def item(number: Any, lead: str = "上海市知识产权局", co: str = "", day: Any = "2027-01-15",
         title: str | None = None, filers: str = "张三", affiliation: str = "经济界别") -> list:
    return [number, title or f"关于{number}的提案", filers, affiliation, lead, co, day]


def valid(preview: dict, actor: Actor = COORDINATOR) -> list[dict]:
    """Every command of a preview is valid in the vocabulary; the preview is JSON."""
    json.dumps(preview, ensure_ascii=False)
    commands = preview_commands(preview)
    for command in commands:
        parse_command({**command, "actor": actor.model_dump()})
    return commands


def by_row(preview: dict) -> dict[int, dict]:
    return {r["row"]: r for r in preview["rows"]}


def codes(result: dict) -> list[str]:
    return [p["code"] for p in result["problems"]]


# ---------------------------------------------------------------- the example file


def test_example_file_is_the_generated_one():
    """The shipped example, with the defaults: its title gives the kind and the year."""
    committed = assignment_preview(EXAMPLE_PATH, bureaus=BUREAUS)
    generated = assignment_preview(example_assignment_list(), bureaus=BUREAUS)
    assert committed == generated
    valid(committed)
    assert committed["header_rows"] == [3, 4]
    assert committed["ignored_columns"] == ["序号"]
    assert committed["counts"] == {"rows": 4, "new": 4, "unchanged": 0, "differs": 0,
                                   "refused": 0, "commands": 8, "skipped": 0}
    inferred = committed["inferred"]
    assert (inferred["kind"]["value"], inferred["kind"]["cell"]) == ("cppcc_proposal", "A1")
    assert (inferred["year"]["value"], inferred["year"]["cell"]) == (2026, "A1")
    assert inferred["kind"]["message"] == "类型“政协提案”取自 A1 单元格“2026年市政协提案交办清单”（含“提案”）"
    assert "from cell A1" in inferred["year"]["message_en"]
    rows = by_row(committed)
    assert sorted(rows) == [5, 6, 8, 9]  # row 7 is blank
    assert rows[5]["key"] == "municipal/cppcc_proposal/2026/21001"
    submit, assign = rows[5]["commands"]
    assert submit["at"] == "2026-01-15T09:00:00+08:00"  # a serial number
    assert assign["at"] == "2026-01-15T09:01:00+08:00"
    assert [f["name"] for f in submit["filers"]] == ["张三", "李四"]
    assert assign["lead"] == ["sh-ipa"] and assign["co"] == ["sh-samr"]
    split = rows[6]["commands"][1]
    assert split["lead"] == ["sh-stcsm", "sh-hrss"] and split["co"] == ["sh-sjxw"]
    assert split["at"].startswith("2026-01-20")  # text 2026年1月20日
    assert rows[6]["commands"][0]["topics"] == ["人才", "科技"]
    assert rows[8]["commands"][0]["at"].startswith("2026-01-20")  # a real date
    assert [f["name"] for f in rows[8]["commands"][0]["filers"]] == ["赵六", "钱七"]


def test_example_commands_are_accepted_by_the_kernel():
    """The preview's commands, sent in order after the bureaus' registration, are all taken;
    then a bureau's reply list for the same items is too."""
    ledger = MemoryLedger()
    importer = Actor(user="importer", role="importer").model_dump()
    for bureau, (name, name_en) in BUREAUS.items():
        outcome = ledger.execute(parse_command({
            "type": "register_bureau", "bureau": bureau, "name": name, "name_en": name_en,
            "at": "2026-01-02T09:00:00+08:00", "command_id": f"reg-{bureau}", "actor": importer}))
        assert not isinstance(outcome, Rejection)
    preview = assignment_preview(EXAMPLE_PATH, bureaus=BUREAUS)
    for command in valid(preview):
        outcome = ledger.execute(parse_command({**command, "actor": COORDINATOR.model_dump()}))
        assert not isinstance(outcome, Rejection), outcome
    clerk = Actor(user="ipa-clerk", bureau=REPLY_EXAMPLE_BUREAU, role="clerk")
    owners = {s.natural_key: s.id for s in ledger.states.values() if isinstance(s, Proposal)}
    committed = reply_preview(REPLY_EXAMPLE_PATH, bureau=REPLY_EXAMPLE_BUREAU,
                              proposals=owners.get)
    assert committed == reply_preview(example_reply_list(), bureau=REPLY_EXAMPLE_BUREAU,
                                      proposals=owners.get)
    assert committed["counts"]["new"] == 2 and committed["inferred"]["year"]["value"] == 2026
    for command in valid(committed, clerk):
        outcome = ledger.execute(parse_command({**command, "actor": clerk.model_dump()}))
        assert not isinstance(outcome, Rejection), outcome
    first, fourth = (ledger.states[f"2026-cppcc_proposal-2100{n}"] for n in (1, 4))
    assert first.version == 5  # submitted, assigned, contact, reply, disclosure
    duty = fourth.assignments["sh-ipa"]
    assert (duty.result, duty.disclosure, duty.contacted_before_reply) == (
        "planned", "summary", True)


# ---------------------------------------------------------------- leads, co-handlers, bureaus


def test_several_leads_and_co_handlers():
    sheet = xlsx([HEADER,
                  item(1, lead="上海市知识产权局、上海市科学技术委员会", co="上海市市场监督管理局，上海市经济和信息化委员会"),
                  item(2, lead="上海市知识产权局\n上海市地方金融监督管理局"),
                  item(3, lead="上海市知识产权局 上海市科学技术委员会"),
                  item(4, lead="Shanghai Science and Technology Commission; sh-jrj",
                       co="上海市 市场监督管理局")])
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS))
    assert rows[2]["commands"][1]["lead"] == ["sh-ipa", "sh-stcsm"]
    assert rows[2]["commands"][1]["co"] == ["sh-samr", "sh-sjxw"]
    assert rows[3]["commands"][1]["lead"] == ["sh-ipa", "sh-jrj"]
    assert rows[4]["commands"][1]["lead"] == ["sh-ipa", "sh-stcsm"]  # split on spaces
    assert rows[5]["commands"][1]["lead"] == ["sh-stcsm", "sh-jrj"]  # English name, id
    assert rows[5]["commands"][1]["co"] == ["sh-samr"]                # whitespace ignored


def test_full_width_and_aliases_match():
    sheet = xlsx([HEADER, item(1, lead="ＳＨ－ＩＰＡ"), item(2, lead="市知识产权局")])
    bureaus = {**BUREAUS, "sh-ipa": (*BUREAUS["sh-ipa"], "市知识产权局")}
    rows = by_row(assignment_preview(sheet, bureaus=bureaus, **OPTIONS))
    assert rows[2]["commands"][1]["lead"] == ["sh-ipa"]
    assert rows[3]["commands"][1]["lead"] == ["sh-ipa"]


def test_split_column_marker_or_names():
    header = HEADER[:5] + ["分办"] + HEADER[5:]
    sheet = xlsx([header,
                  item(1, lead="上海市知识产权局、上海市科学技术委员会")[:5] + ["是"] + ["", "2027-01-15"],
                  item(2)[:5] + ["上海市科学技术委员会"] + ["", "2027-01-15"],
                  item(3)[:5] + ["√"] + ["", "2027-01-15"],
                  item(4)[:5] + ["否"] + ["", "2027-01-15"],
                  item(5)[:5] + ["市不存在局"] + ["", "2027-01-15"]])
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    rows = by_row(preview)
    valid(preview)
    assert rows[2]["commands"][1]["lead"] == ["sh-ipa", "sh-stcsm"]
    assert rows[3]["commands"][1]["lead"] == ["sh-ipa", "sh-stcsm"]   # 分办 names the other lead
    assert rows[4]["status"] == "refused" and codes(rows[4]) == ["split_single_lead"]
    assert rows[5]["commands"][1]["lead"] == ["sh-ipa"]
    assert codes(rows[6]) == ["unknown_bureau"]


def test_unknown_bureau_is_refused_by_row_and_name():
    sheet = xlsx([HEADER, item(1), item(2, lead="上海市知识产权局、上海市宇宙局", co="上海市月亮局"),
                  item(3, lead="")])
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    rows = by_row(preview)
    assert rows[2]["status"] == "new"
    refused = rows[3]
    assert refused["status"] == "refused" and refused["commands"] == []
    assert codes(refused) == ["unknown_bureau", "unknown_bureau"]
    # the closest registered names are offered (a name containing the other's words first)
    assert refused["reason"]["message"].startswith(
        "第 3 行：承办单位“上海市宇宙局”未登记（最接近的已登记单位：上海市知识产权局（sh-ipa）、")
    assert refused["reason"]["message"].endswith("；请更正名称或先登记）")
    assert refused["reason"]["message_en"].startswith(
        "row 3: bureau '上海市宇宙局' is not registered (the closest registered: 上海市知识产权局 "
        "(sh-ipa), ")
    details = refused["problems"][1]["details"]
    assert details["name"] == "上海市月亮局" and len(details["suggestions"]) == 3
    assert codes(rows[4]) == ["no_lead"]
    assert preview["counts"]["refused"] == 2 and preview["counts"]["commands"] == 2


def test_a_bureau_both_lead_and_co_is_refused():
    rows = by_row(assignment_preview(
        xlsx([HEADER, item(1, co="sh-ipa")]), bureaus=BUREAUS, **OPTIONS))
    assert codes(rows[2]) == ["lead_and_co"]


def test_duplicate_number_refuses_the_second_row():
    sheet = xlsx([HEADER, item(7), item(8), item("7", title="又一个")])
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS))
    assert rows[2]["status"] == "new" and rows[3]["status"] == "new"
    assert codes(rows[4]) == ["duplicate_in_sheet"]
    assert rows[4]["reason"]["details"]["first"] == 2
    assert "第 2 行" in rows[4]["reason"]["message"]


# ---------------------------------------------------------------- the header


def test_title_row_merged_header_and_blank_rows():
    sheet = xlsx([
        ["2027年市人大代表建议交办清单"],
        None,
        ["序号", "建议号", "标题", "领衔代表", "代表团", "承办单位", None, "交办日期", "类型", "年度"],
        [None, None, None, None, None, "主办单位", "会办单位", None, None, None],
        [1, 1001, "关于改善交通的建议", "张三，李四;王五", "浦东代表团", "上海市知识产权局", "", "2027/1/15",
         "人大建议", "2027年"],
        None,
        None,
        [2, 1002, "关于人才公寓的建议", "赵六", "徐汇代表团", "上海市人力资源和社会保障局", "上海市知识产权局",
         "2027.1.16", "人大代表建议", 2027],
    ], merges=("A1:J1", "A3:A4", "B3:B4", "C3:C4", "D3:D4", "E3:E4", "F3:G3", "H3:H4", "I3:I4",
               "J3:J4"))
    preview = assignment_preview(sheet, bureaus=BUREAUS)  # kind and year from the columns
    valid(preview)
    assert preview["header_rows"] == [3, 4]
    assert preview["columns"]["lead"] == ["主办单位"] and preview["columns"]["co"] == ["会办单位"]
    rows = by_row(preview)
    assert sorted(rows) == [5, 8]
    submit, assign = rows[5]["commands"]
    assert submit["kind"] == "npc_suggestion" and submit["year"] == 2027
    assert [f["name"] for f in submit["filers"]] == ["张三", "李四", "王五"]
    assert rows[5]["key"] == "municipal/npc_suggestion/2027/1001"
    assert rows[8]["commands"][1]["co"] == ["sh-ipa"]
    assert rows[8]["commands"][0]["at"] == "2027-01-16T09:00:00+08:00"


def test_header_over_two_rows_without_merges():
    sheet = xlsx([["提案号", "案由", "承办单位", None, "交办日期"],
                  [None, None, "主办单位", "会办单位", None],
                  [5, "题", "上海市知识产权局", "sh-samr", "2027-02-01"]])
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    assert preview["header_rows"] == [1, 2]
    assert by_row(preview)[3]["commands"][1]["co"] == ["sh-samr"]


def test_number_merged_over_rows_is_one_item_with_a_lead_per_row():
    sheet = xlsx([HEADER,
                  [9, "关于分办的提案", "张三", "经济界别", "上海市知识产权局", "", "2027-01-15"],
                  [None, None, None, None, "上海市科学技术委员会", "上海市市场监督管理局", None],
                  item(10)],
                 merges=("A2:A3", "B2:B3", "C2:C3", "D2:D3", "G2:G3"))
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    rows = by_row(preview)
    assert rows[2]["rows"] == [2, 3]
    assert rows[2]["commands"][1]["lead"] == ["sh-ipa", "sh-stcsm"]
    assert rows[2]["commands"][1]["co"] == ["sh-samr"]
    assert rows[2]["commands"][0]["title"] == "关于分办的提案"
    assert rows[4]["status"] == "new"
    assert preview["counts"]["rows"] == 2


def test_section_rows_are_skipped_and_rows_without_number_refused():
    sheet = xlsx([HEADER, ["一、经济类"], item(1), [None, "无号的提案", "张三", "", "上海市知识产权局"]],
                 merges=("A2:G2",))
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    assert preview["skipped"] == [{"row": 2, "text": "一、经济类"}]
    rows = by_row(preview)
    assert rows[3]["status"] == "new"
    assert codes(rows[4]) == ["missing_number", "missing_date"]


def test_english_headers():
    sheet = xlsx([["Number", "Title", "Filers", "Affiliation", "Lead", "Co", "Assigned on",
                   "Topics", "Kind", "Year", "Level"],
                  ["A-12", "On parks", "Ann Lee", "Sector X", "sh-ipa", "sh-samr", "2027-03-04",
                   "parks, green", "cppcc_proposal", 2027, "district"]])
    preview = assignment_preview(sheet, bureaus=BUREAUS)
    [row] = preview["rows"]
    submit, assign = valid(preview)
    assert row["key"] == "district/cppcc_proposal/2027/A-12"
    assert row["proposal"] == "district-2027-cppcc_proposal-A-12" == assign["proposal"]
    assert submit["level"] == "district" and submit["topics"] == ["parks", "green"]


def test_mapping_override_dict_json_and_yaml(tmp_path):
    sheet = xlsx([["件号", "建议内容", "承办处室", "交办日期", "类别"],
                  [3, "关于绿地的建议", "上海市知识产权局", "2027-01-15", "不要"]])
    with pytest.raises(SheetError) as err:
        assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    assert err.value.code == "no_header"
    mapping = {"件号": "number", "建议内容": "title", "承办处室": "lead", "类别": None}
    (tmp_path / "m.json").write_text(json.dumps(mapping, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "m.yaml").write_text(
        "件号: number\n建议内容: title\n承办处室: lead\n类别: null\n", encoding="utf-8")
    for given in (mapping, load_mapping(tmp_path / "m.json"), load_mapping(tmp_path / "m.yaml")):
        preview = assignment_preview(sheet, bureaus=BUREAUS, mapping=given, **OPTIONS)
        submit, assign = valid(preview)
        assert submit["number"] == "3" and submit["title"] == "关于绿地的建议"
        assert submit["topics"] == [] and assign["lead"] == ["sh-ipa"]
        assert preview["ignored_columns"] == ["类别"]
    with pytest.raises(SheetError) as err:
        assignment_preview(sheet, bureaus=BUREAUS, mapping={"件号": "numero"}, **OPTIONS)
    assert err.value.code == "bad_mapping"


def test_the_most_specific_header_or_the_mapping_wins():
    sheet = xlsx([["编号", "提案号", "标题", "主办单位", "交办日期"],
                  [1, "P7", "题", "sh-ipa", "2027-01-15"]])
    preview = assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS)
    assert preview["rows"][0]["number"] == "P7"  # 提案号 before 编号
    assert preview["columns"]["number"] == ["提案号"] and preview["ignored_columns"] == ["编号"]
    preview = assignment_preview(sheet, bureaus=BUREAUS, mapping={"编号": "number"}, **OPTIONS)
    assert preview["rows"][0]["number"] == "1"
    preview = assignment_preview(sheet, bureaus=BUREAUS, mapping={"编号": None}, **OPTIONS)
    assert preview["rows"][0]["number"] == "P7"


def test_an_ambiguous_bureau_name_is_refused():
    bureaus = {**BUREAUS, "sh-ipa": (*BUREAUS["sh-ipa"], "知识产权局"),
               "pd-ipa": ("浦东新区知识产权局", "Pudong IPA", "知识产权局")}
    rows = by_row(assignment_preview(xlsx([HEADER, item(1, lead="知识产权局")]), bureaus=bureaus,
                                     **OPTIONS))
    assert codes(rows[2]) == ["ambiguous_bureau"]
    assert rows[2]["reason"]["details"]["bureaus"] == "pd-ipa、sh-ipa"


def test_sheet_errors_for_missing_header_or_columns():
    with pytest.raises(SheetError) as err:
        assignment_preview(xlsx([["a", "b"], [1, 2]]), bureaus=BUREAUS, **OPTIONS)
    assert err.value.code == "no_header"
    with pytest.raises(SheetError) as err:
        assignment_preview(xlsx([["提案号", "案由"], [1, "题"]]), bureaus=BUREAUS, **OPTIONS)
    assert err.value.code == "missing_columns" and err.value.details["missing"] == ["lead"]
    with pytest.raises(SheetError) as err:
        assignment_preview(b"not a workbook", bureaus=BUREAUS, **OPTIONS)
    assert err.value.code == "unreadable"
    with pytest.raises(SheetError) as err:
        assignment_preview(xlsx([HEADER]), bureaus=BUREAUS, kind="议案", year=2027)
    assert err.value.code == "bad_option"


def test_the_header_is_found_on_a_later_worksheet():
    book = openpyxl.Workbook()
    book.active.append(["说明：本表为交办清单"])
    ws = book.create_sheet("清单")
    ws.append(HEADER)
    ws.append(item(1))
    out = BytesIO()
    book.save(out)
    preview = assignment_preview(out.getvalue(), bureaus=BUREAUS, **OPTIONS)
    assert preview["sheet"] == "清单" and preview["counts"]["new"] == 1


# ---------------------------------------------------------------- kind, year, numbers, dates


def test_kind_and_year_missing_or_bad_are_refused():
    sheet = xlsx([HEADER + ["类型"], item(1) + ["人大建议"], item(2) + [None], item(3) + ["议案"]])
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS))
    assert codes(rows[2]) == ["missing_year"]
    assert codes(rows[3]) == ["missing_kind", "missing_year"]
    assert codes(rows[4]) == ["bad_kind", "missing_year"]
    assert rows[3]["reason"]["message_en"].startswith("row 3: no kind")
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, kind="政协提案", year="2027"))
    assert rows[2]["key"] == "municipal/npc_suggestion/2027/1"  # a cell wins over the option
    assert rows[3]["key"] == "municipal/cppcc_proposal/2027/2"
    assert codes(rows[4]) == ["bad_kind"]


def test_numbers_as_written():
    sheet = xlsx([HEADER, item(12.0), item("第13号"), item("0014"), item("１５"), item("1 6 / 7")])
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS))
    assert [rows[r]["number"] for r in (2, 3, 4, 5)] == ["12", "13", "0014", "15"]
    assert codes(rows[6]) == ["bad_number"]


def test_dates_serial_text_real_and_default():
    sheet = xlsx([HEADER,
                  item(1, day=serial(date(2027, 1, 15))),
                  item(2, day=datetime(2027, 1, 16, 14, 30)),
                  item(3, day="2027年1月17日"),
                  item(4, day="2027.1.18"),
                  item(5, day=None),
                  item(6, day="下周一")],
                 formats={"G3": "yyyy-mm-dd hh:mm"})
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, **OPTIONS))
    days = {r: rows[r]["commands"][0]["at"][:10] for r in (2, 3, 4, 5)}
    assert days == {2: "2027-01-15", 3: "2027-01-16", 4: "2027-01-17", 5: "2027-01-18"}
    assert codes(rows[6]) == ["missing_date"]
    assert rows[6]["reason"]["message"] == "第 6 行：缺少交办日期，导入时也未指定默认日期"
    assert codes(rows[7]) == ["bad_date"]
    assert "下周一" in rows[7]["reason"]["message"]
    rows = by_row(assignment_preview(sheet, bureaus=BUREAUS, assigned_on=date(2027, 2, 1),
                                     **OPTIONS))
    assert rows[6]["commands"][1]["at"] == "2027-02-01T09:01:00+08:00"
    assert rows[2]["commands"][0]["at"].startswith("2027-01-15")  # a cell wins


@pytest.mark.parametrize("value", [
    date(2027, 1, 15), datetime(2027, 1, 15, 8), 46402, 46402.0, "46402", "2027-01-15",
    "2027/1/15", "2027年1月15日", "2027.1.15", "2027-01-15 09:30:00", "20270115",
    "２０２７年１月１５日", " 2027 年 1 月 15 日 ",
])
def test_parse_date(value):
    assert parse_date(value) == date(2027, 1, 15)


@pytest.mark.parametrize("value", ["2027-02-30", "下周", "", None, True, 0, -5, "15/1/2027"])
def test_parse_date_refuses(value):
    with pytest.raises(ValueError):
        parse_date(value)


# ---------------------------------------------------------------- re-import


def existing_from(preview: dict) -> dict[str, dict]:
    """What Banli would hold after the preview's commands: by natural key."""
    known = {}
    for row in preview["rows"]:
        if row["status"] != "new":
            continue
        submit, assign = row["commands"]
        known[row["key"]] = {"title": submit["title"], "filers": submit["filers"],
                             "affiliation": submit["affiliation"], "topics": submit["topics"],
                             "leads": assign["lead"], "cos": assign["co"]}
    return known


def test_reimport_gives_the_same_ids_then_unchanged_rows():
    first = assignment_preview(EXAMPLE_PATH, bureaus=BUREAUS, **OPTIONS)
    again = assignment_preview(example_assignment_list(), bureaus=BUREAUS, **OPTIONS)
    ids = [c["command_id"] for c in preview_commands(first)]
    assert ids == [c["command_id"] for c in preview_commands(again)]
    assert len(set(ids)) == len(ids)
    known = existing_from(first)
    third = assignment_preview(EXAMPLE_PATH, bureaus=BUREAUS, existing=known.get, **OPTIONS)
    assert {r["status"] for r in third["rows"]} == {"unchanged"}
    assert third["counts"]["unchanged"] == 4 and preview_commands(third) == []


def test_a_corrected_title_differs_and_sends_nothing():
    known = existing_from(assignment_preview(EXAMPLE_PATH, bureaus=BUREAUS, **OPTIONS))
    sheet = xlsx([HEADER, [21001, "关于加强知识产权保护工作的提案", "张三、李四", "经济界别",
                           "上海市知识产权局", "上海市市场监督管理局", "2027-01-15"],
                  [21003, "关于发展绿色金融的提案", "赵六、钱七", "无党派人士界别",
                   "上海市地方金融监督管理局、上海市知识产权局", "", "2027-01-20"]])
    preview = assignment_preview(sheet, bureaus=BUREAUS, existing=known.get, **OPTIONS)
    rows = by_row(preview)
    assert rows[2]["status"] == "differs" and rows[2]["commands"] == []
    assert rows[2]["differences"] == [{"field": "title", "old": "关于加强知识产权保护的提案",
                                       "new": "关于加强知识产权保护工作的提案"}]
    assert rows[3]["differences"] == [{"field": "leads", "old": ["sh-jrj"],
                                       "new": ["sh-jrj", "sh-ipa"]}]
    assert preview["counts"]["differs"] == 2 and preview["counts"]["commands"] == 0


def test_submitted_but_never_assigned_sends_the_assignment_only():
    known = {"municipal/cppcc_proposal/2027/1": {
        "title": "关于1的提案", "filers": ["张三"], "affiliation": "经济界别", "topics": [],
        "leads": [], "cos": [], "proposal": "p-2027-1"}}
    preview = assignment_preview(xlsx([HEADER, item(1)]), bureaus=BUREAUS, existing=known.get,
                                 **OPTIONS)
    [row] = preview["rows"]
    [assign] = valid(preview)
    assert row["status"] == "new" and assign["type"] == "assign"
    assert assign["proposal"] == "p-2027-1" and assign["lead"] == ["sh-ipa"]


# ---------------------------------------------------------------- reply lists

KEYS = {f"municipal/cppcc_proposal/2027/{n}": f"2027-cppcc_proposal-{n}" for n in range(1, 10)}
REPLY_HEADER = ["提案号", "办理结果", "答复日期", "沟通方式", "沟通日期", "公开方式", "签发人", "答复摘要"]


def test_reply_sheet_with_chinese_labels():
    sheet = xlsx([["2027年提案答复情况表"], REPLY_HEADER,
                  [1, "A类", "2027-03-10", "走访", "2027-03-01", "全文公开", "王局长", "已落实"],
                  [2, "正在解决或列入计划", serial(date(2027, 3, 11)), "电话", None, "摘要公开", None, None],
                  [3, "C类（因条件限制待以后解决）", "2027年3月12日", None, None, "依法不公开", None, None],
                  [4, "留作参考", "2027/3/13", "座谈", None, None, None, None],
                  [5, "解决采纳", "2027-03-14", "网络", None, "不公开", None, None],
                  [6, "d", "2027-03-15", "信函", None, None, None, None]],
                 merges=("A1:H1",))
    clerk = Actor(user="c", bureau="sh-ipa", role="clerk")
    preview = reply_preview(sheet, bureau="sh-ipa", proposals=KEYS.get, **OPTIONS)
    valid(preview, clerk)
    rows = by_row(preview)
    assert preview["header_rows"] == [2, 2]
    contact, reply, disclosure = rows[3]["commands"]
    assert [contact["type"], reply["type"], disclosure["type"]] == [
        "log_contact", "reply", "decide_disclosure"]
    assert contact == {**contact, "stage": "before", "method": "visit", "bureau": "sh-ipa",
                       "proposal": "2027-cppcc_proposal-1", "at": "2027-03-01T09:00:00+08:00"}
    assert reply["result"] == "solved" and reply["signed_by"] == "王局长"
    assert reply["summary"] == "已落实" and reply["at"] == "2027-03-10T10:00:00+08:00"
    assert disclosure["disclosure"] == "full" and disclosure["at"] == "2027-03-10T10:01:00+08:00"
    assert rows[4]["commands"][0]["at"] == "2027-03-11T09:00:00+08:00"  # contact on the reply day
    assert rows[4]["commands"][1]["result"] == "planned"
    assert rows[4]["commands"][2]["disclosure"] == "summary"
    assert [c["type"] for c in rows[5]["commands"]] == ["reply", "decide_disclosure"]
    assert rows[5]["commands"][0]["result"] == "deferred"
    assert rows[5]["commands"][1]["disclosure"] == "exempt"
    assert [c["type"] for c in rows[6]["commands"]] == ["log_contact", "reply"]
    assert rows[6]["commands"][0]["method"] == "meeting"
    assert rows[6]["commands"][1]["result"] == "reference"
    assert rows[7]["commands"][1]["result"] == "solved"
    assert rows[7]["commands"][2]["disclosure"] == "withheld"
    assert rows[8]["commands"][0]["method"] == "letter"
    assert rows[8]["commands"][1]["result"] == "reference"
    again = reply_preview(sheet, bureau="sh-ipa", proposals=KEYS.get, **OPTIONS)
    assert preview_commands(again) == preview_commands(preview)
    other = reply_preview(sheet, bureau="sh-stcsm", proposals=KEYS.get, **OPTIONS)
    assert not {c["command_id"] for c in preview_commands(other)} & {
        c["command_id"] for c in preview_commands(preview)}


def test_reply_sheet_refusals():
    sheet = xlsx([REPLY_HEADER,
                  [1, "E类", "2027-03-10", None, None, None, None, None],
                  [2, "A", "2027-03-10", "飞鸽", None, "半公开", None, None],
                  [3, "A", "2027-03-10", "电话", "2027-03-11", None, None, None],
                  [4, None, None, None, None, None, None, None],
                  [77, "A", "2027-03-10", None, None, None, None, None],
                  [5, "B", "三月", None, None, None, None, None],
                  [5, "B", "2027-03-10", None, None, None, None, None]])
    rows = by_row(reply_preview(sheet, bureau="sh-ipa", proposals=KEYS.get, **OPTIONS))
    assert codes(rows[2]) == ["bad_result"]
    assert codes(rows[3]) == ["bad_disclosure", "bad_contact_method"]
    assert codes(rows[4]) == ["contact_after_reply"]
    assert codes(rows[5]) == ["missing_result", "missing_date"]
    assert codes(rows[6]) == ["unknown_proposal"]
    assert rows[6]["reason"]["message"] == (
        "第 6 行：municipal/cppcc_proposal/2027/77 不是本单位主办的建议提案：尚未登记（请先导入交办清单），"
        "或未交本单位主办")
    assert codes(rows[7]) == ["bad_date"]
    assert codes(rows[8]) == ["duplicate_in_sheet"]
    assert all(r["commands"] == [] for r in rows.values())
    with pytest.raises(SheetError):
        reply_preview(xlsx([["提案号", "答复日期"], [1, "2027-03-10"]]), bureau="sh-ipa",
                      proposals=KEYS.get, **OPTIONS)


def test_reply_already_in_banli_is_unchanged_or_differs():
    sheet = xlsx([REPLY_HEADER[:3] + ["公开方式"], [1, "A类", "2027-03-10", "全文公开"],
                  [2, "B类", "2027-03-10", "全文公开"], [3, "A类", "2027-03-10", None]])
    replied = {"2027-cppcc_proposal-1": {"result": "solved", "disclosure": "full"},
               "2027-cppcc_proposal-2": {"result": "solved", "disclosure": "full"}}
    rows = by_row(reply_preview(sheet, bureau="sh-ipa", proposals=KEYS.get, replied=replied.get,
                                **OPTIONS))
    assert rows[2]["status"] == "unchanged" and rows[2]["commands"] == []
    assert rows[3]["status"] == "differs"
    assert rows[3]["differences"] == [{"field": "result", "old": "solved", "new": "planned"}]
    assert rows[4]["status"] == "new" and [c["type"] for c in rows[4]["commands"]] == ["reply"]


def test_read_sheet_reply_headers_in_english():
    sheet = xlsx([["number", "result", "reply_date", "contact_method", "disclosure", "signed_by"],
                  [1, "solved", "2027-03-10", "phone", "summary", "Li"]])
    table = read_sheet(sheet, REPLY_HEADERS)
    assert set(table.columns) == {"number", "result", "replied_on", "contact_method",
                                  "disclosure", "signed_by"}
    preview = reply_preview(table, bureau="sh-ipa", proposals=KEYS.get, **OPTIONS)
    assert [c["type"] for c in preview_commands(preview)] == [
        "log_contact", "reply", "decide_disclosure"]


# ---------------------------------------------------------------- export

COLUMNS = [Column("number", "案号", "Number"), Column("title", "标题", "Title"),
           Column("filers", "领衔人", "Filers"), Column("assigned_on", "交办日期", "Assigned on"),
           Column("replied_at", "答复时间", "Replied at"),
           Column("rate", "采纳率", "Adoption rate", "percent"), ("count", "件数", "Count")]
ROWS = [
    {"number": "21001", "title": "关于加强知识产权保护的提案", "filers": [{"name": "张三"}, {"name": "李四"}],
     "assigned_on": date(2027, 1, 15),
     "replied_at": datetime(2027, 3, 1, 2, 0, tzinfo=timezone.utc), "rate": 0.92, "count": 3},
    {"number": "21002", "title": "=HYPERLINK(\"http://x\")", "filers": None,
     "assigned_on": "2027-01-20", "replied_at": None, "rate": None, "count": 0},
]


def test_write_xlsx_round_trip():
    data = write_xlsx([Sheet(("交办清单", "Assignments"), COLUMNS, ROWS)],
                      numbers=[(("办复率", "Completion rate"), 0.5, "percent"), ("件数", 29)])
    book = openpyxl.load_workbook(BytesIO(data))
    assert book.sheetnames == ["报告数据", "交办清单"]
    figures = book["报告数据"]
    assert [[c.value for c in r] for r in figures.iter_rows()] == [
        ["项目", "数值"], ["办复率", 0.5], ["件数", 29]]
    assert figures["B2"].number_format == "0.0%"
    ws = book["交办清单"]
    assert [c.value for c in ws[1]] == ["案号", "标题", "领衔人", "交办日期", "答复时间", "采纳率", "件数"]
    assert all(c.font.bold for c in ws[1])
    assert ws.freeze_panes == "A2"
    first = [c.value for c in ws[2]]
    assert first == ["21001", "关于加强知识产权保护的提案", "张三、李四", datetime(2027, 1, 15),
                     datetime(2027, 3, 1, 10, 0), 0.92, 3]  # Shanghai time
    # dates as the page writes them (2027年1月15日), date-times with their time of day
    assert ws["D2"].is_date and ws["D2"].number_format == 'yyyy"年"m"月"d"日"'
    assert ws["E2"].is_date and ws["E2"].number_format == 'yyyy"年"m"月"d"日" hh:mm'
    assert ws["F2"].number_format == "0.0%"
    second = [c.value for c in ws[3]]
    assert second[:3] == ["21002", "=HYPERLINK(\"http://x\")", None]
    assert ws["B3"].data_type == "s"  # text, not a formula
    assert second[3] == "2027-01-20"  # a text column keeps text
    assert ws.column_dimensions["B"].width == text_width("关于加强知识产权保护的提案") + 2 == 28
    assert ws.column_dimensions["A"].width == 7  # 21001 is 5 wide (案号 4), plus 2
    assert ws.column_dimensions["D"].width == 16  # a date (2027年12月31日) is 14


def test_write_xlsx_english_and_date_columns():
    columns = [Column("number", "案号", "Number"), Column("day", "日期", "Day", "date")]
    data = write_xlsx([Sheet(("交办清单", "Assignments"), columns,
                             [{"number": "1", "day": "2027-01-20"}, {"number": "2"}]),
                       Sheet("a/b:c" * 10, columns, [])], lang="en")
    book = openpyxl.load_workbook(BytesIO(data))
    assert book.sheetnames[0] == "Assignments"
    assert len(book.sheetnames[1]) == 31 and "/" not in book.sheetnames[1]
    ws = book["Assignments"]
    assert [c.value for c in ws[1]] == ["Number", "Day"]
    assert ws["B2"].value == datetime(2027, 1, 20) and ws["B2"].is_date
    assert ws["B2"].number_format == "d mmm yyyy"  # 20 Jan 2027
    assert ws["B3"].value is None


def test_a_rate_is_a_number_shown_as_the_rounding_rule_prints_it():
    """A rate's cell (a numerator and a denominator) holds the rounded value in a format that
    shows exactly what the document and the page print (banli.documents.percent): 90%, 99.5%,
    0.1%; "—" with nothing to count. A (zh, en) figure is in the sheet's language."""
    fractions = [(9, 10), (199, 200), (1, 1000), (0, 0), (2, 3)]
    rows = [{"rate": {"numerator": n, "denominator": d}} for n, d in fractions] + [{"rate": None}]
    data = write_xlsx([Sheet("率", [Column("rate", "比率", "Rate", "rate")], rows)],
                      numbers=[(("单位", "Bureau"), ("全部单位", "All bureaus"), "words"),
                               (("办复率", "Completion rate"), (1, 3), "rate")], lang="en")
    book = openpyxl.load_workbook(BytesIO(data))
    figures = book.worksheets[0]
    assert [c.value for c in figures[2]] == ["Bureau", "All bureaus"]
    assert (figures["B3"].value, figures["B3"].number_format) == (0.33, "0%")
    cells = [(c.value, c.number_format) for (c,) in book.worksheets[1].iter_rows(min_row=2)]
    assert cells == [(0.9, "0%"), (0.995, "0.0%"), (0.001, "0.0%"), ("—", "General"),
                     (0.67, "0%"), ("—", "General")]
    shown = [f"{value * 100:.{1 if fmt == '0.0%' else 0}f}%" if fmt != "General" else value
             for value, fmt in cells]
    assert shown == [*(percent(n, d) for n, d in fractions), "—"]


def test_exported_list_reads_back_as_an_assignment_list():
    """An export in Banli's own headers is a sheet Banli reads."""
    columns = [Column("number", "提案号", "number"), Column("title", "案由", "title"),
               Column("lead", "主办单位", "lead"), Column("co", "会办单位", "co"),
               Column("assigned_on", "交办日期", "assigned_on")]
    rows = [{"number": "8", "title": "题", "lead": ["上海市知识产权局", "上海市科学技术委员会"],
             "co": [], "assigned_on": date(2027, 1, 15)}]
    for lang in ("zh", "en"):
        data = write_xlsx([Sheet("清单", columns, rows)], lang=lang)
        preview = assignment_preview(data, bureaus=BUREAUS, **OPTIONS)
        [submit, assign] = valid(preview)
        assert assign["lead"] == ["sh-ipa", "sh-stcsm"]
        assert submit["at"] == "2027-01-15T09:00:00+08:00"
