"""The lists people read, declared once: each list's columns in order, with their headers in
Chinese and English and what kind of value each shows. The page draws its tables' headers from
these (GET /api/vocabulary's `lists`) and each list's spreadsheet (`format=xlsx`) has the same
columns in the same order; `row_words` gives a row's values as people read them (choices in
words, 是/否, bureaus by name, an item by its number), which the page's cells show alike from
the same words. Pure.

A column's kind says how its value is shown:
- `display`: an item's number with its kind and level (the row's `display` / `display_en`);
- `text`, `number`: as it is; `user`: the user of an actor (`{"user": ...}`; none: the row's
  `actor`, who entered it themselves);
- `bureau`: the bureau's name (from the directory's names, given by the caller);
- `choice`: the words of a choice's value (`choice` names it: banli.domain.types.CHOICES and
  the deadline profiles);
- `flag`: 是 / 否;
- `event`: an event's name (the registry's words);
- `date`: a business date; `day_of`: the business date of an instant; `moment`: an instant's
  date and time of day (Shanghai);
- `rate`: a fraction (`{"numerator", "denominator"}`), shown as the 统计口径 rounds it.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, Mapping, Sequence

from ..timing.deadlines import PROFILE_WORDS
from .rates import RATE_MEASURES, RATES
from ..registry import EVENT_CLASSES
from ..wording import CHOICE_WORDS, yes_no

ColumnKind = Literal["display", "text", "number", "user", "bureau", "choice", "flag", "event",
                     "date", "day_of", "moment", "rate"]


@dataclass(frozen=True)
class ListColumn:
    """One column of a list: the rows' `key`, its headers, how its value is shown (`kind`) and,
    for a choice, which choice's words."""

    key: str
    zh: str
    en: str
    kind: ColumnKind = "text"
    choice: str | None = None

    def header(self, lang: str) -> str:
        return self.en if lang == "en" else self.zh


NUMBER = ListColumn("display", "编号", "No.", "display")
TITLE = ListColumn("title", "标题", "Title")
BUREAU = ListColumn("bureau", "承办单位", "Bureau", "bureau")
ROLE = ListColumn("role", "主办/会办", "Role", "choice", "role")
OWED = ListColumn("owed", "待办", "Owed", "choice", "owed")
ASSIGNED_ON = ListColumn("assigned_on", "交办日期", "Assigned", "date")
DUE = ListColumn("due", "期限", "Due", "date")
DAYS_LEFT = ListColumn("days_left", "剩余天数", "Days left", "number")

# The columns an item behind a number may show; which it shows depends on the number
# (measure_columns).
ITEM_COLUMNS: tuple[ListColumn, ...] = (
    NUMBER, TITLE, BUREAU, ROLE, ASSIGNED_ON, DUE,
    ListColumn("answered_on", "首次答复或意见", "First reply or opinion", "date"),
    ListColumn("result", "办理结果", "Result", "choice", "result"),
    ListColumn("disclosure", "公开方式", "Disclosure", "choice", "disclosure"),
    ListColumn("contacted", "答复前沟通", "Contacted before reply", "flag"),
    ListColumn("feedback", "满意度", "Feedback", "choice", "satisfaction"),
    ListColumn("feedback_recorder", "满意度录入方", "Feedback recorded by", "choice",
               "feedback_recorder"),
    ListColumn("counted", "计入分子", "In numerator", "flag"),
)
_ITEM_BASE = ("display", "title", "bureau", "role", "assigned_on", "due", "answered_on",
              "result", "disclosure")
# The numbers whose items tell something more than the base columns: whether the lead spoke
# with the filer before replying, the filer's feedback and who typed it in.
_ITEM_MORE: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = (
    (("contact", "contacted"), ("contacted",)),
    (("satisfaction", "self_recorded_feedback", "feedback", "feedback_any", "satisfied_any",
      "feedback_channels", "feedback_by_self", "feedback_recorders"),
     ("feedback", "feedback_recorder")),
)


def measure_columns(measure: str) -> tuple[str, ...]:
    """The keys of the columns the items behind `measure` show: the base columns, what that
    number is about, and `counted` (计入分子) only for a rate, where the items are its
    denominator's and some are counted in its numerator."""
    family = measure.split(".")[0]
    more = next((keys for measures, keys in _ITEM_MORE if family in measures), ())
    return (*_ITEM_BASE, *more, *(("counted",) if measure in RATE_MEASURES else ()))


