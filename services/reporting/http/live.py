"""The live feed behind the oversight page: each batch of newly projected events, fanned out to
every open page (server-sent events). Nothing here decides what a reader may see: the route
filters each batch once per audience (the readers of one vantage on read:live,
banli.domain.permissions.vantage) and sends each of its readers that audience's encoded frame
(`Batch.sent_to`).

Where the projector runs in the same process (`banli serve`, `banli reporting`), it pushes each
batch here as soon as its rows are in (`LiveFeed.push`): nothing is read back. Readers are sent
at most one batch a second (`pace`, BANLI_LIVE_PACE_S): what lands sooner goes with the next. Otherwise one
poller per process follows the projections' tables. Positions grow within a lane, not across
lanes: the embedded log has one lane, Kafka one per partition (`position_of(partition,
offset)`), so the poller keeps a watermark per lane."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime, timezone
from typing import Any, AsyncIterator, Awaitable, Callable, Hashable

from starlette.concurrency import run_in_threadpool

from banli.domain.permissions import Parties
from banli.domain.proposal import Proposal
from banli.eventlog.kafka import OFFSET_BITS

from ..projections.projector import HISTORY_COLUMNS

_EVENTS = """
SELECT h.position AS position, h.proposal_id AS proposal_id, h.seq AS seq, h.type AS type,
       h.occurred_at AS occurred_at, h.recorded_at AS recorded_at, h.actor_user AS actor_user,
       h.actor_bureau AS actor_bureau, h.actor_role AS actor_role, h.command_id AS command_id,
       h.bureau AS bureau, h.recorded_by_user AS recorded_by_user,
       h.recorded_by_bureau AS recorded_by_bureau, h.recorded_by_role AS recorded_by_role,
       b.bureaus AS bureaus, b.leads AS leads, b.cos AS cos, f.filers AS filers
