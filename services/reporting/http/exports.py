"""Every list the API and the page show, as .xlsx (`format=xlsx`, in Chinese or with `lang=en`
in English): the list's columns as the page's table has them (banli.domain.views.lists, declared once
for both), its values in words (choices, 是/否, bureaus by name, items by their numbers), dates
as people write them and rates as the 统计口径 rounds them. A list behind a number of the report
(the items of a measure, the records behind `entries`) gets the report's numbers on a first
sheet, in the same scope and clocks."""
from __future__ import annotations

from typing import Annotated, Any, Iterable, Literal, Mapping, Sequence
from urllib.parse import quote

from fastapi import Query, Response

from banli.domain.views.lists import ListColumn, bureau_name, row_words
from banli.domain.views.rates import MEASURE_WORDS, Report
from banli.domain.views.routing_lineage import Misrouted
from banli.sheets import Column, Sheet, write_xlsx
from banli.sheets.numbers import report_numbers
from banli.sheets.write import ColumnKind

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

Format = Annotated[Literal["json", "xlsx"], Query(
    description="`xlsx`: the list as a spreadsheet (in `lang`)")]
Lang = Annotated[Literal["zh", "en"], Query(description="the spreadsheet's language")]
Names = Mapping[str, Mapping[str, str]]  # bureau id → {"name", "name_en"}

# what the OpenAPI says a list route answers besides its JSON
XLSX_RESPONSE: dict[int | str, dict[str, Any]] = {200: {"content": {XLSX: {"schema": {
    "type": "string", "format": "binary"}}}, "description": "the list (JSON, or with "
                                                            "`format=xlsx` a spreadsheet)"}}

# how a spreadsheet shows each kind of a list's column (words are text)
_SHEET_KIND: dict[str, ColumnKind] = {"number": "number", "date": "date", "day_of": "date",
                                      "moment": "datetime", "rate": "rate"}


def xlsx(filename: str, title: tuple[str, str], columns: Sequence[ListColumn],
         rows: Iterable[Mapping[str, Any]], lang: str, names: Names,
         report: Report | None = None) -> Response:
    """The download: one sheet of the list in words, after the report's numbers where it has
    them."""
    sheet = Sheet(title, [Column(c.key, c.zh, c.en, _SHEET_KIND.get(c.kind, "text"))
                          for c in columns],
                  [row_words(columns, row, lang, names) for row in rows])
    numbers = None
    if report is not None:
        bureau = report.scope.bureau
        numbers = report_numbers(report, (bureau_name(bureau, names, "zh") or "",
                                          bureau_name(bureau, names, "en") or "")
                                 if bureau else None)
    data = write_xlsx([sheet], lang=lang, numbers=numbers)
    return Response(data, media_type=XLSX, headers={
        "Content-Disposition": f"attachment; filename=\"{filename}.xlsx\"; "
                               f"filename*=UTF-8''{quote(filename)}.xlsx"})


def league_rows(reports: Mapping[str, Report], lost: Iterable[Misrouted]
                ) -> list[dict[str, Any]]:
    """The league's rows in its order: each bureau's counts, its rates' fractions and the
    assignments misrouted to it with the days they lost."""
    misrouted = {m.bureau: m for m in lost}
    rows = []
    for bureau, report in reports.items():
        m = misrouted.get(bureau)
        rows.append({"bureau": bureau, "replied": report.replies,
                     "lead": sum(r.lead for r in report.assignments.values()),
                     "co": sum(r.co for r in report.assignments.values()),
                     **report.fractions, "misrouted": m.bounced if m else 0,
                     "days_lost": m.days_lost if m else 0})
    return rows


def measure_title(measure: str, rate: bool) -> tuple[str, str]:
    """A drill-down's sheet title: the number's name, and for a rate that its items are its
    denominator's."""
    zh, en = MEASURE_WORDS.get(measure, (measure, measure))
    return (f"{zh}（分母明细）", f"{en} (its base)") if rate else (zh, en)
