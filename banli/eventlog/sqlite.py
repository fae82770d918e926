"""The embedded event store: SQLite in WAL mode.

- `events`: every event once, unique (stream, seq) and unique event_id, with a global position
  (the row id) that readers follow. The unique (stream, seq) is the check of the expected
  version: an append after a stale version collides with the event that moved the stream.
- `commands`: every decided command's outcome by (sender, command id), so a command sent again
  (a retry, a re-imported file) is answered from its record instead of being decided twice.
- `bureaus`, `bureau_merges`, `proposal_keys`, `proposal_status`, `filers`: the directory
  decisions consult
  (banli.domain.directory's entries), updated in the same transaction as the events that set
  them; `proposal_filers`, each proposal's filers by name and (where linked) id, which the
  filer registry's import reads.

An append is one transaction (a savepoint of a batch's): the events, the command's outcome and
the directory rows commit together or not at all. Only storage: states are folded and cached,
and ids checked against their sender and fingerprint, by the repository
(banli.eventlog.repository).
"""
from __future__ import annotations

import json
import sqlite3
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Iterator, Sequence

from ..domain import events as e
from ..domain.directory import Enrolled, Keyed, Merged, Registered, Stated, directory_entries
from ..domain.envelope import event_sender
from ..domain.proposal import State
from ..domain.registry import load_event
from ..domain.rejections import Rejection
from . import Appended, CommandRecord, ConcurrencyError, Durable, Outcome, Stored, stored_of

# `events` keeps two indexes besides its rowid (`position`), each because reads need it (issue
# 24; tests/unit/test_event_indexes.py checks every read's plan), and each a unique key too:
# - (stream, seq), the single writer's key: a stream's events, for its state and its version.
#     load:         SEARCH events USING INDEX sqlite_autoindex_events_2 (stream=? AND seq>?)
#     load_before:  SEARCH events USING INDEX sqlite_autoindex_events_2 (stream=? AND seq<?)
#     version:      SEARCH events USING COVERING INDEX sqlite_autoindex_events_2 (stream=?)
# - event_id: a command's outcome names its events by id (outcome, _sender_from_events).
#     outcome:      SEARCH events USING INDEX sqlite_autoindex_events_1 (event_id=?)
# The log in order (read, read_all: the projector and replay) and its head read the rowid:
#     read:         SEARCH events USING INTEGER PRIMARY KEY (rowid>?)
# and `count` reads the smallest index (SCAN events USING COVERING INDEX ..._1). Nothing reads
# by type, time or command id: no index on them, so an append writes the table and two indexes.
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
    sender      TEXT NOT NULL,        -- whose id it is ('': unknown, recorded before senders were)
    command_id  TEXT NOT NULL,
    stream      TEXT NOT NULL,
    accepted    INTEGER NOT NULL,
    outcome     TEXT NOT NULL,        -- event ids (accepted) or the rejection (refused)
    fingerprint TEXT,                 -- what was asked (banli.domain.commands.fingerprint)
    PRIMARY KEY (sender, command_id)
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

_COMMAND_COLUMNS = "sender, command_id, stream, accepted, outcome, fingerprint"


