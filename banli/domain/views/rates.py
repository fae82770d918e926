"""The year-end report and its rates, computed from proposal states as of a date.

This is the reference definition (DOMAIN.md, "Rates"): the ClickHouse queries of the reporting
service must give the same numbers, and the differential tests hold them to it.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from math import prod
from typing import Any, Iterable, Iterator, Mapping, NamedTuple

from ..timing.deadlines import Profile
from .duty_row import CELL_FIELDS, ITEM_FIELDS, answered_on, cell_of, item_of
from ..events import Event
from ..proposal import Assignment, Proposal
from ..types import (
    DISCLOSURES, FEEDBACK_CHANNELS, FEEDBACK_RECORDERS, KINDS, RESULTS, SATISFACTIONS, Frozen,
    Kind, Level, Result, Satisfaction, YearSpan, business_date,
)

__all__ = ["CELL_FIELDS", "ITEM_FIELDS", "cell_of", "item_of"]  # the duty row's, read here
from ..wording import CHOICE_WORDS
from ..timing.workdays import Calendar, OutsideCalendar, past_working_days


class Scope(Frozen):
    """Which duties a report counts: one bureau (or all, `bureau=None`), the proposals' years,
    the as-of business date, optional level and kind filters."""

    bureau: str | None
    years: tuple[int, int]
    as_of: date
    level: Level | None = None
    kind: Kind | None = None

    def takes(self, p: Proposal) -> bool:
        return (p.status == "open" and self.years[0] <= p.year <= self.years[1]
                and self.level in (None, p.level) and self.kind in (None, p.kind))

    def duties(self, p: Proposal) -> list[Assignment]:
        return [a for a in p.active_duties() if self.bureau in (None, a.bureau)]


def ratio(numerator: int, denominator: int) -> float | None:
    """An unrounded fraction, or None when nothing was there to count."""
    return numerator / denominator if denominator else None


# --- The rates: each once --------------------------------------------------------------------
@dataclass(frozen=True)
class Rate:
    """One rate of the report: its name, its numerator and denominator (two of the report's
    counts, named as the measures that list their items), and its names for people. The
    reference, the SQL, the text, the documents and the page (from the API) all read these."""

    name: str
    numerator: str
    denominator: str
    zh: str
    en: str


RATES: tuple[Rate, ...] = (
    Rate("on_time_reply", "on_time_lead", "due_lead", "按期办复率", "on-time reply rate"),
    Rate("on_time_opinion", "on_time_co", "due_co", "会办意见按期率", "on-time opinion rate"),
    Rate("completion", "replied", "lead", "办复率", "completion rate"),
    Rate("adoption", "adopted", "replied", "解决采纳率", "adoption rate"),
    Rate("disclosure", "disclosed", "disclosure_base", "公开率", "disclosure rate"),
    Rate("satisfaction", "satisfied_any", "feedback_any", "满意率", "satisfaction rate"),
    Rate("contact", "contacted", "replied", "沟通率", "contact rate"),
    # 代表被满意: how much of the satisfaction feedback the bureau typed in itself
    Rate("self_recorded_feedback", "feedback_by_self", "feedback_any",
         "满意度由本单位自行录入占比", "feedback recorded by the bureau itself"),
)
RATE_NAMES = {rate.name: (rate.zh, rate.en) for rate in RATES}


# --- The report ----------------------------------------------------------------------------
class ReportScope(Frozen):
    bureau: str | None
    years: YearSpan
    as_of: date
    level: Level | None = None
    kind: Kind | None = None
    profile: str


class RoleCounts(Frozen):
    lead: int = 0
    co: int = 0


class Fraction(Frozen):
    """A rate's numerator and denominator, as counted."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        return ratio(self.numerator, self.denominator)


class Entries(Frozen):
    """The bureaus' records as of the date: how many, entered late, imported (count_entries)."""

    records: int
    late: int
    imported: int
    late_after_working_days: int


class Report(Frozen):
    """The year-end report's numbers for a scope: what was handled, the results, disclosure and
    feedback, each rate (with its numerator and denominator), and how the records were kept."""

    scope: ReportScope
    proposals: int
    assignments: dict[Kind, RoleCounts]
    replies: int
    results: dict[Result, int]
    disclosure: dict[str, int]  # each choice, and "undecided"
    feedback: dict[Satisfaction, int]
    # how the latest feedback came in ("unstated" too), and how much the bureau typed in itself
    feedback_channels: dict[str, int]
    feedback_by_self: int
    # who recorded the latest feedback: the filer, the office, the bureau itself (代表被满意)
    feedback_recorders: dict[str, int]
    rates: dict[str, float | None]
    fractions: dict[str, Fraction]
    entries: Entries | None = None


