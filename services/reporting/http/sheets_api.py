"""Spreadsheets in (banli.sheets): an assignment list (交办清单) or a bureau's reply list is
uploaded, previewed (what each row will send, every row that will be refused and why), and then
committed: exactly the previewed commands are sent, in order, as the uploading user.

- `POST /api/sheets/assignments` (coordinators, importers, admins) and
  `POST /api/sheets/replies?bureau=…` (a clerk its own bureau's; importers, admins): the file as
  the body; the answer is the preview's first page with its `preview_id`;
- `GET /api/sheets/{preview_id}?offset=&limit=&status=`: a page of the preview's rows;
- `POST /api/sheets/{preview_id}/commit`: its commands sent; what each row became.

An upload is untrusted: the file is read in a child process within the bounds of
banli.sheets.limits (banli.sheets.isolate), at most `parallel` at once and `queue` more waiting
(the waiting take no thread); past that, and for a wait longer than the reading timeout, 503
`busy` with Retry-After. So uploads can neither hang a thread nor take Starlette's threadpool
from the other routes. A file past a bound is 413 `sheet_too_large` naming it.

A preview is kept in the process for an hour, for its uploader only (the page's upload and
commit go to the same server): at most `previews_per_user` per uploader (their own oldest go
first: one uploader never evicts another's) and `previews_mb` in all (past that, 503
`previews_full` until some expire or are committed). It is kept as each row's JSON, so a page
of it costs what the page holds. Previews read what the process knows: the event store in the
embedded system, the projections in the reporting service."""
from __future__ import annotations

import time
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool

from banli.domain.commands import actor_key
from banli.domain.registry import parse_command
from banli.domain.rejections import Rejection
from banli.domain.types import Actor, Day
from banli.sheets import SheetError
from banli.sheets.commit import row_commands, summary
from banli.sheets.limits import SheetLimits, too_large
from banli.sheets.preview import Preview, Status
from banli.sheets.read import parse_mapping
from banli.sheets.records import Records, preview_sheet
from banli.web.deps import Bus, CurrentActor, not_served, own_bureau, permit
from banli.web.schemas import READ, action, errors

from .deps import Served
from .previews import Busy, Kept, PreviewBook, PreviewsFull
from .params import BureauQuery

router = APIRouter(prefix="/api/sheets", tags=["sheets"], responses=READ)

SHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.oasis.opendocument.spreadsheet": "ods",
    "application/octet-stream": "any of them",
}
_UPLOAD = {"requestBody": {"required": True, "description": "the spreadsheet file (.xlsx, .xls, "
                                                            ".ods), as it is",
                           "content": {t: {"schema": {"type": "string", "format": "binary"}}
                                       for t in SHEET_TYPES}}}
KEEP_S = 3600
PAGE = 100           # rows in a page of a preview, unless asked otherwise
MAX_PAGE = 500
RETRY_AFTER_S = 5


# --- the routes -------------------------------------------------------------------------------
class Page(BaseModel):
    offset: int
    limit: int
    total: int            # rows in all (with `status`, if asked)
    status: str | None


# The preview as the answer publishes it: banli.sheets.preview's Preview and RowResult (plain
# JSON, kept as it is), field for field (tests/integration/test_openapi_rows.py holds them
# together). A row's refusals are the kernel's Rejection, as the commands' refusals are.
class Skipped(BaseModel):
    """A line of the sheet read as no row (a heading within the table)."""

    row: int
    text: str


class Difference(BaseModel):
    """A field the sheet says otherwise than Banli: its value there and in the sheet."""

    field: str
    old: Any
    new: Any


class Inferred(BaseModel):
    """What the sheet's title gave for an option left unset (banli.sheets.infer)."""

    value: str | int = Field(description="the kind, or the year")
    cell: str = Field(description="the title's cell it was read from")
    text: str = Field(description="that cell's text")
    by: str = Field(description="the words that say it")
    message: str
    message_en: str


