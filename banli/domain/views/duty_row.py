"""The duty row: what the reports know of one duty (a bureau's assignment on a proposal), declared
once.

Each `DutyField` says what one fact is (its kind of value), where it is read from the state (an
attribute of the Proposal or of the Assignment after an event, or a function of both), whether
the items behind the report's numbers carry it, and whether a report's *cell* asks it, with the
values it takes there. From `DUTY_FIELDS` come, here, the items (`ITEM_FIELDS`, `item_of`) and
the cells (`CELL_FIELDS`, `cell_of`) that banli.domain.views.rates counts; and, in the reporting
service (services/reporting/projections/duty_table.py), the columns of the duty's versions,
their DDL and the migration of an existing store, the latest-value selection of the queries and the items read
back from them.

The two halves meet at the kind of value: the kernel says what a value is (an id, a text, one
of a few choices, a year, a count, a flag, a day), the reporting service how each kind is stored
(its ClickHouse type and its empty value, the stand-in for None). A new counted field is one
entry here (stored, an item, in the cell) and the rate that counts it (banli.domain.views.rates):
nothing else changes, and the projections rebuild themselves once, since their cells' meaning
changed (services/reporting/projections/duty_table.FORMAT). Pure data and a few small functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from operator import itemgetter
from typing import Any, Callable, Literal, Mapping, Sequence

from ..proposal import Assignment, Proposal
from ..types import (DISCLOSURES, FEEDBACK_CHANNELS, FEEDBACK_RECORDERS, KINDS, RESULTS, ROLES,
                    SATISFACTIONS)

# What a value is, as far as storing it goes (the reporting service stores each kind its way).
ValueKind = Literal["id", "text", "choice", "year", "count", "flag", "day", "ids"]
# Where a fact is read: an attribute of the proposal, or of the duty (its Assignment).
Source = Literal["proposal", "duty"]


@dataclass(frozen=True)
class DutyField:
    """One fact of the duty row.

    `name` is its column (and its item's key, unless `item` names another). `read` says where
    the state holds it: an attribute (`attr`, by default its name) of the proposal or of the
    duty, or a function of both; None for a cell's question that is asked of the other fields,
    not of the state. `optional` values may be None (stored as their kind's empty value).
    `item`: the drill-down's items carry it (True, or the key they carry it under). `stored`: a
    column of the duty's versions (False for what comes from elsewhere: the proposal's number
    and title from its own versions, and `first_of`'s). `first_of`: the first value that field
    took among the duty's versions (the reference keeps it in the state). `cell`: the values it
    takes in a report's cell (empty: not in the cell), asked of the item by `in_cell` (default:
    the item's value). `doc`: what it means, where its name does not say (the item's
    description in the OpenAPI)."""

    name: str
    kind: ValueKind
    read: Source | Callable[[Proposal, Assignment], Any] | None
    attr: str = ""
    optional: bool = False
    item: bool | str = False
    stored: bool = True
    first_of: str | None = None
    cell: tuple[Any, ...] = ()
    in_cell: Callable[[Mapping[str, Any]], Any] | None = None
    doc: str = ""

    @property
    def key(self) -> str:
        """The item's key for it."""
        return self.item if isinstance(self.item, str) else self.name


def answered_on(item: Mapping[str, Any]) -> date | None:
    """When the duty was answered: a lead's first reply (while it has replied), a co-handler's
    first opinion."""
    if item["role"] == "lead":
        replied: date | None = item["first_reply_on"] if item["replies"] else None
        return replied
    opinion: date | None = item["first_opinion_on"]
    return opinion


NO_YES = (False, True)

DUTY_FIELDS: tuple[DutyField, ...] = (
    DutyField("proposal_id", "id", "proposal", attr="id", item=True),
    DutyField("bureau", "id", "duty", item=True, doc="the bureau whose duty this is"),
    DutyField("number", "text", "proposal", item=True, stored=False,
              doc="the proposal's number as filed (display: with its kind and level)"),
    DutyField("title", "text", "proposal", item=True, stored=False),
    DutyField("kind", "choice", "proposal", item=True, cell=KINDS),
    DutyField("level", "choice", "proposal", item=True),
    DutyField("year", "year", "proposal", item=True),
    DutyField("proposal_status", "choice", "proposal", attr="status"),
    DutyField("role", "choice", "duty", item=True, cell=ROLES),
    DutyField("status", "choice", "duty"),
    DutyField("assigned_on", "day", "duty", item=True, doc="the day of its (latest) assignment"),
    DutyField("due", "day", "duty", item=True,
              doc="its reply or opinion due date, extensions included"),
    DutyField("acknowledged", "flag", "duty"),
    DutyField("contacts", "count", "duty"),
    DutyField("contacted_before_reply", "flag", "duty", item="contacted", cell=NO_YES,
              doc="a lead contacted the filer before its first reply"),
    DutyField("opinions", "count", "duty", item=True, doc="co-handling opinions given"),
    DutyField("first_opinion_on", "day", "duty", optional=True, item=True),
    # whether the lead has replied, as the measures ask it (replies > 0)
    DutyField("replies", "count", "duty", item=True, cell=(0, 1),
              in_cell=lambda i: min(i["replies"], 1),
              doc="replies issued (0 while the lead has not replied)"),
    DutyField("first_reply_on", "day", "duty", optional=True, item=True),
    # replied (a lead) or gave its opinion (a co-handler); and that on or before its due date
    DutyField("answered", "flag", None, stored=False, cell=NO_YES,
              in_cell=lambda i: answered_on(i) is not None),
    DutyField("on_time", "flag", None, stored=False, cell=NO_YES,
              in_cell=lambda i: (on := answered_on(i)) is not None and on <= i["due"]),
    DutyField("awaiting_reply", "flag", "duty"),
    DutyField("reopen_due", "day", "duty", optional=True),
    DutyField("extensions", "count", "duty"),
    DutyField("result", "choice", "duty", optional=True, item=True, cell=(None, *RESULTS)),
    DutyField("disclosure", "choice", "duty", optional=True, item=True,
              cell=(None, *DISCLOSURES)),
    DutyField("first_disclosure", "choice", "duty", optional=True, item=True, stored=False,
              first_of="disclosure", doc="the first disclosure decision on its replies"),
    DutyField("feedback", "choice", "duty", optional=True, item=True,
              cell=(None, *SATISFACTIONS), doc="the filer's satisfaction with the reply"),
    DutyField("supervisions", "count", "duty"),
    DutyField("feedback_channel", "choice", "duty", optional=True, item=True,
              cell=(None, *FEEDBACK_CHANNELS)),
    DutyField("feedback_by_self", "flag", "duty", item=True, cell=NO_YES,
              doc="the feedback was recorded by the bureau itself"),
    # who recorded the latest feedback: the filer, the office, or the bureau itself
    DutyField("feedback_recorder", "choice", "duty", optional=True, item=True,
              cell=(None, *FEEDBACK_RECORDERS), doc="who recorded the latest feedback"),
    DutyField("last_reply_on", "day", "duty", optional=True),
    DutyField("published_on", "day", "duty", optional=True),
    # What the work list (banli.domain.views.work) asks of a duty besides: whether the latest reply
    # has its feedback yet, and which (feedback not yet in; re-handling after 不满意)
    DutyField("feedback_on_reply", "choice", "duty", optional=True),
    # a lead's reply under review since (to approve; the co-handlers' sign-off), and who has
    # signed it off
    DutyField("draft_on", "day", lambda p, a: a.draft.drafted_on if a.draft else None,
              optional=True),
    DutyField("draft_signed_off", "ids", lambda p, a: list(a.draft.signed_off) if a.draft
              else []),
    # a lead's extension request pending the coordinator's decision (the desk): the date it
    # asks for, since when, and why
    DutyField("extension_requested_due", "day",
              lambda p, a: a.extension_request.reply_due if a.extension_request else None,
              optional=True),
    DutyField("extension_requested_on", "day",
              lambda p, a: a.extension_request.requested_on if a.extension_request else None,
              optional=True),
    DutyField("extension_reason", "text",
              lambda p, a: a.extension_request.reason if a.extension_request else ""),
)
FIELDS: dict[str, DutyField] = {f.name: f for f in DUTY_FIELDS}


def reader(fields: Sequence[DutyField]
           ) -> tuple[tuple[DutyField, ...], Callable[[Proposal, Assignment], tuple[Any, ...]]]:
    """`fields` in the order one call reads them, and that call: the values of the proposal's
    attributes, then of the duty's, then of the functions (each group in the declaration's
    order), attributes read in one go (the projector asks this of every duty an event
    changes)."""
    of_proposal = [f for f in fields if f.read == "proposal"]
    of_duty = [f for f in fields if f.read == "duty"]
    computed: list[tuple[DutyField, Callable[[Proposal, Assignment], Any]]] = []
    for f in fields:
        if f.read is not None and not isinstance(f.read, str):
            computed.append((f, f.read))
    assert len(of_proposal) + len(of_duty) + len(computed) == len(fields), "every field is read"
    from_proposal, from_duty = (_getter([f.attr or f.name for f in group])
                                for group in (of_proposal, of_duty))
    functions = tuple(read for _, read in computed)

    def read(p: Proposal, a: Assignment) -> tuple[Any, ...]:
        return (from_proposal(p.__dict__) + from_duty(a.__dict__)
                + tuple(function(p, a) for function in functions))

    return (*of_proposal, *of_duty, *(f for f, _ in computed)), read


def _getter(names: list[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...]]:
    """Those values of a mapping, as a tuple (operator.itemgetter's, which gives one value
    alone for one name)."""
    if not names:
        return lambda values: ()
    if len(names) == 1:
        name = names[0]
        return lambda values: (values[name],)
    return itemgetter(*names)


# --- Items: the duties behind the numbers ---------------------------------------------------------
_ITEM_ORDER, _read_items = reader([f for f in DUTY_FIELDS if f.item])
ITEM_FIELDS: tuple[str, ...] = tuple(f.key for f in _ITEM_ORDER)


def item_of(p: Proposal, a: Assignment) -> dict[str, Any]:
    """The duty as an item (a plain dict, the same whether it came from folding events or from
    the projections): its ITEM_FIELDS."""
    return dict(zip(ITEM_FIELDS, _read_items(p, a)))


# --- Cells: what the numbers ask of a duty, without its dates -------------------------------------
# A cell's fields are named as the items' (the measures read both alike): those the item holds
# as they are, then those asked of it (`in_cell`).
_CELL_ORDER = (*(f for f in DUTY_FIELDS if f.cell and f.in_cell is None),
               *(f for f in DUTY_FIELDS if f.cell and f.in_cell is not None))
CELL_FIELDS: tuple[tuple[str, tuple[Any, ...]], ...] = tuple(
    (f.key, f.cell) for f in _CELL_ORDER)
_CELL_KEYS = tuple(key for key, _ in CELL_FIELDS)
_plain_cell = _getter([f.key for f in _CELL_ORDER if f.in_cell is None])
_asked_cell = tuple(f.in_cell for f in _CELL_ORDER if f.in_cell is not None)


def cell_values(item: Mapping[str, Any]) -> tuple[Any, ...]:
    """The duty's cell as values, in CELL_FIELDS' order."""
    return _plain_cell(item) + tuple(ask(item) for ask in _asked_cell)


def cell_of(item: Mapping[str, Any]) -> dict[str, Any]:
    """The duty's cell: the fields of CELL_FIELDS, as the measures read them."""
    return dict(zip(_CELL_KEYS, cell_values(item)))


def _checked() -> None:
    """The declaration's own rules: one field a name, `first_of` naming a stored field, every
    column and item field read from the state, `in_cell` only for a cell's field."""
    names = [f.name for f in DUTY_FIELDS]
    assert len(names) == len(set(names)) and len(ITEM_FIELDS) == len(set(ITEM_FIELDS)), names
    for f in DUTY_FIELDS:
        assert f.read is not None or not (f.item or f.stored), f"{f.name} is read from state"
        assert f.first_of is None or (not f.stored and FIELDS[f.first_of].stored), f.name
        assert f.in_cell is None or f.cell, f.name
        assert not f.attr or f.read in ("proposal", "duty"), f.name


_checked()
