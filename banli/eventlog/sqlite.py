"""The embedded event store: SQLite in WAL mode.

- `events`: every event once, unique (stream, seq) and unique event_id, with a global position
  (the row id) that readers follow.
- `commands`: every decided command's outcome, so a command sent again (a retry, a re-imported
  file) is answered from its record instead of being decided twice.
- `bureaus`, `bureau_merges`, `proposal_keys`, `proposal_status`, `filers`: the directory
  decisions consult,
  updated in the same transaction as the events that change it; `proposal_filers`, each
  proposal's filers by name and (where linked) id, which the filer registry's import reads.

An append is one transaction at an expected version: the events, the command's outcome and the
directory rows commit together or not at all.
"""
from __future__ import annotations

import json
import sqlite3
import threading
from collections import OrderedDict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from ..domain import commands as c
from ..domain import events as e
from ..domain.registry import load_event
from ..domain.proposal import State, fold
from ..domain.rejections import Rejection
from . import Appended, ConcurrencyError, Durable, Outcome, Stored, stored_of

SCHEMA = """
CREATE TABLE IF NOT EXISTS events (
    position    INTEGER PRIMARY KEY AUTOINCREMENT,
    stream      TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    event_id    TEXT NOT NULL UNIQUE,
    type        TEXT NOT NULL,
    command_id  TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    data        TEXT NOT NULL,
    UNIQUE (stream, seq)
);
CREATE TABLE IF NOT EXISTS commands (
    command_id  TEXT PRIMARY KEY,
    stream      TEXT NOT NULL,
    accepted    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,        -- event ids (accepted) or the rejection (refused)
    sender      TEXT,                 -- whose id it is (NULL: recorded before senders were kept)
    fingerprint TEXT                  -- what was asked (banli.domain.commands.fingerprint)
);
CREATE TABLE IF NOT EXISTS bureaus (bureau TEXT PRIMARY KEY, name TEXT NOT NULL,
                                    name_en TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS bureau_merges (bureau TEXT PRIMARY KEY, successor TEXT NOT NULL,
                                         at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposal_keys (natural_key TEXT PRIMARY KEY, proposal_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS proposal_status (proposal_id TEXT PRIMARY KEY, status TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS filers (filer TEXT PRIMARY KEY, name TEXT NOT NULL,
                                   affiliation TEXT NOT NULL, term TEXT NOT NULL,
                                   account TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS filers_by_name ON filers (name, affiliation);
CREATE INDEX IF NOT EXISTS filers_by_account ON filers (account);
"""
# Each proposal's filers: made with its first use, from the events of a store written before.
PROPOSAL_FILERS = """
CREATE TABLE proposal_filers (proposal_id TEXT NOT NULL, idx INTEGER NOT NULL,
                              name TEXT NOT NULL, affiliation TEXT NOT NULL, filer TEXT,
                              PRIMARY KEY (proposal_id, idx));
CREATE INDEX proposal_filers_by_name ON proposal_filers (name, affiliation);
CREATE INDEX proposal_filers_by_filer ON proposal_filers (filer);
"""


@dataclass
class _BatchView:
    """What a batch (one transaction holding the write lock) knows without asking again: the
    command ids that may have an outcome on record (None: ask for each), and the streams whose
    cached state is the log's."""

    maybe_recorded: set[str] | None
    current: set[str] = field(default_factory=set)


class Connections:
    """One connection per thread to one SQLite file (a connection may not cross threads), in
    autocommit mode (transactions are begun explicitly), WAL with synchronous=NORMAL: durable at
    a checkpoint, never a torn transaction; a writer waits up to 30 s for the write lock."""

    def __init__(self, path: Path):
        self.path = path
        self._local = threading.local()

    def connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None,
                             check_same_thread=False)
        db.execute("PRAGMA synchronous=NORMAL")
        return db

    @property
    def db(self) -> sqlite3.Connection:
        """This thread's connection, opened on first use."""
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = self.connect()
        return db

    def close(self) -> None:
        """Close this thread's connection (others close with their threads)."""
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None


