"""Cell values as Banli reads them: normalised text, dates, name lists and the vocabularies
(kind, level, result, disclosure, contact method), plus the bilingual refusals of a sheet row.

Pure functions, no I/O. Everything here takes what a cell gives (str, int, float, bool, date,
datetime, time, None) and either returns a Banli value or raises `ValueError`.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any, Iterable

from ..domain.types import FIRST_DAY, LAST_DAY

# ---------------------------------------------------------------- text


def is_blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def norm(value: Any) -> str:
    """The comparison form of a text: NFKC (full-width letters, digits, punctuation and the
    ideographic space become half-width), no whitespace at all, case-folded."""
    text = unicodedata.normalize("NFKC", cell_text(value))
    return "".join(text.split()).casefold()


_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")


def norm_header(value: Any) -> str:
    """A header's comparison form: `norm`, without a bracketed note (提案号（必填）, 交办日期
    (yyyy-mm-dd)), required-field stars and a trailing colon."""
    text = _BRACKETED.sub("", norm(value))
    return text.strip("*:：.#").replace("_", "").replace("-", "")


_CJK = r"\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef"
_WRAP_CJK = re.compile(rf"(?<=[{_CJK}])[ \t]*[\r\n]+[ \t]*(?=[{_CJK}])")
_SPACES = re.compile(r"\s+")


def cell_text(value: Any) -> str:
    """A cell as text: a whole number without `.0`, a date as ISO, text stripped. A line break
    inside a cell is dropped between two CJK characters (a wrapped line) and becomes a space
    elsewhere."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else \
            value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = _WRAP_CJK.sub("", str(value))
    return _SPACES.sub(" ", text).strip()


# Filers, topics and bureaus: 、，, ; ； and whitespace (spaces, the ideographic space, line breaks).
_STRONG_SEPARATORS = re.compile(r"[、,，;；\r\n]+")
_ALL_SEPARATORS = re.compile(r"[、,，;；\s]+")


def split_names(value: Any) -> list[str]:
    """Several names in one cell, in order, without repeats."""
    text = str(value) if isinstance(value, str) else cell_text(value)
    return _unique(p.strip() for p in _ALL_SEPARATORS.split(text))


def split_strong(value: Any) -> list[str]:
    """Names separated by 、，, ; ； or line breaks only: a bureau's English name has spaces."""
    text = str(value) if isinstance(value, str) else cell_text(value)
    return _unique(_SPACES.sub(" ", p).strip() for p in _STRONG_SEPARATORS.split(text))


def _unique(parts: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for part in parts:
        if part and part not in seen:
            seen[part] = None
    return list(seen)


# ---------------------------------------------------------------- dates

EXCEL_EPOCH = date(1899, 12, 30)  # the 1900 date system, with Lotus's phantom 29 February
_MAX_SERIAL = (LAST_DAY - EXCEL_EPOCH).days
_DATE_TEXT = re.compile(
    r"^(\d{4})\s*(?:[-/.]|年)\s*(\d{1,2})\s*(?:[-/.]|月)\s*(\d{1,2})\s*日?"
    r"(?:(?:\s+|T)\d{1,2}[:：]\d{2}(?:[:：]\d{2}(?:\.\d+)?)?)?(?:Z|[+-]\d{2}:?\d{2})?$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")


def parse_date(value: Any) -> date:
    """A day from a cell: an Excel date or date-time, an Excel serial number (46402 is
    2027-01-15), or text: 2027-01-15, 2027/1/15, 2027.1.15, 2027年1月15日 (a time after it is
    ignored), 20270115, or a serial number typed as text. Raises ValueError."""
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, date):
        day = value
    elif isinstance(value, bool) or value is None:
        raise ValueError(f"not a date: {value!r}")
    elif isinstance(value, (int, float)):
        day = _serial(value)
    else:
        text = unicodedata.normalize("NFKC", str(value)).strip()
        if match := _DATE_TEXT.match(text):
            day = _ymd(*match.groups())
        elif match := _COMPACT.match(text):
            day = _ymd(*match.groups())
        elif re.fullmatch(r"\d{1,7}(\.\d+)?", text):
            day = _serial(float(text))
        else:
            raise ValueError(f"not a date: {value!r}")
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day} is outside {FIRST_DAY}..{LAST_DAY}")
    return day


def _serial(number: float) -> date:
    if not 1 <= number <= _MAX_SERIAL:
        raise ValueError(f"{number!r} is not an Excel date serial")
    return EXCEL_EPOCH + timedelta(days=int(number))


