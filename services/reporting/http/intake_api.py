"""The office's review on the API (审查立案, issue 25): its report (`GET /api/intake/report`,
and as a document or workbook), the items behind each of its numbers, and the review queue the
desk shows (what awaits review, and what is back with its filer). The numbers are the kernel's
(banli.domain.views.intake_report), counted from the projections; the review's decisions are
commands (file_proposal, decline_filing, request_revision, merge, resubmit: their routes come
from the registry)."""
from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from banli.documents.intake import (INTAKE_FORMATS, MEDIA_TYPES, intake_filename,
                                    render_intake, render_letter, review_letter, workbook)
from banli.domain.timing.deadlines import PROFILES, Area, Profile, get_profile
from banli.domain.events import ProposalMerged
from banli.domain.types import SHANGHAI, Kind, Level
from banli.domain.views.filed import filed_item
from banli.domain.views.intake_report import (MEASURES, IntakeReport, IntakeScope, areas_of,
                                              measures_for, select)
from banli.domain.wording import item_number, numbered
from banli.web.deps import (Clock, CurrentActor, ProposalPath, permit, permit_any,
                            today as today_of)
from banli.web.schemas import READ, action

from . import schemas as out
from .deps import Cosigned, Documents, Reporting, ServerProfile, Stream, readable
from .exports import XLSX_RESPONSE, Format, Lang
from .params import AuditClock, BusinessDate, ProfileName, Years

router = APIRouter(prefix="/api", tags=["intake review"], responses=READ)


def _years(text: str) -> tuple[int, int]:
    first, _, last = text.partition("-")
    years = (int(first), int(last or first))
    if years[0] > years[1]:
        raise HTTPException(422, detail={"code": "bad_years", "message": "年度格式为 Y 或 Y1-Y2",
                                         "message_en": "years are Y or Y1-Y2"})
    return years


class IntakeQuery:
    """The office report's scope (years of the proposals, as of a business date, optional kind
    and level), the profile of the handling figures beside it, and the audit clock; the areas
    and the review's clock are the server's (BANLI_AREAS, BANLI_PROFILE)."""

    def __init__(self, actor: CurrentActor, server: ServerProfile, years: Years,
                 as_of: BusinessDate, level: Level | None = None, kind: Kind | None = None,
                 profile: ProfileName = "default", recorded_by: AuditClock = None):
        permit(actor, "read:intake")
        if profile not in PROFILES:
            raise HTTPException(422, detail={"code": "bad_profile", "message": f"未知口径 {profile}",
                                             "message_en": f"unknown profile {profile}"})
        if recorded_by is not None and recorded_by.tzinfo is None:
            recorded_by = recorded_by.replace(tzinfo=SHANGHAI)
        self.scope = IntakeScope(years=_years(years), as_of=as_of, level=level, kind=kind,
                                 profile=profile)
        self.profile: Profile = get_profile(profile).model_copy(update={
            "areas": server.areas, "areas_by_year": server.areas_by_year,
            "intake_review_working_days": server.intake_review_working_days})
        self.recorded_by = recorded_by

    def areas(self) -> list[Area]:
        return areas_of(self.profile, self.scope.years)


IntakeParams = Annotated[IntakeQuery, Depends()]


async def _report(q: IntakeQuery, reporting: Reporting) -> IntakeReport:
    return await run_in_threadpool(reporting.intake_report, q.scope, q.profile, q.recorded_by)


@router.get("/intake/report", summary="The office's report (审查立案情况): received, filed, "
                                      "merged, not filed, returned; members' against collective "
                                      "proposals; by area with shares to one decimal; the "
                                      "review's timeliness; the handling figures beside them",
            response_model=IntakeReport, openapi_extra=action("read:intake"))
async def intake_report(q: IntakeParams, reporting: Reporting) -> IntakeReport:
    return await _report(q, reporting)


DocumentFormat = Annotated[Literal["docx", "html", "md", "text", "xlsx"], Query(
    description="the document (DOCX, printable HTML, Markdown, plain text) or the workbook (the "
                "figures, then every item with where its review stands)")]


@router.get("/intake/report/document", summary="The office's report as a document or workbook",
            openapi_extra=action("read:intake"),
            responses={200: {"content": {m: {"schema": {"type": "string", "format": "binary"}}
                                         for m in sorted(set(MEDIA_TYPES.values()))},
                             "description": "the document, as an attachment"}})
async def intake_document(request: Request, q: IntakeParams, reporting: Reporting,
                          documents: Documents, format: DocumentFormat = "docx",
                          lang: Lang = "zh",
                          doc_number: Annotated[str | None, Query(max_length=100)] = None,
                          doc_date: date | None = None) -> Response:
    assert format in INTAKE_FORMATS
    report = await _report(q, reporting)
    base = documents.public_url or str(request.base_url)
    if format == "xlsx":
        items = numbered(await run_in_threadpool(reporting.intake_items, q.scope,
                                                 q.recorded_by))
        body = workbook(report, items, lang)
    else:
        body = render_intake(report, format, lang, base, documents.office, doc_number, doc_date)
    name = intake_filename(report, format, lang)
    ascii_name = intake_filename(report, format, "en")
    return Response(body, media_type=MEDIA_TYPES[format], headers={
        "Content-Disposition": f"attachment; filename=\"{ascii_name}\"; "
                               f"filename*=UTF-8''{quote(name, safe='')}"})


class IntakeItems(BaseModel):
    """The items behind one number of the office's report (`count` of them); for the review's
    timeliness, its denominator's, each `counted` when on time."""

    measure: str
    count: int
    items: list[out.IntakeItem]
    counted: int | None = None


