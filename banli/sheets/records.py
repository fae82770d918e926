"""Previews against what Banli already has: the bureaus' registry, the natural keys and the
proposals' states, read through `Records` (the embedded event store is one; the reporting
service reads the same from its projections).

    preview = assignment_sheet(data, records, kind="cppcc_proposal", year=2027)
    preview = reply_sheet(data, records, bureau="sh-ipa")
    preview = filer_sheet(data, records)
"""
from __future__ import annotations

from datetime import date
from typing import Any, Mapping, Protocol

from ..domain.commands import bureau_stream
from ..domain.proposal import Bureau, Proposal, State
from ..domain.timing.deadlines import FIVE_AREAS
from .assignment_list import Areas, assignment_preview
from .filers import filer_preview
from .infer import DEFAULT_SESSIONS, Sessions
from .isolate import read_table
from .limits import SheetLimits
from .preview import Preview
from .read import Table
from .replies import reply_preview
from .workbook import Source


class Records(Protocol):
    """What a preview reads: who is registered, which proposal holds a natural key, a
    proposal's state, and the filer registry."""

    def bureau_names(self) -> Mapping[str, tuple[str, str] | Bureau]: ...

    def owner_of(self, natural_key: str) -> str | None: ...

    def state(self, stream: str) -> State: ...

    # a filer registry's preview: the registry Banli has (each filer's name, affiliation, term
    # and account by id), the proposals naming a filer of a name, under an affiliation, not
    # linked to the registry
    def filers(self) -> Mapping[str, Mapping[str, str]]: ...

    def unlinked(self, name: str, affiliation: str) -> list[str]: ...


def _proposal(records: Records, key: str) -> Proposal | None:
    owner = records.owner_of(key)
    state = records.state(owner) if owner is not None else None
    return state if isinstance(state, Proposal) else None


def registered(records: Records) -> dict[str, Bureau | tuple[str, str]]:
    """The registered bureaus with every name they bear or bore: their states (a store that
    gives names only: each bureau's state from its stream)."""
    found: dict[str, Bureau | tuple[str, str]] = {}
    for bureau, names in records.bureau_names().items():
        state = names if isinstance(names, Bureau) else records.state(bureau_stream(bureau))
        found[bureau] = state if isinstance(state, Bureau) else names
    return found


def known_item(records: Records, key: str) -> dict[str, Any] | None:
    """What Banli has for the natural key, as an assignment list describes an item: its title,
    filers, affiliation, topics, active leads and co-handlers, and where the office's review
    stands (filed, pending, not_filed ...)."""
    p = _proposal(records, key)
    if p is None:
        return None
    active = [a for a in p.assignments.values() if a.status == "active"]
    return {"proposal": p.id, "title": p.title, "filers": list(p.filers),
            "affiliation": p.affiliation, "topics": list(p.topics),
            "leads": [a.bureau for a in active if a.role == "lead"],
            "cos": [a.bureau for a in active if a.role == "co"], "review": p.review}


def assignment_sheet(source: Source | Table, records: Records, *, kind: str | None = None,
                     year: int | str | None = None, level: str | None = None,
                     assigned_on: date | str | None = None,
                     mapping: Mapping[str, str | None] | None = None,
                     sheet: str | int | None = None,
                     sessions: Sessions = DEFAULT_SESSIONS,
                     areas: Areas = FIVE_AREAS) -> Preview:
    """The preview of importing an assignment list (交办清单) into what `records` hold. An
    untrusted file is read first with banli.sheets.isolate.read_table, and its Table given."""
    return assignment_preview(source, bureaus=registered(records),
                              existing=lambda key: known_item(records, key), kind=kind,
                              year=year, level=level, assigned_on=assigned_on, mapping=mapping,
                              sheet=sheet, sessions=sessions, areas=areas)


def reply_sheet(source: Source | Table, records: Records, *, bureau: str,
                kind: str | None = None, year: int | str | None = None,
                level: str | None = None, mapping: Mapping[str, str | None] | None = None,
                sheet: str | int | None = None,
                sessions: Sessions = DEFAULT_SESSIONS) -> Preview:
    """The preview of importing `bureau`'s reply list into what `records` hold. A row for an
    item the bureau does not lead (another bureau's, one it co-handles or gave back, one Banli
    does not have) is refused alike: a reply list learns nothing of others' items."""

    def proposal_of(key: str) -> str | None:
        p = _proposal(records, key)
        duty = p.duty(bureau) if p is not None else None  # its active duty
        return p.id if p is not None and duty is not None and duty.role == "lead" else None

    def replied(proposal_id: str) -> dict[str, Any] | None:
        state = records.state(proposal_id)
        duty = state.duty(bureau) if isinstance(state, Proposal) else None
        if duty is None or not duty.replies:
            return None
        return {"result": duty.result, "disclosure": duty.disclosure}

    return reply_preview(source, bureau=bureau, proposals=proposal_of, replied=replied,
                         kind=kind, year=year, level=level, mapping=mapping, sheet=sheet,
                         sessions=sessions)


def filer_sheet(source: Source | Table, records: Records, *,
                mapping: Mapping[str, str | None] | None = None,
                sheet: str | int | None = None) -> Preview:
    """The preview of importing a filer registry (代表委员名册) into what `records` hold, with
    the links it offers to make (banli.sheets.filers)."""
    return filer_preview(source, registered=records.filers(), unlinked=records.unlinked,
                         mapping=mapping, sheet=sheet)


def preview_sheet(source: Source, which: str, records: Records, *, limits: SheetLimits,
                  sessions: Sessions = DEFAULT_SESSIONS,
                  mapping: Mapping[str, str | None] | None = None,
                  sheet: str | int | None = None, bureau: str | None = None,
                  kind: str | None = None, year: int | str | None = None,
                  level: str | None = None, assigned_on: date | str | None = None,
                  areas: Areas = FIVE_AREAS) -> Preview:
    """The preview of an uploaded list: read in a child process within `limits`
    (banli.sheets.isolate: a hostile file is refused, it cannot take the reader with it), then
    an assignment list ("assignments"), a bureau's reply list ("replies", `bureau` required)
    or a filer registry ("filers") previewed against `records`. Raises SheetError."""
    table = read_table(source, which, limits=limits, mapping=mapping, sheet=sheet)
    if which == "filers":
        return filer_sheet(table, records)
    if which == "replies":
        if bureau is None:
            raise ValueError("a reply list is one bureau's: name it")
        return reply_sheet(table, records, bureau=bureau, kind=kind, year=year, level=level,
                           sessions=sessions)
    return assignment_sheet(table, records, kind=kind, year=year, level=level,
                            assigned_on=assigned_on, sessions=sessions, areas=areas)
