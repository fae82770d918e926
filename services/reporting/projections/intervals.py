"""Validity intervals: what each duty counts for in the report, over business time. Pure.

A report as of a date D counts each duty as it stood on D: folded from the events dated on or
before D, in the order they were recorded (banli.history.MemoryLedger.proposals_as_of). Between
two business dates on which a duty changed, that state does not change, so a duty's history is a
few *pieces*: from a date on, the duty held a cell (views.rates.cell_code, with the date
after which it counts as due), or it was not counted (returned, removed, its proposal withdrawn
or merged, or not yet assigned). A proposal's `Lines` hold each duty's pieces and its bureau's
records on it (for the report's `entries`).

From the lines come the rows of `report_intervals` (rows_of), each valid from its first day up to
(not including) `valid_to`, `OPEN` while it still holds:
- a *duty* row for each piece of a counted duty, with its cell;
- a *proposal* row for each run of days on which the proposal had a counted duty;
- a *record* row for each record, valid while its duty is counted, from the record's date on.
A report as of D adds up the rows with valid_from <= D < valid_to. The projection writes, for
each batch of events, the change of each proposal's rows (after minus before) as counts, positive
and negative; ClickHouse adds them up (and merges them away once they cancel).

How the lines follow the log (advance). An event dated d changes the state as of d and of every
later date, never of an earlier one. Each duty keeps the time of its latest record (`last_at`, of
every event that changed it). When d is on or after it, and on or after the proposal's latest
change of status, nothing recorded so far changed the duty after d: its state as of every date
from d on is its state after the event, in the order recorded, and its last piece ends at d
(`_append`). The rule of time makes this the case for every event Banli records: it dates each
on or after the latest record of every duty it touches, however late it is typed in. Otherwise
(an event dated before a later one already recorded on the same duty, in a log kept under other
rules), the lines are folded again from the proposal's events (lines_of), as the reference folds
them: the event lands in the middle of the duty's timeline and splits a piece. Records only add
up, in any order. A proposal's runs are unions of its duties', so a duty assigned or ending
before other duties' records recorded earlier (a bureau's return typed in after another bureau's
later records) moves the proposal's runs in the middle of its timeline correctly.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any, Callable, Iterable, Mapping, Sequence

from banli.domain import events as e
from banli.domain.timing.deadlines import Profile
from banli.domain.views.duty_row import cell_values
from banli.domain.proposal import Assignment, Proposal, State, evolve, fold
from banli.domain.views.rates import (Report, Scope, Stamp, cell_code, cell_of, count_entries,
                                counts_of_cells, due_after, is_bureau_record, item_of,
                                recorder_role, report_of)
from banli.domain.types import business_date
from banli.domain.timing.workdays import Calendar

NO_DATE = date(1900, 1, 1)  # Date32's first day: "none" in the non-nullable date columns
OPEN = date(2299, 12, 31)  # Date32's last day: the end of a row that still holds

# A duty's cell and the day after which it counts as due (NO_DATE: it counts already), while it
# is counted; None while it is not.
Content = tuple[int, date] | None
# A bureau's record on its duty: its business day, the day it was recorded (Asia/Shanghai), and
# whether the importer entered it (banli.domain.views.rates.Stamp without its count).
Record = tuple[date, date, bool]

INTERVAL_COLUMNS = ("valid_to", "bureau", "valid_from", "what", "year", "level", "kind", "cell",
                    "due_after", "occurred_on", "recorded_on", "imported", "position", "n")


@dataclass(frozen=True, slots=True)
class Line:
    """One duty over business time: its pieces, (first day, content) by day, each holding until
    the next one's first day; and its bureau's records on it."""

    pieces: tuple[tuple[date, Content], ...] = ()
    records: tuple[Record, ...] = ()


@dataclass(frozen=True, slots=True)
class Lines:
    """A proposal's duties over business time (by bureau), and the business day its status last
    changed (its submission, a withdrawal or a merge)."""

    duties: Mapping[str, Line] = field(default_factory=dict)
    status_on: date = NO_DATE


_DAYS: dict[date, date] = {}
# The moment asked last and its day: projecting an event asks for its day twice (its rows and
# its lines). One tuple, replaced whole, so that threads projecting at once never mix two up.
_LAST_DAY: tuple[datetime | None, date] = (None, NO_DATE)


def business_day(moment: datetime) -> date:
    """The business day of a moment, one object per day (the lines of many proposals hold it)."""
    global _LAST_DAY
    last_moment, last_day = _LAST_DAY
    if moment is last_moment:
        return last_day
    day = business_date(moment)
    day = _DAYS.setdefault(day, day)
    _LAST_DAY = (moment, day)
    return day


# --- What a duty counts for ---------------------------------------------------------------------
# The codes of the cells met so far, by their values (duty_row.cell_values): a lookup
# instead of rates.cell_code's search of every field's values, for one duty an event in
# replay. There are rates.CELL_CODES cells at most.
_CODES: dict[tuple, int] = {}


def cell_and_due(p: Proposal, a: Assignment) -> tuple[int, date]:
    """The duty's cell code and the day after which it counts as due (NO_DATE: already)."""
    item = item_of(p, a)
    values = cell_values(item)
    code = _CODES.get(values)
    if code is None:
        code = _CODES[values] = cell_code(cell_of(item))
    return code, due_after(item) or NO_DATE


