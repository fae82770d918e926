"""Reminders delivered: the duties as the projections hold them → banli.domain.views.reminders → a
durable outbox (SQLite, in the data dir) → a webhook, with retries and a record of every attempt.

Each reminder has a stable key and the outbox takes a key once (its primary key), so a reminder
is queued once however often the reminders are computed, also after a restart; once its webhook
answered 2xx it is never sent again. A failed attempt is retried later (1 minute, then doubling,
at most 6 hours apart) until `max_attempts`, then left `failed`. The one window for a second
delivery is a crash between the receiver's answer and the outbox's commit: the request carries
the key as `Idempotency-Key` so that the receiver can tell.
"""
from __future__ import annotations

import json
import logging
import sqlite3
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Callable, Iterable

from banli.domain.timing.deadlines import Profile
from banli.domain.views.explain import Duty
from banli.domain.views.reminders import Reminder, reminders
from banli.domain.types import business_date
from banli.domain.timing.workdays import Calendar

from .projections import queries
from .projections.intervals import NO_DATE

log = logging.getLogger("banli.reminders")

Send = Callable[[str, dict[str, Any]], tuple[int | None, str | None]]  # -> (status, error)

SCHEMA = """
CREATE TABLE IF NOT EXISTS notifications (
    key             TEXT PRIMARY KEY,
    payload         TEXT NOT NULL,
    queued_at       TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'pending',  -- pending, sent, failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at         TEXT
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications (status, next_attempt_at);
CREATE TABLE IF NOT EXISTS attempts (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    key         TEXT NOT NULL REFERENCES notifications (key),
    at          TEXT NOT NULL,
    status_code INTEGER,
    error       TEXT
);
"""


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat()


@dataclass(frozen=True)
class Notification:
    key: str
    payload: dict[str, Any]
    status: str
    attempts: int
    next_attempt_at: str
    sent_at: str | None


class Outbox:
    """The notifications to deliver and every delivery attempt, in one SQLite file."""

    def __init__(self, path: Path, max_attempts: int = 8):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_attempts = max_attempts
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def enqueue(self, found: Iterable[Reminder], now: datetime) -> int:
        """Queue the reminders not queued before; returns how many were new."""
        rows = [(r.key, json.dumps(r.payload(), ensure_ascii=False), _utc(now), _utc(now))
                for r in found]
        with self._lock:
            before = self._db.total_changes
            self._db.execute("BEGIN IMMEDIATE")
            self._db.executemany("INSERT OR IGNORE INTO notifications (key, payload, queued_at, "
                                 "next_attempt_at) VALUES (?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")
            return self._db.total_changes - before

    def due(self, now: datetime, limit: int = 100) -> list[Notification]:
        """Pending notifications whose next attempt is due, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT key, payload, status, attempts, next_attempt_at, sent_at "
                "FROM notifications WHERE status = 'pending' AND next_attempt_at <= ? "
                "ORDER BY queued_at, key LIMIT ?", (_utc(now), limit)).fetchall()
        return [Notification(k, json.loads(p), s, a, n, t) for k, p, s, a, n, t in rows]

    def record(self, key: str, now: datetime, status_code: int | None,
               error: str | None) -> str:
        """Record one attempt and its consequence: sent on 2xx; otherwise retried later, or
        failed after `max_attempts`. Returns the notification's new status."""
        ok = status_code is not None and 200 <= status_code < 300
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            (attempts,) = self._db.execute("SELECT attempts FROM notifications WHERE key = ?",
                                           (key,)).fetchone()
            attempts += 1
            self._db.execute("INSERT INTO attempts (key, at, status_code, error) "
                             "VALUES (?, ?, ?, ?)", (key, _utc(now), status_code, error))
            if ok:
                status, later = "sent", now
            else:
                status = "failed" if attempts >= self.max_attempts else "pending"
                later = now + min(timedelta(minutes=2 ** (attempts - 1)), timedelta(hours=6))
            self._db.execute(
                "UPDATE notifications SET status = ?, attempts = ?, next_attempt_at = ?, "
                "sent_at = ? WHERE key = ?",
                (status, attempts, _utc(later), _utc(now) if ok else None, key))
            self._db.execute("COMMIT")
            return status

    def notifications(self) -> list[Notification]:
        with self._lock:
            rows = self._db.execute("SELECT key, payload, status, attempts, next_attempt_at, "
                                    "sent_at FROM notifications ORDER BY queued_at, key"
                                    ).fetchall()
        return [Notification(k, json.loads(p), s, a, n, t) for k, p, s, a, n, t in rows]

    def attempts(self, key: str | None = None) -> list[dict[str, Any]]:
        with self._lock:
            rows = self._db.execute(
                "SELECT key, at, status_code, error FROM attempts "
                "WHERE ? IS NULL OR key = ? ORDER BY id", (key, key)).fetchall()
        return [{"key": k, "at": a, "status_code": s, "error": e} for k, a, s, e in rows]


