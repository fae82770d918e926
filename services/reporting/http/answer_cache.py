"""The dashboard once per change, not once per viewer: answers kept by everything they depend
on, with one computation in flight per key.

`GET /api/dashboard` costs about 0.3 s of the one chDB engine, and every open page asks for it
again after each live batch. Its answer is a function of its key and nothing else, so viewers
who would get the same answer share one computation. The key (built in api.dashboard) holds:
- the request's scope, profile and audit clock (`recorded_by`): what is counted;
- the viewer's vantage (banli.domain.permissions.vantage) for every action the route filters
  by (read:report, read:live): oversight roles share one, each bureau's clerks one of their own;
  two viewers who may see different things never share a key, so one never gets an answer
  meant for someone who may see more;
- today's date (the answer names it) and the working-day calendar in force;
- the projections' position (AnswerCache's `position`, given by the composition root: the
  embedded projector's, or the reporting service's marks in the projections' tables, each with
  the store's table swaps): it moves whenever anything is projected, so a new batch is a new
  key. It is read before the computation starts: an answer
  is never older than its key says (it may be newer, which is harmless).
An answer for an old position is never asked for again and falls out of the LRU order.

While an answer for a key is being computed, one who asks for the same key at a later position
gets the newest answer kept for it at once (it says its position: the page asks again after the
next live batch), rather than waiting for a second computation: so at most one computation per
key is ever in flight, and under many clerks' commands a dashboard does not wait for the one
before it. One who asks when nothing for the key is being computed gets the answer at the
position now, computed if need be: a client that sent a command and then asks always sees it.
A computation that fails is not kept: every waiter gets its error, the next request computes
again. A waiter that goes away (its client disconnected) does not cancel the computation the
others await."""
from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import Any, Awaitable, Callable, Generic, Hashable, TypeVar

T = TypeVar("T")


class Same:
    """A key part compared by identity (an object with no cheap hash, such as a calendar). It
    keeps the object alive while the key is held, so its id cannot be reused meanwhile."""

    __slots__ = ("obj",)

    def __init__(self, obj: Any):
        self.obj = obj

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Same) and other.obj is self.obj

    def __hash__(self) -> int:
        return id(self.obj)


class AnswerCache(Generic[T]):
    """Answers by key and the projections' position, at most `size` of them (least recently
    used go first), each computed once however many ask at the same time. `position` says
    where the projections stand. Use it from one event loop."""

    def __init__(self, position: Callable[[], Awaitable[Hashable]], size: int = 64):
        self.position, self.size = position, size
        # by (key, position)
        self._kept: OrderedDict[tuple[Hashable, Hashable], T] = OrderedDict()
        self._pending: dict[tuple[Hashable, Hashable], asyncio.Future[T]] = {}
        # by key (without the position): the answer of the computation started last, and when
        self._newest: dict[Hashable, tuple[int, T]] = {}
        self._started = 0  # computations started, in order
        self.computed = 0  # computations started (for tests and the bench)
        self.newest_given = 0  # answers given while a newer one was computed

    async def get(self, key: Hashable, compute: Callable[[], Awaitable[T]]) -> T:
        """The answer kept for `key` at the position now, or the one being computed for it,
        or `compute()`'s. The position is read before `compute` starts."""
        at = (key, await self.position())
        if at in self._kept:
            self._kept.move_to_end(at)
            return self._kept[at]
        pending = self._pending.get(at)
        if pending is None:
            if key in self._newest and any(k == key for k, _ in self._pending):
                self.newest_given += 1
                return self._newest[key][1]  # one for a later position is on its way
            self.computed += 1
            pending = self._pending[at] = asyncio.ensure_future(self._compute(at, compute))
            pending.add_done_callback(_retrieved)
        # shielded: a waiter cancelled (its client gone) leaves the computation to the others
        return await asyncio.shield(pending)

    async def _compute(self, at: tuple[Hashable, Hashable],
                       compute: Callable[[], Awaitable[T]]) -> T:
        key = at[0]
        self._started += 1
        started = self._started
        try:
            answer = await compute()
        finally:
            del self._pending[at]
        self._kept[at] = answer
        while len(self._kept) > self.size:
            self._kept.popitem(last=False)
        if started > self._newest.get(key, (0, None))[0]:  # not one started before it
            self._newest.pop(key, None)
            self._newest[key] = (started, answer)
            while len(self._newest) > self.size:  # the least recently computed go first
                self._newest.pop(next(iter(self._newest)))
        return answer


def _retrieved(done: asyncio.Future) -> None:
    """Mark a failed computation's error as seen: its waiters (if any are left) got it."""
    if not done.cancelled():
        done.exception()