def counted(p: Proposal, a: Assignment) -> bool:
    """Whether a report counts the duty (banli.domain.views.rates.Scope, its years and filters
    aside)."""
    return p.status == "open" and a.active


def record_of(event: e.Event, day: date) -> Record:
    return (day, business_day(event.recorded_at), recorder_role(event) == "importer")


# --- Following the log ----------------------------------------------------------------------------
def _append(pieces: tuple[tuple[date, Content], ...], day: date, content: Content
            ) -> tuple[tuple[date, Content], ...]:
    """The pieces when, from `day` (on or after the last piece's first day), the duty holds
    `content`. Pieces stay as few as can be: no two neighbours alike, none empty."""
    if not pieces:
        return () if content is None else ((day, content),)
    start, last = pieces[-1]
    if content == last:
        return pieces
    if start == day:  # changed again the same day: the day ends as the latest change left it
        pieces = pieces[:-1]
        before = pieces[-1][1] if pieces else None
        return pieces if content == before else (*pieces, (day, content))
    return (*pieces, (day, content))


def advance(lines: Lines | None, before: State, after: State, event: e.Event,
            changed: Mapping[str, tuple[int, date]], history: Callable[[], list[e.Event]]
            ) -> Lines | None:
    """The lines after `event`, given those before it, the states before and after it (in the
    order recorded), the duties it changed with their cells (changed_duties), and the proposal's
    events before it (called only when the event lands before a later change of a duty it
    touched)."""
    if not isinstance(after, Proposal):
        return None
    day = business_day(event.occurred_at)
    if not isinstance(before, Proposal):
        return Lines(status_on=day)
    if lines is None or day < lines.status_on or _lands_before(before, after, event, day):
        return lines_of([*history(), event])
    duties = dict(lines.duties)
    for bureau, cell in changed.items():
        line = duties.get(bureau, _EMPTY)
        content = cell if counted(after, after.assignments[bureau]) else None
        duties[bureau] = Line(_append(line.pieces, day, content), line.records)
    if is_bureau_record(event):
        bureau = event.__dict__["bureau"]
        line = duties.get(bureau, _EMPTY)
        duties[bureau] = Line(line.pieces, (*line.records, record_of(event, day)))
    return Lines(duties, day if before.status != after.status else lines.status_on)


_EMPTY = Line()


def _lands_before(before: Proposal, after: Proposal, event: e.Event, day: date) -> bool:
    """Whether the event touched a duty (changed its state, its cell or not) that a record on a
    later business day changed before: then the duty's past changes, not only its present (a
    second feedback typed in after a later one leaves the current cell as it was, but not the
    cell as of the days between them)."""
    now = after.assignments
    moment = event.occurred_at
    for bureau, duty in before.assignments.items():
        if now.get(bureau) is not duty and duty.last_at > moment \
                and business_date(duty.last_at) > day:
            return True
    return False