def report_of(scope: Scope, profile: Profile, counts: Mapping[str, int],
              entries: Entries | None = None) -> Report:
    """The report made of its counts, named as the measures that list their items (`lead`,
    `replied`, `result.solved`, `disclosure.undecided`, `npc_suggestion.co`, ...; the SQL's cells
    and the reference's fold count the same names), with the sums and rates made of them."""
    n = Counter(counts)
    n["disclosed"] = n["disclosure.full"] + n["disclosure.summary"]
    n["disclosure_base"] = n["replied"] - n["disclosure.exempt"]
    n["satisfied_any"] = n["feedback.satisfied"] + n["feedback.basically_satisfied"]
    n["feedback_any"] = sum(n[f"feedback.{s}"] for s in SATISFACTIONS)
    fractions = {r.name: Fraction(numerator=n[r.numerator], denominator=n[r.denominator])
                 for r in RATES}
    return Report(
        scope=ReportScope(bureau=scope.bureau, years=scope.years, as_of=scope.as_of,
                          level=scope.level, kind=scope.kind, profile=profile.name),
        proposals=n["proposals"],
        assignments={k: RoleCounts(lead=n[f"{k}.lead"], co=n[f"{k}.co"]) for k in KINDS},
        replies=n["replied"],
        results={r: n[f"result.{r}"] for r in RESULTS},
        disclosure={**{d: n[f"disclosure.{d}"] for d in DISCLOSURES},
                    "undecided": n["disclosure.undecided"]},
        feedback={s: n[f"feedback.{s}"] for s in SATISFACTIONS},
        feedback_channels={**{ch: n[f"feedback_channels.{ch}"] for ch in FEEDBACK_CHANNELS},
                           "unstated": n["feedback_channels.unstated"]},
        feedback_by_self=n["feedback_by_self"],
        feedback_recorders={who: n[f"feedback_recorders.{who}"] for who in FEEDBACK_RECORDERS},
        rates={name: fraction.value for name, fraction in fractions.items()},
        fractions=fractions, entries=entries)


def compute_report(proposals: Iterable[Proposal], scope: Scope, profile: Profile,
                   entries: Entries | None = None) -> Report:
    """The report over proposals already folded as of `scope.as_of` (events on or before it):
    each measure counts the items it picks (MEASURES, the same predicates that list them), and
    `proposals` the proposals with a counted duty."""
    n: Counter[str] = Counter()
    for p in proposals:
        if not scope.takes(p):
            continue
        duties = scope.duties(p)
        n["proposals"] += bool(duties)
        for a in duties:
            item = with_flags(item_of(p, a), scope.as_of, profile)
            for name, keep in MEASURES.items():
                if keep(item):
                    n[name] += 1
    return report_of(scope, profile, n, entries)


# --- Late entry: records typed in long after they happened ---------------------------------------
# A bureau's records on a proposal (the events about its duty that it, an admin or the importer
# entered; not the coordinator's or an overseer's) counted as of the report's date: how many, how
# many were recorded more than N working days after their business date (entered late), and how
# many came in a bulk history import (counted apart: a migration is not late entry).
NOT_A_BUREAUS_RECORD = frozenset({"coordinator", "overseer"})


class Stamp(NamedTuple):
    """When a record happened and when it was recorded (business days, Asia/Shanghai), whether
    the importer brought it, and how many records share these."""

    occurred_on: date
    recorded_on: date
    imported: bool
    n: int = 1


def recorder_role(event: Event) -> str:
    """The role of whoever entered the event: `recorded_by`, else its actor (who entered it
    themselves, as for every event written before `recorded_by`)."""
    return (event.recorded_by or event.actor).role


def is_bureau_record(event: Event) -> bool:
    """Whether the event is a record on a duty that the bureau, an admin or the importer
    entered (whoever's act it names)."""
    return bool(event.__dict__.get("bureau")) and recorder_role(event) not in NOT_A_BUREAUS_RECORD


