"""How things are named for people, once for every answer and message: an item by its number with
its kind and level (市政协提案 0007 and 市人大代表建议 0007 are different items), a day in words
(2020年3月1日 / 1 March 2020), a choice's value in words (the choices declared with their types,
banli.domain.types.CHOICES), yes and no, a rate rounded as the year-end document's 统计口径 states.
Pure: lists, their spreadsheets, the work list, refusals and documents read these.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Iterable, Mapping, MutableMapping, TypeVar

from .types import CHOICES, SHANGHAI

# An item's level as the prefix of its name: 市政协提案, 全国人大代表建议.
LEVEL_PREFIX: dict[str, tuple[str, str]] = {
    "national": ("全国", "national"), "provincial": ("省", "provincial"),
    "municipal": ("市", "municipal"), "district": ("区", "district")}
# Each choice's words by its name (`result` → {"solved": ("A 已解决或采纳", ...)}).
CHOICE_WORDS: dict[str, Mapping[str, tuple[str, str]]] = {
    choice.name: choice.labels for choice in CHOICES}
# An item's kind as its name says it: the words of the choice.
KIND_WORDS: dict[str, tuple[str, str]] = dict(CHOICE_WORDS["kind"])
YES_NO: dict[bool, tuple[str, str]] = {True: ("是", "yes"), False: ("否", "no")}

_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December")


def item_number(kind: str, level: str, year: int, number: str, with_year: bool = False
                ) -> tuple[str, str]:
    """An item's number as people read it, in Chinese and English: its level and kind, then the
    number (a number of digits padded to four, as the lists print it): 市政协提案 0007 /
    municipal CPPCC proposal 0007. `with_year` puts the year in front (2020年市政协提案 0007 /
    2020 municipal CPPCC proposal 0007): for a list whose items span years."""
    level_zh, level_en = LEVEL_PREFIX.get(level, ("", level))
    kind_zh, kind_en = KIND_WORDS.get(kind, (kind, kind))
    shown = number.zfill(4) if number.isascii() and number.isdigit() else number
    zh, en = f"{level_zh}{kind_zh} {shown}", f"{level_en} {kind_en} {shown}"
    if with_year:
        return f"{year}年{zh}", f"{year} {en}"
    return zh, en


Item = TypeVar("Item", bound=MutableMapping[str, Any])


def numbered(items: Iterable[Item]) -> list[Item]:
    """The items (each with `kind`, `level`, `year`, `number`), each given its `display` and
    `display_en` (item_number), with the year where the items span more than one year."""
    found = list(items)
    with_year = len({item["year"] for item in found}) > 1
    for item in found:
        item["display"], item["display_en"] = item_number(
            item["kind"], item.get("level") or "municipal", int(item["year"]),
            str(item["number"]), with_year)
    return found


def day_words(day: date | datetime) -> tuple[str, str]:
    """A day as people write it: 2020年3月1日 / 1 March 2020. A time is read in Shanghai and
    keeps its hour and minute unless it is midnight (2020年3月1日 09:30 / 1 March 2020, 09:30)."""
    clock = ""
    if isinstance(day, datetime):
        moment = day.astimezone(SHANGHAI) if day.tzinfo is not None else day
        if (moment.hour, moment.minute) != (0, 0):
            clock = f"{moment.hour:02d}:{moment.minute:02d}"
        day = moment.date()
    zh = f"{day.year}年{day.month}月{day.day}日"
    en = f"{day.day} {_MONTHS[day.month - 1]} {day.year}"
    return (f"{zh} {clock}", f"{en}, {clock}") if clock else (zh, en)


def yes_no(value: Any, lang: str = "zh") -> str:
    """是 / 否 (yes / no)."""
    return YES_NO[bool(value)][1 if lang == "en" else 0]


def rounded_percent(numerator: int, denominator: int) -> tuple[int, int] | None:
    """A rate as the 统计口径 rounds it, in integers: (whole percent, 0) rounded half up, or
    (tenths of a percent, 1) where a whole number would round a shortfall up to 100% or a few
    down to 0%; None with nothing to count. The document's `percent`, the page's and the
    spreadsheets' cells all print this."""
    if not denominator:
        return None
    whole = (200 * numerator + denominator) // (2 * denominator)
    if (whole == 100 and numerator < denominator) or (whole == 0 and numerator > 0):
        tenths = (2000 * numerator + denominator) // (2 * denominator)
        return min(max(tenths, 1), 999), 1
    return whole, 0
