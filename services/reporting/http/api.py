"""reporting's HTTP API: the report, open assignments, a proposal's full history, bureaus."""
from __future__ import annotations

import json
import time
from datetime import date, datetime
from functools import partial
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import PlainTextResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from banli.domain.timing.deadlines import PROFILES, get_profile
from banli.domain.views.due_list import urgent as urgent_only
from banli.domain.views.duty_row import answered_on
from banli.domain.views.lists import LISTS, columns_of, league_order, measure_columns
from banli.domain.views.rates import ITEM_MEASURES, MEASURES, RATE_MEASURES, Report, Scope, select
from banli.domain.types import SHANGHAI, Actor, Kind, Level
from banli.domain.wording import numbered
from banli.report_text import render_text
from banli.domain.proposal import Proposal
from banli.domain.views.routing_lineage import STEP_EVENTS
from banli.web.commands import not_found
from banli.domain.permissions import allowed, event_for, proposal_for, reach, vantage
from banli.eventlog import Stored
from banli.web.deps import (Clock, CurrentActor, CurrentSession, ProposalPath, bad_token,
                            own_bureau, permit, permit_any, today)
from banli.web.schemas import READ, action, errors

from ..projections import lineage as routing
from . import exports
from . import schemas as out
from .answer_cache import Same
from .deps import Cosigned, Dashboards, Live, Replay, Reporting, States, Stream, readable
from .exports import XLSX_RESPONSE, Format, Lang
from .live import LiveFeed, parties_of, sse
from .params import (AllBureaus, AuditClock, BureauQuery, BusinessDate, MeasureName,
                     OptionalDate, OptionalYears, ProfileName, ScopeBureau, Urgent, Years)
from ..projections.projector import bureau_of
from ..projections.store import ReportingStore

router = APIRouter(prefix="/api", tags=["reporting"], responses=READ)


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


def _audit_clock(recorded_by: datetime | None) -> datetime | None:
    """The audit clock, read in Shanghai time where it names no zone (as the page sends it)."""
    if recorded_by is not None and recorded_by.tzinfo is None:
        return recorded_by.replace(tzinfo=SHANGHAI)
    return recorded_by


# chDB calls block: every store call runs in a worker thread, off the event loop.
_in_thread = run_in_threadpool




class ReportQuery:
    """The scope, profile and audit clock of a report, checked; shared by every report route."""

    def __init__(
        self, actor: CurrentActor,
        years: Years,
        as_of: BusinessDate,
        bureau: ScopeBureau = None,
        all: AllBureaus = False,
        level: Level | None = None, kind: Kind | None = None,
        profile: ProfileName = "default",
        recorded_by: AuditClock = None,
    ):
        if all == (bureau is not None):
            raise HTTPException(422, detail={"code": "bad_scope", "message": "请指定 bureau 或 all=true",
                                             "message_en": "give either bureau or all=true"})
        permit(actor, "read:report", bureau)
        if profile not in PROFILES:
            raise HTTPException(422, detail={"code": "bad_profile", "message": f"未知口径 {profile}",
                                             "message_en": f"unknown profile {profile}"})
        self.actor = actor
        self.scope = Scope(bureau=bureau, years=_years(years), as_of=as_of, level=level, kind=kind)
        self.profile = get_profile(profile)
        self.recorded_by = _audit_clock(recorded_by)

    def year_before(self) -> Scope:
        """The same scope a year earlier: last year's items as of the same day of last year."""
        (y1, y2), day = self.scope.years, self.scope.as_of
        try:
            earlier = day.replace(year=day.year - 1)
        except ValueError:  # 29 February
            earlier = day.replace(year=day.year - 1, day=28)
        return self.scope.model_copy(update={"years": (y1 - 1, y2 - 1), "as_of": earlier})


ReportParams = Annotated[ReportQuery, Depends()]


@router.get("/report", summary="The year-end report (the same JSON as `banli report`)",
            response_model=Report, openapi_extra=action("read:report"),
            responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                             "description": "the report (JSON; `format=text`: as text)"}})
