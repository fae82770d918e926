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

import asyncio
import json
import secrets
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, AsyncIterator, Callable, Iterator, Literal, cast

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from banli.domain.commands import actor_key
from banli.domain.proposal import Bureau, State, fold
from banli.domain.registry import parse_command
from banli.domain.types import Actor, Day
from banli.sheets import SheetError
from banli.sheets.commit import row_commands, summary
from banli.sheets.infer import DEFAULT_SESSIONS, Sessions, parse_sessions
from banli.sheets.isolate import read_table
from banli.sheets.limits import DEFAULT_LIMITS, SheetLimits, too_large
from banli.sheets.preview import Preview, RowResult
from banli.sheets.read import parse_mapping
from banli.sheets.records import Records, assignment_sheet, filer_sheet, reply_sheet
from banli.domain.permissions import allowed
from banli.web.deps import Bus, CurrentActor, not_served, own_bureau, permit
from banli.web.schemas import READ, action, errors

from .deps import Served
from .params import BureauQuery
from ..projections.store import ReportingStore

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
SKIPPED_KEPT = 100   # section and note rows listed (counts.skipped has them all)
ROW_OVERHEAD = 64    # bytes a kept row costs beyond its JSON
RETRY_AFTER_S = 5


# --- the readers a process runs at once ----------------------------------------------------------
class Busy(Exception):
    """Every reader is busy and the queue is full, or the wait was too long."""


class Gate:
    """At most `parallel` sheets read at once and `queue` more waiting for a reader. A place
    is taken (`admit`) before the body is read, so what waits in memory is bounded too; the
    others are refused at once. Waiting takes no thread: only the readers do."""

    def __init__(self, parallel: int, queue: int, wait_s: float):
        self.parallel, self.capacity, self.wait_s = parallel, parallel + queue, wait_s
        self.admitted = 0
        self._readers: asyncio.Semaphore | None = None  # made in the server's event loop

    @asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        if self.admitted >= self.capacity:
            raise Busy
        self.admitted += 1
        try:
            yield
        finally:
            self.admitted -= 1

    @asynccontextmanager
    async def reader(self) -> AsyncIterator[None]:
        if self._readers is None:
            self._readers = asyncio.Semaphore(self.parallel)
        try:
            await asyncio.wait_for(self._readers.acquire(), self.wait_s)
        except asyncio.TimeoutError:
            raise Busy from None
        try:
            yield
        finally:
            self._readers.release()


# --- the previews a process keeps ----------------------------------------------------------------
@dataclass
class Kept:
    """A preview as kept: its head (sheet, header, counts, what was inferred ...) and each
    row's JSON, so that a page is read without the whole."""

    owner: str            # the uploader (banli.domain.commands.actor_key)
    kind: Literal["assignments", "replies", "filers"]
    bureau: str | None    # whose reply list
    head: dict[str, Any]
    rows: list[bytes]
    statuses: list[str]
    expires: float
    committed: dict[str, Any] | None = None

    @classmethod
    def of(cls, owner: str, kind: Literal["assignments", "replies", "filers"], bureau: str | None,
           preview: Preview, expires: float) -> "Kept":
        head = {k: v for k, v in preview.items() if k != "rows"}
        head["skipped"] = list(preview["skipped"][:SKIPPED_KEPT])
        rows = [json.dumps(r, ensure_ascii=False, separators=(",", ":")).encode()
                for r in preview["rows"]]
        return cls(owner, kind, bureau, head, rows, [r["status"] for r in preview["rows"]],
                   expires)

    @property
    def size(self) -> int:
        return (len(json.dumps(self.head, ensure_ascii=False))
                + sum(len(r) + ROW_OVERHEAD for r in self.rows))

    def page(self, offset: int, limit: int, status: str | None = None
             ) -> tuple[list[dict[str, Any]], int]:
        """Rows `offset` .. `offset + limit` (of those with `status`, if given), and how many
        there are in all."""
        chosen = range(len(self.rows)) if status is None else [
            i for i, s in enumerate(self.statuses) if s == status]
        return [json.loads(self.rows[i]) for i in chosen[offset:offset + limit]], len(chosen)

    def preview(self) -> Preview:
        """The whole preview, its rows read one at a time as they are iterated."""
        rows: Iterator[RowResult] = (json.loads(r) for r in self.rows)
        return cast(Preview, {**self.head, "rows": rows})


class PreviewsFull(Exception):
    """The process keeps as many previews' bytes as it may."""


