"""reporting's HTTP API: the report, open assignments, a proposal's full history, bureaus."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import PlainTextResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from banli.domain.deadlines import PROFILES, get_profile
from banli.domain.rates import MEASURES, RATE_MEASURES, Scope, select
from banli.domain.types import SHANGHAI, Kind, Level
from banli.report_text import render_text
from banli.domain.proposal import Proposal
from banli.web.commands import not_found
from banli.domain.permissions import allowed, event_for, reach
from banli.web.deps import (Clock, CurrentActor, ProposalPath, Reporting, forbid, own_bureau,
                            permit, today)

from . import lineage as routing
from .live import sse

router = APIRouter(prefix="/api", tags=["reporting"])


def _years(text: str) -> tuple[int, int]:
    try:
        first, _, last = text.partition("-")
        years = (int(first), int(last or first))
    except ValueError:
        years = (0, -1)
    if not (1949 <= years[0] <= years[1] <= 2200):
        raise HTTPException(422, detail={"code": "bad_years", "message": "年度格式为 Y 或 Y1-Y2",
                                         "message_en": "years are Y or Y1-Y2"})
    return years


# chDB calls block: every store call runs in a worker thread, off the event loop.
_in_thread = run_in_threadpool


Years = Annotated[str, Query(description="Y or Y1-Y2", pattern=r"^\d{4}(-\d{4})?$")]
BusinessDate = Annotated[date, Query(description="business date, YYYY-MM-DD")]


def check_dates(*moments: date | datetime | None) -> None:
    """Dates the store can hold (Date32 and DateTime64 run from 1900 to 2299), or a 422."""
    if any(m is not None and not 1900 <= m.year <= 2299 for m in moments):
        raise HTTPException(422, detail={"code": "bad_date", "message": "日期超出范围",
                                         "message_en": "dates run from 1900 to 2299"})


class ReportQuery:
    """The scope, profile and audit clock of a report, checked; shared by every report route."""

    def __init__(
        self, actor: CurrentActor,
        years: Years,
        as_of: BusinessDate,
        bureau: Annotated[str | None, Query(description="one bureau; leave out with all=true")] = None,
        all: Annotated[bool, Query(description="every bureau (oversight roles)")] = False,
        level: Level | None = None, kind: Kind | None = None,
        profile: Annotated[str, Query(description=f"one of {', '.join(PROFILES)}")] = "default",
        recorded_by: Annotated[datetime | None, Query(
            description="audit clock: count only what the system had recorded by then")] = None,
    ):
        if all == (bureau is not None):
            raise HTTPException(422, detail={"code": "bad_scope", "message": "请指定 bureau 或 all=true",
                                             "message_en": "give either bureau or all=true"})
        permit(actor, "read:report", bureau)
        if profile not in PROFILES:
            raise HTTPException(422, detail={"code": "bad_profile", "message": f"未知口径 {profile}",
                                             "message_en": f"unknown profile {profile}"})
        check_dates(as_of, recorded_by)
        if recorded_by is not None and recorded_by.tzinfo is None:
            recorded_by = recorded_by.replace(tzinfo=SHANGHAI)
        self.actor = actor
        self.scope = Scope(bureau=bureau, years=_years(years), as_of=as_of, level=level, kind=kind)
        self.profile = get_profile(profile)
        self.recorded_by = recorded_by

    def year_before(self) -> Scope:
        """The same scope a year earlier: last year's items as of the same day of last year."""
        (y1, y2), day = self.scope.years, self.scope.as_of
        try:
            earlier = day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            earlier = day.replace(year=day.year - 1, day=28)
        return self.scope.model_copy(update={"years": (y1 - 1, y2 - 1), "as_of": earlier})


ReportParams = Annotated[ReportQuery, Depends()]


@router.get("/report", summary="The year-end report (the same JSON as `banli report`)")
async def report(request: Request, q: ReportParams, reporting: Reporting,
                 format: Literal["json", "text"] = "json", lang: Literal["zh", "en"] = "zh"):
    await request.app.state.settle()
    result = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
    if format == "text":
        names = await _in_thread(reporting.bureau_names)
        name = names.get(q.scope.bureau or "", {}).get("name" if lang == "zh" else "name_en")
        return PlainTextResponse(render_text(result, name, lang))
    return result