@dataclass
class _BatchView:
    """What a batch (one transaction holding the write lock) knows without asking again: the
    (sender, command id) keys that may have an outcome on record (None: ask for each)."""

    maybe_recorded: set[tuple[str, str]] | None


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
    """Thread-safe: one connection per thread, writes serialised by SQLite's write lock (which a
    batch holds from its start). Also the directory decisions read (the same transaction writes
    both)."""

    sole_writer = False  # other processes may write the same file (`banli import` beside serve)
    arbitrated = False  # one writer at a time: the unique natural key settles any race

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()  # the batch a thread is in
        self._connections = Connections(self.path)
        with self._connections.connect() as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.executescript(SCHEMA)
            _scope_commands(db)
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

    def _view(self) -> _BatchView | None:
        view: _BatchView | None = getattr(self._local, "batch", None)
        return view

    # --- writing -----------------------------------------------------------------------------
    def append(self, record: CommandRecord, expected_version: int,
               events: Sequence[e.Event]) -> Appended:
        """Append a command's events after `expected_version` of its stream, with its outcome
        and the directory changes, in one transaction (a savepoint of a batch's). Raises
        ConcurrencyError when the stream moved on (its next seq is taken), or when another
        writer took what a unique key guards (the command's key, a natural key) meanwhile."""
        if events and events[0].seq != expected_version + 1:
            raise ValueError(f"{record.stream}: events from seq {events[0].seq} do not follow "
                             f"version {expected_version}")
        db = self.db
        view = self._view()
        db.execute("SAVEPOINT append" if view is not None else "BEGIN IMMEDIATE")
        try:
            if not events:  # nothing collides: ask
                at = self.version(record.stream)
                if at != expected_version:
                    raise ConcurrencyError(f"{record.stream} is at {at}, not {expected_version}")
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
            db.execute(f"INSERT INTO commands ({_COMMAND_COLUMNS}) VALUES (?, ?, ?, 1, ?, ?)",
                       (record.sender, record.command_id, record.stream,
                        json.dumps([ev.event_id for ev in events]), record.fingerprint))
            db.execute("RELEASE append" if view is not None else "COMMIT")
        except BaseException as exc:
            if view is not None:
                db.execute("ROLLBACK TO append")
                db.execute("RELEASE append")
            else:
                db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.IntegrityError):
                raise ConcurrencyError(f"{record.stream}: {exc}") from None
            raise
        if view is not None and view.maybe_recorded is not None:
            view.maybe_recorded.add((record.sender, record.command_id))
        return Appended(positions, events)

    @contextmanager
    def batch(self, keys: Sequence[tuple[str, str]] = ()) -> Iterator[Durable]:
        """One transaction around many appends (bulk imports): all of them are committed
        together when it exits (durable then), or none. Appends inside are savepoints. It holds
        SQLite's write lock from its start, so no other writer can record a command or move a
        stream meanwhile; told the batch's command keys, it asks for their outcomes once."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        self._local.batch = _BatchView(self.recorded_among(keys) if keys else None)
        try:
            yield Durable()
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        finally:
            self._local.batch = None

    def refuse(self, record: CommandRecord, rejection: Rejection) -> None:
        self.db.execute(f"INSERT OR IGNORE INTO commands ({_COMMAND_COLUMNS}) "
                        "VALUES (?, ?, ?, 0, ?, ?)",
                        (record.sender, record.command_id, record.stream,
                         rejection.model_dump_json(), record.fingerprint))
        view = self._view()
        if view is not None and view.maybe_recorded is not None:
            view.maybe_recorded.add((record.sender, record.command_id))

    @staticmethod
    def _observe(db: sqlite3.Connection, event: e.Event) -> None:
        for entry in directory_entries(event):
            match entry:
                case Registered(bureau, name, name_en):
                    db.execute("INSERT OR REPLACE INTO bureaus VALUES (?, ?, ?)",
                               (bureau, name, name_en))
                case Enrolled(filer, name, affiliation, term, account):
                    db.execute("INSERT OR REPLACE INTO filers VALUES (?, ?, ?, ?, ?)",
                               (filer, name, affiliation, term, account))
                case Keyed(natural_key, proposal_id):
                    db.execute("INSERT INTO proposal_keys VALUES (?, ?)",
                               (natural_key, proposal_id))
                case Stated(proposal_id, status):
                    db.execute("INSERT INTO proposal_status VALUES (?, ?) ON CONFLICT "
                               "(proposal_id) DO UPDATE SET status = excluded.status",
                               (proposal_id, status))
                case Merged(bureau, into, at):
                    db.execute("INSERT OR REPLACE INTO bureau_merges VALUES (?, ?, ?)",
                               (bureau, into, at.isoformat()))
        SqliteEventStore._observe_filers(db, event)

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

    def snapshot(self, stream: str) -> State:
        return None  # a stream's events are one indexed read away

    def history(self, stream: str) -> list[Stored]:
        """A stream's events with their positions, in seq order, each as `stored_of` reads it
        (its JSON kept where encoding it again gives the same text): what the projected
        history holds of it, read through the (stream, seq) index."""
        rows = self.db.execute("SELECT position, data FROM events WHERE stream = ? ORDER BY seq",
                               (stream,)).fetchall()
        return [stored_of(pos, data) for pos, data in rows]

    def load_before(self, stream: str, seq: int) -> list[e.Event]:
        """A stream's events with seq below `seq` (the state an event was decided against)."""
        rows = self.db.execute("SELECT data FROM events WHERE stream = ? AND seq < ? ORDER BY seq",
                               (stream, seq)).fetchall()
        return [load_event(data) for (data,) in rows]

    def version(self, stream: str) -> int:
        version: int = self.db.execute(
            "SELECT coalesce(max(seq), 0) FROM events WHERE stream = ?", (stream,)).fetchone()[0]
        return version

    def recorded_among(self, keys: Sequence[tuple[str, str]]) -> set[tuple[str, str]]:
        """Which of these (sender, command id) keys have an outcome on record: a query for each
        sender (one, in an import) instead of an `outcome` query per command."""
        by_sender: dict[str, list[str]] = {}
        for sender, command_id in dict.fromkeys(keys):
            by_sender.setdefault(sender, []).append(command_id)
        found: set[tuple[str, str]] = set()
        for sender, ids in by_sender.items():
            for start in range(0, len(ids), 500):  # well below SQLite's limit of variables
                chunk = ids[start:start + 500]
                found.update((sender, command_id) for (command_id,) in self.db.execute(
                    "SELECT command_id FROM commands WHERE sender = ? AND command_id IN "
                    f"({','.join('?' * len(chunk))})", [sender, *chunk]))
        return found

    def outcome(self, sender: str, command_id: str, stream: str | None = None
                ) -> Outcome | None:
        """What `sender`'s command `command_id` came to (its stored events or its rejection),
        with what was asked; None for one never decided (whatever `stream` says)."""
        view = self._view()
        if view is not None and view.maybe_recorded is not None and (
                (sender, command_id) not in view.maybe_recorded):
            return None
        row = self.db.execute("SELECT accepted, outcome, fingerprint FROM commands "
                              "WHERE sender = ? AND command_id = ?",
                              (sender, command_id)).fetchone()
        if row is None:
            return None
        accepted, outcome, fingerprint = row
        if not accepted:
            return Outcome(command_id, rejection=Rejection.model_validate_json(outcome),
                           sender=sender, fingerprint=fingerprint)
        ids = json.loads(outcome)
        rows = self.db.execute(
            f"SELECT position, data FROM events WHERE event_id IN ({','.join('?' * len(ids))})"
            " ORDER BY position", ids).fetchall()
        events = [Stored(pos, load_event(data)) for pos, data in rows]
        return Outcome(command_id, events=events, sender=sender, fingerprint=fingerprint)

    def read(self, after: int = -1, limit: int = 10_000) -> list[Stored]:
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
        head: int = self.db.execute("SELECT coalesce(max(position), 0) FROM events").fetchone()[0]
        return head

    def count(self) -> int:
        count: int = self.db.execute("SELECT count(*) FROM events").fetchone()[0]
        return count

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
        return str(row[0]) if row else None

    def proposal_status(self, proposal_id: str) -> str | None:
        row = self.db.execute("SELECT status FROM proposal_status WHERE proposal_id = ?",
                              (proposal_id,)).fetchone()
        return str(row[0]) if row else None

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
        return str(row[0]) if row else None

    def filers_named(self, name: str, affiliation: str) -> list[str]:
        return [f for (f,) in self.db.execute(
            "SELECT filer FROM filers WHERE name = ? AND affiliation = ? ORDER BY filer",
            (name, affiliation))]

    def filer_of_account(self, account: str) -> str | None:
        row = self.db.execute("SELECT filer FROM filers WHERE account = ? AND account != '' "
                              "ORDER BY filer LIMIT 1", (account,)).fetchone()
        return str(row[0]) if row else None

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