def entry_kind(stamp: Stamp, calendar: Calendar, working_days: int) -> str:
    """`imported`, `late` (recorded more than `working_days` working days after it happened) or
    `on_time`. A day the calendar has no year for is counted in calendar days."""
    if stamp.imported:
        return "imported"
    try:
        late = past_working_days(calendar, stamp.occurred_on, working_days, stamp.recorded_on)
    except OutsideCalendar:
        late = (stamp.recorded_on - stamp.occurred_on).days > working_days
    return "late" if late else "on_time"


def count_entries(stamps: Iterable[Stamp], calendar: Calendar, working_days: int) -> Entries:
    """The report's `entries`: records, those entered late, those imported, and N."""
    counts = {"records": 0, "late": 0, "imported": 0}
    for stamp in stamps:
        counts["records"] += stamp.n
        kind = entry_kind(stamp, calendar, working_days)
        if kind != "on_time":
            counts[kind] += stamp.n
    return Entries(**counts, late_after_working_days=working_days)


def stamps_of(events: Iterable[Event], scope: Scope, duties: set[tuple[str, str]]
              ) -> Iterator[tuple[Event, Stamp]]:
    """The bureau records among `events` dated on or before the scope's date, on the counted
    duties `duties` ((proposal id, bureau) pairs), each with its stamp."""
    for event in events:
        day = business_date(event.occurred_at)
        if (day <= scope.as_of and is_bureau_record(event)
                and (event.proposal_id, event.__dict__["bureau"]) in duties):
            yield event, Stamp(day, business_date(event.recorded_at),
                               recorder_role(event) == "importer")


# --- Drill-down: the items behind every number ---------------------------------------------------
# Each counted duty becomes one item (a plain dict, the same whether it came from folding events or
# from the projections); every number of the report is the size of one measure's selection, and a
# rate is its numerator's selection over its denominator's. The reporting service lists items with
# these same predicates, and tests hold each selection's size to the report's number. What an item
# carries is declared with the duty row (banli.domain.views.duty_row: ITEM_FIELDS, item_of).

def with_flags(item: dict[str, Any], as_of: date, profile: Profile) -> dict[str, Any]:
    """The item with what the rates ask of it, as of the business date."""
    cell = cell_of(item)
    after = due_after(item)
    return {**item, **_flags(cell, after is None or after < as_of, profile.adopted)}


def _flags(cell: Mapping[str, Any], due_counted: bool, adopted: Iterable[str]
           ) -> dict[str, Any]:
    """Whether the duty counts in its on-time rate (`due_counted`: answered, or its due date
    passed), whether it is on time, and whether its result counts as adopted (`adopted`, the
    profile's results)."""
    return {"due_counted": due_counted, "on_time": cell["on_time"],
            "adopted": cell["role"] == "lead" and cell["replies"] > 0
            and cell["result"] in adopted}


# --- Cells: what the numbers ask of a duty, without its dates ---------------------------------------
# Every number of the report counts the duties that one of the MEASURES picks, and the measures
# read a few fields of a duty: its role and kind, whether and when it was answered, its result,
# disclosure and feedback. Of those questions only one depends on the as-of date: whether an
# unanswered duty's due date has passed. A duty's *cell* is the answers to all the others, a
# small integer (cell_code) over CELL_FIELDS (declared with the duty row, views.duty_row);
# with the date after which it counts as due (due_after) it is all a report needs of the duty.
# The projections store both per version of a duty, and a report adds up the duties of each
# (cell, due date passed) with counts_of_cells.

CELL_CODES = prod(len(values) for _, values in CELL_FIELDS)  # codes are 0 .. CELL_CODES - 1


def due_after(item: Mapping[str, Any]) -> date | None:
    """The day after which the duty counts in its on-time rate, as of any later date: its due
    date; None when it counts already (answered)."""
    return None if answered_on(item) is not None else item["due"]


def cell_code(cell: Mapping[str, Any]) -> int:
    """The cell as one integer (mixed radix over CELL_FIELDS)."""
    code = 0
    for name, values in CELL_FIELDS:
        code = code * len(values) + values.index(cell[name])
    return code


def cell_from_code(code: int) -> dict[str, Any]:
    if not 0 <= code < CELL_CODES:
        raise ValueError(f"not a cell code: {code}")
    cell: dict[str, Any] = {}
    for name, values in reversed(CELL_FIELDS):
        code, index = divmod(code, len(values))
        cell[name] = values[index]
    return cell


