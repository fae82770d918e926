"""The duty row: what the reports know of one duty (a bureau's assignment on a proposal), declared
once.

Each `DutyField` says what one fact is (its kind of value), how it is read from the state (the
Proposal and the Assignment after an event), whether the items behind the report's numbers carry
it, and whether a report's *cell* asks it, with the values it takes there. From `DUTY_FIELDS`
come, here, the items (`ITEM_FIELDS`, `item_of`) and the cells (`CELL_FIELDS`, `cell_of`) that
banli.domain.rates counts; and, in the reporting service (services/reporting/duty_table.py),
the columns of the duty's versions, their DDL and the migration of an existing store, the
latest-value selection of the queries and the items read back from them.

The two halves meet at the kind of value: the kernel says what a value is (an id, a text, one
of a few choices, a year, a count, a flag, a day), the reporting service how each kind is stored
(its ClickHouse type and its empty value, the stand-in for None). A new counted field is one
entry here (stored, an item, in the cell) and the rate that counts it (banli.domain.rates):
nothing else changes, and the projections rebuild themselves once, since the cells' meaning
changed (services/reporting/duty_table.FORMAT). Pure data and two small functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Literal, Mapping

from .proposal import Assignment, Proposal
from .types import (DISCLOSURES, FEEDBACK_CHANNELS, FEEDBACK_RECORDERS, KINDS, RESULTS, ROLES,
                    SATISFACTIONS)

# What a value is, as far as storing it goes (the reporting service stores each kind its way).
ValueKind = Literal["id", "text", "choice", "year", "count", "flag", "day"]


@dataclass(frozen=True)
class DutyField:
    """One fact of the duty row.

    `name` is its column (and its item's key, unless `item` names another); `read` takes it
    from the state (None for a cell's question that is asked of the other fields, not of the
    state); `optional` values may be None (stored as their kind's empty value). `item`: the
    drill-down's items carry it (True, or the key they carry it under). `stored`: a column of
    the duty's versions (False for what comes from elsewhere: the proposal's number and title
    from its own versions, and `first_of`'s). `first_of`: the first value that field took among
    the duty's versions (the reference keeps it in the state). `cell`: the values it takes in a
    report's cell (empty: not in the cell), read from the item by `in_cell` (default: the
    item's value)."""

    name: str
    kind: ValueKind
    read: Callable[[Proposal, Assignment], Any] | None
    optional: bool = False
    item: bool | str = False
    stored: bool = True
    first_of: str | None = None
    cell: tuple[Any, ...] = ()
    in_cell: Callable[[Mapping[str, Any]], Any] | None = None

    @property
    def key(self) -> str:
        """The item's key for it."""
        return self.item if isinstance(self.item, str) else self.name


def answered_on(item: Mapping[str, Any]) -> date | None:
    """When the duty was answered: a lead's first reply (while it has replied), a co-handler's
    first opinion."""
    if item["role"] == "lead":
        return item["first_reply_on"] if item["replies"] else None
    return item["first_opinion_on"]


NO_YES = (False, True)

DUTY_FIELDS: tuple[DutyField, ...] = (
    DutyField("proposal_id", "id", lambda p, a: p.id, item=True),
    DutyField("bureau", "id", lambda p, a: a.bureau, item=True),
    DutyField("number", "text", lambda p, a: p.number, item=True, stored=False),
    DutyField("title", "text", lambda p, a: p.title, item=True, stored=False),
    DutyField("kind", "choice", lambda p, a: p.kind, item=True, cell=KINDS),
    DutyField("level", "choice", lambda p, a: p.level, item=True),
    DutyField("year", "year", lambda p, a: p.year, item=True),
    DutyField("proposal_status", "choice", lambda p, a: p.status),
    DutyField("role", "choice", lambda p, a: a.role, item=True, cell=ROLES),
    DutyField("status", "choice", lambda p, a: a.status),
    DutyField("assigned_on", "day", lambda p, a: a.assigned_on, item=True),
    DutyField("due", "day", lambda p, a: a.due, item=True),
    DutyField("acknowledged", "flag", lambda p, a: a.acknowledged),
    DutyField("contacts", "count", lambda p, a: a.contacts),
    DutyField("contacted_before_reply", "flag", lambda p, a: a.contacted_before_reply,
              item="contacted", cell=NO_YES),
    DutyField("opinions", "count", lambda p, a: a.opinions, item=True),
    DutyField("first_opinion_on", "day", lambda p, a: a.first_opinion_on, optional=True,
              item=True),
    # whether the lead has replied, as the measures ask it (replies > 0)
    DutyField("replies", "count", lambda p, a: a.replies, item=True, cell=(0, 1),
              in_cell=lambda i: min(i["replies"], 1)),
    DutyField("first_reply_on", "day", lambda p, a: a.first_reply_on, optional=True, item=True),
    # replied (a lead) or gave its opinion (a co-handler); and that on or before its due date
    DutyField("answered", "flag", None, stored=False, cell=NO_YES,
              in_cell=lambda i: answered_on(i) is not None),
    DutyField("on_time", "flag", None, stored=False, cell=NO_YES,
              in_cell=lambda i: (on := answered_on(i)) is not None and on <= i["due"]),
    DutyField("awaiting_reply", "flag", lambda p, a: a.awaiting_reply),
    DutyField("reopen_due", "day", lambda p, a: a.reopen_due, optional=True),
    DutyField("extensions", "count", lambda p, a: a.extensions),
    DutyField("result", "choice", lambda p, a: a.result, optional=True, item=True,
              cell=(None, *RESULTS)),
    DutyField("disclosure", "choice", lambda p, a: a.disclosure, optional=True, item=True,
              cell=(None, *DISCLOSURES)),
    DutyField("first_disclosure", "choice", lambda p, a: a.first_disclosure, optional=True,
              item=True, stored=False, first_of="disclosure"),
    DutyField("feedback", "choice", lambda p, a: a.feedback, optional=True, item=True,
              cell=(None, *SATISFACTIONS)),
    DutyField("supervisions", "count", lambda p, a: a.supervisions),
    DutyField("feedback_channel", "choice", lambda p, a: a.feedback_channel, optional=True,
              item=True, cell=(None, *FEEDBACK_CHANNELS)),
    DutyField("feedback_by_self", "flag", lambda p, a: a.feedback_by_self, item=True,
              cell=NO_YES),
    # who recorded the latest feedback: the filer, the office, or the bureau itself
    DutyField("feedback_recorder", "choice", lambda p, a: a.feedback_recorder, optional=True,
              item=True, cell=(None, *FEEDBACK_RECORDERS)),
    DutyField("last_reply_on", "day", lambda p, a: a.last_reply_on, optional=True),
    DutyField("published_on", "day", lambda p, a: a.published_on, optional=True),
)
FIELDS: dict[str, DutyField] = {f.name: f for f in DUTY_FIELDS}

# --- Items: the duties behind the numbers ---------------------------------------------------------
ITEM_FIELDS: tuple[str, ...] = tuple(f.key for f in DUTY_FIELDS if f.item)
_ITEM_READS = tuple((f.key, f.read) for f in DUTY_FIELDS if f.item and f.read is not None)


def item_of(p: Proposal, a: Assignment) -> dict[str, Any]:
    """The duty as an item (a plain dict, the same whether it came from folding events or from
    the projections): its ITEM_FIELDS."""
    return {key: read(p, a) for key, read in _ITEM_READS}


# --- Cells: what the numbers ask of a duty, without its dates -------------------------------------
# A cell's fields are named as the items' (the measures read both alike).
CELL_FIELDS: tuple[tuple[str, tuple[Any, ...]], ...] = tuple(
    (f.key, f.cell) for f in DUTY_FIELDS if f.cell)
_CELL_READS = tuple((f.key, f.in_cell) for f in DUTY_FIELDS if f.cell)


def cell_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The duty's cell: the fields of CELL_FIELDS, as the measures read them."""
    return {key: item[key] if read is None else read(item) for key, read in _CELL_READS}


def _checked() -> None:
    """The declaration's own rules: one field a name, a cell field's values listed, `first_of`
    naming a stored field, every item field readable from the state."""
    names = [f.name for f in DUTY_FIELDS]
    assert len(names) == len(set(names)) and len(ITEM_FIELDS) == len(set(ITEM_FIELDS)), names
    for f in DUTY_FIELDS:
        assert not f.item or f.read is not None, f"{f.name}: an item field is read from state"
        assert f.first_of is None or (not f.stored and FIELDS[f.first_of].stored), f.name
        assert f.read is not None or not f.stored, f"{f.name}: a column is read from state"
        assert f.in_cell is None or f.cell, f.name


_checked()