def _scope_commands(db: sqlite3.Connection) -> None:
    """Key the `commands` table of a store written before command ids were scoped to their
    sender (keyed by the id alone) by (sender, command id). A record without its sender takes
    it from its events (whose actor is the sender); a refusal without one keeps the sender ''
    (unknown): it answers nobody, and the id is free for every sender. Done once, in one
    transaction (another process opening the store meanwhile waits, then finds it done)."""
    def scoped() -> bool:
        return any(name == "sender" and pk for _, name, _, _, _, pk
                   in db.execute("PRAGMA table_info(commands)"))

    if scoped():
        return
    db.execute("BEGIN IMMEDIATE")
    try:
        if scoped():
            db.execute("ROLLBACK")
            return
        columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
        chosen = ", ".join(name if name in columns else f"NULL AS {name}"
                           for name in ("sender", "command_id", "stream", "accepted", "outcome",
                                        "fingerprint"))
        db.execute("ALTER TABLE commands RENAME TO commands_unscoped")
        db.execute(SCHEMA[SCHEMA.index("CREATE TABLE IF NOT EXISTS commands"):
                          SCHEMA.index("CREATE TABLE IF NOT EXISTS bureaus")].strip().rstrip(";"))
        insert = f"INSERT OR IGNORE INTO commands ({_COMMAND_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"
        if "sender" in columns:
            db.execute(f"INSERT OR IGNORE INTO commands ({_COMMAND_COLUMNS}) SELECT {chosen} "
                       "FROM commands_unscoped WHERE sender IS NOT NULL")
        unknown = db.execute(f"SELECT {chosen} FROM commands_unscoped" + (
            " WHERE sender IS NULL" if "sender" in columns else ""))
        while rows := unknown.fetchmany(1000):
            db.executemany(insert, [(_sender_from_events(db, accepted, outcome), cid, stream,
                                     accepted, outcome, fingerprint)
                                    for _, cid, stream, accepted, outcome, fingerprint in rows])
        db.execute("DROP TABLE commands_unscoped")
        db.execute("COMMIT")
    except BaseException:
        db.execute("ROLLBACK")
        raise


def _sender_from_events(db: sqlite3.Connection, accepted: int, outcome: str) -> str:
    """An accepted command's sender, from its first event ('' for a refusal: nothing tells)."""
    ids = json.loads(outcome) if accepted else []
    row = db.execute("SELECT data FROM events WHERE event_id = ?", (ids[0],)).fetchone() \
        if ids else None
    return event_sender(load_event(row[0])) if row is not None else ""