@lru_cache(maxsize=65_536)
def _measures_of_cell(code: int, due_counted: bool, adopted: tuple[str, ...]
                      ) -> tuple[str, ...]:
    cell = cell_from_code(code)
    flagged = {**cell, **_flags(cell, due_counted, adopted)}
    return tuple(name for name, keep in MEASURES.items() if keep(flagged))


def counts_of_cells(cells: Iterable[tuple[int, bool, int]], profile: Profile) -> Counter[str]:
    """The report's counts, named as the measures, from cells: (cell code, whether the due date
    has passed, how many duties). Each measure picks its duties exactly as it picks items."""
    counts: Counter[str] = Counter()
    adopted = tuple(profile.adopted)
    for code, past_due, n in cells:
        for name in _measures_of_cell(code, bool(past_due), adopted):
            counts[name] += n
    return counts


def _reply(item: dict[str, Any]) -> bool:
    return bool(item["role"] == "lead" and item["replies"] > 0)


MEASURES: dict[str, Any] = {
    "duties": lambda i: True,
    "lead": lambda i: i["role"] == "lead",
    "co": lambda i: i["role"] == "co",
    **{f"{k}.{role}": (lambda k, role: lambda i: i["kind"] == k and i["role"] == role)(k, role)
       for k in KINDS for role in ("lead", "co")},
    **{k: (lambda k: lambda i: i["kind"] == k)(k) for k in KINDS},
    "replied": _reply,
    "unreplied": lambda i: i["role"] == "lead" and i["replies"] == 0,
    "due_lead": lambda i: i["role"] == "lead" and i["due_counted"],
    "on_time_lead": lambda i: i["role"] == "lead" and i["due_counted"] and i["on_time"],
    "late_lead": lambda i: i["role"] == "lead" and i["due_counted"] and not i["on_time"],
    "due_co": lambda i: i["role"] == "co" and i["due_counted"],
    "on_time_co": lambda i: i["role"] == "co" and i["due_counted"] and i["on_time"],
    "late_co": lambda i: i["role"] == "co" and i["due_counted"] and not i["on_time"],
    "adopted": lambda i: i["adopted"],
    "contacted": lambda i: _reply(i) and i["contacted"],
    **{f"result.{r}": (lambda r: lambda i: _reply(i) and i["result"] == r)(r) for r in RESULTS},
    **{f"disclosure.{d}": (lambda d: lambda i: _reply(i) and i["disclosure"] == d)(d)
       for d in DISCLOSURES},
    "disclosure.undecided": lambda i: _reply(i) and i["disclosure"] is None,
    "disclosed": lambda i: _reply(i) and i["disclosure"] in ("full", "summary"),
    "disclosure_base": lambda i: _reply(i) and i["disclosure"] != "exempt",
    **{f"feedback.{s}": (lambda s: lambda i: _reply(i) and i["feedback"] == s)(s)
       for s in SATISFACTIONS},
    "feedback_any": lambda i: _reply(i) and i["feedback"] is not None,
    "satisfied_any": lambda i: _reply(i) and i["feedback"] in ("satisfied", "basically_satisfied"),
    **{f"feedback_channels.{ch}": (lambda ch: lambda i: _reply(i) and i["feedback"] is not None
                                   and i["feedback_channel"] == ch)(ch)
       for ch in FEEDBACK_CHANNELS},
    "feedback_channels.unstated": lambda i: (_reply(i) and i["feedback"] is not None
                                             and i["feedback_channel"] is None),
    "feedback_by_self": lambda i: _reply(i) and i["feedback"] is not None and i["feedback_by_self"],
    **{f"feedback_recorders.{who}": (lambda who: lambda i: _reply(i) and i["feedback"] is not None
                                     and i["feedback_recorder"] == who)(who)
       for who in FEEDBACK_RECORDERS},
}



def _first_undisclosed(item: dict[str, Any]) -> bool:
    return _reply(item) and item["first_disclosure"] in ("withheld", "exempt")


# Lists the drill-down offers beside the report's counts, of what only an item tells (its first
# disclosure), not its cell: the year-end document's disclosure review counts them. select()
# and GET /api/items take them; the report's counts (counts_of_cells) never do.
ITEM_MEASURES: dict[str, Any] = {
    "first_undisclosed": _first_undisclosed,
    **{f"first_undisclosed.{d}": (lambda d: lambda i: _first_undisclosed(i)
                                  and i["disclosure"] == d)(d) for d in DISCLOSURES},
    "first_undisclosed.undecided": lambda i: _first_undisclosed(i) and i["disclosure"] is None,
}

