"""Export: lists of dicts as an .xlsx workbook (openpyxl, write-only mode).

    write_xlsx([Sheet("交办清单", [Column("number", "案号", "Number"),
                                  Column("assigned_on", "交办日期", "Assigned on", "date")],
                      rows)], lang="zh", numbers=[(("办复率", "Completion rate"), 0.92, "percent")])

Every sheet gets its header row in bold and frozen, an autofilter, and column widths from its
contents (a CJK character counts as two). Dates and date-times are real Excel dates, shown as
people write them in the sheet's language (2020年11月20日, 20 Nov 2020); a rate (`rate`: a
numerator and a denominator) is a real number shown as the 统计口径 rounds it (92%, 99.5%; "—"
with nothing to count); text is always text, never a formula (a title starting with "=" stays
a title). An optional first sheet gives the report's numbers the list is behind, as
label/value pairs.
"""
from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from io import BytesIO
from typing import Any, Iterable, Literal, Mapping, Sequence, Union

from ..domain.types import SHANGHAI
from ..domain.wording import rounded_percent

ColumnKind = Literal["text", "number", "date", "datetime", "percent", "rate"]
Label = Union[str, tuple[str, str]]  # one text, or (zh, en)

# A date and a time as the page writes them, by language; a percent (a rate's value: as rounded,
# with its one decimal where the rounding rule keeps one).
DATE_FORMATS = {"zh": 'yyyy"年"m"月"d"日"', "en": "d mmm yyyy"}
DATETIME_FORMATS = {"zh": 'yyyy"年"m"月"d"日" hh:mm', "en": "d mmm yyyy hh:mm"}
PERCENT_FORMAT, WHOLE_PERCENT_FORMAT = "0.0%", "0%"
NOTHING_TO_COUNT = "—"
MIN_WIDTH, MAX_WIDTH = 6, 60
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")  # what XML 1.0 cannot carry
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class Column:
    """A column: the row dicts' `key`, its Chinese and English headers, and optionally how to
    show its values (`kind`; by default by each value's type) and a fixed width."""

    key: str
    zh: str
    en: str
    kind: ColumnKind | None = None
    width: float | None = None

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


@dataclass(frozen=True)
class Sheet:
    """A worksheet: its title (one text, or (zh, en)), its columns, its rows (dicts by key)."""

    title: Label
    columns: Sequence[Column | tuple[str, str, str]]
    rows: Iterable[Mapping[str, Any]]


def text_width(text: str) -> int:
    """Display width: East Asian wide and full-width characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def write_xlsx(sheets: Sequence[Sheet], *, lang: str = "zh",
               numbers: Sequence[tuple[Any, ...]] | Mapping[Any, Any] | None = None,
               numbers_title: Label = ("报告数据", "Figures")) -> bytes:
    """The workbook as bytes. `lang` ("zh" or "en") picks headers and bilingual labels.
    `numbers`, if given, is a first sheet of (label, value) or (label, value, kind) pairs —
    a label being a text or (zh, en); kind "percent" shows 0.92 as 92.0%, "rate" a fraction
    as the rounding rule shows it, "words" a (zh, en) value in the sheet's language."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    names: set[str] = set()
    if numbers is not None:
        items = numbers.items() if isinstance(numbers, Mapping) else numbers
        rows: list[Mapping[str, Any]] = []
        kinds: dict[int, str | None] = {}
        for i, item in enumerate(items):
            label, value, *kind = item
            words = bool(kind) and kind[0] == "words"
            rows.append({"label": _label(label, lang),
                         "value": _label(value, lang) if words else value})
            kinds[i] = kind[0] if kind and not words else None
        columns = [Column("label", "项目", "Item"), Column("value", "数值", "Value")]
        _write_sheet(book, _sheet_name(_label(numbers_title, lang), names), columns, rows, lang,
                     value_kinds=kinds)
    for sheet in sheets:
        columns = [c if isinstance(c, Column) else Column(*c) for c in sheet.columns]
        _write_sheet(book, _sheet_name(_label(sheet.title, lang), names), columns,
                     list(sheet.rows), lang)
    if not book.worksheets:
        book.create_sheet("Sheet1")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _label(label: Label, lang: str) -> str:
    if isinstance(label, (tuple, list)):
        return label[1] if lang == "en" else label[0]
    return str(label)


def _sheet_name(title: str, taken: set[str]) -> str:
    """Excel's rules: at most 31 characters, none of []:*?/\\, unique (case-insensitively)."""
    base = _SHEET_NAME_BAD.sub("_", title).strip("'") or "Sheet"
    name, n = base[:31], 1
    while name.casefold() in taken:
        n += 1
        suffix = f" ({n})"
        name = base[:31 - len(suffix)] + suffix
    taken.add(name.casefold())
    return name