class SheetRow(BaseModel):
    """What one item of the sheet will send, or why it will not (docs/sheets.md)."""

    row: int = Field(description="the sheet row (1-based) where the item starts")
    rows: list[int] = Field(description="every sheet row of the item")
    number: str | None
    key: str | None = Field(description="the natural key level/kind/year/number")
    proposal: str | None = Field(description="the proposal id the commands address")
    status: Status
    commands: list[dict[str, Any]] = Field(description=(
        "the commands the commit sends, in order, each as POST /api/commands takes it (its "
        "`type` names its schema there): open here, one object for every command type"))
    differences: list[Difference] = Field(description="where the proposal in Banli differs "
                                                      "from the sheet (`differs`)")
    reason: Rejection | None = Field(description="why it is refused: the first of `problems`")
    problems: list[Rejection]


class PreviewBody(BaseModel):
    """A preview (banli.sheets.preview.Preview), with one page of its rows."""

    sheet: str
    header_rows: list[int]
    columns: dict[str, list[str]] = Field(description="each field and the headers read as it")
    ignored_columns: list[str]
    skipped: list[Skipped]
    rows: list[SheetRow]
    counts: dict[str, int]
    inferred: dict[str, Inferred] = Field(description='"kind", "year": what the title gave')


class SheetPreview(BaseModel):
    preview_id: str
    kind: Literal["assignments", "replies", "filers"]
    bureau: str | None
    expires_in_s: int
    preview: PreviewBody  # docs/sheets.md, `rows` one page
    page: Page


class CommittedRow(BaseModel):
    """A row the commit did not import: refused by the rules, or not decided yet."""

    row: int
    number: str | None
    proposal: str | None
    status: Literal["refused", "pending"]
    reason: Rejection | None


class Committed(BaseModel):
    preview_id: str
    counts: dict[str, int]
    rows: list[CommittedRow]  # the rows refused or pending, each with its reason


def _book(ports: Served) -> tuple[Records, PreviewBook]:
    if ports.records is None or ports.previews is None:
        raise not_served("表格导入", "spreadsheet imports")
    return ports.records, ports.previews


def _refused(exc: SheetError) -> HTTPException:
    """A sheet that cannot be read, or is past a bound (413), as the API's error body."""
    return HTTPException(exc.status, detail={"code": exc.code, "message": exc.message,
                                             "message_en": exc.message_en, **exc.details})


def _busy(message: str, message_en: str, code: str = "busy") -> HTTPException:
    return HTTPException(503, headers={"Retry-After": str(RETRY_AFTER_S)}, detail={
        "code": code, "message": message, "message_en": message_en,
        "retry_after_s": RETRY_AFTER_S})


def _mapping(text: str | None) -> dict[str, str | None] | None:
    try:
        return None if text is None else parse_mapping(text)
    except SheetError as exc:
        raise _refused(exc) from None


