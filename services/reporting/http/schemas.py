"""What reporting's routes answer, as the OpenAPI publishes it. The report itself is the kernel's
model (banli.domain.views.rates.Report); every row of a list is a model of its own, with the keys
the code that builds it gives (a key it gives only where it applies is left out elsewhere, not
sent as null: `Row`). The items behind a number are the duty row's (views.duty_row), their model
derived from its declaration (`DutyItem`). An event's payload in a history (`HistoryEvent.data`)
stays an open object, and says why (tests/integration/test_openapi_rows.py lists every such)."""
from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal, get_args

from pydantic import (BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, create_model,
                      model_serializer)

from banli.domain.types import Actor, Colour, EntryKind, FilerKind, ReviewState, Role, YearSpan
from banli.domain.views.duty_row import DUTY_FIELDS, ITEM_FIELDS, DutyField, ValueKind
from banli.domain.views.explain import Status
from banli.domain.views.rates import Report
from banli.domain.views.reminders import Owed as Reminded
from banli.domain.views.routing_lineage import Misrouted as LostToMisrouting, RoutingStep
from banli.domain.views.work import KeyState, Owed as OwedWork


class Row(BaseModel):
    """A row of a list. A key its builder gives only where it applies (declared with a default)
    is left out of the answer where it was not given, as the builder left it out."""

    @model_serializer(mode="wrap")
    def _as_given(self, handler: SerializerFunctionWrapHandler):  # no return type: the
        # OpenAPI's schema of the row stays its fields' (a dict's would be an open object)
        data = handler(self)
        fields = type(self).model_fields
        for name in fields.keys() - self.model_fields_set:
            data.pop(fields[name].alias or name, None)
        return data


DISPLAY = "its number with its kind and level (and year, where the list spans years), in Chinese"
DISPLAY_EN = "the same in English"


class Numbered(Row):
    """A proposal's row, with its number as people read it (banli.domain.wording.numbered)."""

    proposal_id: str
    kind: str
    level: str
    year: int
    number: str
    title: str
    display: str = Field(description=DISPLAY)
    display_en: str = Field(description=DISPLAY_EN)


class IntakeItem(Numbered):
    """A received proposal as the office's report counts it (banli.domain.views.intake_report.
    intake_item), as of the report's date."""

    review: ReviewState = Field(description="where its review stands")
    status: str = Field(description="open, withdrawn or merged")
    filer_kind: FilerKind = Field(description="the lead filer's: a person's, or a collective's")
    area: str = Field(description="the area it was filed in (its code; empty: none)")
    received_on: date
    review_due: date | None = Field(description="the review's due date (the latest receipt's); "
                                                "null: filed on submit, never reviewed")
    reviewed_on: date | None = Field(description="when the review decided it")
    returns: int = Field(description="how many times it went back to its filers for revision")
    merged_into: str | None
    referred_to: list[str] = Field(description="not filed: the bodies it was passed on to")
    reviewed: bool = Field(description="received for review (not filed on submit)")
    decided: bool = Field(description="filed, merged or not filed after a review")
    review_on_time: bool
    review_overdue: bool = Field(description="awaiting review past its due date")
    counted: bool | None = Field(None, description="the review's timeliness: decided on time "
                                                   "(only in its items)")


# --- the duty row's items (banli.domain.views.duty_row) ----------------------------------------
# What each kind of value is in the answer (the reporting service's storage says how it is
# stored: services/reporting/projections/duty_table.STORAGE).
VALUE_TYPES: dict[ValueKind, Any] = {
    "id": str, "text": str, "choice": str, "year": int, "count": int, "flag": bool,
    "day": date, "ids": list[str]}
assert set(VALUE_TYPES) == set(get_args(ValueKind)), "every kind of value has its type"
_ITEM_FIELDS: dict[str, DutyField] = {f.key: f for f in DUTY_FIELDS if f.item}


def duty_facts(*keys: str) -> dict[str, Any]:
    """create_model's definitions of these keys of the duty's items: each one's type from its
    kind of value (None where it is optional), its description from its declaration."""
    found: dict[str, Any] = {}
    for key in keys:
        f = _ITEM_FIELDS[key]
        kind = VALUE_TYPES[f.kind]
        found[key] = (kind | None if f.optional else kind, Field(description=f.doc or None))
    return found


if TYPE_CHECKING:  # a class create_model makes: a Row to the type checker
    DutyItem = Row
