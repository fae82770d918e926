"""What reporting's routes answer, as the OpenAPI publishes it. The report itself is the kernel's
model (banli.domain.views.rates.Report); the rows of lists are objects whose fields the routes'
descriptions and docs/ name."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from banli.domain.views.rates import Report
from banli.domain.types import Actor, YearSpan

Row = dict[str, Any]


class Items(BaseModel):
    """The items behind a number (`count` of them) or a rate (its denominator's items, each
    `counted` in the numerator or not: `counted` is how many, null for a plain count).
    `columns`: the keys of the columns that fit what it counts, in order (their words:
    GET /api/vocabulary's `lists`, `items`)."""

    measure: str
    count: int
    items: list[Row]
    columns: list[str]
    counted: int | None = None


class EntryList(BaseModel):
    which: Literal["late", "imported", "on_time", "all"]
    count: int
    items: list[Row]
    late_after_working_days: int


class League(BaseModel):
    bureaus: dict[str, Report]


class Owed(BaseModel):
    overdue: int
    due_soon: int
    total: int
    items: list[Row]


class Misrouted(BaseModel):
    bounced: int
    days_lost: int


class BureauNames(BaseModel):
    """A bureau as offices name it: its name (as of the date asked, or now), its short and
    former names, its merger, and what a report as of that date says of its past (原…)."""

    name: str
    name_en: str = ""
    short_names: list[str] = []
    former_names: list[str] = []
    merged_into: str | None = None
    merged_on: date | None = None
    lineage: str | None = None
    lineage_en: str | None = None


class Dashboard(BaseModel):
    today: date
    position: int
    misrouting: dict[str, Misrouted]
    recent: list[Row]
    report: Report
    previous: Report
    league: dict[str, Report]
    bureaus: dict[str, BureauNames]  # as named on the as-of date, with their lineage
    open: Owed


class Awaiting(BaseModel):
    years: YearSpan
    count: int
    items: list[Row]


class Assignments(BaseModel):
    """The deadlines list in its scope: `as_of` the date its duties are read on and their days
    left counted to, `years` the items' years, `recorded_by` the audit clock (null: now)."""

    bureau: str | None
    today: date
    as_of: date
    years: YearSpan
    recorded_by: datetime | None
    items: list[Row]
    overdue: int
    due_soon: int


class HistoryEvent(BaseModel):
    bureau: str | None
    position: int
    seq: int
    event_id: str
    type: str
    schema_version: int
    occurred_at: str
    recorded_at: str
    actor: Actor  # whose act it was
    recorded_by: Actor | None = None  # who entered it for them (an importer), if not the actor
    command_id: str | None
    data: Row


class History(BaseModel):
    proposal_id: str
    events: list[HistoryEvent]


class Bureaus(BaseModel):
    bureaus: dict[str, BureauNames]


class ReplayProgress(BaseModel):
    state: Literal["idle", "starting", "running", "swapping", "done", "failed"]
    read: int
    total: int
    projected: int
    started_at: float | None  # unix seconds
    finished_at: float | None
    error: str | None
    events_per_s: int | None


class Lineage(BaseModel):
    proposal_id: str
    steps: list[Row]


class MisroutingScope(BaseModel):
    bureau: str | None
    years: YearSpan
    as_of: date


class Misrouting(BaseModel):
    scope: MisroutingScope
    definition: str
    definition_en: str
    bureaus: list[Row]
    total: Misrouted


class Deadlines(BaseModel):
    """Each assignment's deadlines explained (banli.domain.views.explain)."""

    model_config = ConfigDict(extra="allow")

    proposal_id: str
    assignments: list[Row]


class Flips(BaseModel):
    profile: str
    to: str
    notice: int | None
    bureau: str | None
    as_of: date
    calendar: str
    calendar_before: str
    items: list[Row]


class Reminders(BaseModel):
    bureau: str | None
    today: date
    items: list[Row]
    yellow: int
    red: int


class CalendarYear(BaseModel):
    year: int
    source: str
    provisional: bool
    holidays: int
    workdays: int


class CalendarYears(BaseModel):
    name: str
    loaded: list[int]
    error: str | None
    years: list[CalendarYear]


class NoticeLoaded(BaseModel):
    loaded: list[int]
    calendar: str
    calendar_before: str
    flips: list[Row]


class NoticeUnloaded(BaseModel):
    unloaded: list[int]
    calendar: str
    calendar_before: str
    source: str  # where the year's days come from now
    flips: list[Row]


class Suggestions(BaseModel):
    """Similar past proposals and suggested bureaus, with scores (banli.routing)."""

    model_config = ConfigDict(extra="allow")

    method: str
    based_on: int
    similar: list[Row]
    lead: list[Row]
    co: list[Row]


class ProposalSuggestions(Suggestions):
    proposal_id: str
    leads: list[str]
    cos: list[str]


class Notice(BaseModel):
    """A State Council holiday notice for one year (banli.workcalendar.parse_notice checks the
    days: each in the year, none both off and worked, weekdays not listed as worked)."""

    model_config = ConfigDict(extra="forbid")

    year: int = Field(ge=1950, le=2100)
    source: str = Field("", max_length=500, description="the notice's number, e.g. 国办发明电…")
    holidays: list[str] = Field(default_factory=list, max_length=400,
                                description="days off: YYYY-MM-DD or first..last")
    workdays: list[str] = Field(default_factory=list, max_length=400,
                                description="weekend days worked in exchange")


# --- the workbench (work_api.py) -------------------------------------------------------------
class OwedKind(BaseModel):
    owed: str
    label: str
    label_en: str
    count: int


class Work(BaseModel):
    """A bureau's work (views.work): `items` sorted by due date (those without one last),
    each with `proposal_id`, `display`/`display_en` (its number with its kind and level),
    `kind`, `level`, `year`, `number`, `title`, `key_item`, `bureau`, `role`, `owed`, `due`,
    `working_days_left`, `days_left`, `colour` (red, yellow or null), `provisional`,
    `commands` (the command types that discharge it) and, where they apply, `lead` (a draft to
    sign off), `waiting_for` (co-handlers yet to sign a draft off), `extension_requested` (the
    date a pending request asks for); `total` items, of which at most `limit` are listed;
    `counts` per kind of work, `kinds` the same in order with their words; the bureau's
    reminders (as the webhook gets them, numbered)."""

    bureau: str | None
    today: date
    profile: str
    total: int
    items: list[Row]
    counts: dict[str, int]
    colours: dict[str, int]
    kinds: list[OwedKind]
    reminders: list[Row]


class Desk(BaseModel):
    """The coordinator's desk: `awaiting` (as /api/proposals/awaiting-assignment, every year),
    `returned` (each returned assignment not routed again since: `bureau`, `role`,
    `returned_on`, `reason`), `extension_requests` (pending: `bureau`, `current_due`,
    `requested_due`, `requested_on`, `reason`), `key_items` (open: `state`, `overdue`,
    `supervisions`, `duties` with each one's `due`, `answered_on` and `status`), every row with
    its `display`/`display_en` and `title`; and their `counts`."""

    today: date
    awaiting: list[Row]
    returned: list[Row]
    extension_requests: list[Row]
    key_items: list[Row]
    counts: dict[str, int]


class Search(BaseModel):
    """Proposals found, each with `proposal_id`, `display`/`display_en`, `kind`, `level`,
    `year`, `number`, `title` and `status` (open, withdrawn, merged)."""

    q: str
    items: list[Row]