MeasureName = Annotated[str, Query(
    description="a number of the report (e.g. `replied`, `result.solved`, `late_lead`) or a rate "
                "(e.g. `on_time_reply`: its denominator's items, each `counted` or not)")]


@router.get("/items", summary="The items behind one number or rate of the report")
async def items(request: Request, q: ReportParams, reporting: Reporting,
                measure: MeasureName) -> dict[str, Any]:
    if measure not in MEASURES and measure not in RATE_MEASURES:
        raise HTTPException(422, detail={
            "code": "bad_measure", "message": f"未知指标 {measure}",
            "message_en": f"unknown measure {measure}; one of "
                          f"{', '.join([*MEASURES, *RATE_MEASURES])}"})
    await request.app.state.settle()
    chosen = select(await _in_thread(reporting.items, q.scope, q.profile, q.recorded_by), measure)
    body: dict[str, Any] = {"measure": measure, "count": len(chosen), "items": chosen}
    if measure in RATE_MEASURES:
        body["counted"] = sum(i["counted"] for i in chosen)
    return body


@router.get("/entries", summary="The bureaus' records behind the report's `entries`: entered "
                                "late, imported, or all of them")
async def entries(request: Request, q: ReportParams, reporting: Reporting,
                  which: Literal["late", "imported", "all"] = "late") -> dict[str, Any]:
    await request.app.state.settle()
    records = await _in_thread(reporting.entries, q.scope, q.recorded_by)
    chosen = [r for r in records if which == "all" or r["entry"] == which]
    return {"which": which, "count": len(chosen), "items": chosen,
            "late_after_working_days": reporting.late_entry_working_days}


@router.get("/league", summary="One report per bureau (a clerk sees its own bureau's only)")
async def league(request: Request, q: ReportParams, reporting: Reporting) -> dict[str, Any]:
    await request.app.state.settle()
    return {"bureaus": await _league(q, reporting, q.scope)}


async def _league(q: ReportQuery, reporting: Any, scope: Scope) -> dict[str, Any]:
    table = await _in_thread(reporting.league, scope, q.profile, q.recorded_by)
    return {b: r for b, r in table.items() if allowed(q.actor, "read:report", b)}


@router.get("/dashboard", summary="Everything the oversight page shows, in one answer")
async def dashboard(request: Request, q: ReportParams, reporting: Reporting,
                    clock: Clock) -> dict[str, Any]:
    await request.app.state.settle()
    day = today(clock)
    report_now = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
    before = await _in_thread(reporting.report, q.year_before(), q.profile, q.recorded_by)
    owed = await _in_thread(reporting.open_assignments,
                            own_bureau(q.actor, "read:report", q.scope.bureau), day)
    live = request.app.state.live
    position = await live.position()
    lost = await _in_thread(routing.misrouting, reporting, q.scope.years, q.scope.as_of, None)
    return {
        "today": day.isoformat(), "position": position,
        "misrouting": {m.bureau: {"bounced": m.bounced, "days_lost": m.days_lost} for m in lost
                       if allowed(q.actor, "read:report", m.bureau)},
        "recent": await live.recent(lambda event: event_for(q.actor, "read:live", event,
                                                            event["bureaus"])),
        "report": report_now, "previous": before,
        "league": await _league(q, reporting, q.scope),
        "bureaus": await _in_thread(reporting.bureau_names),
        "open": {"overdue": sum(i["overdue"] for i in owed),
                 "due_soon": sum(i["due_soon"] for i in owed), "total": len(owed),
                 "items": [i for i in owed if i["overdue"] or i["due_soon"]][:500]},
    }


@router.get("/live", summary="Server-sent events: each new projected event, as it lands",
            response_class=StreamingResponse)
async def live(request: Request, actor: CurrentActor) -> StreamingResponse:
    permit(actor, "read:live", actor.bureau)
    feed = request.app.state.live

    async def stream():
        yield sse("hello", {"position": await feed.position()})
        async for batch in feed.follow(request.is_disconnected):
            if batch is None:
                yield ": keep-alive\n\n"
                continue
            shown = [seen for e in batch["events"]
                     if (seen := event_for(actor, "read:live", e, e["bureaus"])) is not None]
            yield sse("events", {"position": batch["position"], "events": shown})

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/proposals/awaiting-assignment",
            summary="Open proposals with no active lead: to assign, or to assign again after a "
                    "return (coordinators and oversight roles)")
