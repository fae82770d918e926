"""The live feed sends a reader at most one batch a `pace`: the first after a quiet spell at
once, those that land sooner held and sent together as one batch, in order, the position the
latest's; nothing lost, nothing sent twice."""
import asyncio

from services.reporting.http.live import Batch, LiveFeed


def _event(n: int) -> dict:
    return {"position": n, "proposal_id": f"p{n}"}


async def _received(feed: LiveFeed, batches: list[Batch], until: int) -> list[Batch]:
    got: list[Batch] = []

    async def gone() -> bool:
        return False

    stream = feed.follow(gone)
    first = asyncio.ensure_future(stream.__anext__())
    await asyncio.sleep(0)  # the reader is listening
    for batch in batches:
        feed._publish(batch)
        await asyncio.sleep(0)
    batch = await asyncio.wait_for(first, 10)
    while True:
        if batch is not None:
            got.append(batch)
            if batch["position"] >= until:
                break
        batch = await asyncio.wait_for(stream.__anext__(), 10)
    await stream.aclose()
    return got


def test_batches_landing_within_the_pace_go_out_as_one():
    feed = LiveFeed(None, lambda: 0, pushed=True, pace=1.0)
    sent = [Batch(n, [_event(n)]) for n in (1, 2, 3)]
    got = asyncio.run(_received(feed, sent, until=3))
    assert [b["position"] for b in got] == [1, 3]
    assert [[e["position"] for e in b["events"]] for b in got] == [[1], [2, 3]]
    assert sent[1]["events"] == [_event(2)], "a batch given to the feed is not changed"


def test_with_no_pace_each_batch_goes_as_it_comes():
    feed = LiveFeed(None, lambda: 0, pushed=True, pace=0)
    sent = [Batch(n, [_event(n)]) for n in (1, 2, 3)]
    got = asyncio.run(_received(feed, sent, until=3))
    assert [[e["position"] for e in b["events"]] for b in got] == [[1], [2], [3]]


def test_after_a_quiet_pace_the_next_batch_goes_at_once():
    async def run() -> list[list[int]]:
        feed = LiveFeed(None, lambda: 0, pushed=True, pace=0.05)
        first = await _received(feed, [Batch(1, [_event(1)])], until=1)
        await asyncio.sleep(0.1)  # longer than the pace: the feed is quiet again
        later = await _received(feed, [Batch(2, [_event(2)]), Batch(3, [_event(3)])], until=3)
        return [[e["position"] for e in b["events"]] for b in first + later]

    assert asyncio.run(run()) == [[1], [2], [3]]