def _ymd(year: str, month: str, day: str) -> date:
    return date(int(year), int(month), int(day))  # ValueError for 2027-02-30


def parse_year(value: Any) -> int:
    """2027, 2027.0, "2027", "2027年", "2027年度"."""
    if isinstance(value, bool):
        raise ValueError(f"not a year: {value!r}")
    if isinstance(value, (int, float)) and float(value).is_integer():
        year = int(value)
    else:
        match = re.fullmatch(r"(\d{4})\s*(?:年度?)?", unicodedata.normalize("NFKC", cell_text(value)))
        if not match:
            raise ValueError(f"not a year: {value!r}")
        year = int(match.group(1))
    if not 1949 <= year <= 2200:
        raise ValueError(f"year {year} is out of range")
    return year


# ---------------------------------------------------------------- numbers

NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


def parse_number(value: Any) -> str:
    """A suggestion's or proposal's number as Banli keeps it: a whole number without `.0`,
    full-width digits made half-width, 第…号 dropped. Leading zeros are kept (0012 stays 0012).
    Raises ValueError when what is left is not 1-32 letters, digits, - or _."""
    text = unicodedata.normalize("NFKC", cell_text(value)).replace(" ", "")
    text = re.sub(r"^第(.+)号$", r"\1", text)
    text = re.sub(r"^(.+)号$", r"\1", text)
    if not NUMBER_PATTERN.match(text):
        raise ValueError(f"not a number: {value!r}")
    return text


# ---------------------------------------------------------------- vocabularies


def _vocabulary(table: dict[str, Iterable[str]]) -> dict[str, str]:
    return {norm(label): code for code, labels in table.items() for label in (code, *labels)}


KIND_LABELS = _vocabulary({
    "npc_suggestion": ("npc", "人大建议", "人大代表建议", "代表建议", "建议"),
    "cppcc_proposal": ("cppcc", "政协提案", "政协委员提案", "委员提案", "提案"),
})
LEVEL_LABELS = _vocabulary({
    "national": ("全国", "国家", "国家级"),
    "provincial": ("省", "省级"),
    "municipal": ("市", "市级"),
    "district": ("区", "区级", "县", "区县", "县级"),
})
RESULT_LABELS = _vocabulary({
    "solved": ("a", "a类", "已解决或采纳", "解决采纳", "已解决", "已采纳", "解决或采纳"),
    "planned": ("b", "b类", "正在解决或列入计划", "正在解决", "列入计划", "列入计划解决"),
    "deferred": ("c", "c类", "因条件限制待以后解决", "待以后解决", "条件限制"),
    "reference": ("d", "d类", "留作参考", "作为参考", "参考"),
})
DISCLOSURE_LABELS = _vocabulary({
    "full": ("全文公开", "全文", "公开"),
    "summary": ("摘要公开", "摘要"),
    "withheld": ("不公开",),
    "exempt": ("依法不公开", "依法不予公开", "免于公开", "免予公开"),
})
METHOD_LABELS = _vocabulary({
    "phone": ("电话", "电话沟通"),
    "visit": ("走访", "上门", "上门走访", "当面", "面谈"),
    "meeting": ("座谈", "座谈会", "会议", "见面会"),
    "online": ("网络", "网上", "线上", "视频"),
    "letter": ("信函", "书面", "函件", "来函"),
})
# The office's review (审查立案) as an assignment list records it: filed (立案) or not filed
# (不立案, passed on as an opinion). 并案 is not taken from a list: it needs the proposal merged
# into, and is done in the review.
FILING_LABELS = _vocabulary({
    "filed": ("立案", "已立案", "予以立案"),
    "not_filed": ("不立案", "不予立案", "未立案", "转为意见和建议", "not filed"),
})
YES_LABELS = frozenset(norm(v) for v in ("是", "√", "✓", "✔", "y", "yes", "true", "1", "分办", "x"))
NO_LABELS = frozenset(norm(v) for v in ("否", "×", "n", "no", "false", "0", "-", "无"))


def lookup(vocabulary: dict[str, str], value: Any) -> str:
    """The code for a label; also the part before or inside brackets (A类（已解决或采纳）)."""
    key = norm(value)
    if key in vocabulary:
        return vocabulary[key]
    for part in re.split(r"[()\[\]【】]", key):
        if part and part in vocabulary:
            return vocabulary[part]
    raise ValueError(f"unknown value {value!r}")


def accepted(vocabulary: dict[str, str]) -> str:
    """The codes of a vocabulary, for messages."""
    return "/".join(dict.fromkeys(vocabulary.values()))
