"""reporting's HTTP API for year-end documents: the statistical parts of a bureau's year-end
report as DOCX, HTML or Markdown (banli.documents), counted from the projections; beside it
its attachment (the year's lead items) and its evidence (the items and events behind each
figure) as spreadsheets."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from banli.documents import (ATTACHMENT_FORMATS, FORMATS, MAX_TERM_YEARS, MEDIA_TYPES,
                             SourceMismatch)
from banli.domain.timing.deadlines import PROFILES, get_profile
from banli.domain.types import Day, Kind, Level
from banli.web.deps import CurrentActor, permit
from banli.web.schemas import READ, action, errors

from ..documents import year_end_document
from .deps import Documents, Reporting
from .params import AllBureaus, AuditClock, BusinessDate, ProfileName, ScopeBureau

router = APIRouter(prefix="/api", tags=["reporting"], responses=READ)


def _unprocessable(code: str, message: str, message_en: str) -> HTTPException:
    return HTTPException(422, detail={"code": code, "message": message, "message_en": message_en})


@router.get(
    "/report/document", response_class=Response,
    summary="The year-end document (DOCX, HTML or Markdown), its attachment or its evidence "
            "(XLSX), as a download",
    description="The year's counts and rates, the since-term section, the disclosure review and "
                "the year's lead items, in the manner of a bureau's year-end report (GB/T 9704 "
                "conventions in the DOCX). Each figure of the DOCX and HTML links to the page's "
                "drill-down for exactly that number (README: the link format). `format=xlsx` "
                "gives the attachment (the year's lead items) as a spreadsheet after the year's "
                "numbers; `format=evidence` the evidence workbook: each figure, the items it "
                "counts and their events' ids. The same numbers as `/api/report`; a clerk reads "
                "its own bureau only.",
    openapi_extra=action("read:report"),
    responses={200: {"content": {MEDIA_TYPES[f].split(";")[0]: {"schema": {
                   "type": "string", "format": "binary"}}
                   for f in FORMATS + ATTACHMENT_FORMATS}},
               **errors(503, e503="the projections moved while being read (`moving`): try "
                                  "again")})
async def report_document(
    request: Request, actor: CurrentActor, reporting: Reporting, options: Documents,
    year: Annotated[int, Query(ge=1949, le=2199, description="the document's year")],
    as_of: BusinessDate,
    format: Literal["docx", "html", "md", "xlsx", "evidence"] = "docx",
    bureau: ScopeBureau = None,
    all: AllBureaus = False,
    term_start: Annotated[int | None, Query(
        ge=1949, le=2199, description="first year of the term (default: the congress term "
                                      "the year falls in, 2018–2022, 2023–2027, ...)")] = None,
    level: Level | None = None, kind: Kind | None = None,
    profile: ProfileName = "default",
    recorded_by: AuditClock = None,
    lang: Literal["zh", "en"] = "zh",
    doc_number: Annotated[str | None, Query(max_length=60,
                                            description="发文字号, e.g. 沪知局〔2020〕118号 "
                                                        "(left out when not given)")] = None,
    doc_date: Annotated[Day | None, Query(description="成文日期, the date the document is "
                                                      "signed (default: as_of)")] = None,
) -> Response:
    if all == (bureau is not None):
        raise _unprocessable("bad_scope", "请指定 bureau 或 all=true",
                             "give either bureau or all=true")
    permit(actor, "read:report", bureau)
    if profile not in PROFILES:
        raise _unprocessable("bad_profile", f"未知口径 {profile}", f"unknown profile {profile}")
    if term_start is not None and term_start > year:
        raise _unprocessable("bad_term", "届起始年度不能晚于报告年度",
                             "the term cannot start after the year")
    if term_start is not None and year - term_start >= MAX_TERM_YEARS:
        raise _unprocessable("bad_term", f"届起始年度至报告年度不能超过{MAX_TERM_YEARS}年",
                             f"a term is at most {MAX_TERM_YEARS} years")
    if doc_date is not None and doc_date < as_of:
        raise _unprocessable("inconsistent", "成文日期不能早于数据截至日期",
                             "the document cannot be dated before its data's as-of date")
    rules = get_profile(profile)
    base_url = options.public_url or str(request.base_url)

    try:
        # chDB calls block: the queries and the rendering run in a worker thread
        body, disposition = await run_in_threadpool(
            year_end_document, reporting, rules, format, lang, bureau=bureau, year=year,
            as_of=as_of, base_url=base_url, recorded_by=recorded_by, term_start=term_start,
            level=level, kind=kind, doc_number=doc_number, doc_date=doc_date,
            office=options.office)
    except SourceMismatch as exc:
        raise HTTPException(503, detail={
            "code": "moving", "message": "统计数据正在更新，请稍后重试",
            "message_en": f"the projections moved while being read ({exc}); try again"}) from None
    except ValueError as exc:  # a scope build_bundle refuses (e.g. a term before 1949)
        raise _unprocessable("bad_scope", "报告范围无效", str(exc)) from None
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": disposition})
