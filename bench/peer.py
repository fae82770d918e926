"""The peer baseline for the embedded write path: the `eventsourcing` package (pyeventsourcing)
with its SQLite persistence, doing get-command-save per command.

The peer's aggregate is ours in size and in rules: the same kernel `decide`s each command
against the same state, and every event it decides becomes one of the peer's events whose
payload is our event's JSON object, applied with the same `evolve`. So the two runs differ only
in what is being compared: the store, the repository and the per-command transaction. The peer
is given its best settings: an aggregate cache as big as our processor's, no deep copy out of
it, an in-memory directory (our processor asks SQLite), and the durability our store has
(WAL with `synchronous=NORMAL`: the peer's default, FULL, waits for an fsync at every commit,
which made it about twice as slow here)."""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError, Application
from eventsourcing.domain import Aggregate, event
from eventsourcing.sqlite import SQLiteConnectionPool

from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.registry import load_event
from banli.domain.decide import decide
from banli.domain.proposal import Context, MemoryDirectory, State, evolve
from banli.domain.rejections import Rejection
from banli.history import LineProblem, read_commands
from banli.workcalendar import china_calendar
from banli.clock import system_clock

from apps.local import Progress


def _same_durability_as_ours() -> None:
    """Every connection the peer opens gets our store's `synchronous=NORMAL`."""
    create = SQLiteConnectionPool._create_connection
    if getattr(create, "banli_bench", False):
        return

    def create_connection(self):
        connection = create(self)
        connection._sqlite_conn.execute("PRAGMA synchronous=NORMAL")
        return connection

    create_connection.banli_bench = True  # type: ignore[attr-defined]
    SQLiteConnectionPool._create_connection = create_connection  # type: ignore[method-assign]


def stream_id(stream: str) -> UUID:
    return uuid5(NAMESPACE_URL, f"banli:{stream}")


class PeerProposal(Aggregate):
    """One stream (a proposal or a bureau) as an eventsourcing aggregate holding our state."""

    @staticmethod
    def create_id(stream: str, first: dict[str, Any]) -> UUID:
        return stream_id(stream)

    @event("Started")
    def __init__(self, stream: str, first: dict[str, Any]):
        self.stream = stream
        self.state: State = evolve(None, load_event(first))

    @event("Recorded")
    def record(self, payload: dict[str, Any]) -> None:
        self.state = evolve(self.state, load_event(payload))


class PeerApp(Application):
    """get → decide → save, one transaction per command."""

    def __init__(self, env: dict[str, str]):
        super().__init__(env)
        self.directory = MemoryDirectory()
        self.calendar = china_calendar()  # the working days our processor decides with

    def handle(self, command) -> int:
        """Decide one command; returns how many events it recorded (0 when refused)."""
        try:
            aggregate: PeerProposal | None = self.repository.get(stream_id(command.stream))
        except AggregateNotFoundError:
            aggregate = None
        ctx = Context(recorded_at=system_clock(), profile=DEFAULT_PROFILE,
                      directory=self.directory, calendar=self.calendar)
        decision = decide(aggregate.state if aggregate else None, command, ctx)
        if isinstance(decision, Rejection):
            return 0
        payloads = [ev.model_dump(mode="json") for ev in decision]
        if aggregate is None:
            aggregate = PeerProposal(command.stream, payloads[0])
            payloads = payloads[1:]
        for payload in payloads:
            aggregate.record(payload)
        self.save(aggregate)
        for ev in decision:
            self.directory.observe(ev)
        return len(decision)


def run_peer(history: Path, work: Path, cache_size: int = 10_000) -> dict[str, Any]:
    """Every command of the history through the peer; commands/s and events recorded."""
    work.mkdir(parents=True, exist_ok=True)
    db = work / "peer.sqlite3"
    db.unlink(missing_ok=True)
    _same_durability_as_ours()
    app = PeerApp({"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(db),
                   "AGGREGATE_CACHE_MAXSIZE": str(cache_size),
                   "DEEPCOPY_FROM_AGGREGATE_CACHE": "n", "IS_SNAPSHOTTING_ENABLED": "n"})
    with history.open(encoding="utf-8") as f:
        total = sum(1 for _ in f)
    progress = Progress(total, "peer (eventsourcing + SQLite)")
    commands = events = 0
    start = time.perf_counter()
    with history.open(encoding="utf-8") as lines:
        for count, (_, item) in enumerate(read_commands(lines), start=1):
            progress.update(count)
            if isinstance(item, LineProblem):
                continue
            events += app.handle(item)
            commands += 1
    elapsed = time.perf_counter() - start
    progress.update(total, force=True)
    size = os.path.getsize(db)
    return {"commands": commands, "events": events, "seconds": elapsed,
            "commands_per_s": commands / elapsed, "db_bytes": size}