FROM (SELECT * FROM {db}.event_history WHERE {where} ORDER BY {order} LIMIT {limit:UInt32}) AS h
LEFT JOIN (
    SELECT proposal_id, groupArray(bureau) AS bureaus,
           groupArrayIf(bureau, role = 'lead' AND status = 'active') AS leads,
           groupArrayIf(bureau, role = 'co' AND status = 'active') AS cos
    FROM (SELECT proposal_id, bureau, argMax(role, seq) AS role, argMax(status, seq) AS status
          FROM {db}.assignment_versions
          WHERE proposal_id IN (SELECT proposal_id FROM {db}.event_history WHERE {where}
                                ORDER BY {order} LIMIT {limit:UInt32})
          GROUP BY proposal_id, bureau)
    GROUP BY proposal_id
) AS b ON b.proposal_id = h.proposal_id
LEFT JOIN (
    SELECT proposal_id, groupArrayIf(filer, filer != '') AS filers
    FROM (SELECT proposal_id, idx, argMax(filer, seq) AS filer FROM {db}.proposal_filers
          WHERE proposal_id IN (SELECT proposal_id FROM {db}.event_history WHERE {where}
                                ORDER BY {order} LIMIT {limit:UInt32})
          GROUP BY proposal_id, idx)
    GROUP BY proposal_id
) AS f ON f.proposal_id = h.proposal_id
ORDER BY h.recorded_at, h.position
"""
BETWEEN = _EVENTS.replace("{where}", "position > {after:UInt64} AND position <= {upto:UInt64}"
                          ).replace("{order}", "position")
LATEST = _EVENTS.replace("{where}", "1").replace("{order}", "recorded_at DESC, position DESC")
LANES = f"""
SELECT bitShiftRight(position, {OFFSET_BITS}) AS lane, max(position) AS head
FROM {{db}}.event_history GROUP BY lane
"""


def sse(event: str, data: Any) -> str:
    return f"event: {event}\ndata: {json.dumps(data, ensure_ascii=False, default=str)}\n\n"


_CLOSED = object()  # put in a listener's queue: the feed is closing


class Batch(dict):
    """A batch of the feed, `{"position", "events"}`, the one object every listener gets; with
    what each audience of readers is sent of it (banli.domain.permissions.vantage), made by
    the first of its readers and given as it is to the others (they all run on one loop)."""

    def __init__(self, position: int, events: list[dict[str, Any]]):
        super().__init__(position=position, events=events)
        self._sent: dict[Hashable, str] = {}

    def sent_to(self, audience: Hashable, make: Callable[[], str]) -> str:
        if audience not in self._sent:
            self._sent[audience] = make()
        return self._sent[audience]


class LiveFeed:
    """Polls `changes()` (cheap and monotonic: the projector's checkpoint or insert count) every
    `interval` seconds while anyone listens; when it moves, reads the new events of each lane
    once and gives them to every listener. A listener that falls behind loses the oldest
    batches, never the latest. `close()` ends every listener's stream (the server stops).

    At most one batch goes out every `pace` seconds: a batch that comes sooner after the last
    one sent waits, with any that follow it, and they go out as one batch when the `pace` is up
    (the position the latest). A quiet feed's first batch goes at once. Under many clerks'
    commands the projector lands several batches a second, and each one sent costs every
    reader a token check, a filter per audience and a socket write on the server's one event
    loop; a page needs no more than one refresh a second."""

    def __init__(self, store: Any, changes: Callable[[], int] | None = None,
                 interval: float = 0.25, keep_alive: float = 15.0, limit: int = 500,
                 pushed: bool = False, recheck: float = 30.0, pace: float = 1.0):
        """`pushed`: the projector calls `push` after each batch, and nothing is polled.
        `recheck`: how long a stream may go without asking whether its reader's token still
        holds (the route asks before each batch too). `pace`: the least time between two
        batches sent (0: each as it comes)."""
        self.store = store
        self._changes = changes or (lambda: sum(self._lanes().values()))
        self.interval, self.keep_alive, self.limit = interval, keep_alive, limit
        self.pushed, self.recheck, self.pace = pushed, recheck, pace
        self._held: Batch | None = None  # waiting for the pace: sent at `_release`
        self._sent_at = float("-inf")  # the loop's time the last batch went out
        self.closed = False
        self._listeners: set[asyncio.Queue] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._poller: asyncio.Task | None = None
        self._seen: dict[int, int] = {}

    def _lanes(self) -> dict[int, int]:
        return {r["lane"]: r["head"] for r in self.store.query(LANES)}

    async def position(self) -> int:
        """A number that grows whenever something new is projected (not a log position)."""
        return int(await run_in_threadpool(self._changes))

    async def follow(self, gone: Callable[[], Awaitable[bool]],
                     wake: Callable[[], float] | None = None
                     ) -> AsyncIterator[Batch | None]:
        """Batches `{"position", "events"}` as they come, and None after `wake()` seconds
        (at most `keep_alive`) without one; until the reader is `gone()` or the feed closed."""
        queue: asyncio.Queue = asyncio.Queue(maxsize=64)
        self._loop = asyncio.get_running_loop()
        self._listeners.add(queue)
        if not self.pushed and (self._poller is None or self._poller.done()):
            self._seen = await run_in_threadpool(self._lanes)
            self._poller = asyncio.create_task(self._poll(await self.position()))
        try:
            while not self.closed and not await gone():
                quiet = min(self.keep_alive, wake()) if wake is not None else self.keep_alive
                try:
                    batch = await asyncio.wait_for(queue.get(), max(quiet, 0.01))
                except asyncio.TimeoutError:
                    yield None
                    continue
                if batch is _CLOSED:
                    return
                yield batch
        finally:
            self._listeners.discard(queue)

    def close(self) -> None:
        """End every stream, now and from now on (call it in the server's loop)."""
        self.closed = True
        for queue in list(self._listeners):
            self._put(queue, _CLOSED)

    async def _poll(self, changes: int) -> None:
        while self._listeners:
            await asyncio.sleep(self.interval)
            try:
                now = await self.position()
                if now == changes:
                    continue
                changes = now
                events = await run_in_threadpool(self._new_events)
                if events:
                    self._publish(Batch(now, events))
            except Exception:  # a store that is down for a while: keep polling
                await asyncio.sleep(1.0)

    def _new_events(self) -> list[dict[str, Any]]:
        events: list[dict[str, Any]] = []
        for lane, head in self._lanes().items():
            seen = self._seen.get(lane, lane << OFFSET_BITS)
            while head > seen:
                rows = self.store.query(BETWEEN, after=seen, upto=head, limit=self.limit)
                if not rows:
                    break
                seen = max(r["position"] for r in rows)
                events += map(_event, rows)
            self._seen[lane] = max(seen, head)
        return events

    async def recent(self, shown: Callable[[dict[str, Any]], dict[str, Any] | None],
                     count: int = 20, window: int = 500) -> list[dict[str, Any]]:
        """The last `count` events recorded, each as `shown` shows it to the reader (None: not
        at all), looking at the latest `window`, oldest first: what the page's feed starts
        with."""
        rows = await run_in_threadpool(self.store.query, LATEST, limit=window)
        return [seen for e in map(_event, rows) if (seen := shown(e)) is not None][-count:]

    def push(self, rows: Any, states: dict[str, Any]) -> None:
        """A projected batch (projection.Projection's listener): its events, as the poller
        would read them, to every listener. Called from the projector's thread."""
        loop = self._loop
        if not self._listeners or loop is None or loop.is_closed():
            return
        events = [_pushed_event(row, states.get(row[1])) for row in rows.history]
        loop.call_soon_threadsafe(self._publish_pushed, events)

    def _publish_pushed(self, events: list[dict[str, Any]]) -> None:
        self._publish(Batch(int(self._changes()), events))

    def _publish(self, batch: Batch) -> None:
        """Send `batch` now, or hold it (with the batches after it) until the pace is up.
        Called on the loop."""
        if self._held is not None:  # a batch waits already: this one goes with it
            self._held["position"] = batch["position"]
            self._held["events"].extend(batch["events"])
            return
        loop = asyncio.get_running_loop()
        wait = self._sent_at + self.pace - loop.time()
        if wait <= 0:
            self._send(batch)
        else:
            self._held = Batch(batch["position"], list(batch["events"]))
            loop.call_later(wait, self._release)

    def _release(self) -> None:
        batch, self._held = self._held, None
        if batch is not None:
            self._send(batch)

    def _send(self, batch: Batch) -> None:
        self._sent_at = asyncio.get_running_loop().time()
        for queue in list(self._listeners):
            self._put(queue, batch)

    @staticmethod
    def _put(queue: asyncio.Queue, item: Any) -> None:
        if queue.full():  # the oldest batch goes
            queue.get_nowait()
        queue.put_nowait(item)


def _event(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "position": row["position"], "proposal_id": row["proposal_id"], "seq": row["seq"],
        "type": row["type"], "occurred_at": _utc_ms(row["occurred_at"]),
        "recorded_at": _utc_ms(row["recorded_at"]), "command_id": row["command_id"],
        "actor": {"user": row["actor_user"], "bureau": row["actor_bureau"] or None,
                  "role": row["actor_role"]},
        "recorded_by": ({"user": row["recorded_by_user"],
                         "bureau": row["recorded_by_bureau"] or None,
                         "role": row["recorded_by_role"]} if row["recorded_by_role"] else None),
        "bureau": row["bureau"] or None, "bureaus": list(row["bureaus"] or []),
        "leads": list(row["leads"] or []), "cos": list(row["cos"] or []),
        "filers": list(row["filers"] or []),
    }


def _pushed_event(row: tuple, state: Any) -> dict[str, Any]:
    """An event_history row as the projector built it (projector.HISTORY_COLUMNS), shaped as
    `_event` shapes the same row read back, with its proposal's parties: every bureau with a
    duty on it, its active leads and co-handlers, its filers."""
    parties = Parties.of(state) if isinstance(state, Proposal) else Parties()
    return _event({**dict(zip(HISTORY_COLUMNS, row)), "bureaus": sorted(parties.bureaus),
                   "leads": sorted(parties.leads), "cos": sorted(parties.cos),
                   "filers": sorted(parties.filers)})


def parties_of(event: dict[str, Any], cosign: bool) -> Parties:
    """The parties of a feed event's proposal (banli.domain.permissions.event_for asks them)."""
    return Parties(bureaus=frozenset(event["bureaus"]), leads=frozenset(event["leads"]),
                   cos=frozenset(event["cos"]), filers=frozenset(event["filers"]), cosign=cosign)


def _utc_ms(moment: datetime) -> str:
    """ISO 8601 in UTC with its offset, to the millisecond (DateTime64(3, 'UTC')'s precision).
    A time read back from ClickHouse comes without a zone, and is UTC: a browser would read
    the bare string as its own local time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).replace(
        microsecond=moment.microsecond // 1000 * 1000).isoformat()