else:
    DutyItem = create_model(
        "DutyItem", __base__=Row, __module__=__name__, **duty_facts(*ITEM_FIELDS),
        __doc__="A duty as the report counts it: the duty row's items (views.duty_row).")


class ReportItem(DutyItem):
    """One item behind a number: the duty, what the rates ask of it as of the business date
    (views.rates.with_flags), when it was answered, and its number as people read it."""

    due_counted: bool = Field(description="counts in its on-time rate: answered, or its due "
                                          "date passed")
    on_time: bool = Field(description="answered on or before its due date")
    adopted: bool = Field(description="a lead's reply whose result the profile counts as "
                                      "adopted")
    answered_on: date | None = Field(description="a lead's first reply, a co-handler's first "
                                                 "opinion")
    counted: bool | None = Field(None, description="behind a rate: counted in its numerator "
                                                   "(only there)")
    display: str = Field(description=DISPLAY)
    display_en: str = Field(description=DISPLAY_EN)


class Items(BaseModel):
    """The items behind a number (`count` of them) or a rate (its denominator's items, each
    `counted` in the numerator or not: `counted` is how many, null for a plain count).
    `columns`: the keys of the columns that fit what it counts, in order (their words:
    GET /api/vocabulary's `lists`, `items`)."""

    measure: str
    count: int
    items: list[ReportItem]
    columns: list[str]
    counted: int | None = None


class Stamper(Row):
    """Who entered a record: the user and their role."""

    user: str
    role: str


class Entry(Numbered):
    """A bureau's record (an event about its duty) behind the report's `entries`."""

    seq: int = Field(description="the event's place in its proposal's events")
    bureau: str
    type: str = Field(description="the event's type")
    occurred_at: str = Field(description="when it happened (ISO 8601, with its offset)")
    recorded_at: str = Field(description="when it was recorded (ISO 8601, with its offset)")
    actor: Stamper
    recorded_by: Stamper | None = Field(description="who entered it for the actor (an "
                                                     "importer), if not the actor")
    entry: EntryKind = Field(description="entered late, imported, or on time "
                                         "(views.rates.entry_kind)")


class EntryList(BaseModel):
    which: Literal["late", "imported", "on_time", "all"]
    count: int
    items: list[Entry]
    late_after_working_days: int


class League(BaseModel):
    bureaus: dict[str, Report]


class OwedDuty(Numbered):
    """A duty owing a reply or an opinion, counted to the list's date (views.due_list)."""

    bureau: str
    role: Role
    assigned_on: date = Field(description="the day of its (latest) assignment")
    due: date = Field(description="the date it is owed by: its due date, or a reopened "
                                  "reply's")
    owed: Literal["reply", "re-reply", "opinion"] = Field(
        description="a reply, a reply again after a reopening, or a co-handler's opinion")
    overdue: bool = Field(description="due before the list's date")
    due_soon: bool = Field(description="due within ten days of the list's date")
    days_left: int = Field(description="calendar days to the due date (negative: overdue)")


class Owed(BaseModel):
    overdue: int
    due_soon: int
    total: int
    items: list[OwedDuty]


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


class RecentEvent(Row):
    """An event as the live feed gives it (services/reporting/http/live.py), with its
    proposal's parties."""

    position: int = Field(description="its place in the log")
    proposal_id: str
    seq: int = Field(description="its place in its proposal's events")
    type: str = Field(description="the event's type")
    occurred_at: str = Field(description="when it happened (ISO 8601 in UTC, to the ms)")
    recorded_at: str = Field(description="when it was recorded (ISO 8601 in UTC, to the ms)")
    command_id: str | None = Field(description="the command it came of (null where the reader "
                                               "may not see it)")
    actor: Actor
    recorded_by: Actor | None = Field(description="who entered it for the actor (an "
                                                  "importer), if not the actor")
    bureau: str | None = Field(description="the duty it is about, if one")
    bureaus: list[str] = Field(description="every bureau with a duty on the proposal")
    leads: list[str] = Field(description="its active leads")
    cos: list[str] = Field(description="its active co-handlers")
    filers: list[str] = Field(description="its filers' ids")


class Dashboard(BaseModel):
    today: date
    position: int
    misrouting: dict[str, Misrouted]
    recent: list[RecentEvent]
    report: Report
    previous: Report
    league: dict[str, Report]
    bureaus: dict[str, BureauNames]  # as named on the as-of date, with their lineage
    open: Owed


class AwaitingProposal(Numbered):
    """An open proposal with no active lead."""

    topics: list[str]
    submitted_on: date
    returned: int = Field(description="its assignments returned or removed")
    duties: int = Field(description="its assignments, ever")
    assigned_before: bool = Field(description="it was assigned before (returned since)")


