"""The workbench's load as Locust scenarios (issue 24): clerks working their lists, dashboards
refreshing, live-feed subscribers holding `/api/live` open, and a bare route hit at a steady
rate beside them, in the same server process, for the baseline.

bench/load.py runs these headless and turns the samples into figures (`python -m bench.load
DATA_DIR`). They also run under Locust's own command line, against a server whose secret is in
BANLI_SECRET:

    BANLI_SECRET=… PYTHONPATH=. locust -f bench/scenarios.py --headless -H http://127.0.0.1:8000 -t 60s

Importing this module imports Locust, which monkey-patches the process for gevent: import it
only in a process of its own. Requests are named by route (`GET /api/proposals/{id}`), never by
id, so each route has one line of statistics.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import socket
import time
import urllib.request
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

import gevent
from locust import FastHttpUser, User, constant_pacing, constant_throughput, events, task

from banli.auth import issue_token
from banli.domain.types import Actor

from bench.load import (BARE, COMMAND, DASHBOARD, DRAWER, DRAWER_GETS, LIVE, PAGE, SSE,
                        WORK)


@dataclass
class Setup:
    """What every user needs: the server's secret (for tokens), its bureaus (whose clerks),
    the dashboard's years, the clerks' think time, the bare route's rate per user."""

    secret: str = ""
    bureaus: list[str] = field(default_factory=list)
    years: str = "2018-2021"
    think: tuple[float, float] = (3.0, 9.0)
    bare_rate: float = 5.0


SETUP = Setup()
_serial = itertools.count()  # each token's user
_clerks, _subscribers = itertools.count(), itertools.count()  # spread over the bureaus


def configure(url: str, secret: str, **options: Any) -> None:
    """Fill SETUP, asking the server for its bureaus (as a coordinator)."""
    SETUP.secret = secret
    for name, value in options.items():
        setattr(SETUP, name, value)
    request = urllib.request.Request(f"{url}/api/bureaus", headers=bearer("coordinator"))
    with urllib.request.urlopen(request, timeout=60) as response:
        SETUP.bureaus = sorted(json.load(response)["bureaus"])
    if not SETUP.bureaus:
        raise RuntimeError("the server has no bureaus: import a history first")


@events.test_start.add_listener
def _from_environment(environment, **_kwargs) -> None:
    """Under `locust -f`: configure from BANLI_SECRET (bench/load.py configures beforehand)."""
    if not SETUP.secret:
        configure(environment.host, os.environ["BANLI_SECRET"])


def bearer(role: str, bureau: str | None = None) -> dict[str, str]:
    user = f"load-{role}-{next(_serial)}"
    token = issue_token(SETUP.secret, Actor(user=user, role=role, bureau=bureau), 86400)
    return {"Authorization": f"Bearer {token}"}


def shanghai_today() -> str:
    return datetime.now(ZoneInfo("Asia/Shanghai")).date().isoformat()


def think(user: User) -> float:
    return random.uniform(*SETUP.think)


# What a clerk fills in for each command the work list offers (the rest of its form: the item's
# proposal and bureau). A command not here is sent as a contact logged after the reply.
FILLED: dict[str, dict[str, Any]] = {
    "acknowledge": {},
    "return": {"reason": "不属于本单位职责 (load test)"},
    "log_contact": {"stage": "during", "method": "phone", "note": "电话沟通 (load test)"},
    "reply": {"result": "planned", "summary": "已列入计划 (load test)"},
    "draft_reply": {"result": "planned", "summary": "答复稿 (load test)"},
    "approve_reply": {"signed_by": "负责人 (load test)"},
    "submit_opinion": {"summary": "会办意见 (load test)"},
    "decide_disclosure": {"disclosure": "full"},
    "record_feedback": {"satisfaction": "satisfied", "channel": "phone"},
}
CONTACT_AFTER = {"type": "log_contact", "stage": "after", "method": "phone",
                 "note": "回访 (load test)"}


def command_for(item: dict[str, Any] | None, proposal: str, bureau: str) -> dict[str, Any]:
    """The first command the item lists (what discharges it), filled in as a clerk would; with
    no item (the list is empty), a contact logged on a proposal seen before."""
    base = {"proposal": proposal, "bureau": bureau}
    if item is None:
        return {**base, **CONTACT_AFTER}
    kind = item["commands"][0] if item["commands"] else ""
    if kind == "sign_off_reply" and item.get("lead"):
        return {**base, "type": kind, "lead": item["lead"], "remark": "同意 (load test)"}
    if kind == "reopen":
        due = (datetime.now(ZoneInfo("Asia/Shanghai")) + timedelta(days=60)).date().isoformat()
        return {**base, "type": kind, "reason": "重新办理 (load test)", "reply_due": due}
    if kind in FILLED:
        return {**base, "type": kind, **FILLED[kind]}
    return {**base, **CONTACT_AFTER}


