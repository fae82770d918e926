"""The embedded figures: the write path (decide, append, project), replay against the ceiling
of inserting already-built rows, and the baseline of the report (the reference fold).

Each function here runs in a process of its own (see `bench.__main__.in_child`): chDB opens a
path in one process only, and a stage's memory and engine are gone when it ends."""
from __future__ import annotations

import sqlite3
import threading
import time
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, Iterator

from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.views.rates import Scope
from banli.eventlog.repository import Repository
from banli.eventlog.sqlite import SCHEMA, SqliteEventStore
from banli.history import LineProblem, MemoryLedger, read_commands, reference_report
from apps.local import Progress, import_commands
from banli.settings import Settings
from banli.handling import Handling
from services.reporting.projections.process import embedded_projector
from services.reporting.projections.projection import Projection
from services.reporting.projections.replay import LogSource, ReplayProgress, SqliteSource, replay
from services.reporting.projections.store import ReportingStore


@contextmanager
def profiled(out: Path | None, name: str) -> Iterator[None]:
    """Profile the block with pyinstrument into `out/<name>.txt` (when `out` is given)."""
    if out is None:
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{name}.txt").write_text(
            profiler.output_text(unicode=True, color=False, show_all=False), encoding="utf-8")


def count_lines(path: Path) -> int:
    with path.open(encoding="utf-8") as f:
        return sum(1 for _ in f)