class SqliteEventStore:
    """Thread-safe: one connection per thread, writes serialised by SQLite's write lock. Keeps a
    cache of streams' states (brought up to the log's version when asked: another process may
    have written), and is the directory decisions read (the same transaction writes both)."""

    arbitrated = False  # one writer at a time: the unique natural key settles any race

    def __init__(self, path: Path | str, cache_size: int = 10_000):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # the batch a thread is in
        self._connections = Connections(self.path)
        self._cache: OrderedDict[str, State] = OrderedDict()
        self._cache_lock = threading.Lock()
        self.cache_size = cache_size
        with self._connections.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
            for column in ("sender", "fingerprint"):  # a store made before they were kept
                if column not in columns:
                    db.execute(f"ALTER TABLE commands ADD COLUMN {column} TEXT")
            self._proposal_filers(db)

    def _proposal_filers(self, db: sqlite3.Connection) -> None:
        """Make `proposal_filers` where the store has none yet, from the events it holds, in
        the transaction that makes it (a store written before it was kept)."""
        if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'proposal_filers'").fetchone():
            return
        db.execute("BEGIN IMMEDIATE")
        try:
            if not db.execute("SELECT 1 FROM sqlite_master WHERE name = 'proposal_filers'"
                              ).fetchone():
                for statement in PROPOSAL_FILERS.split(";"):
                    if statement.strip():
                        db.execute(statement)
                for (data,) in db.execute("SELECT data FROM events WHERE type IN "
                                          "('ProposalSubmitted', 'FilersLinked') ORDER BY position"
                                          ).fetchall():
                    self._observe_filers(db, load_event(data))
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise

    @property
    def db(self) -> sqlite3.Connection:
        return self._connections.db

    def close(self) -> None:
        self._connections.close()

    # --- states ------------------------------------------------------------------------------
    def state(self, stream: str) -> State:
        """The stream's current state: the cached one, brought up to the log's version (which a
        batch, holding the write lock, need not ask again once it has)."""
        with self._cache_lock:
            state = self._cache.get(stream)
        view: _BatchView | None = getattr(self._local, "batch", None)
        if view is not None and state is not None and stream in view.current:
            return state
        version = state.version if state is not None else 0
        if self.version(stream) != version:
            state = fold(self.load(stream, version), state)
            self._remember(stream, state)
        if view is not None:
            view.current.add(stream)
        return state

    def _remember(self, stream: str, state: State) -> None:
        with self._cache_lock:
            self._cache[stream] = state
            self._cache.move_to_end(stream)
            if len(self._cache) > self.cache_size:
                self._cache.popitem(last=False)

    # --- writing -----------------------------------------------------------------------------
    def append(self, command: c.Command, expected_version: int,
               events: Sequence[e.Event]) -> Appended:
        """Append a command's events after `expected_version` of its stream, with its outcome
        and the directory changes, in one transaction (a savepoint of a batch's). Raises
        ConcurrencyError when the stream moved on, or when another writer took what a unique
        key guards (the command id, a natural key) meanwhile."""
        db = self.db
        view: _BatchView | None = getattr(self._local, "batch", None)
        with self._cache_lock:
            before = self._cache.get(command.stream)
        at = before.version if before is not None else 0
        db.execute("SAVEPOINT append" if view is not None else "BEGIN IMMEDIATE")
        try:
            if view is None or command.stream not in view.current or at != expected_version:
                # A batch holds the write lock: a stream it found current stays at the version
                # its cached state has (its own appends move both), so it need not ask.
                at = db.execute("SELECT coalesce(max(seq), 0) FROM events WHERE stream = ?",
                                (command.stream,)).fetchone()[0]
            if at != expected_version:
                raise ConcurrencyError(f"{command.stream} is at {at}, not {expected_version}")
            positions: list[int] = []
            for event in events:
                cur = db.execute(
                    "INSERT INTO events (stream, seq, event_id, type, command_id, occurred_at,"
                    " recorded_at, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (event.proposal_id, event.seq, event.event_id, event.type, event.command_id,
                     event.occurred_at.isoformat(), event.recorded_at.isoformat(),
                     event.model_dump_json()))
                positions.append(cur.lastrowid or 0)  # an INSERT always sets it
                self._observe(db, event)
            db.execute("INSERT INTO commands VALUES (?, ?, 1, ?, ?, ?)",
                       (command.command_id, command.stream,
                        json.dumps([ev.event_id for ev in events]), c.sender_of(command),
                        c.fingerprint(command)))
            db.execute("RELEASE append" if view is not None else "COMMIT")
        except BaseException as exc:
            if view is not None:
                db.execute("ROLLBACK TO append")
                db.execute("RELEASE append")
                view.current.discard(command.stream)
            else:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                raise ConcurrencyError(f"{command.stream}: {exc}") from None
            raise
        with self._cache_lock:
            before = self._cache.get(command.stream)
        if (before.version if before is not None else 0) == expected_version:
            self._remember(command.stream, fold(events, before))
        elif view is not None:
            view.current.discard(command.stream)  # the cache missed these events: ask again
        if view is not None and view.maybe_recorded is not None:
            view.maybe_recorded.add(command.command_id or "")
        return Appended(positions, events)

    @contextmanager
    def batch(self, command_ids: Sequence[str] = ()) -> Iterator[Durable]:
        """One transaction around many appends (bulk imports): all of them are committed
        together when it exits (durable then), or none. Appends inside are savepoints. It holds
        SQLite's write lock from its
        start, so no other writer can record a command or move a stream meanwhile: what it read
        once stays true but for its own writes, which saves two queries per command (told the
        batch's command ids, it asks for their outcomes once)."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._local.batch = _BatchView(self.recorded_among(command_ids) if command_ids
                                       else None)
        try:
            yield Durable()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            with self._cache_lock:
                self._cache.clear()  # it may hold states of the rolled-back appends
            raise
        finally:
            self._local.batch = None

    def record_rejection(self, command: c.Command, rejection: Rejection) -> None:
        self.db.execute("INSERT OR IGNORE INTO commands VALUES (?, ?, 0, ?, ?, ?)",
                        (command.command_id, command.stream, rejection.model_dump_json(),
                         c.sender_of(command), c.fingerprint(command)))
        view: _BatchView | None = getattr(self._local, "batch", None)
        if view is not None and view.maybe_recorded is not None:
            view.maybe_recorded.add(command.command_id or "")

    @staticmethod
    def _observe(db: sqlite3.Connection, event: e.Event) -> None:
        match event:
            case e.BureauRegistered() | e.BureauRenamed():
                db.execute("INSERT OR REPLACE INTO bureaus VALUES (?, ?, ?)",
                           (event.bureau, event.name, event.name_en))
            case e.BureauMerged():
                db.execute("INSERT OR REPLACE INTO bureau_merges VALUES (?, ?, ?)",
                           (event.bureau, event.into, event.occurred_at.isoformat()))
            case e.ProposalSubmitted():
                db.execute("INSERT INTO proposal_keys VALUES (?, ?)",
                           (c.natural_key(event.level, event.kind, event.year, event.number),
                            event.proposal_id))
                db.execute("INSERT INTO proposal_status VALUES (?, 'open')", (event.proposal_id,))
                SqliteEventStore._observe_filers(db, event)
            case e.FilerRegistered():
                db.execute("INSERT OR REPLACE INTO filers VALUES (?, ?, ?, ?, ?)",
                           (event.filer, event.name, event.affiliation, event.term,
                            event.account))
            case e.FilersLinked():
                SqliteEventStore._observe_filers(db, event)
            case e.ProposalWithdrawn() | e.ProposalMerged():
                db.execute("UPDATE proposal_status SET status = ? WHERE proposal_id = ?",
                           ("withdrawn" if event.type == "ProposalWithdrawn" else "merged",
                            event.proposal_id))

    @staticmethod
    def _observe_filers(db: sqlite3.Connection, event: e.Event) -> None:
        """A proposal's filers as its submission names them, and each link made (as
        banli.domain.proposal.linked makes it)."""
        match event:
            case e.ProposalSubmitted():
                db.executemany("INSERT INTO proposal_filers VALUES (?, ?, ?, ?, ?)",
                               [(event.proposal_id, i, name, event.affiliation, filer)
                                for i, (name, filer) in enumerate(zip(
                                    event.filers, event.filer_ids or [None] * len(event.filers)))])
            case e.FilersLinked():
                for link in event.filers:
                    db.execute("UPDATE proposal_filers SET filer = ? WHERE rowid = (SELECT rowid "
                               "FROM proposal_filers WHERE proposal_id = ? AND name = ? AND "
                               "filer IS NULL ORDER BY idx LIMIT 1) AND NOT EXISTS (SELECT 1 "
                               "FROM proposal_filers WHERE proposal_id = ? AND filer = ?)",
                               (link.id, event.proposal_id, link.name, event.proposal_id,
                                link.id))

    # --- reading -----------------------------------------------------------------------------
    def load(self, stream: str, after_seq: int = 0) -> list[e.Event]:
        rows = self.db.execute("SELECT data FROM events WHERE stream = ? AND seq > ? ORDER BY seq",
                               (stream, after_seq)).fetchall()
        return [load_event(data) for (data,) in rows]

    def load_before(self, stream: str, seq: int) -> list[e.Event]:
        """A stream's events with seq below `seq` (the state an event was decided against)."""
        rows = self.db.execute("SELECT data FROM events WHERE stream = ? AND seq < ? ORDER BY seq",
                               (stream, seq)).fetchall()
        return [load_event(data) for (data,) in rows]

    def version(self, stream: str) -> int:
        return self.db.execute("SELECT coalesce(max(seq), 0) FROM events WHERE stream = ?",
                               (stream,)).fetchone()[0]

    def recorded_among(self, command_ids: Sequence[str]) -> set[str]:
        """Which of these commands have an outcome on record: one query for a whole batch of an
        import instead of an `outcome` query per command."""
        found: set[str] = set()
        unique = list(dict.fromkeys(command_ids))
        for start in range(0, len(unique), 500):  # well below SQLite's limit of variables
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            found.update(row[0] for row in self.db.execute(
                f"SELECT command_id FROM commands WHERE command_id IN ({marks})", chunk))
        return found

    def outcome(self, command_id: str, stream: str | None = None) -> Outcome | None:
        """What a command already decided came to (its stored events or its rejection), with
        whose id it is and what was asked; None for an id never decided (looked up by id
        alone, whatever `stream` says)."""
        view: _BatchView | None = getattr(self._local, "batch", None)
        if view is not None and view.maybe_recorded is not None and (
                command_id not in view.maybe_recorded):
            return None
        row = self.db.execute("SELECT accepted, outcome, sender, fingerprint FROM commands "
                              "WHERE command_id = ?", (command_id,)).fetchone()
        if row is None:
            return None
        accepted, outcome, sender, fingerprint = row
        if not accepted:
            return Outcome(command_id, rejection=Rejection.model_validate_json(outcome),
                           sender=sender, fingerprint=fingerprint)
        ids = json.loads(outcome)
        rows = self.db.execute(
            f"SELECT position, data FROM events WHERE event_id IN ({','.join('?' * len(ids))})"
            " ORDER BY position", ids).fetchall()
        events = [Stored(pos, load_event(data)) for pos, data in rows]
        if sender is None and events:  # recorded before senders were kept: the events tell
            sender = c.actor_key(events[0].event.actor)
        return Outcome(command_id, events=events, sender=sender, fingerprint=fingerprint)

    def read(self, after: int = 0, limit: int = 10_000) -> list[Stored]:
        """Events after a global position, in log order."""
        rows = self.db.execute(
            "SELECT position, data FROM events WHERE position > ? ORDER BY position LIMIT ?",
            (after, limit)).fetchall()
        return [stored_of(pos, data) for pos, data in rows]

    def read_all(self, after: int = 0, batch: int = 10_000) -> Iterator[list[Stored]]:
        while chunk := self.read(after, batch):
            yield chunk
            after = chunk[-1].position

    def head(self) -> int:
        return self.db.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]

    def count(self) -> int:
        return self.db.execute("SELECT count(*) FROM events").fetchone()[0]

    # --- the directory (banli.domain.proposal.Directory) -------------------------------------
    def has_bureau(self, bureau: str) -> bool:
        return self.db.execute("SELECT 1 FROM bureaus WHERE bureau = ?", (bureau,)).fetchone() \
            is not None

    def bureau_name(self, bureau: str) -> tuple[str, str] | None:
        row = self.db.execute("SELECT name, name_en FROM bureaus WHERE bureau = ?",
                              (bureau,)).fetchone()
        return (row[0], row[1]) if row else None

    def merged_into(self, bureau: str) -> tuple[str, datetime] | None:
        row = self.db.execute("SELECT successor, at FROM bureau_merges WHERE bureau = ?",
                              (bureau,)).fetchone()
        return (row[0], datetime.fromisoformat(row[1])) if row else None

    def owner_of(self, natural_key: str) -> str | None:
        row = self.db.execute("SELECT proposal_id FROM proposal_keys WHERE natural_key = ?",
                              (natural_key,)).fetchone()
        return row[0] if row else None

    def proposal_status(self, proposal_id: str) -> str | None:
        row = self.db.execute("SELECT status FROM proposal_status WHERE proposal_id = ?",
                              (proposal_id,)).fetchone()
        return row[0] if row else None

    # what the handling loop tells a directory (banli.handling.Directory): nothing to do here,
    # the events and the directory rows are written in one transaction
    def reserve(self, claims: Sequence[tuple[str, str, str]]) -> None:
        pass

    def observe(self, event: e.Event) -> None:
        pass

    def settle(self, events: Sequence[e.Event], durable: bool) -> None:
        pass

    def bureau_names(self) -> dict[str, tuple[str, str]]:
        return {b: (n, en) for b, n, en in self.db.execute("SELECT * FROM bureaus")}

    def filer_name(self, filer: str) -> str | None:
        row = self.db.execute("SELECT name FROM filers WHERE filer = ?", (filer,)).fetchone()
        return row[0] if row else None

    def filers_named(self, name: str, affiliation: str) -> list[str]:
        return [f for (f,) in self.db.execute(
            "SELECT filer FROM filers WHERE name = ? AND affiliation = ? ORDER BY filer",
            (name, affiliation))]

    def filer_of_account(self, account: str) -> str | None:
        row = self.db.execute("SELECT filer FROM filers WHERE account = ? AND account != '' "
                              "ORDER BY filer LIMIT 1", (account,)).fetchone()
        return row[0] if row else None

    # --- what the filer registry's import reads (banli.sheets.records.Records) --------------
    def filers(self) -> dict[str, dict[str, str]]:
        """Every registered filer: name, affiliation, term, account."""
        return {f: {"name": n, "affiliation": a, "term": t, "account": acc}
                for f, n, a, t, acc in self.db.execute(
                    "SELECT filer, name, affiliation, term, account FROM filers")}

    def unlinked(self, name: str, affiliation: str) -> list[str]:
        """The proposals naming a filer `name`, not linked to the registry, filed under
        `affiliation`: those the registry's import offers to link."""
        return [p for (p,) in self.db.execute(
            "SELECT DISTINCT proposal_id FROM proposal_filers WHERE name = ? AND affiliation = ? "
            "AND filer IS NULL ORDER BY proposal_id", (name, affiliation))]
