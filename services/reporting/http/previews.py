"""What the sheet routes keep in a process (services.reporting.http.sheets_api): the gate that
lets `parallel` uploads be read at once and `queue` more wait (the waiting take no thread), the
previews kept per uploader within a count and a memory cap, and the records a preview reads from
the projections in the reporting service. The ports (deps.Served) hold them; the routes use
them."""
from __future__ import annotations

import asyncio
import json
import secrets
import threading
import time
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, AsyncIterator, Callable, Iterator, Literal, cast

from fastapi import HTTPException

from banli.domain.permissions import allowed
from banli.domain.proposal import Bureau, State, fold
from banli.domain.types import Actor
from banli.domain.timing.deadlines import FIVE_AREAS
from banli.sheets.assignment_list import Areas
from banli.sheets.infer import DEFAULT_SESSIONS, Sessions, parse_sessions
from banli.sheets.limits import DEFAULT_LIMITS, SheetLimits
from banli.sheets.preview import Preview, RowResult

from ..projections.store import ReportingStore

SKIPPED_KEPT = 100   # section and note rows listed (counts.skipped has them all)
ROW_OVERHEAD = 64    # bytes a kept row costs beyond its JSON


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
    areas: Areas = FIVE_AREAS  # a 领域 cell's areas: the deciding profile's, by year
    _kept: dict[str, Kept] = field(default_factory=dict)
    _sizes: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        self.gate = Gate(self.limits.parallel, self.limits.queue, self.limits.timeout_s)

    @classmethod
    def from_settings(cls, settings: Any) -> "PreviewBook":
        return cls(SheetLimits.from_settings(settings), parse_sessions(settings.sheet_sessions),
                   settings.rules().areas_of)

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
