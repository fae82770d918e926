"""Reporting's buffer between the stream and ClickHouse (services/reporting/projections/worker.py):
under a bulk import its inserts are spaced by what the last one cost, but once the stream pauses
what is buffered goes in at the next tick, not up to a second later."""
import asyncio
import time

from services.reporting.projections.worker import SMALL_BATCH, BatchProjector


class Projection:
    def __init__(self) -> None:
        self.applied: list[list] = []

    def apply(self, batch: list) -> None:
        self.applied.append(list(batch))


class Event:
    acked = False

    def ack(self) -> None:
        self.acked = True


def test_a_paused_stream_is_inserted_at_the_next_tick_however_large_the_spacing():
    async def run() -> None:
        projection = Projection()
        projector = BatchProjector(projection, max_batch=10_000)  # type: ignore[arg-type]
        projector.last_insert_s = 10.0  # spacing: MAX_SPACING_S
        projector.last_insert_at = time.monotonic()
        events = [Event() for _ in range(SMALL_BATCH * 2)]
        for n, event in enumerate(events[:SMALL_BATCH + 1]):
            await projector.add(n, event)  # type: ignore[arg-type]
        await projector.flush_due()  # more came since the last tick: spaced, not yet
        assert projection.applied == []
        for n, event in enumerate(events[SMALL_BATCH + 1:], SMALL_BATCH + 1):
            await projector.add(n, event)  # type: ignore[arg-type]
        await projector.flush_due()  # still coming
        assert projection.applied == []
        await projector.flush_due()  # nothing since the last tick: the import has ended
        assert projection.applied == [list(range(SMALL_BATCH * 2))]
        assert all(event.acked for event in events) and projector.inserted == SMALL_BATCH * 2

    asyncio.run(run())
