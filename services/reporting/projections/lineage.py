"""Routing from the projections: misrouting per bureau (counted by ClickHouse), a proposal's
routing lineage, and the past proposals that routing suggestions learn from.

The kernel's `banli.domain.views.routing_lineage` and `banli.routing.past_from_streams` are the
references; the differential tests hold these to them."""
from __future__ import annotations

from datetime import date, datetime

from banli.domain.registry import load_event
from banli.domain.views.routing_lineage import Misrouted, RoutingStep, routing_lineage
from banli.routing import PastProposal

from . import queries
from .store import FAR_FUTURE, ReportingStore


def misrouting(store: ReportingStore, years: tuple[int, int], as_of: date,
               bureau: str | None = None, recorded_by: datetime | None = None,
               kind: str | None = None, level: str | None = None) -> list[Misrouted]:
    """Days lost to misrouting per bureau, as `banli.domain.views.routing_lineage.misrouting`; with
    `recorded_by`, as the system had recorded it by then (the board's audit clock), and of one
    kind or level of items where given."""
    rows = store.query(queries.MISROUTED, as_of=as_of, y1=years[0], y2=years[1],
                       bureau=bureau or "", recorded_by=recorded_by or FAR_FUTURE,
                       kind=kind or "", level=level or "")
    return [Misrouted(bureau=r["bureau"], returned=r["returned"], removed=r["removed"],
                      as_lead=r["as_lead"], as_co=r["as_co"], days_lost=r["days_lost"])
            for r in rows]


def lineage(store: ReportingStore, proposal_id: str) -> list[RoutingStep] | None:
    """The proposal's routing steps, from its history (None for an unknown proposal)."""
    rows = store.history(proposal_id)
    if not rows:
        return None
    return routing_lineage(load_event(r["data"]) for r in rows)


def routing_history(store: ReportingStore, proposal: str | None = None) -> list[PastProposal]:
    """Every proposal's text and current handlers (or one proposal's), sorted by id."""
    return [PastProposal(proposal_id=r["proposal_id"], year=r["year"], kind=r["kind"],
                         title=r["title"], summary=r["summary"] or "",
                         topics=tuple(r["topics"]), affiliation=r["affiliation"],
                         leads=tuple(r["leads"]), cos=tuple(r["cos"]))
            for r in store.query(queries.ROUTING_HISTORY, proposal=proposal or "")]
