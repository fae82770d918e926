"""Deadlines people can check: each assignment's deadlines explained (assignment date, profile
rule, extensions, the working-day calendar), the duties whose on-time status another profile
would flip, and today's reminders. The rules are banli.domain.explain's and
banli.domain.reminders'; this is the HTTP adapter."""
from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from banli.auth import sees_everything
from banli.domain.deadlines import PROFILES, Profile, get_profile
from banli.domain.events import load_event
from banli.domain.explain import explain_proposal, flips
from banli.domain.reminders import reminders
from banli.web.commands import not_found
from banli.web.deps import Clock, CurrentActor, Reporting, forbid, require_bureau_reader, today
from banli.workcalendar import china_calendar

from .reminders import current_duties

router = APIRouter(prefix="/api", tags=["deadlines"])

ProfileName = Annotated[str, Query(description=f"one of {', '.join(PROFILES)}")]


def _profile(name: str) -> Profile:
    if name not in PROFILES:
        raise HTTPException(422, detail={"code": "bad_profile", "message": f"未知口径 {name}",
                                         "message_en": f"unknown profile {name}"})
    return get_profile(name)


@router.get("/proposals/{proposal_id}/deadlines",
            summary="Each assignment's deadlines explained: rule, extensions, calendar")
async def proposal_deadlines(proposal_id: str, request: Request, actor: CurrentActor,
                             reporting: Reporting, clock: Clock,
                             profile: ProfileName = "default") -> dict[str, Any]:
    rules = _profile(profile)
    await request.app.state.settle()
    rows = await run_in_threadpool(reporting.history, proposal_id)
    if not rows:
        raise not_found(proposal_id)
    bureaus = None if sees_everything(actor) else {actor.bureau}
    if bureaus is not None and actor.bureau not in await run_in_threadpool(reporting.bureaus_of,
                                                                           proposal_id):
        raise forbid(f"{actor.bureau} 未承办 {proposal_id}",
                     f"{actor.bureau} has no assignment on {proposal_id}")
    explained = explain_proposal([load_event(r["data"]) for r in rows], rules, china_calendar(),
                                 today(clock))
    if bureaus is not None:  # a clerk sees its own bureau's deadlines
        explained["assignments"] = [a for a in explained["assignments"]
                                    if a["bureau"] in bureaus]
    return explained


@router.get("/deadlines/flips",
            summary="Duties whose on-time status (reply, opinion, publication) another profile "
                    "would flip")
async def deadline_flips(request: Request, actor: CurrentActor, reporting: Reporting,
                         clock: Clock, to: ProfileName, profile: ProfileName = "default",
                         bureau: str | None = None,
                         as_of: Annotated[date | None, Query(
                             description="business date; default today")] = None
                         ) -> dict[str, Any]:
    current, other = _profile(profile), _profile(to)
    if bureau is None and not sees_everything(actor):
        bureau = actor.bureau
    require_bureau_reader(actor, bureau)
    await request.app.state.settle()
    day = as_of or today(clock)
    duties = await run_in_threadpool(current_duties, reporting, bureau)
    calendar = china_calendar()
    changed = flips(duties, current, calendar, other, calendar, day)
    return {"profile": current.name, "to": other.name, "bureau": bureau,
            "as_of": day.isoformat(), "calendar": calendar.name, "items": changed}


@router.get("/reminders",
            summary="Today's reminders: yellow (due in 10 days or fewer), red (overdue)")
async def today_reminders(request: Request, actor: CurrentActor, reporting: Reporting,
                          clock: Clock, bureau: str | None = None,
                          profile: ProfileName = "default") -> dict[str, Any]:
    rules = _profile(profile)
    if bureau is None and not sees_everything(actor):
        bureau = actor.bureau
    require_bureau_reader(actor, bureau)
    await request.app.state.settle()
    day = today(clock)
    duties = await run_in_threadpool(current_duties, reporting, bureau)
    found = reminders(duties, rules, china_calendar(), day)
    return {"bureau": bureau, "today": day.isoformat(), "items": [r.payload() for r in found],
            "yellow": sum(r.colour == "yellow" for r in found),
            "red": sum(r.colour == "red" for r in found)}