class Awaiting(BaseModel):
    years: YearSpan
    count: int
    items: list[AwaitingProposal]


class Assignments(BaseModel):
    """The deadlines list in its scope: `as_of` the date its duties are read on and their days
    left counted to, `years` the items' years, `recorded_by` the audit clock (null: now)."""

    bureau: str | None
    today: date
    as_of: date
    years: YearSpan
    recorded_by: datetime | None
    items: list[OwedDuty]
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
    data: dict[str, Any] = Field(description=(
        "the event's own fields (its payload, less the envelope above): as its type's schema "
        "in the event registry has them (GET /api/vocabulary's `events`); open here, one "
        "object for every type"))


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
    steps: list[RoutingStep]


class MisroutingScope(BaseModel):
    bureau: str | None
    years: YearSpan
    as_of: date


class BureauMisrouted(LostToMisrouting):
    """A bureau's days lost to misrouting, with its name."""

    name: str
    name_en: str


class Misrouting(BaseModel):
    scope: MisroutingScope
    definition: str
    definition_en: str
    bureaus: list[BureauMisrouted]
    total: Misrouted


class CalendarUsed(Row):
    """The working-day calendar a deadline was counted over."""

    name: str
    years: list[int] = Field(description="the first and last years it covers")


class Rule(Row):
    """The profile's rule for the duty's reply or opinion."""

    profile: str
    months: int
    due: date = Field(description="the date the rule gives")
    text: str
    text_en: str


class DueChange(Row):
    """An approved extension, or a reopening: on what day, the new date, and why."""

    on: date
    reply_due: date
    reason: str


class CalendarGap(Row):
    """Why the calendar cannot count a deadline: a day outside the years it covers."""

    day: date
    message: str
    message_en: str


class WorkingDayDeadline(Row):
    """A deadline counted in working days from a day: its date (`provisional` when counted over
    a year with no holiday notice loaded), or why the calendar cannot tell it."""

    model_config = ConfigDict(populate_by_name=True)

    working_days: int
    from_: date = Field(alias="from")
    due: date | None
    provisional: bool | None = Field(None, description="given with a date")
    calendar_gap: CalendarGap | None = Field(None, description="given without a date")


class DisclosureDeadline(WorkingDayDeadline):
    """The publication of the latest reply: its deadline, when it was published, the decision
    and the status."""

    published_on: date | None
    decision: str | None
    status: Status


class ReplyClock(Row):
    first_reply_on: date | None
    status: Status
    reopen_due: date | None = Field(None, description="given once reopened")


class OpinionClock(Row):
    first_opinion_on: date | None
    status: Status


class DutyDeadlines(Row):
    """One assignment's deadlines explained (views.explain.explain_duty): `reply` for a lead,
    `opinion` for a co-handler, `disclosure` once a lead has replied."""

    bureau: str
    role: Role
    status: str = Field(description="the assignment's: active, returned, removed, handed_over")
    assigned_on: date
    rule: Rule
    assigned_due: date = Field(description="the date the assignment gave")
    set_by: Literal["profile", "assignment"] = Field(
        description="whether the assignment's date is the rule's or the coordinator's own")
    extensions: list[DueChange]
    reopened: list[DueChange]
    due: date = Field(description="the date it is due by now")
    calendar: CalendarUsed
    reply: ReplyClock | None = None
    opinion: OpinionClock | None = None
    return_window: WorkingDayDeadline
    disclosure: DisclosureDeadline | None = None


class Deadlines(BaseModel):
    """Each assignment's deadlines explained (banli.domain.views.explain)."""

    proposal_id: str
    kind: str
    as_of: date
    profile: str
    calendar: CalendarUsed
    assignments: list[DutyDeadlines]


class Flip(Row):
    """A duty whose deadline or on-time status the change flips (views.explain.flips)."""

    proposal_id: str
    bureau: str
    role: Role
    what: Literal["reply", "opinion", "disclosure", "return_window"]
    before: Status
    after: Status
    due_before: date | None
    due_after: date | None


class Flips(BaseModel):
    profile: str
    to: str
    notice: int | None
    bureau: str | None
    as_of: date
    calendar: str
    calendar_before: str
    items: list[Flip]


