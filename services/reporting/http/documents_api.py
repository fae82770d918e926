"""reporting's HTTP API for year-end documents: the statistical parts of a bureau's year-end
report as DOCX, HTML or Markdown (banli.documents), counted from the projections."""
from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Response
from starlette.concurrency import run_in_threadpool

from banli.documents import (ATTACHMENT_FORMATS, FORMATS, MEDIA_TYPES, SourceMismatch,
                             build_bundle, content_disposition, render, store_source)
from banli.domain.deadlines import PROFILES, get_profile
from banli.domain.types import Kind, Level
from banli.web.deps import CurrentActor, permit
from banli.web.schemas import READ, action, errors

from ..projections import lineage
from .deps import Reporting
from .params import AllBureaus, AuditClock, BusinessDate, ProfileName, ScopeBureau

router = APIRouter(prefix="/api", tags=["reporting"], responses=READ)


MAX_TERM_YEARS = 10  # the since-term section's years at most (two terms)


def _unprocessable(code: str, message: str, message_en: str) -> HTTPException:
    return HTTPException(422, detail={"code": code, "message": message, "message_en": message_en})


@router.get(
    "/report/document", response_class=Response,
    summary="The year-end document (DOCX, HTML or Markdown; its attachment as XLSX), as a download",
    description="The year's counts and rates, the since-term section, the disclosure review and "
                "the year's lead items, in the manner of a bureau's year-end report (GB/T 9704 "
                "conventions in the DOCX); `format=xlsx` gives the attachment (the year's lead "
                "items) as a spreadsheet after the year's numbers. The same numbers as "
                "`/api/report`; a clerk reads its own bureau only.",
    openapi_extra=action("read:report"),
    responses={200: {"content": {MEDIA_TYPES[f].split(";")[0]: {"schema": {
                   "type": "string", "format": "binary"}}
                   for f in FORMATS + ATTACHMENT_FORMATS}},
               **errors(503, e503="the projections moved while being read (`moving`): try "
                                  "again")})
async def report_document(
    actor: CurrentActor, reporting: Reporting,
    year: Annotated[int, Query(ge=1949, le=2199, description="the document's year")],
    as_of: BusinessDate,
    format: Literal["docx", "html", "md", "xlsx"] = "docx",
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
                                            description="发文字号, e.g. 沪知局〔2020〕118号")] = None,
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
        # a term is five years; a "since the term began" section over centuries is no document
        # anyone reads, and each of its years is a report to count (a request costing minutes)
        raise _unprocessable("bad_term", f"届起始年度须在报告年度前 {MAX_TERM_YEARS} 年以内",
                             f"the term starts within {MAX_TERM_YEARS} years before the year")
    rules = get_profile(profile)

    def build() -> tuple[bytes, str]:
        # the misrouting query has no audit clock: an audit document leaves that section out
        misrouted = None if recorded_by is not None else (
            lambda scope: lineage.misrouting(reporting, scope.years, scope.as_of, scope.bureau))
        bundle = build_bundle(store_source(reporting, rules, recorded_by, misrouted),
                              bureau=bureau,
                              year=year, as_of=as_of, profile=rules, term_start=term_start,
                              level=level, kind=kind, recorded_by=recorded_by,
                              doc_number=doc_number, attempts=3)
        return render(bundle, format, lang), content_disposition(bundle, format, lang)

    try:
        # chDB calls block: the queries and the rendering run in a worker thread
        body, disposition = await run_in_threadpool(build)
    except SourceMismatch as exc:
        raise HTTPException(503, detail={
            "code": "moving", "message": "统计数据正在更新，请稍后重试",
            "message_en": f"the projections moved while being read ({exc}); try again"}) from None
    except ValueError as exc:  # a scope build_bundle refuses (e.g. a term before 1949)
        raise _unprocessable("bad_scope", "报告范围无效", str(exc)) from None
    return Response(body, media_type=MEDIA_TYPES[format],
                    headers={"Content-Disposition": disposition})