# The names people read for each measure and rate (a drill-down's title, its spreadsheet's),
# declared once: the page reads them from GET /api/vocabulary. A family's names are its
# choice's words (a result, a disclosure, a feedback ...).
def _family(prefix: str, choice: str, zh: str = "{}", en: str = "{}"
            ) -> dict[str, tuple[str, str]]:
    return {f"{prefix}.{value}": (zh.format(words[0]), _capital(en.format(words[1])))
            for value, words in CHOICE_WORDS[choice].items()}


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


MEASURE_WORDS: dict[str, tuple[str, str]] = {
    "duties": ("承办件次", "Duties"), "lead": ("主办", "Lead"), "co": ("会办", "Co"),
    **{f"{kind}.{role}": (f"{kind_words[0]}·{role_words[0]}",
                          _capital(f"{kind_words[1]}, {role_words[1]}"))
       for kind, kind_words in CHOICE_WORDS["kind"].items()
       for role, role_words in CHOICE_WORDS["role"].items()},
    **{kind: (words[0], _capital(words[1])) for kind, words in CHOICE_WORDS["kind"].items()},
    "replied": ("已答复", "Replied"), "unreplied": ("未答复", "Not replied"),
    "due_lead": ("主办应办复", "Lead due"), "on_time_lead": ("主办按期", "Lead on time"),
    "late_lead": ("主办逾期或未按期", "Lead late"), "due_co": ("会办应反馈", "Co due"),
    "on_time_co": ("会办按期", "Co on time"), "late_co": ("会办逾期", "Co late"),
    "adopted": ("解决采纳", "Adopted"), "contacted": ("答复前已沟通", "Contacted before reply"),
    **_family("result", "result"),
    **_family("disclosure", "disclosure"),
    "disclosure.undecided": ("公开方式未定", "Disclosure undecided"),
    "disclosed": ("已公开（全文或摘要）", "Disclosed"),
    "disclosure_base": ("应公开（除依法不公开）", "Disclosable"),
    **_family("feedback", "satisfaction"),
    "feedback_any": ("已反馈", "With feedback"),
    "satisfied_any": ("满意与基本满意", "Satisfied"),
    **_family("feedback_channels", "channel", "满意度反馈方式：{}", "Feedback by {}"),
    "feedback_channels.unstated": ("满意度反馈方式未注明", "Feedback channel not stated"),
    "feedback_by_self": ("满意度由承办单位自行录入", "Feedback recorded by the bureau itself"),
    "feedback_recorders.filer": ("满意度由代表委员本人录入", "Feedback recorded by the filer"),
    "feedback_recorders.office": ("满意度由交办单位录入", "Feedback recorded by the office"),
    "feedback_recorders.bureau": ("满意度由承办单位自行录入",
                                  "Feedback recorded by the bureau itself"),
    "first_undisclosed": ("首次答复未公开", "First left undisclosed"),
    **_family("first_undisclosed", "disclosure", "首次未公开·现{}", "First undisclosed, now: {}"),
    "first_undisclosed.undecided": ("首次未公开·现未定", "First undisclosed, now undecided"),
    **{rate.name: (rate.zh, _capital(rate.en)) for rate in RATES},
}


# rate -> (numerator measure, denominator measure)
RATE_MEASURES: dict[str, tuple[str, str]] = {r.name: (r.numerator, r.denominator) for r in RATES}


def report_items(proposals: Iterable[Proposal], scope: Scope, profile: Profile
                 ) -> list[dict[str, Any]]:
    """Every duty the report counts, flagged; proposals already folded as of `scope.as_of`."""
    return [with_flags(item_of(p, a), scope.as_of, profile)
            for p in proposals if scope.takes(p) for a in scope.duties(p)]


def select(items: Iterable[dict[str, Any]], measure: str) -> list[dict[str, Any]]:
    """The items behind one number, or behind a rate: its denominator's items, each marked
    `counted` when the numerator counts it too."""
    if measure in RATE_MEASURES:
        numerator, denominator = (MEASURES[m] for m in RATE_MEASURES[measure])
        return [{**i, "counted": bool(numerator(i))} for i in items if denominator(i)]
    keep = MEASURES.get(measure) or ITEM_MEASURES.get(measure)
    if keep is None:
        raise KeyError(measure)
    return [i for i in items if keep(i)]