async def _body(request: Request, limits: SheetLimits) -> bytes:
    """The upload, refused (413) as soon as it is past `max_bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limits.max_bytes:
        raise _refused(too_large("bytes", limits.max_bytes, int(declared)))
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limits.max_bytes:
            raise _refused(too_large("bytes", limits.max_bytes))
        chunks.append(chunk)
    if not size:
        raise HTTPException(422, detail={"code": "empty_sheet", "message": "未收到表格文件",
                                         "message_en": "no file in the body"})
    return b"".join(chunks)


def _answer(preview_id: str, kept: Kept, offset: int = 0, limit: int = PAGE,
            status: str | None = None) -> SheetPreview:
    rows, total = kept.page(offset, limit, status)
    return SheetPreview(preview_id=preview_id, kind=kept.kind, bureau=kept.bureau,
                        expires_in_s=max(0, int(kept.expires - time.time())),
                        preview={**kept.head, "rows": rows},
                        page=Page(offset=offset, limit=limit, total=total, status=status))


async def _preview(request: Request, ports: Served, actor: Actor,
                   kind: Literal["assignments", "replies", "filers"], bureau: str | None,
                   make: Callable[[bytes, Records, PreviewBook], Preview]) -> SheetPreview:
    records, book = _book(ports)
    try:
        async with book.gate.admit():
            data = await _body(request, book.limits)
            async with book.gate.reader():
                preview = await run_in_threadpool(make, data, records, book)
    except Busy:
        raise _busy("正在读取的表格过多，请稍后再试", "too many sheets are being read: try "
                    "again shortly") from None
    except SheetError as exc:
        raise _refused(exc) from None
    except OSError as exc:  # no process or temporary file to read it with: the machine is full
        raise _busy("服务器暂时无法读取表格，请稍后再试",
                    f"the server cannot read sheets just now ({exc.strerror}): try again "
                    "shortly") from None
    kept = Kept.of(actor_key(actor), kind, bureau, preview, time.time() + KEEP_S)
    del preview, data
    try:
        preview_id = book.keep(kept)
    except PreviewsFull:
        raise _busy("暂存的预览已满，请稍后再试，或先确认导入已上传的表格",
                    "the server keeps as many previews as it may: try again shortly, or "
                    "commit the sheets uploaded first", "previews_full") from None
    return _answer(preview_id, kept)


SheetName = Annotated[str | None, Query(max_length=100, description="the worksheet to read "
                                                                    "(default: the first with "
                                                                    "a header)")]
Mapping = Annotated[str | None, Query(max_length=10_000, description='header → field, as JSON '
                                                                     '({"件号": "number"})')]
KindOption = Annotated[Literal["npc_suggestion", "cppcc_proposal"] | None, Query(
    description="for rows whose sheet gives no kind (default: what the title says)")]
YearOption = Annotated[int | None, Query(ge=1949, le=2199, description="for rows without a year "
                                                                       "(default: what the "
                                                                       "title says)")]
LevelOption = Annotated[Literal["national", "provincial", "municipal", "district"] | None,
                        Query(description="for rows without a level (default municipal)")]
_UPLOAD_ERRORS = errors(413, 503, e413="the file is past a bound (`sheet_too_large`: `bound`, "
                                       "`limit`, `setting`)",
                        e503="too many sheets being read (`busy`) or previews kept "
                             "(`previews_full`): Retry-After; or not served here")


def _sheet(sheet: str | None) -> str | int | None:
    return int(sheet) if sheet is not None and sheet.isdigit() else sheet


@router.post("/assignments", summary="Preview an assignment list (交办清单) from a spreadsheet",
             response_model=SheetPreview, openapi_extra={**action("import"), **_UPLOAD},
             responses=_UPLOAD_ERRORS)
async def preview_assignments(request: Request, actor: CurrentActor, ports: Served,
                              kind: KindOption = None, year: YearOption = None,
                              level: LevelOption = None,
                              assigned_on: Annotated[Day | None, Query(
                                  description="for rows without a 交办日期")] = None,
                              sheet: SheetName = None, mapping: Mapping = None) -> SheetPreview:
    permit(actor, "import")
    headers = _mapping(mapping)

    def make(data: bytes, records: Records, book: PreviewBook) -> Preview:
        return preview_sheet(data, "assignments", records, limits=book.limits,
                             sessions=book.sessions, mapping=headers, sheet=_sheet(sheet),
                             kind=kind, year=year, level=level, assigned_on=assigned_on,
                             areas=book.areas)

    return await _preview(request, ports, actor, "assignments", None, make)


@router.post("/replies", summary="Preview a bureau's reply list from a spreadsheet",
             response_model=SheetPreview, openapi_extra={**action("import:replies"), **_UPLOAD},
             responses=_UPLOAD_ERRORS)
async def preview_replies(request: Request, actor: CurrentActor, ports: Served,
                          bureau: BureauQuery = None, kind: KindOption = None,
                          year: YearOption = None, level: LevelOption = None,
                          sheet: SheetName = None, mapping: Mapping = None) -> SheetPreview:
    bureau = own_bureau(actor, "import:replies", bureau)
    if bureau is None:
        raise HTTPException(422, detail={"code": "bad_scope", "message": "请指定 bureau",
                                         "message_en": "name the bureau whose replies these are"})
    permit(actor, "import:replies", bureau)
    headers = _mapping(mapping)
    whose: str = bureau

    def make(data: bytes, records: Records, book: PreviewBook) -> Preview:
        return preview_sheet(data, "replies", records, limits=book.limits,
                             sessions=book.sessions, mapping=headers, sheet=_sheet(sheet),
                             bureau=whose, kind=kind, year=year, level=level)

    return await _preview(request, ports, actor, "replies", bureau, make)


@router.post("/filers", summary="Preview a filer registry (代表委员名册) from a spreadsheet, with "
                               "the proposals it offers to link to it",
             response_model=SheetPreview, openapi_extra={**action("import"), **_UPLOAD},
             responses=_UPLOAD_ERRORS)
async def preview_filers(request: Request, actor: CurrentActor, ports: Served,
                         sheet: SheetName = None, mapping: Mapping = None) -> SheetPreview:
    """Each row a deputy or member: 姓名, 代表团/界别, 届次, 账号 (and 编号, optionally): their
    `register_filer`, and a `link_filers` for each proposal naming them by that exact name under
    that affiliation that is not linked yet (`counts.links`; the commit says how many it
    linked, `counts.linked`)."""
    permit(actor, "import")
    headers = _mapping(mapping)

    def make(data: bytes, records: Records, book: PreviewBook) -> Preview:
        return preview_sheet(data, "filers", records, limits=book.limits, mapping=headers,
                             sheet=_sheet(sheet))

    return await _preview(request, ports, actor, "filers", None, make)


@router.get("/{preview_id}", summary="A page of a preview (its uploader's only)",
            response_model=SheetPreview, openapi_extra=action("read:preview"),
            responses=errors(404, 503, e404="no such preview, or not yours, or it expired"))
async def get_preview(preview_id: str, actor: CurrentActor, ports: Served,
                      offset: Annotated[int, Query(ge=0, le=10_000_000,
                                                   description="the first row of the page")] = 0,
                      limit: Annotated[int, Query(ge=1, le=MAX_PAGE,
                                                  description="rows in the page")] = PAGE,
                      status: Annotated[Literal["new", "unchanged", "differs", "refused"] | None,
                                        Query(description="only rows of this status")] = None
                      ) -> SheetPreview:
    _, book = _book(ports)
    return _answer(preview_id, book.get(preview_id, actor), offset, limit, status)


@router.post("/{preview_id}/commit", summary="Send the preview's commands, as the uploader",
             response_model=Committed, openapi_extra=action("read:preview"),
             responses=errors(404, 503, e404="no such preview, or not yours, or it expired"))
async def commit(preview_id: str, actor: CurrentActor, ports: Served, bus: Bus) -> Committed:
    """Each row's commands in order, stopping at a row's first refusal. The commands carry ids
    derived from the sheet, so committing again (or importing the same sheet again) decides
    nothing twice. The permission table is checked again: by the kernel, for every command."""
    _, book = _book(ports)
    kept = book.get(preview_id, actor)
    preview = kept.preview()
    sent = []
    for row, commands in row_commands(preview, actor):
        outcomes = []
        for command in commands:
            try:
                outcome = await bus.send(parse_command(command))
            except ValidationError as exc:  # the preview checked each: a changed vocabulary
                raise HTTPException(409, detail={
                    "code": "stale_preview", "message": "预览已失效，请重新上传",
                    "message_en": f"the preview no longer fits: {exc}"}) from None
            outcomes.append(outcome)
            if outcome is None or outcome.rejection is not None:
                break
        sent.append((row, outcomes))
    done = summary(preview, sent)
    kept.committed = done
    return Committed(preview_id=preview_id, **done)
