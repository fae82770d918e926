"""The workbench's lists (issue 21): a bureau's work (待办), the coordinator's desk (交办台) and
search. The rules are banli.domain.views.work's (what is owed, its clock), the permission table's
(who reads which bureau's, which proposals) and banli.domain.wording's (an item's number); the
projections hold the facts (services/reporting/projections/queries.py). This is the HTTP
adapter."""
from __future__ import annotations

from typing import Annotated, Any, Callable

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from banli.domain.permissions import reach
from banli.domain.views.reminders import reminders
from banli.domain.types import Actor
from banli.domain.wording import numbered
from banli.domain.views.work import OWED, OWED_WORDS, counts, key_item_state, work
from banli.web.deps import Clock, CurrentActor, WorkCalendar, forbid, own_bureau, permit, today
from banli.web.schemas import READ, action

from . import schemas as out
from .deps import Reporting, ServerProfile
from .params import BureauQuery
from ..projections.queries import SEARCH_WITHIN

router = APIRouter(prefix="/api", tags=["workbench"], responses=READ)

WorkLimit = Annotated[int, Query(ge=1, le=5000, description="at most this many items (the "
                                                             "most urgent); counts are of all")]


@router.get("/work", summary="A bureau's work (待办): everything it owes now, each with its "
                             "clock, sorted by due date; the counts and its reminders",
            response_model=out.Work, openapi_extra=action("read:report"))
def bureau_work(actor: CurrentActor, reporting: Reporting, clock: Clock,
                calendar: WorkCalendar, profile: ServerProfile,
                bureau: BureauQuery = None, limit: WorkLimit = 1000) -> dict[str, Any]:
    """A clerk: its own bureau's (the default); coordinators and oversight: any bureau's, or
    every bureau's without `bureau`. A plain function: FastAPI runs it in a worker thread, the
    query and the Python after it (clocks, working days, reminders) off the event loop."""
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    day = today(clock)
    duties = reporting.work_duties(bureau, "cosign" in profile.review)
    items = work(duties, profile, calendar, day)
    numbers = {i["proposal_id"]: (i["display"], i["display_en"]) for i in items}
    due = reminders([w.duty for w in duties], profile, calendar, day)
    found = counts(items)
    return {
        "bureau": bureau, "today": day, "profile": profile.name, "total": len(items),
        "items": items[:limit], "counts": found,
        "colours": {"red": sum(i["colour"] == "red" for i in items),
                    "yellow": sum(i["colour"] == "yellow" for i in items)},
        "kinds": [{"owed": owed, "label": OWED_WORDS[owed][0], "label_en": OWED_WORDS[owed][1],
                   "count": found[owed]} for owed in OWED],
        "reminders": [{**r.payload(), "display": numbers[r.proposal_id][0],
                       "display_en": numbers[r.proposal_id][1]} for r in due],
    }


@router.get("/desk", summary="The coordinator's desk (交办台): proposals to assign, returned "
                             "assignments to route again, extension requests to decide, key "
                             "items with their state",
            response_model=out.Desk, openapi_extra=action("read:desk"))
async def desk(actor: CurrentActor, reporting: Reporting, clock: Clock) -> dict[str, Any]:
    permit(actor, "read:desk")
    day = today(clock)
    awaiting = numbered(await run_in_threadpool(reporting.awaiting_assignment, (1949, 2200)))
    returned = numbered(await run_in_threadpool(reporting.returned))
    requests = numbered(await run_in_threadpool(reporting.extension_requests))
    keys = numbered([{**item, **key_item_state(duties, day)}
                     for item, duties in await run_in_threadpool(reporting.key_items)])
    return {"today": day, "awaiting": awaiting, "returned": returned,
            "extension_requests": requests, "key_items": keys,
            "counts": {"awaiting": len(awaiting), "returned": len(returned),
                       "extension_requests": len(requests), "key_items": len(keys),
                       "key_items_overdue": sum(k["overdue"] for k in keys)}}


SearchText = Annotated[str, Query(min_length=1, max_length=200,
                                  description="a number (0007 or 7), an id, or words of the "
                                              "title (every word must be in it)")]
SearchLimit = Annotated[int, Query(ge=1, le=100, description="at most this many (default 20)")]


@router.get("/search", summary="Proposals by number or words of the title, among those you may "
                               "read",
            response_model=out.Search, openapi_extra=action("read:proposal"))
async def search(actor: CurrentActor, reporting: Reporting, q: SearchText,
                 limit: SearchLimit = 20) -> dict[str, Any]:
    terms = q.split()[:8]
    if not terms:
        raise HTTPException(422, detail={"code": "bad_search", "message": "请输入案号或标题中的词语",
                                         "message_en": "give a number or words of the title"})
    found = await run_in_threadpool(reporting.search, terms, _within(actor), limit)
    return {"q": q, "items": numbered([{
        "proposal_id": r["proposal_id"], "kind": r["kind"], "level": r["level"],
        "year": r["year"], "number": r["number"], "title": r["title"], "status": r["status"]}
        for r in found])}


# What each reach of read:proposal may search (queries.SEARCH_WITHIN's scopes): everything, the
# proposals of the reader's own bureau, or those the filer filed. A reach added to the permission
# table adds its scope here and there; a reach without one is refused.
READ_SCOPES: dict[str, Callable[[Actor], tuple[str, str] | None]] = {
    "all": lambda actor: None, "own": lambda actor: ("bureau", actor.bureau or ""),
    "filed": lambda actor: ("filer", actor.filer or "")}


def _within(actor: Actor) -> tuple[str, str] | None:
    """The scope the permission table gives `actor` on read:proposal (403 without one)."""
    found = reach(actor, "read:proposal")
    scope = READ_SCOPES.get(found) if found is not None else None
    if scope is None:
        raise forbid(f"{actor.role} 无权查询建议提案", f"a {actor.role} may not search proposals")
    within = scope(actor)
    if within is not None and (within[0] not in SEARCH_WITHIN or not within[1]):
        raise forbid(f"{actor.role} 无权查询建议提案", f"a {actor.role} may not search proposals")
    return within
