"""The projector: from an event and the proposal's state before it, the rows it adds. Pure.

Every event adds one row to the immutable history; a proposal event adds a version of each
assignment it changed (all of them when the proposal's own status changes), and a version of the
proposal when the proposal's own fields changed. Rows carry the event's `seq`, business date and
record time. The rule of time keeps each row's versions in business-time order as far as their
columns go (a duty's records are in order, and so are the proposal's own), so any past date can
be asked with `argMax(..., seq)` over the versions up to that date: the same rows answer "as of"
and "as recorded on". Reports without an audit clock read the validity intervals instead
(services/reporting/projections/intervals.py), which Projection adds to the same Rows.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from banli.domain import events as e
from banli.domain.proposal import Bureau, Proposal, RegisteredFiler, State, evolve

from .duty_table import row_of
from .intervals import NO_DATE, business_day, changed_duties

# The office's review of the proposal (审查立案) and who filed it: its review state, the lead
# filer's kind, its area, the latest receipt and its review's due date, the latest decision,
# how many times it was returned for revision, and where it was passed on to (not filed). A
# store made before them reads their defaults in its old rows, which are the truth there: a
# history without review events is filed on submit, by a person, in no area.
REVIEW_COLUMNS = ("review", "filer_kind", "area", "received_on", "review_due", "reviewed_on",
                  "returns", "referred_to")
# `recorded_by_*`: who entered the event for its actor ("" when the actor did).
HISTORY_COLUMNS = ("position", "proposal_id", "seq", "event_id", "type", "schema_version",
                   "occurred_at", "recorded_at", "occurred_on", "actor_user", "actor_bureau",
                   "actor_role", "command_id", "bureau", "data", "recorded_by_user",
                   "recorded_by_bureau", "recorded_by_role")
PROPOSAL_COLUMNS = ("proposal_id", "seq", "position", "occurred_on", "recorded_at", "kind",
                    "level", "year", "number", "title", "affiliation", "topics", "key_item",
                    "status", "merged_into", "supervisions", *REVIEW_COLUMNS)
# The assignment versions' columns are the duty row's (duty_table.ASSIGNMENT_COLUMNS).
# `state`: the Bureau as JSON (its short and former names, its names over time, its merger)
BUREAU_COLUMNS = ("bureau", "name", "name_en", "seq", "position", "state")
FILER_COLUMNS = ("filer", "name", "kind", "affiliation", "term", "account", "seq", "position")
# Each filer a proposal names, by its place in the list: the name, and the id once linked ("").
PROPOSAL_FILER_COLUMNS = ("proposal_id", "idx", "name", "filer", "affiliation", "seq",
                          "position")


@dataclass
class Rows:
    """Rows for each table, built row by row. `intervals` are the changes to report_intervals
    (by key: every column but `n`, in intervals.INTERVAL_COLUMNS' order; the value is `n`), and
    `marks`, per partition of the log, the position after the batch's last there, written with
    them (ReportingStore.insert), and `retired` the marks they replace."""

    history: list[tuple] = field(default_factory=list)
    proposals: list[tuple] = field(default_factory=list)
    assignments: list[tuple] = field(default_factory=list)
    bureaus: list[tuple] = field(default_factory=list)
    filers: list[tuple] = field(default_factory=list)
    proposal_filers: list[tuple] = field(default_factory=list)
    intervals: Counter = field(default_factory=Counter)
    marks: dict[int, int] = field(default_factory=dict)
    retired: dict[int, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.history)


def project(before: State, event: e.Event, position: int, rows: Rows, json: str | None = None
            ) -> tuple[State, dict[str, tuple[int, date]]]:
    """Add the event's rows to `rows`; return the state after it and the duties it changed,
    each with its cell and due date (intervals.changed_duties). `json` is the event's JSON when
    the log holds what encoding it gives (banli.eventlog.Stored.json): the history row takes it
    as it is."""
    after = evolve(before, event)
    day = business_day(event.occurred_at)
    recorder = event.recorded_by
    rows.history.append((
        position, event.proposal_id, event.seq, event.event_id, event.type,
        event.schema_version, event.occurred_at, event.recorded_at, day, event.actor.user,
        event.actor.bureau or "", event.actor.role, event.command_id,
        bureau_of(event), event.model_dump_json() if json is None else json,
        *((recorder.user, recorder.bureau or "", recorder.role) if recorder else _NOBODY)))
    if isinstance(after, Bureau):
        rows.bureaus.append((after.id, after.name, after.name_en, event.seq, position,
                             after.model_dump_json()))
        return after, {}
    if isinstance(after, RegisteredFiler):
        rows.filers.append((after.id, after.name, after.kind, after.affiliation, after.term,
                            after.account, event.seq, position))
        return after, {}
    assert isinstance(after, Proposal)
    if not isinstance(before, Proposal) or before.filer_ids != after.filer_ids:
        rows.proposal_filers += [(after.id, i, name, filer or "", after.affiliation, event.seq,
                                  position)
                                 for i, (name, filer) in enumerate(zip(after.filers,
                                                                       after.filer_ids))]
    stamp = (event.seq, position, day, event.recorded_at)
    if not isinstance(before, Proposal) or _proposal_fields(before) != _proposal_fields(after):
        rows.proposals.append((
            after.id, *stamp, after.kind, after.level, after.year, after.number, after.title,
            after.affiliation, list(after.topics), after.key_item, after.status,
            after.merged_into or "", after.supervisions, *_review_of(after)))
    changed = changed_duties(before, after)
    for bureau, cell in changed.items():
        rows.assignments.append(row_of(after, after.assignments[bureau], stamp, cell))
    return after, changed


_NOBODY = ("", "", "")


def _proposal_fields(p: Proposal) -> tuple:
    """What a proposal version row holds that can change after submission (a resubmission
    changes the title and topics; the office's review the review's columns). A version is
    written only when these change, that is on the proposal's own records, which are in
    business-time order: a bureau's record dated before another's later one must not add a
    version that carries the later one's state under an earlier date."""
    return (p.status, p.merged_into, p.supervisions, p.key_item, p.title, p.topics,
            *_review_of(p))


def _review_of(p: Proposal) -> tuple:
    """The proposal's REVIEW_COLUMNS (NO_DATE for a date it has not)."""
    return (p.review, p.filer_kind, p.area, p.received_on or NO_DATE, p.review_due or NO_DATE,
            p.reviewed_on or NO_DATE, p.returns, list(p.referred_to))


def bureau_of(event: e.Event) -> str:
    """The bureau an event is about, or "". Read from the fields themselves: getattr with a
    default would go through pydantic's __getattr__ and an exception for the events without
    one, a third of them."""
    return event.__dict__.get("bureau") or ""
