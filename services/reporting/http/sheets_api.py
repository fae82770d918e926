"""Spreadsheets in (banli.sheets): an assignment list (交办清单) or a bureau's reply list is
uploaded, previewed (what each row will send, every row that will be refused and why), and then
committed: exactly the previewed commands are sent, in order, as the uploading user.

- `POST /api/sheets/assignments` (coordinators, importers, admins) and
  `POST /api/sheets/replies?bureau=…` (a clerk its own bureau's; importers, admins): the file as
  the body; the answer is the preview with its `preview_id`;
- `GET /api/sheets/{preview_id}`: the preview again;
- `POST /api/sheets/{preview_id}/commit`: its commands sent; what each row became.

A preview is kept in the process for an hour, for its uploader only (the page's upload and
commit go to the same server). Previews read what the process knows: the event store in the
embedded system, the projections in the reporting service."""
from __future__ import annotations

import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Callable, Literal

from fastapi import APIRouter, HTTPException, Query, Request
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from banli.domain.commands import actor_key
from banli.domain.proposal import State, fold
from banli.domain.registry import parse_command
from banli.domain.types import Actor, Day
from banli.sheets import SheetError
from banli.sheets.commit import row_commands, summary
from banli.sheets.preview import Preview
from banli.sheets.records import Records, assignment_sheet, reply_sheet
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


# --- the previews a process keeps ----------------------------------------------------------------
@dataclass
class Kept:
    owner: str            # the uploader (banli.domain.commands.actor_key)
    kind: Literal["assignments", "replies"]
    bureau: str | None    # whose reply list
    preview: Preview
    expires: float
    committed: dict[str, Any] | None = None


@dataclass
class PreviewBook:
    """Previews by id, each for an hour, at most `limit` of them (the oldest go first)."""

    limit: int = 200
    _kept: dict[str, Kept] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def keep(self, kept: Kept) -> str:
        with self._lock:
            now = time.time()
            for key in [k for k, v in self._kept.items() if v.expires < now]:
                del self._kept[key]
            while len(self._kept) >= self.limit:
                del self._kept[next(iter(self._kept))]
            preview_id = secrets.token_urlsafe(18)
            self._kept[preview_id] = kept
            return preview_id

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

    def bureau_names(self) -> dict[str, tuple[str, str]]:
        return {b: (n["name"], n["name_en"]) for b, n in self.store.bureau_names().items()}

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


# --- the routes -------------------------------------------------------------------------------
class SheetPreview(BaseModel):
    preview_id: str
    kind: Literal["assignments", "replies"]
    bureau: str | None
    expires_in_s: int
    preview: dict[str, Any]  # banli.sheets.preview.Preview (docs/sheets.md)


class Committed(BaseModel):
    preview_id: str
    counts: dict[str, int]
    rows: list[dict[str, Any]]  # the rows refused or pending, each with its reason


def _records(ports: Served) -> Records:
    if ports.records is None or ports.previews is None:
        raise not_served("表格导入", "spreadsheet imports")
    return ports.records


def _mapping(text: str | None) -> dict[str, str | None] | None:
    if text is None:
        return None
    try:
        mapping = json.loads(text)
    except ValueError:
        mapping = None
    if not isinstance(mapping, dict):
        raise HTTPException(422, detail={
            "code": "bad_mapping", "message": "表头对应关系须为 JSON 对象，如 {\"件号\": \"number\"}",
            "message_en": 'the mapping is a JSON object, e.g. {"件号": "number"}'})
    return mapping