LISTS: dict[str, tuple[ListColumn, ...]] = {
    # the board's deadlines list (到期提醒): what is owed in its scope, as of its date
    "owed": (NUMBER, TITLE, BUREAU, ROLE, OWED, DUE, DAYS_LEFT),
    # the items behind a number of the report (the drill-down)
    "items": ITEM_COLUMNS,
    # the bureaus' records behind the report's entries
    "entries": (NUMBER, BUREAU, ListColumn("type", "记录", "Record", "event"),
                ListColumn("occurred_at", "发生日期", "Happened on", "day_of"),
                ListColumn("recorded_at", "录入时间", "Recorded at", "moment"),
                ListColumn("actor", "操作人", "Acted by", "user"),
                ListColumn("recorded_by", "录入人", "Entered by", "user"),
                ListColumn("entry", "录入情况", "Entry", "choice", "entry")),
    # the league of bureaus: their counts and rates, and the days lost to misrouting
    "league": (BUREAU, ListColumn("lead", "主办", "Lead", "number"),
               ListColumn("co", "会办", "Co", "number"),
               ListColumn("replied", "已答复", "Replied", "number"),
               *(ListColumn(rate.name, rate.zh, rate.en[:1].upper() + rate.en[1:], "rate")
                 for rate in RATES),
               ListColumn("misrouted", "误交办（次）", "Misrouted (times)", "number"),
               ListColumn("days_lost", "误交办耽误天数", "Days lost to misrouting", "number")),
    # the desk's proposals to assign
    "awaiting": (NUMBER, TITLE, ListColumn("submitted_on", "提交日期", "Submitted", "date"),
                 ListColumn("assigned_before", "曾退回", "Returned before", "flag")),
    # today's reminders (the work list's, the webhook's)
    "reminders": (NUMBER, BUREAU, OWED, ListColumn("colour", "提醒", "Reminder", "choice",
                                                   "colour"), DUE, DAYS_LEFT),
    # days lost to misrouting, per bureau
    "misrouting": (BUREAU, ListColumn("bounced", "误交办件数", "Misrouted", "number"),
                   ListColumn("returned", "退回", "Returned", "number"),
                   ListColumn("removed", "调整移出", "Removed", "number"),
                   ListColumn("days_lost", "耽误天数", "Days lost", "number")),
}

EVENT_TITLES: dict[str, tuple[str, str]] = {
    cls.model_fields["type"].default: cls.__dict__["labels"].title for cls in EVENT_CLASSES}
_WORDS: dict[str, Mapping[str, tuple[str, str]]] = {**CHOICE_WORDS, "profile": PROFILE_WORDS}


def columns_of(name: str, keys: Sequence[str] | None = None) -> tuple[ListColumn, ...]:
    """A list's columns, or those of them named by `keys` (in the list's order)."""
    found = LISTS[name]
    return found if keys is None else tuple(c for c in found if c.key in keys)


def row_words(columns: Sequence[ListColumn], row: Mapping[str, Any], lang: str,
              bureaus: Mapping[str, Mapping[str, str]]) -> dict[str, Any]:
    """The row's values under `columns` as people read them, in `lang`: words for choices,
    flags, bureaus (`bureaus`: id → {"name", "name_en"}), events and users; an item's number
    as displayed; dates, numbers and rates as they are (a spreadsheet formats them)."""
    return {c.key: shown(c, row.get(c.key), row, lang, bureaus) for c in columns}


def shown(column: ListColumn, value: Any, row: Mapping[str, Any], lang: str,
          bureaus: Mapping[str, Mapping[str, str]]) -> Any:
    """One value of a row as `row_words` gives it."""
    en = lang == "en"
    match column.kind:
        case "display":
            return row.get("display_en" if en else "display") or row.get("proposal_id")
        case "bureau":
            return bureau_name(value, bureaus, lang)
        case "choice":
            if value is None or value == "":
                return None
            found = _WORDS[column.choice or column.key].get(str(value))
            return str(value) if found is None else found[1 if en else 0]
        case "flag":
            return yes_no(value, lang)
        case "event":
            words = EVENT_TITLES.get(str(value))
            return words[1 if en else 0] if words else value
        case "user":
            actor = value or row.get("actor")
            return actor.get("user") if isinstance(actor, Mapping) else actor
        case _:
            return value


def bureau_name(bureau: str | None, bureaus: Mapping[str, Mapping[str, str]],
                lang: str) -> str | None:
    """A bureau by its name in `lang` (its Chinese name where it has no English one; its id
    where the directory does not know it)."""
    if not bureau:
        return None
    names = bureaus.get(bureau) or {}
    return (names.get("name_en") if lang == "en" else None) or names.get("name") or bureau



def league_order(on_time_reply: Mapping[str, float | None]) -> list[str]:
    """The bureaus as the league lists them: by their on-time reply rate, highest first, those
    with nothing yet due last; then by id."""
    def rank(bureau: str) -> tuple[float, str]:
        rate = on_time_reply[bureau]
        return (-(rate if rate is not None else -1.0), bureau)

    return sorted(on_time_reply, key=rank)