def lines_of(events: Sequence[e.Event]) -> Lines | None:
    """The lines by definition: the proposal folded as of each business day of its events (the
    events dated on or before it, in the order recorded). Slow (a fold per day); `advance` uses it
    only for an event that lands before a later change of a duty."""
    days = sorted({business_day(event.occurred_at) for event in events})
    pieces: dict[str, tuple[tuple[date, Content], ...]] = {}
    status, status_on = None, NO_DATE
    for day in days:
        state = fold(ev for ev in events if business_date(ev.occurred_at) <= day)
        if not isinstance(state, Proposal):
            return None
        if state.status != status:
            status, status_on = state.status, day
        for bureau, duty in state.assignments.items():
            content = cell_and_due(state, duty) if counted(state, duty) else None
            pieces[bureau] = _append(pieces.get(bureau, ()), day, content)
    records: dict[str, list[Record]] = {}
    for event in events:
        if is_bureau_record(event):
            records.setdefault(event.__dict__["bureau"], []).append(
                record_of(event, business_day(event.occurred_at)))
    return Lines({bureau: Line(pieces.get(bureau, ()), tuple(records.get(bureau, ())))
                  for bureau in {*pieces, *records}}, status_on)


def follow(events: Sequence[e.Event]) -> tuple[State, Lines | None]:
    """The state and the lines after a stream's events (those `advance` would have led to)."""
    state: State = None
    lines: Lines | None = None
    for i, event in enumerate(events):
        after = evolve(state, event)
        lines = advance(lines, state, after, event, changed_duties(state, after),
                        partial(list, events[:i]))
        state = after
    return state, lines


def changed_duties(before: State, after: State) -> dict[str, tuple[int, date]]:
    """The duties an event changed (every one when the proposal's status changed), by bureau,
    each with its cell and due date (cell_and_due) after it."""
    if not isinstance(after, Proposal):
        return {}
    old = before.assignments if isinstance(before, Proposal) else {}
    everything = not isinstance(before, Proposal) or before.status != after.status
    return {bureau: cell_and_due(after, duty) for bureau, duty in after.assignments.items()
            if everything or _changed(old.get(bureau), duty)}


def _changed(before: Assignment | None, after: Assignment) -> bool:
    """`before != after`, cheaply: `evolve` carries the duties an event does not touch over as
    the very same objects, so identity settles most of them, and for the one it touched the
    field values decide (what pydantic's __eq__ compares too, for a Frozen model without extra
    or private attributes, but without its slower path for models that differ)."""
    return before is not after and (before is None or before.__dict__ != after.__dict__)


# --- Rows -------------------------------------------------------------------------------------------
def _spans(line: Line) -> list[tuple[date, date, tuple[int, date]]]:
    """The counted pieces of a duty: (first day, end, content)."""
    pieces = line.pieces
    return [(start, pieces[i + 1][0] if i + 1 < len(pieces) else OPEN, content)
            for i, (start, content) in enumerate(pieces) if content is not None]


def _runs(spans: list[tuple[date, date, tuple[int, date]]]) -> list[tuple[date, date]]:
    """The runs of days on which a duty was counted, whatever its cell: (first day, end)."""
    runs: list[tuple[date, date]] = []
    for start, end, _ in spans:
        if runs and runs[-1][1] == start:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    return runs


def _duty_rows(bureau: str, line: Line, head: tuple, rows: Counter
               ) -> list[tuple[date, date]]:
    """Add the duty's rows (its pieces', its records') to `rows`; return its counted runs."""
    spans = _spans(line)
    for start, end, (cell, due) in spans:
        rows[(end, bureau, start, "duty", *head, cell, due, NO_DATE, NO_DATE, False, 0)] += 1
    runs = _runs(spans)
    for occurred, recorded, imported in line.records:
        for start, end in runs:
            if occurred < end:
                rows[(end, bureau, max(start, occurred), "record", *head, 0, NO_DATE, occurred,
                      recorded, imported, 0)] += 1
    return runs


def _proposal_rows(runs: list[tuple[date, date]], head: tuple, rows: Counter) -> None:
    """Add a row for each run of days on which some duty of the proposal was counted."""
    merged: list[list[date]] = []
    for start, end in sorted(runs):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    for start, end in merged:
        rows[(end, "", start, "proposal", *head, 0, NO_DATE, NO_DATE, NO_DATE, False, 0)] += 1


