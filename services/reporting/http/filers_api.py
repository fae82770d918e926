"""Filers (代表委员) on the API: the filer registry, and a filer's own list of the proposals they
filed (我的建议/我的提案: `GET /api/my/proposals`), which the filer's page is built on. What a
filer reads of each is views.filed's; an item they open reads the proposal's own routes,
filtered for them (banli.domain.permissions)."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from banli.domain.timing.deadlines import Area
from banli.domain.events import ProposalMerged
from banli.domain.views.filed import FiledItem, filed_items
from banli.domain.views.intake_report import areas_of
from banli.domain.permissions import reach
from banli.domain.registry import load_event
from banli.domain.types import FilerKind
from banli.domain.wording import item_number
from banli.web.deps import CurrentActor, permit, permit_any
from banli.web.schemas import READ, action

from .deps import Reporting, ServerProfile

router = APIRouter(prefix="/api", tags=["filers"], responses=READ)


class FilerRef(BaseModel):
    id: str
    name: str


class MyProposals(BaseModel):
    """The proposals the signed-in filer filed, as lead filer or co-signer (for anyone else,
    who files nothing: `filer` null, no items)."""

    filer: FilerRef | None
    areas: list[Area] = Field(default_factory=list, description="the areas the items' review "
                                                                 "steps name, with their words")
    items: list[FiledItem] = Field(description="newest year first; each with its number in "
                                               "words (`display`), its status, the office's "
                                               "review (`review`, `review_steps`), the bureaus "
                                               "handling it, the contacts and the replies")


class RegisteredFilerEntry(BaseModel):
    id: str
    name: str
    kind: FilerKind
    affiliation: str
    term: str


class Filers(BaseModel):
    filers: list[RegisteredFilerEntry]


@router.get("/my/proposals", summary="The proposals you filed (a filer's 我的建议/我的提案): "
                                     "status, the office's review of each (filed, merged into "
                                     "which, not filed and passed on to whom, returned for "
                                     "revision and why), the bureaus handling each with their "
                                     "due dates, the contacts logged with you, the replies "
                                     "with their letters and your rating of each",
            response_model=MyProposals, openapi_extra=action("read:proposal"))
async def my_proposals(actor: CurrentActor, reporting: Reporting,
                       server: ServerProfile) -> MyProposals:
    permit_any(actor, "read:proposal")
    if reach(actor, "read:proposal") != "filed" or actor.filer is None:
        return MyProposals(filer=None, items=[])
    filer = actor.filer
    ids = await run_in_threadpool(reporting.filed_by, filer)
    raw = await run_in_threadpool(reporting.histories, ids) if ids else {}
    histories = {pid: [load_event(data) for data in events] for pid, events in raw.items()}
    # the proposals theirs were merged into, by their numbers (one query, only where merged)
    targets = [ev.into for events in histories.values() for ev in events
               if isinstance(ev, ProposalMerged)]
    found = await run_in_threadpool(reporting.numbers, targets) if targets else {}
    items = filed_items(histories, filer, {pid: item_number(r["kind"], r["level"], r["year"],
                                                            r["number"], True)
                                           for pid, r in found.items()})
    registered = (await run_in_threadpool(reporting.filers, filer)).get(filer, {})
    years = sorted({i.year for i in items})
    areas = areas_of(server, (years[0], years[-1])) if years else []
    return MyProposals(filer=FilerRef(id=filer, name=registered.get("name", "")), areas=areas,
                       items=items)


@router.get("/filers", summary="The filer registry (代表委员名册): each deputy or member's id, "
                               "name, delegation or sector and term",
            response_model=Filers, openapi_extra=action("read:directory"))
async def filers(actor: CurrentActor, reporting: Reporting) -> Filers:
    """Who is who, as the bureaus' names are: the history names filers by these names. The
    sign-in accounts are not shown."""
    permit(actor, "read:directory")
    registry = await run_in_threadpool(reporting.filers)
    return Filers(filers=[RegisteredFilerEntry(id=filer, **{k: v for k, v in entry.items()
                                                             if k != "account"})
                          for filer, entry in registry.items()])
