"""reporting's faust worker: `banli.events` into the ClickHouse projections, in batches.

Events are taken without acking (`noack`) and buffered; a batch is inserted when it is full, or
at the next tick (every `flush_interval_s`) when it is small or once `INSERT_SHARE` times as
long as the last insert took has passed since it, and only after the insert succeeded are its events acked, so faust
commits nothing that is not in ClickHouse. A redelivered event is skipped by the projection
(its seq is at or below the stream's projected seq) and, were it written again, the tables
dedupe by key. While ClickHouse is down the batch is retried, nothing is acked."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Protocol

import faust

from banli.eventlog import Stored, stored_of
from banli.eventlog.kafka import dead_letter, heartbeat_ms, position_of
from banli.settings import Settings

from .projection import Projection
from .store import ReportingStore

log = logging.getLogger("banli.reporting")


class Ackable(Protocol):
    """What the buffer keeps of a faust event: acking it once its batch is inserted."""

    def ack(self) -> object: ...


# Under a steady stream, inserts are at least this many times as long as the last insert took
# apart (and at most MAX_SPACING_S). An insert costs about the same whatever its size (chDB
# writes every table once an insert), so this keeps inserts to about a fifth of the time and
# lets the batches grow with a bulk import, where a fixed interval made many small inserts. A
# tick that finds fewer than SMALL_BATCH events inserts them at once, as before: at that rate
# (the live page's few commands a second) freshness matters more than an insert's cost, and
# spacing them made the live feed twice as late (p50 0.3 → 0.7–0.9 s at 20 commands/s).
INSERT_SHARE = 4
MAX_SPACING_S = 1.0
SMALL_BATCH = 50


class BatchProjector:
    """The buffer between the stream and ClickHouse (one per worker process)."""

    def __init__(self, projection: Projection, max_batch: int):
        self.projection = projection
        self.max_batch = max_batch
        self.buffer: list[tuple[Stored, Ackable]] = []  # (event, the faust event to ack)
        self.last_insert_at = 0.0  # when the last insert ended (time.monotonic)
        self.last_insert_s = 0.0  # how long it took
        self.lock = asyncio.Lock()
        self.inserted = 0
        self._at_last_tick = 0  # the buffer's length at the last flush_due
        self.pause = threading.Lock()  # held while inserting; replay holds it to swap tables

    async def add(self, stored: Stored, handle: Ackable) -> None:
        async with self.lock:
            self.buffer.append((stored, handle))
            if len(self.buffer) >= self.max_batch:
                await self._flush()

    async def flush_due(self) -> None:
        """Insert the batch if the last insert was long enough ago (see INSERT_SHARE), or if
        nothing came since the last tick: the stream has paused (the end of an import), and
        what is buffered would otherwise wait up to MAX_SPACING_S for nothing."""
        async with self.lock:
            spacing = min(MAX_SPACING_S, INSERT_SHARE * self.last_insert_s)
            quiet = len(self.buffer) == self._at_last_tick
            if self.buffer and (len(self.buffer) < SMALL_BATCH or quiet
                                or time.monotonic() - self.last_insert_at >= spacing):
                await self._flush()
            self._at_last_tick = len(self.buffer)

    async def _flush(self) -> None:
        if not self.buffer:
            return
        batch = [stored for stored, _ in self.buffer]
        delay = 0.5
        while True:
            try:
                started = time.monotonic()
                await asyncio.to_thread(self._apply, batch)
                self.last_insert_at = time.monotonic()
                self.last_insert_s = self.last_insert_at - started
                break
            except Exception:
                log.exception("insert failed; retrying in %.1fs (nothing acked)", delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10)
        for _, handle in self.buffer:
            handle.ack()
        self.inserted += len(batch)
        self.buffer.clear()


    def _apply(self, batch: list[Stored]) -> None:
        with self.pause:
            self.projection.apply(batch)


def raw_topic(app: faust.App, name: str, partitions: int | None = None):
    """A faust topic of raw bytes: the pydantic models are the only wire schema."""
    return app.topic(name, key_type=bytes, value_type=bytes, key_serializer="raw",
                     value_serializer="raw", partitions=partitions, internal=False)


def history_loader(store: ReportingStore, db: str | None = None):
    """Earlier events of a stream, from the projected history (for states not in the cache)."""
    from banli.domain.registry import load_event

    sql = ("SELECT data FROM {db}.event_history FINAL WHERE proposal_id = {p:String} "
           "AND seq < {s:UInt32} ORDER BY seq").replace("{db}", db or store.db)

    def load(stream: str, seq: int):
        rows = store.query(sql, p=stream, s=seq)
        return [load_event(r["data"]) for r in rows]

    return load


def stored_history(store: ReportingStore, proposal_id: str) -> list[Stored]:
    """A proposal's events as the projected history holds them, with their positions, in seq
    order (none for a bureau's or a filer's stream): the stream the reporting service reads
    where the log is Kafka (the port `ReportingPorts.stream`)."""
    return [stored_of(r["position"], r["data"]) for r in store.history(proposal_id)]


def build_worker(settings: Settings, store: ReportingStore) -> tuple[faust.App, BatchProjector]:
    app = faust.App(
        f"{settings.app_id}-reporting", broker=f"kafka://{settings.kafka_bootstrap}",
        store="memory://", datadir=str(settings.data_dir / "faust"), web_enabled=False, topic_partitions=settings.topic_partitions,
        topic_allow_declare=True, producer_acks=-1, broker_commit_interval=0.5,
        consumer_auto_offset_reset="earliest", broker_session_timeout=settings.group_session_timeout_s,
        broker_request_timeout=max(90.0, settings.group_session_timeout_s + 30),
        broker_heartbeat_interval=heartbeat_ms(settings.group_session_timeout_s) / 1000, stream_buffer_maxsize=20_000,
    )
    events = raw_topic(app, settings.topics.events, settings.topic_partitions)
    dlq = raw_topic(app, settings.topics.dlq, 1)
    projector = BatchProjector(Projection(store, history_loader(store), cache_size=100_000),
                               settings.projection_batch)

    @app.agent(events, concurrency=1)
    async def project(stream):
        async for event in stream.noack().events():
            m = event.message
            try:
                # validated from the bytes in one pass, and those bytes kept for the history
                # row when they are what encoding the event would give (stored_of)
                stored = stored_of(position_of(m.partition, m.offset), m.value)
            except Exception as exc:
                await dlq.send(key=m.key, value=dead_letter(f"undecodable event: {exc}", m.topic,
                                                            m.partition, m.offset, m.value))
                event.ack()
                continue
            await projector.add(stored, event)

    @app.timer(settings.flush_interval_s)
    async def flush():
        await projector.flush_due()

    return app, projector
