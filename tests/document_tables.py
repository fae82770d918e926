"""Reading a year-end document back (DOCX with python-docx, HTML, Markdown) and holding every
number in its tables to the JSON reports and items it was made from.

The expectations are built here from the reports of explicitly named scopes, not from the
bundle the document was rendered from, so a wrong scope or a wrong count in the document fails.
"""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from datetime import date
from html.parser import HTMLParser
from typing import Any, Callable

import docx
from docx.table import Table as DocxTable
from docx.text.paragraph import Paragraph

from banli.domain.rates import RATE_MEASURES, RATE_NAMES, Report, Scope, select

Rows = list[list[str]]
KIND_ROWS = {"代表建议": "npc_suggestion", "政协提案": "cppcc_proposal"}
RESULT_ROWS = {"解决采纳（A类）": "solved", "正在解决或列入计划（B类）": "planned",
               "因条件限制待以后解决（C类）": "deferred", "留作参考（D类）": "reference"}
DISCLOSURE_ROWS = {"答复全文公开": "full", "答复摘要公开": "summary", "答复不公开": "withheld",
                   "答复依法不公开": "exempt", "答复未决定": "undecided"}
FEEDBACK_ROWS = {"反馈满意": "satisfied", "反馈基本满意": "basically_satisfied",
                 "反馈不满意": "dissatisfied"}
RECORDER_ROWS = {"满意度录入：代表委员本人": "filer", "满意度录入：交办单位": "office",
                 "满意度录入：承办单位自行录入": "bureau"}
RATE_ROWS = {zh: key for key, (zh, _) in RATE_NAMES.items()}
RATE_CELL = re.compile(r"^(\d+(?:\.\d)?)%（(\d+)/(\d+)）$")


# --- reading the formats -------------------------------------------------------------------------

def docx_tables(data: bytes) -> list[tuple[str, Rows]]:
    """Each table with the caption paragraph just before it ("" when there is none)."""
    document = docx.Document(io.BytesIO(data))
    tables, last = [], ""
    for element in document.element.body.iterchildren():
        tag = element.tag.rsplit("}", 1)[-1]
        if tag == "p":
            text = Paragraph(element, document).text.strip()
            last = text if text.startswith("表") else ("" if text else last)
        elif tag == "tbl":
            table = DocxTable(element, document)
            tables.append((last, [[c.text.replace("\n", "") for c in row.cells]
                                  for row in table.rows]))
            last = ""
    return tables


def docx_text(data: bytes) -> str:
    document = docx.Document(io.BytesIO(data))  # without the breaks the writer allows
    return "\n".join(p.text for p in document.paragraphs).replace("\u200b", "")