async def awaiting_assignment(
    request: Request, actor: CurrentActor, reporting: Reporting,
    years: Years,
) -> dict[str, Any]:
    permit(actor, "read:routing")
    await request.app.state.settle()
    items = await _in_thread(reporting.awaiting_assignment, _years(years))
    return {"years": list(_years(years)), "count": len(items), "items": items}


@router.get("/me", summary="Who the token says you are, and what this server takes")
async def me(request: Request, actor: CurrentActor) -> dict[str, Any]:
    """`commands` is whether this server decides commands (embedded) or only reports
    (the distributed reporting service): the page offers assigning only where it can."""
    permit(actor, "read:directory")
    return {**actor.model_dump(mode="json"), "commands": hasattr(request.app.state, "bus")}


@router.get("/assignments", summary="Open assignments: duties still owed, with due dates")
async def open_assignments(request: Request, actor: CurrentActor, reporting: Reporting,
                           clock: Clock, bureau: str | None = None) -> dict[str, Any]:
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    await request.app.state.settle()
    day = today(clock)
    items = await _in_thread(reporting.open_assignments, bureau, day)
    return {"bureau": bureau, "today": day.isoformat(), "items": items,
            "overdue": sum(i["overdue"] for i in items),
            "due_soon": sum(i["due_soon"] for i in items)}


@router.get("/bureaus/{bureau}/assignments", summary="One bureau's open assignments")
async def bureau_assignments(bureau: str, request: Request, actor: CurrentActor,
                             reporting: Reporting, clock: Clock) -> dict[str, Any]:
    return await open_assignments(request, actor, reporting, clock, bureau)


@router.get("/proposals/{proposal_id}/history",
            summary="Every event of a proposal, with both clocks, actor and command")
async def history(proposal_id: ProposalPath, request: Request, actor: CurrentActor,
                  reporting: Reporting) -> dict[str, Any]:
    permit(actor, "read:proposal", actor.bureau)
    await request.app.state.settle()
    rows = await _in_thread(reporting.history, proposal_id)
    if not rows:
        raise not_found(proposal_id)
    bureaus = await _proposal_bureaus(actor, reporting, proposal_id)
    events = [seen for row in rows
              if (seen := event_for(actor, "read:proposal", _event_row(row), bureaus))
              is not None]
    return {"proposal_id": proposal_id, "events": events}


async def _proposal_bureaus(actor, reporting: Any, proposal_id: str) -> set[str]:
    """The bureaus with a duty on the proposal, where the actor's reach depends on them: a 403
    for a clerk whose bureau has none (the proposal exists: the caller checked)."""
    if reach(actor, "read:proposal") == "all":
        return set()
    bureaus = await _in_thread(reporting.bureaus_of, proposal_id)
    if actor.bureau not in bureaus:
        raise forbid(f"{actor.bureau} 未承办 {proposal_id}",
                     f"{actor.bureau} has no assignment on {proposal_id}")
    return bureaus


def _event_row(row: dict[str, Any]) -> dict[str, Any]:
    data = json.loads(row["data"])
    return {
        "bureau": row["bureau"] or None,
        "position": row["position"], "seq": row["seq"], "event_id": row["event_id"],
        "type": row["type"], "schema_version": row["schema_version"],
        "occurred_at": data["occurred_at"], "recorded_at": data["recorded_at"],
        "actor": data["actor"], "command_id": row["command_id"],
        "data": {k: v for k, v in data.items() if k not in (
            "event_id", "proposal_id", "seq", "type", "schema_version", "occurred_at",
            "recorded_at", "actor", "command_id")},
    }


@router.get("/bureaus", summary="Registered bureaus")
async def bureaus(request: Request, actor: CurrentActor, reporting: Reporting) -> dict[str, Any]:
    permit(actor, "read:directory")
    await request.app.state.settle()
    return {"bureaus": await _in_thread(reporting.bureau_names)}


