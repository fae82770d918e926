"""Sending commands over Kafka and waiting for their outcomes (intake's and handling's APIs).

A command goes to `banli.commands`, keyed by its stream; the handling worker's answer comes
back on `banli.command-results` (keyed by the command id, with its sender in a `sender`
header: ids are scoped to their sender), which a thread here reads from the end (no consumer
group: every API process sees every result) and hands to whoever waits for that sender's
command. An answer that takes longer than the timeout is a 202: the caller polls
`/api/commands/{id}`. Answers nobody waits for are kept as they came (decoded when asked for),
and the threads wake the event loop once per burst of answers and acks, not once each."""
from __future__ import annotations

import asyncio
import logging
import threading
import time
import warnings
from collections import OrderedDict, deque
from typing import Any

from ..domain.commands import Command, sender_of
from . import Outcome
from .kafka import Topics, decode_outcome, partitions_of

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, KafkaProducer

log = logging.getLogger("banli.bus")


class KafkaBus:
    def __init__(self, bootstrap: str, timeout_s: float = 5.0, topics: Topics = Topics(),
                 cache_size: int = 100_000):
        self.timeout_s = timeout_s
        self.topics = topics
        self.producer = KafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=1,
                                      retries=2**31 - 1, max_in_flight_requests_per_connection=1,
                                      client_id="banli-bus")
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      enable_auto_commit=False, client_id="banli-bus-results")
        tps = partitions_of(self.consumer, topics.results)
        self.consumer.assign(tps)
        self.consumer.seek_to_end(*tps)
        for tp in tps:  # resolve the end now, before any command is sent
            self.consumer.position(tp)
        # by (sender, command id); bytes: not decoded yet
        self._results: OrderedDict[tuple[str, str], Outcome | bytes] = OrderedDict()
        # (sender, command id) -> (loop, future, the command waited for)
        self._waiters: dict[tuple[str, str], list[tuple[asyncio.AbstractEventLoop,
                                                        asyncio.Future[Any], Command]]] = {}
        self._lock = threading.Lock()
        self._handoffs: dict[asyncio.AbstractEventLoop, _Handoff] = {}
        self.cache_size = cache_size
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read_results, name="results", daemon=True)
        self._thread.start()

    def _read_results(self) -> None:
        while not self._stop.is_set():
            try:
                batches = self.consumer.poll(timeout_ms=200)
            except Exception:  # the broker may be away for a while: keep trying
                log.exception("reading command results")
                time.sleep(1)
                continue
            for records in batches.values():
                for record in records:
                    try:
                        self._deliver(_key_of(record), record.value)
                    except Exception:
                        log.exception("undecodable result at offset %s", record.offset)

    def _deliver(self, key: tuple[str, str] | None, raw: bytes) -> None:
        """Keep a decision (never a refused reuse of its id, which would hide the first from its
        sender) and hand it to the waiters it answers: those who sent that very command, or,
        for a conflict, the command it refused. Decoded only when someone waits for it (or to
        find its sender, for a result written without the header)."""
        with self._lock:
            waited = key is None or key in self._waiters
        decoded = decode_outcome(raw) if waited else None
        if decoded is not None:
            key = (decoded.sender or "", decoded.command_id)
            conflict = (decoded.rejection is not None
                        and decoded.rejection.code == "command_id_conflict")
        else:
            conflict = b'"command_id_conflict"' in raw
        assert key is not None
        with self._lock:
            if not conflict:
                self._results[key] = decoded if decoded is not None else raw
                self._results.move_to_end(key)
                while len(self._results) > self.cache_size:
                    self._results.popitem(last=False)
            waiting = self._waiters.get(key, [])
            if waiting and decoded is None:  # a waiter came meanwhile
                decoded = decode_outcome(raw)
            answered = [w for w in waiting if decoded is not None and decoded.answers(w[2])]
            if answered:
                rest = [w for w in waiting if w not in answered]
                if rest:
                    self._waiters[key] = rest
                else:
                    del self._waiters[key]
        for loop, future, _ in answered:
            self._handoff(loop).resolve(future, decoded)

    def _handoff(self, loop: asyncio.AbstractEventLoop) -> "_Handoff":
        handoff = self._handoffs.get(loop)
        if handoff is None:
            handoff = self._handoffs.setdefault(loop, _Handoff(loop))
        return handoff

    def _known(self, key: tuple[str, str]) -> Outcome | None:
        """A result kept (decoded now if it was not); call with the lock held."""
        known = self._results.get(key)
        if isinstance(known, bytes):
            known = self._results[key] = decode_outcome(known)
        return known

    # Commands sent through one bus keep their order per stream (one producer, one request in
    # flight per connection), so callers may pipeline: `window` commands in flight at once.
    window = 4096

    def _produce(self, command: Command) -> Any:
        """Hand one command to the producer, in call order; returns its delivery future."""
        return self.producer.send(self.topics.commands, key=command.stream.encode(),
                                  value=command.model_dump_json().encode(),
                                  timestamp_ms=int(time.time() * 1000))

    async def send(self, command: Command) -> Outcome | None:
        """The command's outcome, or None when it is not decided within the timeout."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Outcome | None] = loop.create_future()
        key = (sender_of(command), command.command_id or "")  # the adapters give it an id
        with self._lock:
            known = self._known(key)
            if known is None:
                self._waiters.setdefault(key, []).append((loop, future, command))
        if known is not None:
            return known.replay(command)  # or a conflict: the sender's id, for another command
        delivered: asyncio.Future[bool] = loop.create_future()
        delivery = self._produce(command)
        handoff = self._handoff(loop)
        delivery.add_callback(lambda _: handoff.resolve(delivered, True))
        delivery.add_errback(lambda exc: handoff.fail(delivered, exc))
        await delivered  # the broker has the command
        try:
            return await asyncio.wait_for(future, self.timeout_s)
        except asyncio.TimeoutError:
            return None

    async def outcome(self, sender: str, command_id: str) -> Outcome | None:
        """What `sender`'s command `command_id` came to, as far as this process has read."""
        with self._lock:
            return self._known((sender, command_id))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        self.producer.close(timeout=10)
        self.consumer.close()