async def report(q: ReportParams, reporting: Reporting, format: Literal["json", "text"] = "json",
                 lang: Literal["zh", "en"] = "zh") -> Report | PlainTextResponse:
    result = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
    if format == "text":
        names = await _in_thread(reporting.bureau_names, q.scope.as_of)  # as named then
        name = names.get(q.scope.bureau or "", {}).get("name" if lang == "zh" else "name_en")
        return PlainTextResponse(render_text(result, name, lang))
    return result


@router.get("/items", summary="The items behind one number or rate of the report",
            response_model=out.Items, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def items(q: ReportParams, reporting: Reporting, measure: MeasureName,
                format: Format = "json", lang: Lang = "zh") -> out.Items | Response:
    if measure not in MEASURES and measure not in RATE_MEASURES and measure not in ITEM_MEASURES:
        raise HTTPException(422, detail={
            "code": "bad_measure", "message": f"未知指标 {measure}",
            "message_en": f"unknown measure {measure}; one of "
                          f"{', '.join([*MEASURES, *RATE_MEASURES, *ITEM_MEASURES])}"})
    chosen = numbered([{**i, "answered_on": answered_on(i)} for i in select(
        await _in_thread(reporting.items, q.scope, q.profile, q.recorded_by), measure)])
    rate = measure in RATE_MEASURES
    shown = measure_columns(measure)
    if format == "xlsx":
        report = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
        return exports.xlsx(f"banli-{measure}", exports.measure_title(measure, rate),
                            columns_of("items", shown), chosen, lang,
                            await _in_thread(reporting.bureau_names), report)
    return out.Items(measure=measure, count=len(chosen), items=chosen, columns=list(shown),
                     counted=sum(i["counted"] for i in chosen) if rate else None)


@router.get("/entries", summary="The bureaus' records behind the report's `entries`: entered "
                                "late, imported, on time, or all of them",
            response_model=out.EntryList, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def entries(q: ReportParams, reporting: Reporting,
                  which: Literal["late", "imported", "on_time", "all"] = "late",
                  format: Format = "json",
                  lang: Lang = "zh") -> out.EntryList | Response:
    records = await _in_thread(reporting.entries, q.scope, q.recorded_by)
    chosen = [r for r in records if which == "all" or r["entry"] == which]
    if format == "xlsx":
        report = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
        return exports.xlsx(f"banli-entries-{which}", ("办理记录", "Records"), LISTS["entries"],
                            chosen, lang, await _in_thread(reporting.bureau_names), report)
    return out.EntryList(which=which, count=len(chosen), items=chosen,
                         late_after_working_days=reporting.late_entry_working_days)


@router.get("/league", summary="One report per bureau (a clerk sees its own bureau's only)",
            response_model=out.League, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def league(q: ReportParams, reporting: Reporting, format: Format = "json",
                 lang: Lang = "zh") -> out.League | Response:
    table = await _league(q, reporting, q.scope)
    if format == "xlsx":
        lost = await _misrouting(q, reporting)
        return exports.xlsx("banli-league", ("承办单位排行", "Bureaus"), LISTS["league"],
                            exports.league_rows(table, lost), lang,
                            await _in_thread(reporting.bureau_names))
    return out.League(bureaus=table)


async def _league(q: ReportQuery, reporting: ReportingStore, scope: Scope) -> dict[str, Report]:
    """One report per bureau the reader may read, in the league's order."""
    table = {b: r for b, r in (await _in_thread(reporting.league, scope, q.profile,
                                                 q.recorded_by)).items()
             if allowed(q.actor, "read:report", b)}
    return {b: table[b] for b in league_order({b: r.rates["on_time_reply"]
                                               for b, r in table.items()})}


async def _misrouting(q: ReportQuery, reporting: ReportingStore) -> list[Any]:
    """Days lost to misrouting in the board's scope and clocks, per bureau the reader reads."""
    s = q.scope
    lost = await _in_thread(routing.misrouting, reporting, s.years, s.as_of, None,
                            q.recorded_by, s.kind, s.level)
    return [m for m in lost if allowed(q.actor, "read:report", m.bureau)]


# What of the viewer the dashboard reads (its filters below): the key of a kept answer holds it.
DASHBOARD_SIGHT = ("read:report", "read:live")


@router.get("/dashboard", summary="Everything the oversight page shows, in one answer",
            response_model=out.Dashboard, openapi_extra=action("read:report"))
async def dashboard(q: ReportParams, reporting: Reporting, clock: Clock,
                    feed: Live, cosign: Cosigned, answers: Dashboards) -> Response:
    """Computed once per key and projected position, however many ask (answer_cache.py), and
    kept as the JSON it is sent as: a kept answer costs the event loop no validation and no
    encoding (out.Dashboard, as FastAPI would send it)."""
    day = today(clock)

    async def compute() -> bytes:
        return await _dashboard(q, reporting, feed, cosign, day)

    if answers is None:
        body = await compute()
    else:
        body = await answers.get((q.scope, q.profile.name, q.recorded_by, day, cosign,
                                  vantage(q.actor, DASHBOARD_SIGHT), Same(reporting.calendar())),
                                 compute)
    return Response(body, media_type="application/json")


async def _dashboard(q: ReportQuery, reporting: ReportingStore, feed: LiveFeed, cosign: bool,
                     day: date) -> bytes:
    report_now = await _in_thread(reporting.report, q.scope, q.profile, q.recorded_by)
    before = await _in_thread(reporting.report, q.year_before(), q.profile, q.recorded_by)
    bureau = own_bureau(q.actor, "read:report", q.scope.bureau)
    owed = await _in_thread(reporting.owed, q.scope.model_copy(update={"bureau": bureau}),
                            q.recorded_by)
    lost = await _misrouting(q, reporting)
    position = await feed.position()
    recent = await feed.recent(lambda event: event_for(q.actor, "read:live", event,
                                                       parties_of(event, cosign)))
    league = await _league(q, reporting, q.scope)
    bureaus = await _in_thread(reporting.bureau_names, q.scope.as_of)

    def encoded() -> bytes:  # in a worker thread: the answer is large (up to 500 items)
        return out.Dashboard(
            today=day, position=position,
            misrouting={m.bureau: out.Misrouted(bounced=m.bounced, days_lost=m.days_lost)
                        for m in lost},
            recent=recent, report=report_now, previous=before, league=league, bureaus=bureaus,
            open=out.Owed(overdue=sum(i["overdue"] for i in owed),
                          due_soon=sum(i["due_soon"] for i in owed), total=len(owed),
                          items=urgent_only(owed)[:500])).model_dump_json(by_alias=True).encode()

    return await _in_thread(encoded)


def _shown(actor: Actor, batch: dict[str, Any], cosign: bool) -> str:
    """A live batch's frame as `actor` (and everyone of its audience) may read it."""
    return sse("events", {"position": batch["position"], "events": [
        seen for e in batch["events"]
        if (seen := event_for(actor, "read:live", e, parties_of(e, cosign))) is not None]})


STOPPING = {"code": "server_stopping", "message": "服务正在停止，稍后自动重连",
            "message_en": "the server is stopping; connect again later"}


@router.get("/live", summary="Server-sent events: each new projected event, as it lands",
            response_class=StreamingResponse, openapi_extra=action("read:live"),
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "`hello`, then `events` batches and keep-alives; "
                                            "`end` (`code`, `message`, `message_en`) before it "
                                            "closes: `bad_token` once the token has expired "
                                            "or been revoked (asked again before each batch "
                                            "and at least every BANLI_LIVE_RECHECK_S), "
                                            "`server_stopping`"}})
async def live(request: Request, session: CurrentSession, feed: Live,
               cosign: Cosigned) -> StreamingResponse:
    """Each reader sees the events of the proposals it may know of, as event_for shows them
    (a clerk: its bureau's; a filer: those they filed, never the internal records)."""
    actor = session.actor
    permit_any(actor, "read:live")
    heard = (vantage(actor, ("read:live",)), cosign)  # its readers are sent the same frames

    def wake() -> float:  # the next check: the recheck interval, or the token's expiry
        return min(feed.recheck, session.expires - time.time() + 0.05)

    async def stream():
        yield sse("hello", {"position": await feed.position()})
        quiet_since = time.monotonic()
        checked: list = []  # the last check of the token (Session.holds)
        async for batch in feed.follow(request.is_disconnected, wake):
            # before each batch if the key ring or a revocation changed; at each wake in full
            if (ended := await session.holds(checked, again=batch is None)) is not None:
                yield sse("end", bad_token(ended))
                return
            if batch is None:
                if time.monotonic() - quiet_since >= feed.keep_alive:
                    quiet_since = time.monotonic()
                    yield ": keep-alive\n\n"
                continue
            quiet_since = time.monotonic()
            yield batch.sent_to(heard, partial(_shown, actor, batch, cosign))
        if feed.closed:
            yield sse("end", STOPPING)

    return StreamingResponse(stream(), media_type="text/event-stream",
                             headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.get("/proposals/awaiting-assignment",
            summary="Open proposals with no active lead: to assign, or to assign again after a "
                    "return (coordinators and oversight roles)",
            response_model=out.Awaiting, openapi_extra=action("read:routing"),
            responses=XLSX_RESPONSE)
async def awaiting_assignment(actor: CurrentActor, reporting: Reporting, years: Years,
                              format: Format = "json", lang: Lang = "zh"
                              ) -> out.Awaiting | Response:
    permit(actor, "read:routing")
    span = _years(years)
    found = await _in_thread(reporting.awaiting_assignment, span)
    if format == "xlsx":
        return exports.xlsx("banli-awaiting", ("待交办", "Awaiting assignment"),
                            LISTS["awaiting"], found, lang, await _in_thread(reporting.bureau_names))
    return out.Awaiting(years=span, count=len(found), items=found)


@router.get("/assignments", summary="The deadlines list: duties owing a reply or an opinion, "
                                    "with due dates, as of a date (default today) in a scope",
            response_model=out.Assignments, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def open_assignments(actor: CurrentActor, reporting: Reporting, clock: Clock,
                           bureau: BureauQuery = None, urgent: Urgent = False,
                           years: OptionalYears = None, as_of: OptionalDate = None,
                           recorded_by: AuditClock = None, level: Level | None = None,
                           kind: Kind | None = None, format: Format = "json", lang: Lang = "zh"
                           ) -> out.Assignments | Response:
    """As the board scopes its numbers: the items of `years` (default all), of one `kind` or
    `level` where given, the duties as they stood on `as_of` (as recorded by `recorded_by`,
    the audit clock), days left counted to `as_of`."""
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    day = today(clock)
    scope = Scope(bureau=bureau, years=_years(years) if years else (1949, 2200),
                  as_of=as_of or day, level=level, kind=kind)
    audit = _audit_clock(recorded_by)
    found = await _in_thread(reporting.owed, scope, audit)
    if urgent:
        found = urgent_only(found)
    if format == "xlsx":
        return exports.xlsx(f"banli-owed-{scope.as_of.isoformat()}",
                            ("到期提醒", "Deadlines") if urgent else ("待办", "Owed"),
                            LISTS["owed"], found, lang, await _in_thread(reporting.bureau_names))
    return out.Assignments(bureau=bureau, today=day, as_of=scope.as_of, years=scope.years,
                           recorded_by=audit, items=found,
                           overdue=sum(i["overdue"] for i in found),
                           due_soon=sum(i["due_soon"] for i in found))


@router.get("/bureaus/{bureau}/assignments", summary="One bureau's deadlines list",
            response_model=out.Assignments, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def bureau_assignments(bureau: str, actor: CurrentActor, reporting: Reporting,
                             clock: Clock, urgent: Urgent = False,
                             years: OptionalYears = None, as_of: OptionalDate = None,
                             recorded_by: AuditClock = None, level: Level | None = None,
                             kind: Kind | None = None, format: Format = "json",
                             lang: Lang = "zh") -> out.Assignments | Response:
    return await open_assignments(actor, reporting, clock, bureau, urgent, years, as_of,
                                  recorded_by, level, kind, format, lang)


@router.get("/proposals/{proposal_id}/history",
            summary="Every event of a proposal, with both clocks, actor and command",
            response_model=out.History, openapi_extra=action("read:proposal"),
            responses=errors(404, e404="no such proposal (`unknown_proposal`)"))
def history(proposal_id: ProposalPath, actor: CurrentActor, stream: Stream,
            cosign: Cosigned) -> out.History:
    """The events the reader may see (banli.domain.permissions.event_for): oversight every
    one; a clerk its own duty's, the proposal's own, and what the workbench's rules let it read
    of the others' (a lead its co-handlers' opinions, a co-handler asked to sign off the
    lead's draft); a filer the handling, never the internal records. Read from the proposal's
    stream (ReportingPorts.stream: tens of events, one indexed read), not the projections; a
    plain function, so FastAPI runs it in a worker thread, off the event loop."""
    permit_any(actor, "read:proposal")
    stored, _, parties = readable(actor, stream, proposal_id, cosign)
    events = [seen for s in stored
              if (seen := event_for(actor, "read:proposal", _event_row(s), parties))
              is not None]
    return out.History(proposal_id=proposal_id, events=events)


def _event_row(stored: Stored) -> dict[str, Any]:
    """An event as the history shows it: the projected history row's (projector.project)
    columns, and its JSON's fields."""
    event = stored.event
    data = json.loads(stored.json or event.model_dump_json())
    return {
        "bureau": bureau_of(event) or None,
        "position": stored.position, "seq": event.seq, "event_id": event.event_id,
        "type": event.type, "schema_version": event.schema_version,
        "occurred_at": data["occurred_at"], "recorded_at": data["recorded_at"],
        "actor": data["actor"], "recorded_by": data.get("recorded_by"),
        "command_id": event.command_id,
        "data": {k: v for k, v in data.items() if k not in (
            "event_id", "proposal_id", "seq", "type", "schema_version", "occurred_at",
            "recorded_at", "actor", "recorded_by", "command_id")},
    }


@router.get("/bureaus", summary="Registered bureaus", response_model=out.Bureaus,
            openapi_extra=action("read:directory"))
async def bureaus(actor: CurrentActor, reporting: Reporting) -> out.Bureaus:
    permit(actor, "read:directory")
    return out.Bureaus(bureaus=await _in_thread(reporting.bureau_names))


@router.get("/proposals/{proposal_id}", summary="A proposal's current state",
            response_model=Proposal, openapi_extra=action("read:proposal"),
            responses=errors(404, e404="no such proposal (`unknown_proposal`)"))
async def proposal_state(proposal_id: ProposalPath, actor: CurrentActor,
                         states: States) -> Proposal:
    """The state as the reader may read it (banli.domain.permissions.proposal_for): a clerk
    with its own duty only, a filer without drafts, opinions, supervision or returns; one it
    may not know of is answered as unknown."""
    permit_any(actor, "read:proposal")
    state = await states(proposal_id)
    seen = proposal_for(actor, state) if isinstance(state, Proposal) else None
    if seen is None:
        raise not_found(proposal_id)
    return seen


@router.post("/admin/replay", status_code=202, response_model=out.ReplayProgress,
             summary="Rebuild every projection from the log and swap it in (admins)",
             openapi_extra=action("admin"),
             responses=errors(409, e409="a replay is already running (`replay_running`)"))
async def start_replay(actor: CurrentActor, replayer: Replay) -> dict[str, Any]:
    permit(actor, "admin")
    if not replayer.start():
        raise HTTPException(409, detail={"code": "replay_running", "message": "重建正在进行",
                                         "message_en": "a replay is already running"})
    return replayer.progress.as_dict()


@router.get("/admin/replay", summary="Progress of the last replay",
            response_model=out.ReplayProgress, openapi_extra=action("admin"))
async def replay_progress(actor: CurrentActor, replayer: Replay) -> dict[str, Any]:
    permit(actor, "admin")
    return replayer.progress.as_dict()


# --- routing lineage and misrouting (issue 6) ------------------------------------------------
@router.get("/proposals/{proposal_id}/lineage",
            summary="A proposal's routing lineage: each assignment, return and reassignment, "
                    "with both clocks, its actor and the days an ended duty was held",
            response_model=out.Lineage, openapi_extra=action("read:proposal"),
            responses=errors(404, e404="no such proposal (`unknown_proposal`)"))
async def proposal_lineage(proposal_id: ProposalPath, actor: CurrentActor,
                           reporting: Reporting, stream: Stream, cosign: Cosigned
                           ) -> out.Lineage:
    permit_any(actor, "read:proposal")
    _, _, parties = await _in_thread(readable, actor, stream, proposal_id, cosign)
    steps = await _in_thread(routing.lineage, reporting, proposal_id) or []
    found = reach(actor, "read:proposal")
    if found == "filed":  # the steps whose events the filer reads: no return
        steps = [s.model_copy(update={"ended": tuple(d for d in s.ended
                                                     if d.how != "returned")})
                 for s in steps if event_for(actor, "read:proposal", {
                     "type": STEP_EVENTS[s.action], "bureau": None}, parties) is not None]
    elif found != "all":  # its own bureau's coming in and going out
        steps = [s.model_copy(update={
            "started": tuple(d for d in s.started if d.bureau == actor.bureau),
            "ended": tuple(d for d in s.ended if d.bureau == actor.bureau)}) for s in steps]
        steps = [s for s in steps if s.started or s.ended]
    return out.Lineage(proposal_id=proposal_id, steps=steps)


@router.get("/misrouting",
            summary="Days lost to misrouting per bureau: assignments returned or removed "
                    "unhandled, and the days from their assignment to their end",
            response_model=out.Misrouting, openapi_extra=action("read:report"),
            responses=XLSX_RESPONSE)
async def misrouting(
    actor: CurrentActor, reporting: Reporting, years: Years, as_of: BusinessDate,
    bureau: BureauQuery = None, format: Format = "json", lang: Lang = "zh",
) -> out.Misrouting | Response:
    bureau = own_bureau(actor, "read:report", bureau)
    permit(actor, "read:report", bureau)
    span = _years(years)
    rows = await _in_thread(routing.misrouting, reporting, span, as_of, bureau)
    names = await _in_thread(reporting.bureau_names)
    if format == "xlsx":
        return exports.xlsx("banli-misrouting", ("误交办", "Misrouting"), LISTS["misrouting"],
                            [m.model_dump() for m in rows], lang, names)
    return out.Misrouting(
        scope=out.MisroutingScope(bureau=bureau, years=span, as_of=as_of),
        definition="误交办：在答复或会办意见之前被退回或被调整移出的交办；"
                   "耽误天数为交办之日至退回或移出之日",
        definition_en="misrouted: an assignment returned by its bureau, or removed by a "
                      "reassignment, before any reply or opinion; days lost run from its "
                      "assignment to that end",
        bureaus=[out.BureauMisrouted(**dict(m), name=names.get(m.bureau, {}).get("name", ""),
                                     name_en=names.get(m.bureau, {}).get("name_en", ""))
                 for m in rows],
        total=out.Misrouted(bounced=sum(m.bounced for m in rows),
                            days_lost=sum(m.days_lost for m in rows)))
