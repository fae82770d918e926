"""The handling worker's local cache of the topics it reads beside its own partitions' commands
(SQLite, one file in the worker's data dir), and the thread that keeps it up to date.

It holds the latest snapshot of every stream (`banli.snapshots`), the directory decisions read
(registered bureaus and filers, natural keys, proposals' status: from the snapshots, and from
`banli.events` after them), the natural keys' first claims (`banli.keys`), and how far each
partition of those topics has been read, in the same transaction as what was read. It is a
cache, never the only copy: a worker without it (a new machine, a lost disk) builds it again
from the topics, starting `banli.events` where the snapshots end (the watermark each partition's
last commit carries), and one that restarts goes on from where it stopped. Either way what it
reads at start grows with the proposals, not with the log, and memory does not grow at all.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import warnings
from pathlib import Path
from typing import Any, Iterable, Mapping

from ..domain import events as e
from ..domain.directory import (FILER_NAME, MERGED, SETS_DIRECTORY, as_pairs,
                                directory_entries)
from ..domain.registry import load_event
from .kafka import Topics, partitions_of
from .snapshots import header
from .sqlite import Connections

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    from kafka import KafkaConsumer, TopicPartition

log = logging.getLogger("banli.handling")

SCHEMA = """
CREATE TABLE IF NOT EXISTS snapshots (stream TEXT PRIMARY KEY, version INTEGER NOT NULL,
                                      data BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS directory (entry TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS claims (natural_key TEXT PRIMARY KEY, proposal TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS positions (topic TEXT NOT NULL, partition INTEGER NOT NULL,
                                      next INTEGER NOT NULL, PRIMARY KEY (topic, partition));
"""


class LocalCache:
    """The cache file. Thread-safe: a connection per thread (WAL: readers never wait for the
    writer). Every write keeps what can only move forward: a stream's snapshot of the highest
    version (a follower behind this worker's own snapshots never takes one back), a natural
    key's first owner and first claim, a proposal's status once it is no longer open. A
    snapshot record that cannot be read at all is kept as it is (version -1, in place of
    whatever came before: the stream is then folded from its events)."""

    UNREADABLE = -1

    def __init__(self, path: Path | str):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._connections = Connections(self.path)
        db = self.db
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(SCHEMA)
        # Mergers are few and asked of every active duty before each decision (the pending
        # handovers): kept in memory too, rather than one query per duty and command.
        self._merged = self.entries(MERGED)

    @property
    def db(self) -> sqlite3.Connection:
        return self._connections.db  # a lost last write is read again from the topics

    def close(self) -> None:
        self._connections.close()

    # --- reading ---------------------------------------------------------------------------
    def snapshot(self, stream: str) -> bytes | None:
        row = self.db.execute("SELECT data FROM snapshots WHERE stream = ?", (stream,)).fetchone()
        return row[0] if row else None

    def entry(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM directory WHERE entry = ?", (key,)).fetchone()
        return row[0] if row else None

    def entries(self, prefix: str) -> dict[str, str]:
        """The directory entries whose keys start with `prefix` (a range of the key's index)."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        return dict(self.db.execute("SELECT entry, value FROM directory WHERE entry >= ? AND "
                                    "entry < ?", (prefix, end)).fetchall())

    def merged(self, bureau: str) -> str | None:
        """The `merged:` entry of a bureau (banli.domain.directory.as_pairs), from memory."""
        return self._merged.get(f"{MERGED}{bureau}")

    def claim(self, natural_key: str) -> str | None:
        row = self.db.execute("SELECT proposal FROM claims WHERE natural_key = ?",
                              (natural_key,)).fetchone()
        return row[0] if row else None

    def positions(self) -> dict[tuple[str, int], int]:
        return {(topic, partition): at for topic, partition, at
                in self.db.execute("SELECT topic, partition, next FROM positions")}

    def counts(self) -> dict[str, int]:
        return {table: self.db.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
                for table in ("snapshots", "directory", "claims")}

    # --- writing ---------------------------------------------------------------------------
    def write(self, snapshots: Iterable[tuple[str, int, bytes]] = (),
              entries: Mapping[str, str] | None = None,
              claims: Iterable[tuple[str, str]] = (),
              positions: Mapping[tuple[str, int], int] | None = None) -> None:
        """One transaction: snapshots (stream, version, data), directory entries, claims in
        the order they were read, and the positions they were read up to."""
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        try:
            db.executemany(
                "INSERT INTO snapshots VALUES (?, ?, ?) ON CONFLICT (stream) DO UPDATE SET "
                "version = excluded.version, data = excluded.data "
                "WHERE excluded.version >= snapshots.version OR excluded.version < 0", snapshots)
            if entries:
                self._put_entries(db, entries)
            db.executemany("INSERT OR IGNORE INTO claims VALUES (?, ?)", claims)
            if positions:
                db.executemany("INSERT OR REPLACE INTO positions VALUES (?, ?, ?)",
                               [(topic, p, at) for (topic, p), at in positions.items()])
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise
        if entries:
            self._merged.update((k, v) for k, v in entries.items() if k.startswith(MERGED))

    @staticmethod
    def _put_entries(db: sqlite3.Connection, entries: Mapping[str, str]) -> None:
        bureaus = [(k, v) for k, v in entries.items() if k.startswith(("bureau:", "bureau_en:"))]
        keys = [(k, v) for k, v in entries.items() if k.startswith("key:")]
        statuses = [(k, v) for k, v in entries.items() if k.startswith("status:")]
        db.executemany("INSERT OR REPLACE INTO directory VALUES (?, ?)", bureaus)
        db.executemany("INSERT OR IGNORE INTO directory VALUES (?, ?)", keys)
        db.executemany("INSERT INTO directory VALUES (?, ?) ON CONFLICT (entry) DO UPDATE SET "
                       "value = excluded.value WHERE directory.value = 'open'", statuses)
        # a filer's name by id is kept as a bureau's; its name's and account's entries, like
        # the keys, are the first registration's
        db.executemany("INSERT OR REPLACE INTO directory VALUES (?, ?)",
                       [(k, v) for k, v in entries.items() if k.startswith("filer:")])
        db.executemany("INSERT OR IGNORE INTO directory VALUES (?, ?)",
                       [(k, v) for k, v in entries.items()
                        if k.startswith((FILER_NAME, "account:"))])
        # a merger, as a bureau's name: the latest record stands
        db.executemany("INSERT OR REPLACE INTO directory VALUES (?, ?)",
                       [(k, v) for k, v in entries.items() if k.startswith(MERGED)])

    def clear(self) -> None:
        db = self.db
        db.execute("BEGIN IMMEDIATE")
        for table in ("snapshots", "directory", "claims", "positions"):
            db.execute(f"DELETE FROM {table}")
        db.execute("COMMIT")
        self._merged = {}


class Follower:
    """Reads every partition of `banli.snapshots`, `banli.events` and `banli.keys` into the
    local cache, in a thread of its own (no consumer group), from where the cache says it
    stopped. Without a position: the snapshots and the claims from their beginning, the events
    of a partition from `events_from[partition]` (where its snapshots end) or its beginning.
    `catch_up` waits until everything in the topics now has been read, `wait_past` until given
    offsets have. (Its fetches wait up to 500 ms at the end of the topics: a record appended
    meanwhile answers one at once, and an idle worker asks less often.)"""

    # the events that set directory entries, as their JSON names them
    INTERESTING = tuple(f'"{kind.model_fields["type"].default}"'.encode()
                        for kind in SETS_DIRECTORY)

    def __init__(self, bootstrap: str, topics: Topics, cache: LocalCache,
                 events_from: Mapping[int, int] | None = None):
        self.topics, self.cache = topics, cache
        self.consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                      enable_auto_commit=False, client_id="banli-follower",
                                      fetch_max_wait_ms=500, fetch_max_bytes=8 << 20,
                                      max_partition_fetch_bytes=1 << 20)
        self.tps = [tp for topic in (topics.snapshots, topics.events, topics.keys)
                    for tp in partitions_of(self.consumer, topic)]
        # KafkaConsumer is not thread-safe: the ends of the log are asked through another one
        self.ends = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None,
                                  enable_auto_commit=False, client_id="banli-follower-ends")
        self.ends_lock = threading.Lock()
        self.consumer.assign(self.tps)
        self.positions = self._start(events_from or {})
        self.lock = threading.Condition()
        self.error: BaseException | None = None
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._follow, name="follower", daemon=True)
        self.thread.start()

    def _start(self, events_from: Mapping[int, int]) -> dict[Any, int]:
        """Seek each partition to where the cache stopped (a cache read from topics that are not
        these any more, e.g. recreated, is cleared first)."""
        stored = self.cache.positions()
        ends = self._ends()
        if any(stored.get((tp.topic, tp.partition), 0) > ends[tp] for tp in self.tps):
            log.warning("the local cache is ahead of the topics (recreated?): building it again")
            self.cache.clear()
            stored = {}
        beginnings = self.consumer.beginning_offsets(self.tps)
        positions = {}
        for tp in self.tps:
            at = stored.get((tp.topic, tp.partition))
            if at is None:
                at = (events_from.get(tp.partition, 0) if tp.topic == self.topics.events
                      else 0)
            at = max(at, beginnings[tp])
            self.consumer.seek(tp, at)
            positions[tp] = at
        return positions

    def _ends(self) -> dict[Any, int]:
        with self.ends_lock:
            ends: dict[Any, int] = self.ends.end_offsets(self.tps)
            return ends

    def _follow(self) -> None:
        while not self._stop.is_set():
            try:
                batches = self.consumer.poll(timeout_ms=100, max_records=2000)
                positions = {tp: self.consumer.position(tp) for tp in self.tps}
                self._absorb(batches, positions)
            except Exception as exc:
                log.exception("following the snapshots, events and claims")
                self.error = exc
                self._stop.wait(1)
                continue
            with self.lock:
                self.positions = positions
                self.lock.notify_all()

    def _absorb(self, batches: dict[Any, list[Any]], positions: dict[Any, int]) -> None:
        snapshots: list[tuple[str, int, bytes]] = []
        entries: dict[str, str] = {}
        claims: list[tuple[str, str]] = []
        for tp, records in batches.items():
            for record in records:
                try:
                    if tp.topic == self.topics.events:
                        if any(marker in record.value for marker in self.INTERESTING):
                            entries.update(as_pairs(directory_entries(
                                load_event(record.value))))
                    elif tp.topic == self.topics.snapshots:
                        try:
                            version, found = header(record.value)
                        except Exception:  # kept as it is: whoever loads it folds the stream
                            log.error("unreadable snapshot at %s/%s", tp.partition, record.offset)
                            version, found = LocalCache.UNREADABLE, {}
                        snapshots.append((record.key.decode(), version, record.value))
                        entries.update(found)
                    else:
                        claim = json.loads(record.value)
                        claims.append((claim["key"], claim["proposal"]))
                except Exception:
                    log.exception("undecodable record at %s/%s/%s", tp.topic, tp.partition,
                                  record.offset)
        changed = {(tp.topic, tp.partition): at for tp, at in positions.items()
                   if at != self.positions.get(tp)}
        if snapshots or entries or claims or changed:
            self.cache.write(snapshots, entries, claims, changed)

    def catch_up(self, topics: Iterable[str] | None = None, partition: int | None = None,
                 timeout: float = 60) -> bool:
        """Wait until everything now in these topics (default: all three; optionally one
        partition number of each) has been read into the cache."""
        wanted = set(topics) if topics is not None else {tp.topic for tp in self.tps}
        tps = [tp for tp in self.tps if tp.topic in wanted
               and (partition is None or tp.partition == partition)]
        with self.ends_lock:
            end = self.ends.end_offsets(tps)
        with self.lock:
            return self.lock.wait_for(
                lambda: all(self.positions[tp] >= end[tp] for tp in tps), timeout)

    def wait_past(self, topic: str, offsets: Mapping[int, int], timeout: float = 60) -> bool:
        """Wait until the records at these offsets (partition -> offset) have been read."""
        with self.lock:
            return self.lock.wait_for(lambda: all(
                self.positions[TopicPartition(topic, p)] > offset
                for p, offset in offsets.items()), timeout)

    def close(self) -> None:
        self._stop.set()
        self.thread.join(timeout=10)
        self.consumer.close()
        self.ends.close()
        self.cache.close()