class Clerk(FastHttpUser):
    """A bureau's clerk at the workbench: reads its work list, opens one of the most urgent
    items in the drawer, sends the command that discharges it, thinks. Clerks are spread over
    the bureaus in turn, so some share a bureau and may refuse each other (409: counted apart,
    still a latency)."""

    fixed_count = 50
    wait_time = think

    def on_start(self) -> None:
        self.bureau = SETUP.bureaus[next(_clerks) % len(SETUP.bureaus)]
        self.headers = bearer("clerk", self.bureau)
        self.seen: list[str] = []  # proposals met on its list: contacts once the list is empty

    @task
    def work_an_item(self) -> None:
        answer = self.client.get("/api/work", headers=self.headers, name=WORK)
        items = answer.json()["items"] if answer.status_code == 200 else []
        item = random.choice(items[:10]) if items else None
        if item is not None and item["proposal_id"] not in self.seen:
            self.seen.append(item["proposal_id"])
        proposal = item["proposal_id"] if item else (random.choice(self.seen) if self.seen
                                                     else None)
        if proposal is None:
            return
        self.open_drawer(proposal)
        body = command_for(item, proposal, self.bureau)
        with self.client.post("/api/commands", json=body, headers=self.headers, name=COMMAND,
                              context={"command": body["type"]},
                              catch_response=True) as answer:
            if answer.status_code in (201, 409, 422):  # decided: accepted or refused
                answer.success()

    def open_drawer(self, proposal: str) -> None:
        """What the page's drawer fetches (services/reporting/web/js/views/item.js), at once;
        timed as one page load too."""
        start = time.perf_counter()
        path = f"/api/proposals/{quote(proposal, safe='')}"
        gets = [gevent.spawn(self.client.get, path + rest, headers=self.headers, name=name)
                for rest, name in zip(("", "/history", "/deadlines"), DRAWER_GETS)]
        gevent.joinall(gets)
        failed = [g.value.status_code if g.value is not None else "none" for g in gets
                  if g.value is None or not 200 <= g.value.status_code < 300]
        self.environment.events.request.fire(
            request_type=PAGE, name=DRAWER, response_time=(time.perf_counter() - start) * 1000,
            response_length=0, exception=RuntimeError(f"answered {failed}") if failed else None,
            context={})


class Dashboard(FastHttpUser):
    """The oversight page, refreshed every 5 seconds: every bureau, the workload's years, as of
    today."""

    fixed_count = 10
    wait_time = constant_pacing(5)

    def on_start(self) -> None:
        self.headers = bearer(random.choice(("coordinator", "overseer")))

    @task
    def refresh(self) -> None:
        query = urlencode({"years": SETUP.years, "as_of": shanghai_today(), "all": "true"})
        self.client.get(f"/api/dashboard?{query}", headers=self.headers, name=DASHBOARD)


class Bare(FastHttpUser):
    """The baseline: the bare route at a steady rate, in the same run and the same process."""

    fixed_count = 2

    def wait_time(self) -> float:
        return constant_throughput(SETUP.bare_rate)(self)

    def on_start(self) -> None:
        self.headers = bearer("clerk", SETUP.bureaus[0])

    @task
    def me(self) -> None:
        self.client.get("/api/me", headers=self.headers, name=BARE)


LIVE_READ = {"connections": 0, "batches": 0, "bytes": 0}


class LiveSubscriber(User):
    """A page holding the live feed open: half of them oversight (every event), half clerks
    (their bureau's). A bare gevent socket reads the stream and only counts its batches, so 200
    of them cost the client little; the time to the feed's `hello` is recorded."""

    fixed_count = 200
    wait_time = constant_pacing(1)  # reconnects a second after the server ends a stream

    def on_start(self) -> None:
        n = next(_subscribers)
        self.headers = (bearer("overseer") if n % 2 else
                        bearer("clerk", SETUP.bureaus[n // 2 % len(SETUP.bureaus)]))

    @task
    def follow(self) -> None:
        where = urlsplit(self.host)
        request = (f"GET /api/live HTTP/1.1\r\nHost: {where.netloc}\r\n"
                   f"Authorization: {self.headers['Authorization']}\r\n"
                   f"Accept: text/event-stream\r\n\r\n").encode()
        start = time.perf_counter()
        hello, head = False, b""
        sock = socket.create_connection((where.hostname, where.port or 80), timeout=120)
        try:
            sock.sendall(request)
            LIVE_READ["connections"] += 1
            while chunk := sock.recv(65536):
                LIVE_READ["bytes"] += len(chunk)
                if not hello:
                    head += chunk
                    if b"event: hello" in head:
                        hello = True
                        self._fire(start, None if head.startswith(b"HTTP/1.1 200")
                                   else RuntimeError(head.split(b"\r\n", 1)[0].decode()))
                    continue
                LIVE_READ["batches"] += chunk.count(b"event: events")
        except OSError as exc:
            self._fire(start, exc)
        finally:
            sock.close()

    def _fire(self, start: float, exception: Exception | None) -> None:
        self.environment.events.request.fire(
            request_type=SSE, name=LIVE, response_time=(time.perf_counter() - start) * 1000,
            response_length=0, exception=exception, context={})