class Reminder(Row):
    """A reminder as the webhook gets it (views.reminders.Reminder), with its item's number."""

    key: str = Field(description="the reminder's stable key: duty, what, colour, due date")
    proposal_id: str
    bureau: str
    owed: Reminded
    colour: Colour
    due: date
    days_left: int
    message: str
    message_en: str
    display: str = Field(description=DISPLAY)
    display_en: str = Field(description=DISPLAY_EN)


class ReminderItem(Reminder):
    """A reminder with its proposal's kind, level, year, number and title."""

    kind: str
    level: str
    year: int
    number: str
    title: str


class Reminders(BaseModel):
    bureau: str | None
    today: date
    items: list[ReminderItem]
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
    flips: list[Flip]


class NoticeUnloaded(BaseModel):
    unloaded: list[int]
    calendar: str
    calendar_before: str
    source: str  # where the year's days come from now
    flips: list[Flip]


class SimilarProposal(Row):
    """A past proposal like this one, and who handled it."""

    proposal_id: str
    year: int
    kind: str
    title: str
    topics: list[str]
    leads: list[str]
    cos: list[str]
    score: float = Field(description="its similarity, 0..1")


class BureauScore(Row):
    """A suggested bureau."""

    bureau: str
    name: str
    name_en: str
    score: float = Field(description="its share of the neighbours' similarity, 0..1")
    support: int = Field(description="how many of the neighbours it handled in that role")


class Suggestions(BaseModel):
    """Similar past proposals and suggested bureaus, with scores (banli.routing)."""

    model_config = ConfigDict(extra="allow")

    method: str
    based_on: int
    similar: list[SimilarProposal]
    lead: list[BureauScore]
    co: list[BureauScore]


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


class WorkItem(Numbered):
    """One thing a duty owes now, with its clock (views.work)."""

    key_item: bool = Field(description="a key item (重点督办件)")
    bureau: str
    role: Role
    owed: OwedWork
    due: date | None = Field(description="the date it is owed by (null: no date)")
    working_days_left: int | None = Field(description="working days to `due` (negative: "
                                                      "overdue)")
    days_left: int | None = Field(description="calendar days to `due` (negative: overdue)")
    colour: Colour | None = Field(description="red once overdue, yellow within ten days")
    provisional: bool = Field(description="counted over a year with no holiday notice loaded")
    commands: list[str] = Field(description="the command types that discharge it")
    lead: str | None = Field(None, description="given for a sign-off: the lead whose draft")
    waiting_for: list[str] | None = Field(None, description="given for an approval under "
                                                            "cosign: co-handlers yet to sign "
                                                            "the draft off")
    extension_requested: date | None = Field(None, description="given while an extension "
                                                               "request is pending: the date "
                                                               "it asks for")


class Work(BaseModel):
    """A bureau's work (views.work): `items` sorted by due date (those without one last);
    `total` items, of which at most `limit` are listed; `counts` per kind of work, `kinds` the
    same in order with their words; the bureau's reminders (as the webhook gets them,
    numbered)."""

    bureau: str | None
    today: date
    profile: str
    total: int
    items: list[WorkItem]
    counts: dict[str, int]
    colours: dict[str, int]
    kinds: list[OwedKind]
    reminders: list[Reminder]


class ReturnedDuty(Numbered):
    """An assignment returned and not routed again since."""

    bureau: str
    role: Role
    returned_on: date
    reason: str


class ExtensionRequest(Numbered):
    """A lead's extension request pending the coordinator's decision."""

    bureau: str
    current_due: date
    requested_due: date
    requested_on: date
    reason: str


class KeyItemDuty(Row):
    """An active duty of a key item, as the desk shows it."""

    bureau: str
    role: Role
    due: date
    answered_on: date | None
    status: Status


class KeyItem(Numbered):
    """An open key item (重点督办件) and its state (views.work.key_item_state)."""

    supervisions: int
    state: KeyState
    overdue: bool = Field(description="any of its duties is overdue")
    duties: list[KeyItemDuty]


class Desk(BaseModel):
    """The coordinator's desk: `awaiting` (as /api/proposals/awaiting-assignment, every year),
    `returned` assignments not routed again since, pending `extension_requests`, open
    `key_items` with their state; and their `counts`."""

    today: date
    awaiting: list[AwaitingProposal]
    returned: list[ReturnedDuty]
    extension_requests: list[ExtensionRequest]
    key_items: list[KeyItem]
    counts: dict[str, int]


class Found(Numbered):
    """A proposal found, and whether it is open."""

    status: Literal["open", "withdrawn", "merged"]


class Search(BaseModel):
    """Proposals found, among those the reader may read."""

    q: str
    items: list[Found]