# The report's own measures, and an area's (`area.<code>`: which codes a year has is the
# profile's, so an unknown one is refused by the route, `bad_measure`).
_MEASURE_PATTERN = ("^(" + "|".join(re.escape(m) for m in (*MEASURES, "review_timeliness"))
                    + r"|area\.[a-z][a-z0-9_]{0,31})$")
IntakeMeasure = Annotated[str, Query(description="a number of the office's report (`received`, "
                                                 "`filed`, `merged`, `not_filed`, `members`, "
                                                 "`collective.party`, `area.economy`, "
                                                 "`review_overdue` ...) or `review_timeliness`",
                                     pattern=_MEASURE_PATTERN, max_length=64)]


@router.get("/intake/items", summary="The items behind one number of the office's report",
            response_model=IntakeItems, openapi_extra=action("read:intake"),
            responses=XLSX_RESPONSE)
async def intake_items(q: IntakeParams, reporting: Reporting, measure: IntakeMeasure,
                       format: Format = "json", lang: Lang = "zh") -> IntakeItems | Response:
    known = measures_for(q.areas())
    if measure not in known and measure != "review_timeliness":
        raise HTTPException(422, detail={
            "code": "bad_measure", "message": f"未知指标 {measure}",
            "message_en": f"unknown measure {measure}; one of "
                          f"{', '.join([*known, 'review_timeliness'])}"})
    items = await run_in_threadpool(reporting.intake_items, q.scope, q.recorded_by)
    chosen = numbered(select(items, measure, q.areas()))
    if format == "xlsx":
        report = await _report(q, reporting)
        return Response(workbook(report, chosen, lang), media_type=MEDIA_TYPES["xlsx"], headers={
            "Content-Disposition": f"attachment; filename=\"banli-intake-{measure}.xlsx\""})
    return IntakeItems(measure=measure, count=len(chosen), items=chosen,
                       counted=sum(i["counted"] for i in chosen)
                       if measure == "review_timeliness" else None)


class ReviewQueue(BaseModel):
    """What the office's review has on hand: proposals awaiting review (`pending`, each with its
    review's due date and whether it is overdue) and those returned to their filers for
    revision (`returned`), oldest receipt first; the areas a filing may name, per year."""

    today: date
    pending: list[out.IntakeItem]
    returned: list[out.IntakeItem]
    areas: dict[int, list[Area]]


@router.get("/intake/queue", summary="The review queue (待审查): proposals awaiting the office's "
                                     "review, and those returned to their filers",
            response_model=ReviewQueue, openapi_extra=action("read:intake"))
async def review_queue(actor: CurrentActor, reporting: Reporting, server: ServerProfile,
                       clock: Clock) -> ReviewQueue:
    permit(actor, "read:intake")
    today = today_of(clock)  # the server's business date
    scope = IntakeScope(years=(1949, 2200), as_of=today, profile=server.name)
    items = numbered(await run_in_threadpool(reporting.intake_items, scope, None, True))
    items.sort(key=lambda i: (i["received_on"], i["proposal_id"]))
    years = sorted({i["year"] for i in items} | {today.year})
    return ReviewQueue(today=today, pending=[i for i in items if i["review"] == "pending"],
                       returned=[i for i in items if i["review"] == "returned"],
                       areas={year: list(server.areas_of(year)) for year in years})


LetterFormat = Annotated[Literal["docx", "html", "md"], Query(
    description="the letter as DOCX (Word, WPS), printable HTML or Markdown")]


@router.get("/proposals/{proposal_id}/review-letter",
            summary="The review's letter to a proposal's filers (一件一函): filed and to whom "
                    "assigned, merged into which, not filed and passed on to whom, returned for "
                    "revision and why, or under review until when",
            openapi_extra=action("read:proposal"),
            responses={200: {"content": {MEDIA_TYPES[f]: {"schema": {"type": "string",
                                                                      "format": "binary"}}
                                         for f in ("docx", "html", "md")},
                             "description": "the letter, as an attachment"},
                       404: {"description": "unknown, or not yours to read"}})
async def review_letter_download(proposal_id: ProposalPath, actor: CurrentActor,
                                 reporting: Reporting, stream: Stream, cosign: Cosigned,
                                 server: ServerProfile,
                                 documents: Documents, format: LetterFormat = "docx",
                                 lang: Lang = "zh") -> Response:
    """Whoever reads the proposal (its filers, oversight, the bureaus handling it) may download
    its letter; anyone else is answered as for an id never used."""
    permit_any(actor, "read:proposal")
    stored, state, _ = await run_in_threadpool(readable, actor, stream, proposal_id, cosign)
    events = [s.event for s in stored]
    targets = [ev.into for ev in events if isinstance(ev, ProposalMerged)]
    found = await run_in_threadpool(reporting.numbers, targets) if targets else {}
    item = filed_item(events, {pid: item_number(r["kind"], r["level"], r["year"], r["number"],
                                                True) for pid, r in found.items()})
    assert item is not None  # readable() found a proposal
    names = await run_in_threadpool(reporting.bureau_names)
    blocks = review_letter(item, {b: (n["name"], n["name_en"]) for b, n in names.items()},
                           {a.code: (a.zh, a.en) for a in server.areas_of(state.year)}, lang,
                           documents.office)
    name = (f"{item.display}审查情况的函.{format}" if lang == "zh"
            else f"review-letter-{proposal_id}.{format}")
    return Response(render_letter(blocks, format, lang), media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition":
                             f"attachment; filename=\"banli-review-letter.{format}\"; "
                             f"filename*=UTF-8''{quote(name, safe='')}"})