def _write_sheet(book: Any, name: str, columns: list[Column], rows: list[Mapping[str, Any]],
                 lang: str, value_kinds: Mapping[int, str | None] | None = None) -> None:
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    ws = book.create_sheet(name)
    headers = [c.header(lang) for c in columns]
    widths = [text_width(h) for h in headers]
    body = []
    for i, row in enumerate(rows):
        cells = []
        for j, column in enumerate(columns):
            kind: str | None = column.kind
            if value_kinds is not None and column.key == "value":
                kind = value_kinds.get(i) or kind
            value, fmt = _value(row.get(column.key), kind, lang)
            cells.append((value, fmt))
            widths[j] = max(widths[j], _width(value, fmt))
        body.append(cells)
    for j, column in enumerate(columns):
        width = column.width or min(MAX_WIDTH, max(MIN_WIDTH, widths[j] + 2))
        ws.column_dimensions[get_column_letter(j + 1)].width = width
    ws.freeze_panes = "A2"
    if columns:
        ws.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{len(body) + 1}"
    bold = Font(bold=True)
    header_cells = []
    for h in headers:
        cell = WriteOnlyCell(ws, value=_clean(h))
        cell.data_type = "s"
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    for cells in body:
        out = []
        for value, fmt in cells:
            cell = WriteOnlyCell(ws, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula
            if fmt:
                cell.number_format = fmt
            out.append(cell)
        ws.append(out)


def _value(value: Any, kind: str | None, lang: str = "zh") -> tuple[Any, str | None]:
    """A cell value and its number format."""
    dates, moments = (DATE_FORMATS.get(lang, DATE_FORMATS["zh"]),
                      DATETIME_FORMATS.get(lang, DATETIME_FORMATS["zh"]))
    if kind == "rate":
        return _rate(value)
    if value is None:
        return None, None
    if isinstance(value, str) and kind in ("date", "datetime"):
        try:
            value = (date if kind == "date" and len(value) <= 10 else datetime).fromisoformat(value)
        except ValueError:
            return _clean(value), None
    if isinstance(value, datetime):
        if value.tzinfo is not None:  # Excel has no time zones: show Shanghai time
            value = value.astimezone(SHANGHAI).replace(tzinfo=None)
        if kind == "date":
            return value.date(), dates
        return value, moments
    if isinstance(value, date):
        return value, dates
    if isinstance(value, time):
        return value.isoformat(timespec="minutes"), None
    if isinstance(value, bool):
        return value, None
    if isinstance(value, Decimal):
        value = float(value)
    if isinstance(value, (int, float)):
        return value, PERCENT_FORMAT if kind == "percent" else None
    if isinstance(value, (list, tuple, set, frozenset)):
        return _clean("、".join(_text(v) for v in value)), None
    if isinstance(value, Mapping):
        return _clean(json.dumps(value, ensure_ascii=False, default=str)), None
    return _clean(str(value)), None


def _rate(fraction: Any) -> tuple[Any, str | None]:
    """A rate's cell from its fraction (`{"numerator", "denominator"}`, or a pair): the value
    as the rounding rule gives it, in a format that shows exactly that; "—" with nothing to
    count."""
    if isinstance(fraction, Mapping):
        fraction = (fraction.get("numerator"), fraction.get("denominator"))
    elif fraction is not None and not isinstance(fraction, (tuple, list)):
        fraction = (getattr(fraction, "numerator", None), getattr(fraction, "denominator", None))
    rounded = rounded_percent(*fraction) if fraction is not None and None not in fraction else None
    if rounded is None:
        return NOTHING_TO_COUNT, None
    value, decimals = rounded
    return (value / 1000, PERCENT_FORMAT) if decimals else (value / 100, WHOLE_PERCENT_FORMAT)


def _text(value: Any) -> str:
    if isinstance(value, Mapping) and "name" in value:  # filers: [{"name": ...}]
        return str(value["name"])
    return str(value)


def _clean(text: str) -> str:
    return _ILLEGAL.sub("", text)


def _width(value: Any, fmt: str | None) -> int:
    if value is None:
        return 0
    if fmt in DATE_FORMATS.values():
        return 14
    if fmt in DATETIME_FORMATS.values():
        return 20
    if fmt in (PERCENT_FORMAT, WHOLE_PERCENT_FORMAT):
        return 7
    return max((text_width(line) for line in str(value).splitlines()), default=0)
