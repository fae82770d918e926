"""The dashboard's kept answers (services/reporting/http/answer_cache.py): one computation per
key and position however many ask at once, a new position a new answer, a failure not kept; and the
vantage that keys them (banli.domain.permissions.vantage)."""
from __future__ import annotations

import asyncio

import pytest

from banli.domain.permissions import vantage
from banli.domain.types import Actor
from services.reporting.http.answer_cache import AnswerCache, Same

SIGHT = ("read:report", "read:live")


class Where:
    """A projected position the test moves."""

    def __init__(self) -> None:
        self.at = 0

    async def __call__(self) -> int:
        return self.at


def test_concurrent_askers_of_one_key_share_one_computation():
    async def run() -> None:
        calls, release = [], asyncio.Event()

        async def compute() -> dict:
            calls.append(1)
            await release.wait()
            return {"n": len(calls)}

        answers: AnswerCache[dict] = AnswerCache(Where())
        waiting = [asyncio.create_task(answers.get("k", compute)) for _ in range(10)]
        await asyncio.sleep(0.01)
        assert len(calls) == 1  # the other nine await the same future
        release.set()
        got = await asyncio.gather(*waiting)
        assert got == [{"n": 1}] * 10 and all(g is got[0] for g in got)
        assert await answers.get("k", compute) is got[0] and len(calls) == 1
        assert answers.computed == 1

    asyncio.run(run())


def test_a_new_position_or_another_key_computes_again():
    async def run() -> None:
        where, calls = Where(), []

        async def compute() -> int:
            calls.append(where.at)
            return where.at

        answers: AnswerCache[int] = AnswerCache(where)
        assert await answers.get("k", compute) == 0
        assert await answers.get("k", compute) == 0
        where.at = 7
        assert await answers.get("k", compute) == 7
        assert await answers.get("other", compute) == 7
        assert calls == [0, 7, 7]

    asyncio.run(run())


def test_the_oldest_answers_go_first_beyond_the_size():
    async def run() -> None:
        calls: list[str] = []

        def compute(key: str):
            async def answer() -> str:
                calls.append(key)
                return key
            return answer

        answers: AnswerCache[str] = AnswerCache(Where(), size=2)
        for key in ("a", "b", "a", "c", "a", "b"):
            await answers.get(key, compute(key))
        assert calls == ["a", "b", "c", "b"]  # "a" was used last, so "b" went for "c"

    asyncio.run(run())


def test_a_failed_computation_is_not_kept_and_a_cancelled_waiter_leaves_it_running():
    async def run() -> None:
        tries: list[int] = []
        release = asyncio.Event()

        async def flaky() -> str:
            tries.append(1)
            await release.wait()
            if len(tries) == 1:
                raise RuntimeError("store away")
            return "ok"

        answers: AnswerCache[str] = AnswerCache(Where())
        first, second = (asyncio.create_task(answers.get("k", flaky)) for _ in range(2))
        await asyncio.sleep(0.01)
        first.cancel()  # its client went away: the computation goes on for the other
        release.set()
        with pytest.raises(RuntimeError):
            await second
        assert await answers.get("k", flaky) == "ok" and len(tries) == 2

    asyncio.run(run())


def test_same_compares_by_identity():
    a, b = {"x": 1}, {"x": 1}
    assert Same(a) == Same(a) and Same(a) != Same(b) and hash(Same(a)) == hash(Same(a))


def test_oversight_shares_a_vantage_and_each_bureau_has_its_own():
    overseer = vantage(Actor(user="o", role="overseer"), SIGHT)
    assert overseer == vantage(Actor(user="c", role="coordinator"), SIGHT)
    assert overseer == vantage(Actor(user="a", role="admin"), SIGHT)
    hrss = vantage(Actor(user="x", role="clerk", bureau="sh-hrss"), SIGHT)
    assert hrss == vantage(Actor(user="y", role="clerk", bureau="sh-hrss"), SIGHT)
    assert hrss != vantage(Actor(user="x", role="clerk", bureau="sh-ipa"), SIGHT)
    assert hrss != overseer
    filer = vantage(Actor(user="f", role="filer", filer="F1"), SIGHT)
    assert filer != vantage(Actor(user="g", role="filer", filer="F2"), SIGHT)
    assert filer != vantage(Actor(user="i", role="importer"), SIGHT)


def test_while_a_later_answer_computes_askers_get_the_newest_kept_at_once():
    """At most one computation per key in flight: one who asks at a new position while another
    position's answer is computed gets the newest kept (it says its position) without waiting;
    one who asks when nothing is computed gets the answer at the position now."""
    async def run() -> None:
        where, release = Where(), asyncio.Event()

        async def compute() -> int:
            at = where.at
            if at == 2:
                await release.wait()
            return at

        answers: AnswerCache[int] = AnswerCache(where)
        assert await answers.get("k", compute) == 0
        where.at = 2
        slow = asyncio.create_task(answers.get("k", compute))  # position 2: computing
        await asyncio.sleep(0.01)
        where.at = 3
        assert await answers.get("k", compute) == 0  # the newest kept, at once
        assert await answers.get("other", compute) == 3  # another key is not held back
        assert answers.newest_given == 1 and answers.computed == 3
        release.set()
        assert await slow == 2
        assert await answers.get("k", compute) == 3  # nothing in flight: the position now
        assert answers.computed == 4

    asyncio.run(run())


def test_with_nothing_kept_yet_an_asker_waits_for_its_own_answer():
    async def run() -> None:
        where, release = Where(), asyncio.Event()

        async def compute() -> int:
            await release.wait()
            return where.at

        answers: AnswerCache[int] = AnswerCache(where)
        first = asyncio.create_task(answers.get("k", compute))
        await asyncio.sleep(0.01)
        where.at = 5
        second = asyncio.create_task(answers.get("k", compute))
        await asyncio.sleep(0.01)
        release.set()
        assert sorted(await asyncio.gather(first, second)) == [5, 5]
        assert answers.computed == 2 and answers.newest_given == 0

    asyncio.run(run())