class WebhookSender:
    """POSTs a notification as JSON to one URL (stdlib HTTP, no extra dependency)."""

    def __init__(self, url: str, timeout_s: float = 10.0):
        self.url, self.timeout_s = url, timeout_s

    def __call__(self, key: str, payload: dict[str, Any]) -> tuple[int | None, str | None]:
        request = urllib.request.Request(
            self.url, data=json.dumps(payload, ensure_ascii=False).encode("utf-8"),
            headers={"Content-Type": "application/json; charset=utf-8", "Idempotency-Key": key},
            method="POST")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:
                return answer.status, None
        except urllib.error.HTTPError as exc:
            return exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            return None, str(getattr(exc, "reason", exc))


def deliver(outbox: Outbox, send: Send, now: datetime) -> dict[str, int]:
    """One round: every notification due now gets one attempt."""
    counts = {"attempted": 0, "sent": 0, "failed": 0}
    for note in outbox.due(now):
        status_code, error = send(note.key, note.payload)
        status = outbox.record(note.key, now, status_code, error)
        counts["attempted"] += 1
        counts[status] = counts.get(status, 0) + 1
    return counts


def current_duties(store: Any, bureau: str | None = None) -> list[Duty]:
    """Every counted duty as the projections hold it now."""
    def day(value: date) -> date | None:
        return None if value == NO_DATE else value

    return [Duty(r["proposal_id"], r["bureau"], r["role"], r["kind"], r["assigned_on"],
                 r["due"], r["extensions"], day(r["first_reply_on"]), day(r["first_opinion_on"]),
                 day(r["last_reply_on"]), day(r["published_on"]), r["disclosure"] or None,
                 bool(r["acknowledged"]), bool(r["awaiting_reply"]), day(r["reopen_due"]),
                 r["opinions"], r["replies"])
            for r in store.query(queries.DEADLINE_DUTIES, bureau=bureau or "")]


class ReminderService:
    """Computes today's reminders from the projections, queues the new ones and delivers what
    is due; `start` runs that every `interval_s` in a thread of its own."""

    def __init__(self, store: Any, outbox: Outbox, send: Send, profile: Profile,
                 calendar: Callable[[], Calendar], clock: Callable[[], datetime],
                 interval_s: float = 300.0, settle: Callable[[], Any] = lambda: None):
        """`calendar` gives the current calendar (a loaded holiday notice counts from then on)."""
        self.store, self.outbox, self.send = store, outbox, send
        self.profile, self.calendar, self.clock = profile, calendar, clock
        self.interval_s, self.settle = interval_s, settle
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._round = threading.Lock()  # one round at a time: a due notification goes out once

    def run_once(self) -> dict[str, int]:
        with self._round:
            self.settle()
            now = self.clock()
            found = reminders(current_duties(self.store), self.profile, self.calendar(),
                              business_date(now))
            queued = self.outbox.enqueue(found, now)
            return {"reminders": len(found), "queued": queued,
                    **deliver(self.outbox, self.send, now)}

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._loop, name="reminders", daemon=True)
            self._thread.start()

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_once()
            except Exception:  # the next round tries again; the outbox keeps what was queued
                log.exception("reminders round failed")
            self._stop.wait(self.interval_s)

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None