def head_of(p: Proposal) -> tuple:
    """The proposal's columns every row of it carries (what a report's scope filters on)."""
    return (p.year, p.level, p.kind)


def rows_of(lines: Lines | None, head: tuple) -> Counter:
    """Every row of a proposal's lines, counted by key (every column but `n`)."""
    rows: Counter = Counter()
    if lines is not None:
        runs = [run for bureau, line in lines.duties.items()
                for run in _duty_rows(bureau, line, head, rows)]
        _proposal_rows(runs, head, rows)
    return rows


def changes(before: Lines | None, after: Lines | None, head: tuple) -> Counter:
    """The rows that take a proposal's rows from `before`'s to `after`'s: counts, negative where
    a row is taken back (rows_of(after) - rows_of(before), computed for the duties whose line
    changed, and for the proposal's runs when theirs did)."""
    delta: Counter = Counter()
    add_changes(before, after, head, delta)
    return Counter({key: n for key, n in delta.items() if n})


def add_changes(before: Lines | None, after: Lines | None, head: tuple, delta: Counter) -> None:
    """Add `changes(before, after, head)` to `delta`, where the changes of a whole batch's
    proposals add up; keys whose counts come to 0 stay (the caller drops them once, at the
    end, rather than once a proposal)."""
    old = before.duties if before is not None else {}
    new = after.duties if after is not None else {}
    runs_changed = False
    for bureau in {*old, *new}:
        was, now = old.get(bureau), new.get(bureau)
        if was is now:
            continue
        gone: Counter = Counter()
        runs_before = _duty_rows(bureau, was, head, gone) if was is not None else []
        runs_after = _duty_rows(bureau, now, head, delta) if now is not None else []
        delta.subtract(gone)
        runs_changed = runs_changed or runs_before != runs_after
    if runs_changed:
        gone = Counter()
        _proposal_rows([run for line in old.values() for run in _runs(_spans(line))], head, gone)
        _proposal_rows([run for line in new.values() for run in _runs(_spans(line))], head, delta)
        delta.subtract(gone)


# --- Reading ------------------------------------------------------------------------------------
class Tally:
    """What a report is made of, as the queries count it: cells (code, whether the due date has
    passed, how many duties), the proposals, and the records' stamps."""

    def __init__(self) -> None:
        self.cells: list[tuple[int, bool, int]] = []
        self.proposals = 0
        self.stamps: list[Stamp] = []

    def add(self, row: Mapping[str, Any]) -> None:
        """Count one row of queries.INTERVAL_COUNTS."""
        what, n = row["what"], row["n"]
        if what == "duty":
            self.cells.append((row["cell"], bool(row["past_due"]), n))
        elif what == "proposal":
            self.proposals += n
        elif what == "record":
            self.stamps.append(Stamp(row["occurred_on"], row["recorded_on"],
                                     bool(row["imported"]), n))

    def report(self, scope: Scope, profile: Profile, calendar: Calendar,
               late_entry_working_days: int) -> Report:
        """The report, as banli.domain.views.rates.report_of makes it from the counts."""
        counts = {**counts_of_cells(self.cells, profile), "proposals": self.proposals}
        return report_of(scope, profile, counts,
                         count_entries(self.stamps, calendar, late_entry_working_days))


def tallies_of(rows: Iterable[Mapping[str, Any]], by_bureau: bool, one_bureau: bool
               ) -> dict[str, Tally]:
    """queries.INTERVAL_COUNTS' rows as tallies: one per bureau (by bureau), else one under "".
    A bureau has one duty on a proposal at most, so its proposals are its duties (the proposal
    rows, bureau "", count the proposals of all bureaus)."""
    tallies: dict[str, Tally] = {}
    for row in rows:
        if by_bureau and not row["bureau"]:
            continue
        tallies.setdefault(row["bureau"] if by_bureau else "", Tally()).add(row)
    if by_bureau or one_bureau:
        for tally in tallies.values():
            tally.proposals = sum(n for _, _, n in tally.cells)
    return tallies
