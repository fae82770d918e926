"""Reminders delivered through the outbox to a real HTTP receiver: retries with every attempt
recorded, and nothing delivered twice for the same reminder, also across restarts."""
from __future__ import annotations

import json
import threading
import uuid
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from banli.domain.views.reminders import Reminder
from apps.embedded import EmbeddedSystem
from apps.local import import_commands
from banli.settings import Settings
from services.reporting.reminders import Outbox, WebhookSender, deliver

from tests.conftest import SECRET, FixedClock, free_port

NOW = datetime(2020, 3, 10, 2, 0, tzinfo=timezone.utc)


class Receiver:
    """A webhook receiver on 127.0.0.1: records every request; answers 503 to the next
    `failing` requests, 200 after."""

    def __init__(self):
        self.received: list[tuple[str, dict]] = []
        self.answered: list[tuple[str, int]] = []
        self.failing = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                key = self.headers["Idempotency-Key"]
                status = 200
                if receiver.failing > 0:
                    receiver.failing -= 1
                    status = 503
                receiver.received.append((key, body))
                receiver.answered.append((key, status))
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def delivered(self) -> Counter:
        """Reminder keys answered 2xx, counted."""
        return Counter(key for key, status in self.answered if status == 200)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


def reminder(n: int, colour: str = "yellow") -> Reminder:
    return Reminder(key=f"P{n}/sh-ipa/reply/{colour}/2020-03-16", proposal_id=f"P{n}",
                    bureau="sh-ipa", owed="reply", colour=colour, due=date(2020, 3, 16),
                    days_left=6, message="将到期", message_en="due soon")


def test_a_failed_delivery_is_retried_later_and_every_attempt_recorded(tmp_path, receiver):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    send = WebhookSender(receiver.url)
    assert outbox.enqueue([reminder(1), reminder(2)], NOW) == 2
    assert outbox.enqueue([reminder(1), reminder(2)], NOW) == 0  # a key is queued once
    receiver.failing = 1
    assert deliver(outbox, send, NOW) == {"attempted": 2, "sent": 1, "failed": 0, "pending": 1}
    assert deliver(outbox, send, NOW) == {"attempted": 0, "sent": 0, "failed": 0}  # not yet
    later = NOW + timedelta(minutes=1)
    assert deliver(outbox, send, later)["sent"] == 1
    assert deliver(outbox, send, later + timedelta(days=1))["attempted"] == 0
    assert receiver.delivered() == Counter({reminder(1).key: 1, reminder(2).key: 1})
    attempts = outbox.attempts()
    assert [a["status_code"] for a in attempts] == [503, 200, 200]
    assert attempts[0]["error"] == "HTTP 503" and attempts[1]["error"] is None
    assert {n.status for n in outbox.notifications()} == {"sent"}
    body = dict(receiver.received)[reminder(1).key]
    assert body["colour"] == "yellow" and body["due"] == "2020-03-16"


def test_after_max_attempts_a_notification_is_failed_and_left_alone(tmp_path, receiver):
    outbox = Outbox(tmp_path / "outbox.sqlite3", max_attempts=3)
    send = WebhookSender(receiver.url)
    outbox.enqueue([reminder(1)], NOW)
    receiver.failing = 99
    moment = NOW
    for expected in ("pending", "pending", "failed"):
        deliver(outbox, send, moment)
        assert outbox.notifications()[0].status == expected
        moment += timedelta(hours=7)
    assert deliver(outbox, send, moment)["attempted"] == 0
    assert len(outbox.attempts(reminder(1).key)) == 3
    assert outbox.notifications()[0].attempts == 3


def test_an_unreachable_webhook_is_an_attempt_with_its_error(tmp_path):
    outbox = Outbox(tmp_path / "outbox.sqlite3")
    outbox.enqueue([reminder(1)], NOW)
    deliver(outbox, WebhookSender(f"http://127.0.0.1:{free_port()}/hook", timeout_s=5), NOW)
    [attempt] = outbox.attempts()
    assert attempt["status_code"] is None and attempt["error"]
    assert outbox.notifications()[0].status == "pending"


def test_nothing_is_sent_twice_after_a_restart_of_the_outbox(tmp_path, receiver):
    path = tmp_path / "outbox.sqlite3"
    first = Outbox(path)
    first.enqueue([reminder(1), reminder(2)], NOW)
    deliver(first, WebhookSender(receiver.url), NOW)
    first.close()
    again = Outbox(path)  # a new process: the same reminders computed again
    assert again.enqueue([reminder(1), reminder(2), reminder(3)], NOW + timedelta(hours=1)) == 1
    deliver(again, WebhookSender(receiver.url), NOW + timedelta(hours=1))
    assert receiver.delivered() == Counter({reminder(n).key: 1 for n in (1, 2, 3)})


def line(at: str, type_: str, **fields) -> str:
    return json.dumps({"type": type_, "at": f"{at}T10:00:00+08:00", **fields},
                      ensure_ascii=False)


HISTORY = [
    line("2020-01-02", "register_bureau", bureau="sh-ipa", name="上海市知识产权局"),
    line("2020-01-02", "register_bureau", bureau="sh-hrss", name="上海市人社局"),
    line("2020-02-20", "submit", kind="cppcc_proposal", year=2020, number="00001", title="一"),
    line("2020-03-02", "assign", proposal="2020-cppcc_proposal-00001", lead=["sh-ipa"],
         co=["sh-hrss"]),
    line("2020-03-03", "acknowledge", proposal="2020-cppcc_proposal-00001", bureau="sh-ipa"),
]


def test_the_embedded_system_reminds_once_across_restarts(tmp_path, chdb_dsn, receiver):
    settings = Settings(data_dir=tmp_path / "data", clickhouse_dsn=chdb_dsn,
                        clickhouse_database=f"r_{uuid.uuid4().hex[:12]}", secret=SECRET,
                        webhook_url=receiver.url, reminder_interval_s=3600)
    clock = FixedClock(NOW)  # 10 March 2020: sh-hrss's return window closes on 16 March
    system = EmbeddedSystem(settings, clock=clock).start()
    try:
        import_commands(system.handle, HISTORY)
        system.reminders.run_once()  # (the timer's own round may have queued it already)
        assert sum(receiver.delivered().values()) == 1
        clock.now = datetime(2020, 3, 17, 2, tzinfo=timezone.utc)  # now red
        system.reminders.run_once()
    finally:
        system.stop()
    key = "2020-cppcc_proposal-00001/sh-hrss/return"
    assert receiver.delivered() == Counter({f"{key}/yellow/2020-03-16": 1,
                                            f"{key}/red/2020-03-16": 1})

    restarted = EmbeddedSystem(settings, clock=clock).start()  # the same data dir
    try:
        assert restarted.reminders.run_once() == {"reminders": 1, "queued": 0, "attempted": 0,
                                                  "sent": 0, "failed": 0}
        clock.now = datetime(2020, 3, 24, 2, tzinfo=timezone.utc)  # the opinion: due 2 April
        restarted.reminders.run_once()
    finally:
        restarted.stop()
        restarted.reporting.drop()
    assert receiver.delivered() == Counter({
        f"{key}/yellow/2020-03-16": 1, f"{key}/red/2020-03-16": 1,
        "2020-cppcc_proposal-00001/sh-hrss/opinion/yellow/2020-04-02": 1})
    assert len(receiver.received) == 3