def _key_of(record: Any) -> tuple[str, str] | None:
    """A result's (sender, command id), from its key and `sender` header (None: a result
    written without the header, by a worker of before ids were scoped; its body tells)."""
    sender = next((value for name, value in record.headers or () if name == "sender"), None)
    if record.key is None or sender is None:
        return None
    return sender.decode(), record.key.decode()


class _Handoff:
    """Settles an event loop's futures from other threads, with one wakeup of the loop for
    whatever piled up meanwhile (call_soon_threadsafe writes to the loop's pipe every time)."""

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.items: deque[tuple[asyncio.Future[Any], object, BaseException | None]] = deque()
        self.lock = threading.Lock()
        self.scheduled = False

    def resolve(self, future: asyncio.Future[Any], result: object) -> None:
        self._put(future, result, None)

    def fail(self, future: asyncio.Future[Any], exc: BaseException) -> None:
        self._put(future, None, exc)

    def _put(self, future: asyncio.Future[Any], result: object, exc: BaseException | None) -> None:
        with self.lock:
            self.items.append((future, result, exc))
            if self.scheduled:
                return
            self.scheduled = True
        try:
            self.loop.call_soon_threadsafe(self._run)
        except RuntimeError:  # the loop is closed: nobody waits any more
            pass

    def _run(self) -> None:
        with self.lock:
            items, self.items, self.scheduled = self.items, deque(), False
        for future, result, exc in items:
            if exc is not None:
                _fail(future, exc)
            else:
                _resolve(future, result)


def _resolve(future: asyncio.Future[Any], outcome: object) -> None:
    if not future.done():
        future.set_result(outcome)


def _fail(future: asyncio.Future[Any], exc: BaseException) -> None:
    if not future.done():
        future.set_exception(exc)