class _HtmlTables(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables: list[tuple[str, Rows]] = []
        self.text: list[str] = []
        self.cell: list[str] | None = None
        self.caption: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "table":
            self.tables.append(("", []))
        elif tag == "caption":
            self.caption = []
        elif tag == "tr":
            self.tables[-1][1].append([])
        elif tag in ("td", "th"):
            self.cell = []

    def handle_endtag(self, tag):
        if tag == "caption":
            self.tables[-1] = ("".join(self.caption), self.tables[-1][1])
            self.caption = None
        elif tag in ("td", "th"):
            self.tables[-1][1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        for sink in (self.cell, self.caption):
            if sink is not None:
                sink.append(data)
        self.text.append(data)


def html_text(data: bytes) -> str:
    """The page's text, tags left out."""
    parser = _HtmlTables()
    parser.feed(data.decode())
    return "".join(parser.text)


def html_tables(data: bytes) -> list[tuple[str, Rows]]:
    parser = _HtmlTables()
    parser.feed(data.decode())
    return parser.tables


def md_tables(data: bytes) -> list[tuple[str, Rows]]:
    tables, last, current = [], "", None
    for line in data.decode().splitlines():
        if line.startswith("|"):
            cells = [c.strip().replace("\\|", "|") for c in
                     re.split(r"(?<!\\)\|", line.strip())[1:-1]]
            if current is None:
                current = (last, [])
                tables.append(current)
                last = ""
            if not all(set(c) <= {"-"} and c for c in cells):  # the separator row
                current[1].append(cells)
        else:
            current = None
            if line.startswith("**表"):
                last = line.strip("*")
    return tables


READERS = {"docx": docx_tables, "html": html_tables, "md": md_tables}


# --- what the document must say ------------------------------------------------------------------

@dataclass
class Expected:
    """The reports and items a document for (bureau, year, term_start, as_of) must state."""

    year: int
    term_start: int
    year_report: dict[str, Any]
    term_report: dict[str, Any]
    previous: dict[str, Any] | None
    by_year: dict[int, dict[str, Any]]
    by_bureau: dict[str, dict[str, Any]]      # bureau name (zh) -> report (all-bureau documents)
    term_items: list[dict[str, Any]]
    previous_items: list[dict[str, Any]] | None

    @property
    def year_items(self) -> list[dict[str, Any]]:
        return [i for i in self.term_items if i["year"] == self.year]


def expected(source_report: Callable[[Scope], Report | dict],
             items_for: Callable[[Scope], list[dict]], names: dict[str, str],
             bureau: str | None, year: int, term_start: int, as_of: date) -> Expected:
    def report_for(scope: Scope) -> dict[str, Any]:  # as the API gives it
        report = source_report(scope)
        return report.model_dump(mode="json") if isinstance(report, Report) else report

    def scope(years, day=as_of, who=bureau) -> Scope:
        return Scope(bureau=who, years=years, as_of=day)

    earlier = scope((year - 1, year - 1), as_of.replace(year=as_of.year - 1))
    previous = report_for(earlier)
    term_items = items_for(scope((term_start, year)))
    bureaus = sorted({i["bureau"] for i in term_items if i["year"] == year})
    return Expected(
        year=year, term_start=term_start, year_report=report_for(scope((year, year))),
        term_report=report_for(scope((term_start, year))),
        previous=previous if previous["proposals"] else None,
        by_year={y: report_for(scope((y, y))) for y in range(term_start, year + 1)},
        by_bureau=({names[b]: report_for(scope((year, year), who=b)) for b in bureaus}
                   if bureau is None else {}),
        term_items=term_items, previous_items=items_for(earlier) if previous["proposals"] else None)


def _table(tables: list[tuple[str, Rows]], ending: str) -> Rows:
    found = [rows for caption, rows in tables if re.sub(r"^表\d+　", "", caption) == ending]
    assert len(found) == 1, f"one table {ending!r} in {[c for c, _ in tables]}"
    return found[0]


def assert_rate(cell: str, report: dict[str, Any], rate: str,
                items: list[dict[str, Any]] | None) -> None:
    """`92%（24/26）`: the fraction is the report's rate, the percent its rounding, and the
    numerator and denominator are the items the rate counts."""
    value = report["rates"][rate]
    if value is None:
        assert cell == "—", (rate, cell)
        return
    match = RATE_CELL.match(cell)
    assert match, (rate, cell)
    shown, numerator, denominator = float(match[1]), int(match[2]), int(match[3])
    assert numerator / denominator == value, (rate, cell, value)
    assert abs(shown - 100 * value) <= (0.05 if "." in match[1] else 0.5), (rate, cell)
    assert not (shown == 100 and numerator < denominator), (rate, cell)
    if items is not None:
        behind = select(items, rate)
        assert (sum(i["counted"] for i in behind), len(behind)) == (numerator, denominator), rate


def _handled(report: dict[str, Any]) -> list[int]:
    a = report["assignments"]
    lead = sum(r["lead"] for r in a.values())
    co = sum(r["co"] for r in a.values())
    return [lead + co, lead, co]


def assert_tables_state(tables: list[tuple[str, Rows]], e: Expected) -> None:
    """Every count and rate in the document's tables equals the reports' (and the items')."""
    r, term, y = e.year_report, e.term_report, e.year
    a = r["assignments"]

    header, *rows = _table(tables, f"{y}年度承办情况")
    assert header == ["类别", "主办件", "会办件", "合计"]
    for label, lead, co, total in rows:
        if label == "合计":
            assert [int(total), int(lead), int(co)] == _handled(r)
        else:
            kind = a[KIND_ROWS[label]]
            assert (int(lead), int(co), int(total)) == (kind["lead"], kind["co"],
                                                        kind["lead"] + kind["co"])
    assert len(rows) == 3

    header, *rows = _table(tables, f"{y}年度主办件办理结果")
    got = {label: int(n) for label, n in rows}
    assert {RESULT_ROWS[k]: n for k, n in got.items() if k in RESULT_ROWS} == r["results"]
    assert got["已答复合计"] == r["replies"]
    assert got["尚未答复"] == _handled(r)[1] - r["replies"]

    header, *rows = _table(tables, "主要指标")
    periods = [(r, e.year_items), *([(e.previous, e.previous_items)] if e.previous else []),
               (term, e.term_items)]
    assert header[0] == "指标" and len(header) == 1 + len(periods)
    assert header[1] == f"{y}年度" and header[-1] == f"本届以来（{e.term_start}—{y}年）"
    assert {RATE_ROWS[row[0]] for row in rows} == set(RATE_MEASURES)
    for label, *cells in rows:
        for cell, (report, items) in zip(cells, periods, strict=True):
            assert_rate(cell, report, RATE_ROWS[label], items)

    header, *rows = _table(tables, "答复公开和意见反馈")
    for label, this_year, since in rows:
        group, key = (("disclosure", DISCLOSURE_ROWS[label]) if label in DISCLOSURE_ROWS
                      else ("feedback", FEEDBACK_ROWS[label]) if label in FEEDBACK_ROWS
                      else ("feedback_recorders", RECORDER_ROWS[label]))
        assert (int(this_year), int(since)) == (r[group][key], term[group][key]), label
    assert len(rows) == len(DISCLOSURE_ROWS) + len(FEEDBACK_ROWS) + len(RECORDER_ROWS)

    if e.term_start < y:
        header, *rows = _table(tables, "本届以来分年度办理情况")
        assert [row[0] for row in rows] == [f"{year}年度" for year in e.by_year] + ["合计"]
        for row, report in zip(rows, [*e.by_year.values(), term]):
            assert [int(c) for c in row[1:6]] == _handled(report) + [
                report["replies"], report["results"]["solved"]], row[0]
            items = (e.term_items if row[0] == "合计" else
                     [i for i in e.term_items if f"{i['year']}年度" == row[0]])
            for cell, rate in zip(row[6:], ("on_time_reply", "adoption", "disclosure"),
                                  strict=True):
                assert_rate(cell, report, rate, items)

    if e.by_bureau:
        header, *rows = _table(tables, f"各承办单位{y}年度办理情况")
        assert [row[0] for row in rows] == [*e.by_bureau, "合计"]
        for row in rows:
            report = r if row[0] == "合计" else e.by_bureau[row[0]]
            assert [int(c) for c in row[1:5]] == _handled(report) + [report["replies"]], row[0]
            for cell, rate in zip(row[5:], ("on_time_reply", "adoption", "disclosure",
                                            "satisfaction"), strict=True):
                assert_rate(cell, report, rate, None)

    replied = select(e.term_items, "replied")
    first_closed = [i for i in replied if i["first_disclosure"] in ("withheld", "exempt")]
    if first_closed:
        header, *rows = _table(tables, "首次答复未公开件复核情况")
        assert len(rows) == len(first_closed)
        now = header.index("现公开情况")
        assert sorted(row[now] for row in rows) == sorted(
            {"full": "全文公开", "summary": "摘要公开", "withheld": "不公开", "exempt": "依法不公开",
             None: "未决定"}[i["disclosure"]] for i in first_closed)

    lead_lists = [rows for caption, rows in tables if rows and "交办日期" in rows[0]]
    assert len(lead_lists) == 1
    header, *rows = lead_lists[0]
    leads = select(e.year_items, "lead")
    assert len(rows) == len(leads) == _handled(r)[1]
    results = [row[header.index("办理结果")] for row in rows]
    for result, letter in (("solved", "A"), ("planned", "B"), ("deferred", "C"),
                           ("reference", "D")):
        assert sum(x.startswith(f"{letter}类") for x in results) == r["results"][result]
    assert sum(row[header.index("首次答复")] == "未答复" for row in rows) == \
        len(leads) - r["replies"]