async def _preview(request: Request, ports: Served, actor: Actor,
                   kind: Literal["assignments", "replies"],
                   bureau: str | None, make: Callable[[bytes, Records], Preview]
                   ) -> SheetPreview:
    records = _records(ports)
    data = await request.body()
    if not data:
        raise HTTPException(422, detail={"code": "empty_sheet", "message": "未收到表格文件",
                                         "message_en": "no file in the body"})
    try:
        preview = await run_in_threadpool(make, data, records)
    except SheetError as exc:
        raise HTTPException(422, detail={"code": exc.code, "message": exc.message,
                                         "message_en": exc.message_en}) from None
    assert ports.previews is not None  # _records checked it
    preview_id = ports.previews.keep(Kept(actor_key(actor), kind, bureau, preview,
                                          time.time() + KEEP_S))
    return SheetPreview(preview_id=preview_id, kind=kind, bureau=bureau, expires_in_s=KEEP_S,
                        preview=dict(preview))


SheetName = Annotated[str | None, Query(max_length=100, description="the worksheet to read "
                                                                    "(default: the first with "
                                                                    "a header)")]
Mapping = Annotated[str | None, Query(max_length=10_000, description='header → field, as JSON '
                                                                     '({"件号": "number"})')]
KindOption = Annotated[Literal["npc_suggestion", "cppcc_proposal"] | None, Query(
    description="for rows whose sheet gives no kind")]
YearOption = Annotated[int | None, Query(ge=1949, le=2199, description="for rows without a year")]
LevelOption = Annotated[Literal["national", "provincial", "municipal", "district"] | None,
                        Query(description="for rows without a level (default municipal)")]


@router.post("/assignments", summary="Preview an assignment list (交办清单) from a spreadsheet",
             response_model=SheetPreview, openapi_extra={**action("import"), **_UPLOAD},
             responses=errors(413, 503))
async def preview_assignments(request: Request, actor: CurrentActor, ports: Served,
                              kind: KindOption = None, year: YearOption = None,
                              level: LevelOption = None,
                              assigned_on: Annotated[Day | None, Query(
                                  description="for rows without a 交办日期")] = None,
                              sheet: SheetName = None, mapping: Mapping = None) -> SheetPreview:
    permit(actor, "import")
    headers = _mapping(mapping)
    return await _preview(request, ports, actor, "assignments", None, lambda data, records:
                          assignment_sheet(data, records, kind=kind, year=year, level=level,
                                           assigned_on=assigned_on, mapping=headers,
                                           sheet=sheet))


@router.post("/replies", summary="Preview a bureau's reply list from a spreadsheet",
             response_model=SheetPreview, openapi_extra={**action("import:replies"), **_UPLOAD},
             responses=errors(413, 503))
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
    return await _preview(request, ports, actor, "replies", bureau, lambda data, records:
                          reply_sheet(data, records, bureau=bureau, kind=kind, year=year,
                                      level=level, mapping=headers, sheet=sheet))


@router.get("/{preview_id}", summary="A preview again (its uploader's only)",
            response_model=SheetPreview, openapi_extra=action("read:preview"),
            responses=errors(404, 503, e404="no such preview, or not yours, or it expired"))
async def get_preview(preview_id: str, actor: CurrentActor, ports: Served) -> SheetPreview:
    _records(ports)
    assert ports.previews is not None
    kept = ports.previews.get(preview_id, actor)
    return SheetPreview(preview_id=preview_id, kind=kept.kind, bureau=kept.bureau,
                        expires_in_s=max(0, int(kept.expires - time.time())),
                        preview=dict(kept.preview))


@router.post("/{preview_id}/commit", summary="Send the preview's commands, as the uploader",
             response_model=Committed, openapi_extra=action("read:preview"),
             responses=errors(404, 503, e404="no such preview, or not yours, or it expired"))
async def commit(preview_id: str, actor: CurrentActor, ports: Served, bus: Bus) -> Committed:
    """Each row's commands in order, stopping at a row's first refusal. The commands carry ids
    derived from the sheet, so committing again (or importing the same sheet again) decides
    nothing twice. The permission table is checked again: by the kernel, for every command."""
    _records(ports)
    assert ports.previews is not None
    kept = ports.previews.get(preview_id, actor)
    sent = []
    for row, commands in row_commands(kept.preview, actor):
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
    done = summary(kept.preview, sent)
    kept.committed = done
    return Committed(preview_id=preview_id, **done)