@dataclass
class PreviewBook:
    """The process's sheet uploads: their bounds, the readers' gate, and the previews kept by
    id, each for an hour, at most `limits.previews_per_user` per uploader (their oldest go
    first) and `limits.previews_mb` in all."""

    limits: SheetLimits = DEFAULT_LIMITS
    sessions: Sessions = field(default_factory=lambda: DEFAULT_SESSIONS)
    _kept: dict[str, Kept] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.gate = Gate(self.limits.parallel, self.limits.queue, self.limits.timeout_s)

    @classmethod
    def from_settings(cls, settings: Any) -> "PreviewBook":
        return cls(SheetLimits.from_settings(settings), parse_sessions(settings.sheet_sessions))

    def keep(self, kept: Kept) -> str:
        size = kept.size
        with self._lock:
            now = time.time()
            for key in [k for k, v in self._kept.items() if v.expires < now]:
                self._drop(key)
            mine = [k for k, v in self._kept.items() if v.owner == kept.owner]
            while mine and len(mine) >= self.limits.previews_per_user:
                self._drop(mine.pop(0))
            while mine and sum(self._sizes.values()) + size > self.limits.previews_mb << 20:
                self._drop(mine.pop(0))  # the uploader's own older ones make room first
            if sum(self._sizes.values()) + size > self.limits.previews_mb << 20:
                raise PreviewsFull
            preview_id = secrets.token_urlsafe(18)
            self._kept[preview_id], self._sizes[preview_id] = kept, size
            return preview_id

    def _drop(self, key: str) -> None:
        del self._kept[key], self._sizes[key]

    def kept_bytes(self) -> int:
        with self._lock:
            return sum(self._sizes.values())

    def get(self, preview_id: str, actor: Actor) -> Kept:
        """The uploader's preview; anyone else's, or an expired one, is unknown (404)."""
        with self._lock:
            kept = self._kept.get(preview_id)
        if (kept is None or kept.expires < time.time()
                or not allowed(actor, "read:preview", sender=kept.owner)):
            raise HTTPException(404, detail={
                "code": "unknown_preview", "message": "预览不存在或已过期，请重新上传",
                "message_en": "no such preview, or it expired: upload the sheet again"})
        return kept


# --- what previews read in the reporting service ---------------------------------------------
class ProjectedRecords:
    """`Records` (banli.sheets.records) from the projections: the registry, the natural keys of
    the submits, and a proposal's state folded from its projected events."""

    def __init__(self, store: ReportingStore, load: Callable[[str, int], list]):
        self.store, self.load = store, load

    def bureau_names(self) -> dict[str, Bureau]:
        return self.store.bureau_records()

    def owner_of(self, natural_key: str) -> str | None:
        level, kind, year, number = natural_key.split("/", 3)
        rows = self.store.query(
            "SELECT proposal_id FROM {db}.event_history WHERE type = 'ProposalSubmitted' "
            "AND JSONExtractString(data, 'level') = {level:String} "
            "AND JSONExtractString(data, 'kind') = {kind:String} "
            "AND JSONExtractInt(data, 'year') = {year:Int32} "
            "AND JSONExtractString(data, 'number') = {number:String} "
            "ORDER BY position LIMIT 1", level=level, kind=kind, year=int(year), number=number)
        return rows[0]["proposal_id"] if rows else None

    def state(self, stream: str) -> State:
        return fold(self.load(stream, 2**31))

    def filers(self) -> dict[str, dict[str, str]]:
        return self.store.filers()

    def unlinked(self, name: str, affiliation: str) -> list[str]:
        return self.store.unlinked(name, affiliation)


# --- the routes -------------------------------------------------------------------------------
class Page(BaseModel):
    offset: int
    limit: int
    total: int            # rows in all (with `status`, if asked)
    status: str | None


class SheetPreview(BaseModel):
    preview_id: str
    kind: Literal["assignments", "replies", "filers"]
    bureau: str | None
    expires_in_s: int
    preview: dict[str, Any]  # banli.sheets.preview.Preview (docs/sheets.md), `rows` one page
    page: Page


class Committed(BaseModel):
    preview_id: str
    counts: dict[str, int]
    rows: list[dict[str, Any]]  # the rows refused or pending, each with its reason


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
        table = read_table(data, "assignments", limits=book.limits, mapping=headers,
                           sheet=_sheet(sheet))
        return assignment_sheet(table, records, kind=kind, year=year, level=level,
                                assigned_on=assigned_on, sessions=book.sessions)

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
        table = read_table(data, "replies", limits=book.limits, mapping=headers,
                           sheet=_sheet(sheet))
        return reply_sheet(table, records, bureau=whose, kind=kind, year=year, level=level,
                           sessions=book.sessions)

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
        table = read_table(data, "filers", limits=book.limits, mapping=headers,
                           sheet=_sheet(sheet))
        return filer_sheet(table, records)

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
