"""Deadlines people can check: each assignment's deadlines explained (assignment date, profile
rule, extensions, the working-day calendar), the duties whose on-time status another profile
would flip, and today's reminders. The rules are banli.domain.views.explain's and
banli.domain.views.reminders'; this is the HTTP adapter."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Callable

from fastapi import APIRouter, Body, HTTPException, Path, Query
from starlette.concurrency import run_in_threadpool

from banli.domain.permissions import proposal_for, reach
from banli.domain.timing.deadlines import DEFAULT_PROFILE, PROFILES, Profile, get_profile
from banli.domain.views.explain import explain_proposal, flips
from banli.domain.views.lists import LISTS
from banli.domain.views.reminders import reminders
from banli.domain.wording import numbered
from banli.domain.timing.workdays import YearsCalendar
from banli.web.deps import (Calendars, Clock, CurrentActor, ProposalPath, WorkCalendar,
                            not_served, own_bureau, permit, permit_any, today)
from banli.web.schemas import READ, action, errors

from banli.workcalendar import NoticeError, china_calendar, remove_notice, save_notice

from . import exports
from . import schemas as out
from .exports import XLSX_RESPONSE, Format, Lang
from .deps import Cosigned, Reporting, Stream, readable
from .params import BureauQuery, OptionalDate, OtherProfile, ProfileName
from ..reminders import current_duties
from ..projections.store import ReportingStore

router = APIRouter(prefix="/api", tags=["deadlines"], responses=READ)



def _profile(name: str) -> Profile:
    if name not in PROFILES:
        raise HTTPException(422, detail={"code": "bad_profile", "message": f"未知口径 {name}",
                                         "message_en": f"unknown profile {name}"})
    return get_profile(name)


@router.get("/proposals/{proposal_id}/deadlines",
            summary="Each assignment's deadlines explained: rule, extensions, calendar",
            response_model=out.Deadlines, openapi_extra=action("read:proposal"),
            responses=errors(404, e404="no such proposal (`unknown_proposal`)"))
def proposal_deadlines(proposal_id: ProposalPath, actor: CurrentActor, stream: Stream,
                       clock: Clock, calendar: WorkCalendar, cosign: Cosigned,
                       profile: ProfileName = "default") -> dict[str, Any]:
    """Each duty's deadlines the reader may read of (a clerk its own bureau's, a filer those
    of the bureaus handling their proposal); a proposal it may not know of is unknown. Read
    from the proposal's stream as its history is (ReportingPorts.stream), in a worker thread
    (a plain function)."""
    permit_any(actor, "read:proposal")
    rules = _profile(profile)
    stored, state, _ = readable(actor, stream, proposal_id, cosign)
    explained = explain_proposal([s.event for s in stored], rules, calendar, today(clock))
    if reach(actor, "read:proposal") != "all":
        seen = proposal_for(actor, state)
        duties = seen.assignments if seen is not None else {}
        explained["assignments"] = [a for a in explained["assignments"]
                                    if a["bureau"] in duties]
    return explained


@router.get("/deadlines/flips",
            summary="Duties whose deadlines or on-time status (reply, opinion, publication, "
                    "return window) another profile, or a loaded holiday notice, changes",
            response_model=out.Flips, openapi_extra=action("read:report"),
            responses=errors(404, e404="no holiday notice of that year is loaded "
                                       "(`no_notice`)"))
async def deadline_flips(actor: CurrentActor, reporting: Reporting, clock: Clock,
                         calendar: WorkCalendar, calendars: Calendars,
                         to: OtherProfile = None,
                         notice: Annotated[int | None, Query(
                             ge=1950, le=2100, description="compare with the calendar before "
                                                           "this year's loaded holiday notice")
                         ] = None,
                         profile: ProfileName = "default",
                         bureau: BureauQuery = None, as_of: OptionalDate = None
                         ) -> dict[str, Any]:
    current = _profile(profile)
    other = _profile(to) if to is not None else current
    if to is None and notice is None:
        raise HTTPException(422, detail={"code": "bad_flips", "message": "请指定 to 或 notice",
                                         "message_en": "give `to` (a profile) or `notice` (a "
                                                       "year)"})
    before = calendar
    if notice is not None:
        if not any(t.year == notice for t in calendars.loaded()):
            raise HTTPException(404, detail={
                "code": "no_notice", "message": f"未载入 {notice} 年的节假日通知",
                "message_en": f"no holiday notice for {notice} is loaded"})
        before = calendar.without(notice, china_calendar().years.get(notice))
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    day = as_of or today(clock)
    duties = await run_in_threadpool(current_duties, reporting, bureau)
    changed = flips(duties, current, before, other, calendar, day)
    return {"profile": current.name, "to": other.name, "notice": notice, "bureau": bureau,
            "as_of": day.isoformat(), "calendar": calendar.name,
            "calendar_before": before.name if notice is not None else calendar.name,
            "items": changed}


@router.get("/reminders",
            summary="Today's reminders: yellow (due in 10 days or fewer), red (overdue)",
            response_model=out.Reminders, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def today_reminders(actor: CurrentActor, reporting: Reporting,
                          clock: Clock, calendar: WorkCalendar, bureau: BureauQuery = None,
                          profile: ProfileName = "default", format: Format = "json",
                          lang: Lang = "zh") -> Any:
    rules = _profile(profile)
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    day = today(clock)
    duties = await run_in_threadpool(current_duties, reporting, bureau)
    found = reminders(duties, rules, calendar, day)
    shown = numbered(await run_in_threadpool(reporting.with_numbers,
                                             [r.payload() for r in found]))
    if format == "xlsx":
        return exports.xlsx(f"banli-reminders-{day.isoformat()}", ("提醒", "Reminders"),
                            LISTS["reminders"], shown, lang,
                            await run_in_threadpool(reporting.bureau_names))
    return {"bureau": bureau, "today": day.isoformat(), "items": shown,
            "yellow": sum(r.colour == "yellow" for r in found),
            "red": sum(r.colour == "red" for r in found)}


# --- the working-day calendar -------------------------------------------------------------------
@router.get("/calendar", summary="The working-day calendar: each year's source (a loaded "
                                 "holiday notice, the package, or provisional)",
            response_model=out.CalendarYears, openapi_extra=action("read:directory"))
async def calendar_years(actor: CurrentActor, calendar: WorkCalendar, book: Calendars,
                         clock: Clock) -> dict[str, Any]:
    permit(actor, "read:directory")
    this_year = today(clock).year
    return {
        "name": calendar.name,
        "loaded": sorted(t.year for t in book.loaded()),
        "error": book.error,
        "years": [{"year": y, "source": t.source, "provisional": t.provisional,
                   "holidays": len(t.holidays), "workdays": len(t.adjusted_workdays)}
                  for y, t in calendar.years.items() if this_year - 3 <= y <= this_year + 2],
    }


def _plain(notice: out.Notice | list[out.Notice]) -> Any:
    if isinstance(notice, list):
        return [n.model_dump() for n in notice]
    return notice.model_dump()


@router.post("/admin/calendar", summary="Load a State Council holiday notice (admins): counted "
                                        "from now on; the answer lists what it changes",
             response_model=out.NoticeLoaded, openapi_extra=action("admin"),
             responses=errors(413, 422, 503, e422="malformed, or a notice that cannot be taken "
                                             "(`bad_notice`, with its `problems`)"))
async def load_calendar_notice(actor: CurrentActor, reporting: Reporting, clock: Clock,
                               book: Calendars,
                               notice: Annotated[out.Notice | list[out.Notice], Body(
                                   description="a notice, or a list of them (README: the "
                                               "calendar)")],
                               replace: Annotated[list[int], Query(
                                   description="a year the installed calendar package already "
                                               "has the published notice for, which this "
                                               "notice corrects: each such year must be named")
                               ] = []) -> dict[str, Any]:
    permit(actor, "admin")
    before = book.current()
    if book.directory is None:
        raise not_served("节假日通知载入", "loading holiday notices (no calendar directory)")
    try:
        tables = await run_in_threadpool(save_notice, book.directory,
                                         json.dumps(_plain(notice), ensure_ascii=False).encode(),
                                         replace)
    except NoticeError as exc:
        raise HTTPException(422, detail={"code": "bad_notice", "message": "节假日通知文件有误",
                                         "message_en": "the holiday notice cannot be taken",
                                         "problems": exc.problems}) from None
    after = book.reload()
    return {"loaded": [t.year for t in tables], "calendar": after.name,
            "calendar_before": before.name,
            "flips": await _flipped(reporting, before, after, clock)}


async def _flipped(reporting: ReportingStore, before: YearsCalendar, after: YearsCalendar,
                   clock: Callable[[], datetime]) -> list[dict[str, Any]]:
    """The duties whose deadlines or on-time status the change of calendar flips."""
    duties = await run_in_threadpool(current_duties, reporting, None)
    return flips(duties, DEFAULT_PROFILE, before, DEFAULT_PROFILE, after, today(clock))


@router.delete("/admin/calendar/{year}",
               summary="Take back a loaded holiday notice (admins): the year counts again as "
                       "the calendar package has it, or provisionally; the answer lists what "
                       "that changes",
               response_model=out.NoticeUnloaded, openapi_extra=action("admin"),
               responses=errors(404, 409, 503, e404="no notice of that year is loaded "
                                                    "(`no_notice`)",
                                e409="the year's notice is a file BANLI_CALENDAR_NOTICES "
                                     "names (`configured_notice`): take it out there"))
async def unload_calendar_notice(actor: CurrentActor, reporting: Reporting, clock: Clock,
                                 book: Calendars,
                                 year: Annotated[int, Path(ge=1950, le=2100)]
                                 ) -> dict[str, Any]:
    permit(actor, "admin")
    if book.directory is None:
        raise not_served("节假日通知载入", "loading holiday notices (no calendar directory)")
    before = book.current()
    if not await run_in_threadpool(remove_notice, book.directory, year):
        if any(t.year == year for t in book.loaded()):
            raise HTTPException(409, detail={
                "code": "configured_notice", "message": f"{year} 年的通知由 BANLI_CALENDAR_NOTICES "
                                                        f"指定，请在该设置中移除",
                "message_en": f"the notice for {year} is a file BANLI_CALENDAR_NOTICES names: "
                              f"take it out there"})
        raise HTTPException(404, detail={"code": "no_notice", "message": f"未载入 {year} 年的通知",
                                         "message_en": f"no notice for {year} is loaded"})
    after = book.reload()
    return {"unloaded": [year], "calendar": after.name, "calendar_before": before.name,
            "source": after.years[year].source,
            "flips": await _flipped(reporting, before, after, clock)}
