"""Reading sheets within bounds (banli.sheets.limits, .xlsx, .workbook, .isolate): the streamed
.xlsx reader gives what python-calamine gives on ordinary sheets, every bound is met before what
it bounds is allocated and is named with its setting, the child process turns an abort, a
memory failure and a timeout into those refusals, and files are known by their bytes."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, datetime, time

import openpyxl
import pytest
from python_calamine import CalamineWorkbook

from banli.settings import Settings
from banli.sheets import SheetError, assignment_preview, read_sheet
from banli.sheets.example import EXAMPLE_BUREAUS, EXAMPLE_PATH, example_reply_list
from banli.sheets.grid import Grid, clip_merges
from banli.sheets.isolate import decode_table, encode_table, read_table
from banli.sheets.limits import SheetLimits
from banli.sheets.read import REPLY_HEADERS, load_mapping, parse_mapping
from banli.sheets.workbook import load_grids
from banli.sheets.xlsx import is_date_format
from tests.hostile_sheets import (ASSIGNMENT_HEADER, assignment_rows, far_corner,
                                  hostile_cases, merged_outside, nested_json, raw_xlsx, row)

LIMITS = SheetLimits()


def workbook(fill) -> bytes:
    book = openpyxl.Workbook()
    fill(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def refused(call, bound: str | None = None, code: str = "sheet_too_large") -> SheetError:
    with pytest.raises(SheetError) as caught:
        call()
    assert caught.value.code == code, caught.value
    if bound is not None:
        assert caught.value.details["bound"] == bound
        assert caught.value.status == 413
        setting = caught.value.details["setting"]
        assert setting in caught.value.message and setting in caught.value.message_en
    assert caught.value.message and caught.value.message_en
    return caught.value


# ---------------------------------------------------------------- the stream reads what calamine reads


def typed_sheet(book) -> None:
    ws = book.active
    ws.title = "清单"
    ws.append(["2027年市政协提案交办清单"])
    ws.merge_cells("A1:F1")
    ws.append(["提案号", "案由", "交办日期", "时刻", "数额", "是否"])
    ws.append([1, "关于“引号”与<尖括号>的提案", date(2027, 1, 15), time(9, 30), 1.5, True])
    ws.append([2.0, "  前后空格  ", datetime(2027, 1, 16, 14, 5), None, -3, False])
    ws.append(["0012", "换行\n之后", 46402, None, 10 ** 12, None])
    ws["C3"].number_format = "yyyy-mm-dd"
    ws["C4"].number_format = "yyyy/m/d h:mm"
    ws["D3"].number_format = "h:mm"
    ws.append([])
    ws.append([None, None, None, None, None, "远处"])
    hidden = book.create_sheet("隐藏")
    hidden.append(["不读"])
    hidden.sheet_state = "hidden"
    book.create_sheet("第二页").append(["编号", "标题"])


@pytest.mark.parametrize("make", [typed_sheet, lambda book: None],
                         ids=["typed", "empty"])
def test_the_streamed_xlsx_gives_what_calamine_gives(make):
    data = workbook(make)
    ours = list(load_grids(data))
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    visible = [m.name for m in book.sheets_metadata if str(m.visible).endswith("Visible")]
    assert [g.name for g in ours] == visible
    for grid in ours:
        theirs = book.get_sheet_by_name(grid.name)
        cells = theirs.to_python(skip_empty_area=False)
        width = max((len(r) for r in cells), default=0)
        cells = [list(r) + [""] * (width - len(r)) for r in cells]
        while cells and all(v == "" for v in cells[-1]):
            cells.pop()  # calamine keeps trailing blank rows of a styled range
        normal = [[int(v) if isinstance(v, float) and v.is_integer() else v for v in r]
                  for r in cells]
        assert grid.cells == normal, grid.name
        assert grid.merged == [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in
                               theirs.merged_cell_ranges or []]


def test_shared_strings_rich_text_and_phonetic_runs_read_as_calamine_reads():
    strings = ("<si><t>提案号</t></si><si><r><t>案</t></r><r><rPr><b/></rPr><t>由</t></r></si>"
               "<si><t>上海市知识产权局</t><rPh sb=\"0\" eb=\"1\"><t>しゃんはい</t></rPh></si>"
               '<si><t xml:space="preserve"> 两端 </t></si>')
    body = iter(['<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>',
                 '<row r="2"><c r="A2"><v>7</v></c><c r="B2" t="s"><v>3</v></c>'
                 '<c r="C2" t="s"><v>2</v></c><c r="D2" t="b"><v>1</v></c>'
                 '<c r="E2" t="e"><v>#N/A</v></c><c r="F2" t="str"><v>公式</v></c></row>'])
    data = raw_xlsx(body, strings=strings)
    (grid,) = load_grids(data)
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    theirs = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    assert grid.cells[0][:2] == theirs[0][:2] == ["提案号", "案由"]
    assert grid.cells[1][:4] == [7, " 两端 ", "上海市知识产权局", True]
    assert grid.cells[1][1:4] == theirs[1][1:4]
    assert grid.cells[1][5] == theirs[1][5] == "公式"


def test_the_example_reads_the_same_streamed_and_through_calamine():
    """The shipped example through both readers gives the same preview."""
    ours = assignment_preview(EXAMPLE_PATH, bureaus=EXAMPLE_BUREAUS)
    data = EXAMPLE_PATH.read_bytes()
    book = CalamineWorkbook.from_filelike(io.BytesIO(data))
    sheet = book.get_sheet_by_index(0)
    cells = sheet.to_python(skip_empty_area=False)
    width = max(len(r) for r in cells)
    grid = Grid(sheet.name, [list(r) + [""] * (width - len(r)) for r in cells],
                [(r0, c0, r1, c1) for (r0, c0), (r1, c1) in sheet.merged_cell_ranges])
    assert assignment_preview(grid, bureaus=EXAMPLE_BUREAUS) == ours


@pytest.mark.parametrize("code, date_like", [
    ("yyyy-mm-dd", True), ("yyyy\"年\"m\"月\"d\"日\"", True), ("[$-804]yyyy年m月d日", True),
    ("h:mm:ss", True), ("0.00", False), ("General", False), ('"days"0', False),
    ("[Red]0.00", False), ("#,##0", False)])
def test_date_formats(code, date_like):
    assert is_date_format(code) is date_like


# ---------------------------------------------------------------- each bound, named


def test_the_declared_dimension_is_refused_before_any_row():
    error = refused(lambda: list(load_grids(far_corner())), "dimension")
    assert error.details["found"] == "A1:XFD1048576"


@pytest.mark.parametrize("bound, limits, data", [
    ("rows", SheetLimits(max_rows=5), raw_xlsx(iter([row(1, ASSIGNMENT_HEADER),
                                                     *assignment_rows(10)]))),
    ("columns", SheetLimits(max_columns=3), raw_xlsx(iter([row(1, ASSIGNMENT_HEADER)]))),
    ("cells", SheetLimits(max_cells=7), raw_xlsx(iter([row(1, ASSIGNMENT_HEADER),
                                                      *assignment_rows(1)]))),
    ("dimension", SheetLimits(max_rows=5), raw_xlsx(iter([row(1, ASSIGNMENT_HEADER)]),
                                                    dimension="A1:D6")),
    ("merges", SheetLimits(max_cells=10), raw_xlsx(iter([row(1, ASSIGNMENT_HEADER)]),
                                                   merges=[f"A{n}:B{n}" for n in range(2, 20)])),
    ("unzipped", SheetLimits(max_unzipped_mb=1),
     raw_xlsx(iter([row(1, ASSIGNMENT_HEADER), " " * (2 << 20)]))),
    ("bytes", SheetLimits(max_bytes=1000), far_corner()),
    ("strings", SheetLimits(max_cells=3), raw_xlsx(iter([]), strings="<si><t>a</t></si>" * 4)),
])
def test_each_bound_is_refused_with_its_setting(bound, limits, data):
    refused(lambda: read_sheet(data, limits=limits), bound)


def test_a_zip_of_too_many_entries_is_refused_before_reading_them():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for n in range(30):
            z.writestr(f"x/{n}.xml", "<a/>")
    refused(lambda: read_sheet(out.getvalue(), limits=SheetLimits(max_zip_entries=20)),
            "entries")


def test_cells_without_a_value_cost_nothing_wherever_they_are():
    """A styled blank cell at XFD1048576 is no value: not a bound crossed."""
    body = iter([row(1, ASSIGNMENT_HEADER), *assignment_rows(1),
                 '<row r="1048576"><c r="XFD1048576" s="0"/></row>'])
    table = read_sheet(raw_xlsx(body))
    assert [r.row for r in table.rows] == [2]


def test_merged_ranges_outside_the_cells_are_clipped_not_a_500():
    table = read_sheet(merged_outside())
    assert [(r.row, r.cells["number"]) for r in table.rows] == [(2, [2]), (3, [3])]
    book = workbook(lambda b: (b.active.append(ASSIGNMENT_HEADER),
                               b.active.append([1, "题", "上海市知识产权局", "2020-02-03"]),
                               b.active.merge_cells("A30:C40"), b.active.merge_cells("H1:J2")))
    grids = list(load_grids(book))
    assert grids[0].merged == []


def test_merges_are_clipped_to_the_cells_whatever_read_them():
    """The rule every reader's merges go through (calamine's for .xls, .xlsb and .ods too)."""
    assert clip_merges([(0, 0, 0, 9), (5, 0, 9, 0), (0, 8, 1, 9), (1, 1, 1048575, 16383)],
                       height=3, width=4) == [(0, 0, 0, 3), (1, 1, 2, 3)]


def test_a_doctype_is_refused():
    case = next(c for c in hostile_cases() if c.name == "entity_expansion")
    assert "DOCTYPE" in refused(lambda: read_sheet(case.data), code="unreadable").message_en


@pytest.mark.parametrize("data, says", [
    (b"%PDF-1.7\n...", "PDF"), ("提案号,案由\n1,题\n".encode(), "text"),
    (bytes(range(256)) * 4, "not a spreadsheet format"), (b"", "empty"),
    (b"PK\x03\x04broken", "not a valid zip")])
def test_a_file_is_known_by_its_bytes_not_its_name(data, says):
    assert says in refused(lambda: read_sheet(data), code="unreadable").message_en


def test_a_zip_that_is_a_word_document_is_no_workbook():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("_rels/.rels", '<Relationships xmlns="http://schemas.openxmlformats.org/'
                   'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.'
                   'openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
                   'Target="word/document.xml"/></Relationships>')
        z.writestr("word/document.xml", "<document/>")
    assert "no workbook" in refused(lambda: read_sheet(out.getvalue()),
                                    code="unreadable").message_en


# ---------------------------------------------------------------- the child process


def test_the_child_reads_a_table_as_the_parent_would():
    example = read_table(EXAMPLE_PATH, "assignments", limits=LIMITS)
    assert example == read_sheet(EXAMPLE_PATH, required=("number", "title", "lead"))
    replies = read_table(example_reply_list(), "replies", limits=LIMITS)
    assert replies == read_sheet(example_reply_list(), REPLY_HEADERS,
                                 required=("number", "result"))


def test_a_tables_json_keeps_its_types():
    table = read_sheet(workbook(typed_sheet), {"number": ("提案号",), "title": ("案由",),
                                                "assigned_on": ("交办日期",), "at": ("时刻",),
                                                "amount": ("数额",), "flag": ("是否",)})
    again = decode_table(json.loads(json.dumps(encode_table(table))))
    assert again == table
    assert isinstance(again.rows[0].cells["assigned_on"][0], date)
    assert isinstance(again.rows[1].cells["assigned_on"][0], datetime)
    assert isinstance(again.rows[0].cells["at"][0], time)


def test_the_childs_refusals_come_back_with_their_status():
    error = refused(lambda: read_table(far_corner(), "assignments", limits=LIMITS), "dimension")
    assert error.details["limit"] == "20000 × 200"
    error = refused(lambda: read_table(workbook(typed_sheet), "assignments", limits=LIMITS),
                    code="missing_columns")
    assert error.status == 422


def test_an_abort_in_the_reader_is_the_memory_bound_not_a_dead_process():
    """python-calamine aborts (SIGABRT) when the .ods's range does not fit: the child dies,
    the caller gets the refusal."""
    case = next(c for c in hostile_cases() if c.name == "ods_far_corner")
    refused(lambda: read_table(case.data, "assignments", limits=LIMITS), "memory")


def test_a_reader_past_its_time_is_killed_and_named():
    refused(lambda: read_table(far_corner(), "assignments",
                               limits=SheetLimits(timeout_s=0.001)), "time")


def test_a_file_past_max_bytes_never_reaches_the_child(tmp_path):
    path = tmp_path / "big.xlsx"
    path.write_bytes(b"\0" * 2000)
    refused(lambda: read_table(path, "assignments", limits=SheetLimits(max_bytes=1000)), "bytes")


# ---------------------------------------------------------------- mappings


@pytest.mark.parametrize("text", [nested_json(100_000), "[" * 50_000, '{"a": {"b": "c"}}',
                                  '["number"]', "not json", json.dumps(
                                      {f"h{n}": "title" for n in range(600)})])
def test_a_mapping_nested_or_odd_is_bad_mapping(text):
    refused(lambda: parse_mapping(text), code="bad_mapping")


@pytest.mark.parametrize("name, text", [("deep.json", nested_json(100_000)),
                                         ("deep.yaml", "a:\n" + "".join(
                                             " " * n + "- \n" for n in range(1, 3000))),
                                         ("flow.yaml", "[" * 20_000 + "]" * 20_000),
                                         ("bad.yaml", "a: [unclosed")])
def test_a_mapping_file_nested_or_broken_is_bad_mapping(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    refused(lambda: load_mapping(path), code="bad_mapping")


# ---------------------------------------------------------------- settings


def test_the_bounds_are_settings(monkeypatch):
    monkeypatch.setenv("BANLI_SHEET_MAX_ROWS", "50")
    monkeypatch.setenv("BANLI_SHEET_PARALLEL", "1")
    limits = SheetLimits.from_settings(Settings())
    assert (limits.max_rows, limits.parallel, limits.max_columns) == (50, 1, 200)
    monkeypatch.setenv("BANLI_SHEET_SESSIONS", '{"municipal": {"npc_suggestion": [16]}}')
    with pytest.raises(ValueError):
        Settings()