@router.get("/status", summary="The log's head, the projections' position and their counts")
async def status(request: Request, actor: CurrentActor) -> dict[str, Any]:
    permit(actor, "read:directory")
    return await request.app.state.status()


@router.get("/proposals/{proposal_id}", summary="A proposal's current state")
async def proposal_state(proposal_id: ProposalPath, request: Request, actor: CurrentActor) -> dict[str, Any]:
    permit(actor, "read:proposal", actor.bureau)
    state = await request.app.state.states(proposal_id)
    if not isinstance(state, Proposal):
        raise not_found(proposal_id)
    data = state.model_dump(mode="json")
    if reach(actor, "read:proposal") != "all":
        if actor.bureau not in state.assignments:
            raise forbid(f"{actor.bureau} 未承办 {proposal_id}",
                         f"{actor.bureau} has no assignment on {proposal_id}")
        data["assignments"] = {actor.bureau: data["assignments"][actor.bureau]}
    return data


@router.post("/admin/replay", status_code=202,
             summary="Rebuild every projection from the log and swap it in (admins)")
async def start_replay(request: Request, actor: CurrentActor) -> dict[str, Any]:
    permit(actor, "admin")
    replayer = request.app.state.replayer
    if not replayer.start():
        raise HTTPException(409, detail={"code": "replay_running", "message": "重建正在进行",
                                         "message_en": "a replay is already running"})
    return replayer.progress.as_dict()


@router.get("/admin/replay", summary="Progress of the last replay")
async def replay_progress(request: Request, actor: CurrentActor) -> dict[str, Any]:
    permit(actor, "admin")
    return request.app.state.replayer.progress.as_dict()


# --- routing lineage and misrouting (issue 6) ------------------------------------------------
@router.get("/proposals/{proposal_id}/lineage",
            summary="A proposal's routing lineage: each assignment, return and reassignment, "
                    "with both clocks, its actor and the days an ended duty was held")
async def proposal_lineage(proposal_id: ProposalPath, request: Request, actor: CurrentActor,
                           reporting: Reporting) -> dict[str, Any]:
    permit(actor, "read:proposal", actor.bureau)
    await request.app.state.settle()
    steps = await _in_thread(routing.lineage, reporting, proposal_id)
    if steps is None:
        raise not_found(proposal_id)
    if reach(actor, "read:proposal") != "all":  # its own bureau's coming in and going out
        await _proposal_bureaus(actor, reporting, proposal_id)
        steps = [s.model_copy(update={
            "started": tuple(d for d in s.started if d.bureau == actor.bureau),
            "ended": tuple(d for d in s.ended if d.bureau == actor.bureau)}) for s in steps]
        steps = [s for s in steps if s.started or s.ended]
    return {"proposal_id": proposal_id, "steps": [s.model_dump(mode="json") for s in steps]}


@router.get("/misrouting",
            summary="Days lost to misrouting per bureau: assignments returned or removed "
                    "unhandled, and the days from their assignment to their end")
async def misrouting(
    request: Request, actor: CurrentActor, reporting: Reporting,
    years: Years,
    as_of: BusinessDate,
    bureau: Annotated[str | None, Query(description="one bureau (a clerk: its own, the "
                                                    "default); every bureau without it")] = None,
) -> dict[str, Any]:
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    check_dates(as_of)
    span = _years(years)
    await request.app.state.settle()
    rows = await _in_thread(routing.misrouting, reporting, span, as_of, bureau)
    names = await _in_thread(reporting.bureau_names)
    return {
        "scope": {"bureau": bureau, "years": list(span), "as_of": as_of.isoformat()},
        "definition": "误交办：在答复或会办意见之前被退回或被调整移出的交办；"
                      "耽误天数为交办之日至退回或移出之日",
        "definition_en": "misrouted: an assignment returned by its bureau, or removed by a "
                         "reassignment, before any reply or opinion; days lost run from its "
                         "assignment to that end",
        "bureaus": [{**m.model_dump(), "name": names.get(m.bureau, {}).get("name", ""),
                     "name_en": names.get(m.bureau, {}).get("name_en", "")} for m in rows],
        "total": {"bounced": sum(m.bounced for m in rows),
                  "days_lost": sum(m.days_lost for m in rows)},
    }