def write_path(history: Path, data_dir: Path, batched: bool = True,
               profile_dir: Path | None = None) -> dict[str, Any]:
    """Every command of the history decided, appended and projected, as `banli serve` does it
    (the projector's child process follows the store, or its thread: BANLI_PROJECTOR_PROCESS)
    and, when `batched`, as `banli import` feeds it (500 commands a transaction); else one
    transaction per command, as the HTTP API does.
    The clock stops when the last event is in the projections."""
    settings = Settings(data_dir=data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    log = SqliteEventStore(settings.store_path)
    store = ReportingStore(settings.dsn, settings.clickhouse_database)
    projector = embedded_projector(log, store, settings.store_path, settings.projection_batch,
                                   settings.projector_process)
    handling = Handling(Repository(log), log, DEFAULT_PROFILE,
                        on_durable=lambda outcomes: projector.notify())
    total = count_lines(history)
    label = "ours, import path" if batched else "ours, one command a transaction"
    progress = Progress(total, label)
    projector.start()
    with profiled(profile_dir, "write_batched" if batched else "write_per_command"):
        start = time.perf_counter()
        with history.open(encoding="utf-8") as lines:
            accepted, replayed, problems = import_commands(
                handling.handle, lines, progress,
                handle_batch=handling.handle_batch if batched else None)
        decided = time.perf_counter() - start
        head = log.head()
        while not projector.wait_for(head, timeout=5):
            if projector.error is not None:
                raise RuntimeError(f"projector failed: {projector.error!r}")
        elapsed = time.perf_counter() - start
    progress.update(total, force=True)
    projector.stop()
    commands = accepted + len([p for p in problems if p.code != "invalid"])
    return {"commands": commands, "accepted": accepted, "refused": len(problems),
            "events": log.count(), "seconds": elapsed, "decided_seconds": decided,
            "commands_per_s": commands / elapsed}


def write_ceiling(history: Path, store_path: Path, target: Path,
                  commands_per_transaction: int = 500) -> dict[str, Any]:
    """The write path's ceiling: the event rows our store holds after the import path (read
    back from `store_path`, not timed), inserted into a fresh SQLite file at `target` with the
    same schema and pragmas (WAL, synchronous=NORMAL) by one `executemany` per transaction,
    in the import's transactions: the events of each 500 commands of the history together.
    Nothing is decided, encoded or looked up; the commands' outcomes and the directory rows
    are not written. What is left is what SQLite itself costs for our rows."""
    source = sqlite3.connect(store_path)
    rows_of: dict[str, list[tuple]] = {}
    for row in source.execute("SELECT stream, seq, event_id, type, command_id, occurred_at,"
                              " recorded_at, data FROM events ORDER BY position"):
        rows_of.setdefault(row[4], []).append(row)
    source.close()
    with history.open(encoding="utf-8") as lines:
        ids = [item.command_id for _, item in read_commands(lines)
               if not isinstance(item, LineProblem)]
    transactions = [[row for command_id in ids[start:start + commands_per_transaction]
                     for row in rows_of.pop(command_id, ())]
                    for start in range(0, len(ids), commands_per_transaction)]
    if rows_of:
        raise RuntimeError(f"{len(rows_of)} commands' events are not in the history")
    target.unlink(missing_ok=True)
    db = sqlite3.connect(target, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.executescript(SCHEMA)
    start = time.perf_counter()
    for rows in transactions:
        db.execute("BEGIN IMMEDIATE")
        db.executemany("INSERT INTO events (stream, seq, event_id, type, command_id, occurred_at,"
                       " recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    events = sum(len(rows) for rows in transactions)
    return {"commands": len(ids), "events": events, "transactions": len(transactions),
            "seconds": elapsed, "commands_per_s": len(ids) / elapsed,
            "events_per_s": events / elapsed}


# --- replay ---------------------------------------------------------------------------------
def replay_stage(source: LogSource, store: ReportingStore, loader_for, label: str,
                 profile_dir: Path | None, ceiling_events: int, rounds: int = 1
                 ) -> dict[str, Any]:
    """Rebuild every projection from `source` into fresh tables and swap them in (the real
    `replay`), then the ceiling: the same rows, built beforehand, inserted into the same engine
    in the same batch sizes. `rounds` times each, interleaved; the best of each."""
    insert_ceiling(store, source, loader_for, 1)  # warm the engine and client up for both
    best: dict[str, Any] = {}
    for r in range(rounds):
        run = replay_once(source, store, loader_for, label, profile_dir if r == 0 else None)
        ceiling = insert_ceiling(store, source, loader_for, ceiling_events)
        if not best or run["events_per_s"] > best["events_per_s"]:
            best.update(run)
        if ceiling["events_per_s"] > best.get("ceiling_events_per_s", 0):
            best.update({f"ceiling_{k}": v for k, v in ceiling.items()})
    return best


def replay_once(source: LogSource, store: ReportingStore, loader_for, label: str,
                profile_dir: Path | None) -> dict[str, Any]:
    progress = ReplayProgress()
    shown = Progress(1, f"replay ({label})")
    done = threading.Event()

    def follow() -> None:
        while not done.wait(1.0):
            shown.total = max(progress.total, 1)
            shown.update(progress.read)

    watcher = threading.Thread(target=follow, daemon=True)
    watcher.start()
    with profiled(profile_dir, f"replay_{label}"):
        start = time.perf_counter()
        replay(store, source, threading.Lock(), progress, loader_for)
        elapsed = time.perf_counter() - start
    done.set()
    shown.update(progress.read, force=True)
    if progress.state != "done":
        raise RuntimeError(f"replay {label}: {progress.state} {progress.error}")
    return {"events": progress.read, "seconds": elapsed, "events_per_s": progress.read / elapsed}


def insert_ceiling(store: ReportingStore, source: LogSource, loader_for,
                   limit: int) -> dict[str, Any]:
    """Rows for the log's first `limit` events, built in memory first (not timed), then
    inserted into fresh tables of the same engine, batch by batch as replay inserts them."""
    target = f"{store.db}_ceiling"
    store.drop(target)
    store.ensure_schema(target)
    projection = Projection(store, loader_for(target), db=target, cache_size=50_000)
    built = []
    events = 0
    for batch in source.batches(source.origin(), source.mark()):
        rows, states = projection.rows_for(batch)
        projection.remember(states)
        built.append(rows)
        events += len(batch)
        if events >= limit:
            break
    start = time.perf_counter()
    for rows in built:
        store.insert(rows, target)
    elapsed = time.perf_counter() - start
    store.drop(target)
    return {"events": events, "seconds": elapsed, "events_per_s": events / elapsed}


def replay_embedded(data_dir: Path, profile_dir: Path | None = None,
                    ceiling_events: int = 200_000, rounds: int = 1) -> dict[str, Any]:
    settings = Settings(data_dir=data_dir)
    log = SqliteEventStore(settings.store_path)
    store = ReportingStore(settings.dsn, settings.clickhouse_database)
    return replay_stage(SqliteSource(log), store,
                        lambda db: (lambda stream, seq: log.load_before(stream, seq)),
                        "embedded", profile_dir, ceiling_events, rounds)


# --- the report's baseline ------------------------------------------------------------------
def ledger_from_store(path: Path) -> MemoryLedger:
    """The reference report's ledger, folded from the events in the store (not decided again):
    the same events the projections hold."""
    log = SqliteEventStore(path)
    ledger = MemoryLedger()
    total = log.count()
    progress = Progress(total, "reference fold: loading events")
    read = 0
    for chunk in log.read_all(0, 20_000):
        ledger.store.restore(stored.event for stored in chunk)
        read += len(chunk)
        progress.update(read)
    progress.update(total, force=True)
    assert len(ledger.states) == len(ledger.streams)  # folded now, before the reports are timed
    return ledger


def reference_times(store_path: Path, scopes: dict[str, Scope], repeat: int
                    ) -> dict[str, list[float]]:
    """Seconds the reference report takes for each scope (the fold of `banli report
    --history`, without deciding the file again), `repeat` times each."""
    ledger = ledger_from_store(store_path)
    times: dict[str, list[float]] = {}
    for name, scope in scopes.items():
        times[name] = []
        for _ in range(repeat):
            start = time.perf_counter()
            reference_report(ledger, scope)
            times[name].append(time.perf_counter() - start)
    return times


def report_scopes(today: date, years: tuple[int, int], bureau: str) -> dict[str, Scope]:
    """One bureau and all bureaus, current (as of today) and as of a past year end."""
    past = date(years[1] - 1, 12, 31)
    return {
        "bureau_current": Scope(bureau=bureau, years=years, as_of=today),
        "bureau_as_of": Scope(bureau=bureau, years=years, as_of=past),
        "all_current": Scope(bureau=None, years=years, as_of=today),
        "all_as_of": Scope(bureau=None, years=years, as_of=past),
    }

