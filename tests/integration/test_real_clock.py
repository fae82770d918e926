"""The embedded system with the real clock, over real HTTP: concurrent commands on one proposal
never refuse each other (a command without `at` gets its time when it is decided, under its
stream's lock); one number submitted under many ids at once is one proposal; nothing is dated
ahead of today, and a clerk dates records only so far back (the default 30 days)."""
from __future__ import annotations

import threading
import uuid
from collections import Counter

import pytest

from apps.embedded import EmbeddedSystem, create_app
from banli.settings import Settings
from tests.conftest import SECRET, LiveServer, token_for

import httpx


@pytest.fixture
def live(tmp_path, chdb_dsn):
    system = EmbeddedSystem(Settings(data_dir=tmp_path / "data", clickhouse_dsn=chdb_dsn,
                                     clickhouse_database=f"c_{uuid.uuid4().hex[:12]}",
                                     secret=SECRET)).start()  # the system clock
    try:
        with LiveServer(create_app(system)) as server:
            yield server, system
    finally:
        system.stop()
        system.reporting.drop()


def client(server, role: str, bureau: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=60, headers={
        "Authorization": f"Bearer {token_for(SECRET, role, bureau)}"})


def at_once(count: int, send) -> list[httpx.Response]:
    barrier = threading.Barrier(count)
    answers: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = send(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return answers


def test_twenty_clients_on_one_proposal_never_refuse_each_other(live):
    server, system = live
    coordinator = client(server, "coordinator")
    for bureau in ("sh-ipa", "sh-hrss"):
        assert coordinator.post("/api/bureaus", json={"bureau": bureau, "name": bureau}
                                ).status_code == 201
    assert coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2026, "number": "1", "title": "同时办理"}).status_code == 201
    assert coordinator.post("/api/proposals/2026-cppcc_proposal-1/assign", json={
        "lead": ["sh-ipa", "sh-hrss"]}).status_code == 201
    clerks = [client(server, "clerk", b) for b in ("sh-ipa", "sh-hrss")]
    answers = at_once(20, lambda i: clerks[i % 2].post(
        "/api/proposals/2026-cppcc_proposal-1/contacts",
        json={"bureau": ("sh-ipa", "sh-hrss")[i % 2], "stage": "before", "method": "phone",
              "note": f"第 {i} 次"}))
    assert [a.status_code for a in answers] == [201] * 20, [a.text for a in answers
                                                           if a.status_code != 201]
    times = [a.json()["events"][0]["occurred_at"] for a in answers]
    assert len(set(times)) == 20  # each stamped when decided


def test_one_number_submitted_under_many_ids_at_once_is_one_proposal(live):
    server, _ = live
    coordinators = [client(server, "coordinator") for _ in range(12)]
    answers = at_once(12, lambda i: coordinators[i].post("/api/proposals", json={
        "proposal": f"id-{i}", "kind": "npc_suggestion", "year": 2026, "number": "77",
        "title": "同号"}))
    codes = Counter(a.status_code for a in answers)
    assert codes == {201: 1, 409: 11}, [a.text for a in answers]
    assert {a.json()["code"] for a in answers if a.status_code == 409} == {"duplicate_number"}


def test_the_clock_bounds_business_time_over_http(live):
    server, _ = live
    from datetime import datetime, timedelta, timezone

    coordinator = client(server, "coordinator")
    assert coordinator.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "知识产权局"}
                            ).status_code == 201
    now = datetime.now(timezone(timedelta(hours=8)))
    long_ago = (now - timedelta(days=60)).isoformat()
    assert coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": now.year, "number": "9", "title": "时间",
        "at": (now - timedelta(days=90)).isoformat()}).status_code == 201
    pid = f"{now.year}-cppcc_proposal-9"
    assert coordinator.post(f"/api/proposals/{pid}/assign", json={
        "lead": ["sh-ipa"], "at": (now - timedelta(days=80)).isoformat()}).status_code == 201
    clerk = client(server, "clerk", "sh-ipa")
    contact = {"bureau": "sh-ipa", "stage": "before", "method": "visit"}
    r = clerk.post(f"/api/proposals/{pid}/contacts", json={**contact, "at": long_ago})
    assert r.status_code == 409 and r.json()["code"] == "backdated_too_far"  # the default 30 days
    assert "importer" in r.json()["message_en"]
    importer = client(server, "importer")
    assert importer.post(f"/api/proposals/{pid}/contacts",
                         json={**contact, "at": long_ago}).status_code == 201
    tomorrow = (now + timedelta(days=1)).isoformat()
    r = clerk.post(f"/api/proposals/{pid}/contacts", json={**contact, "at": tomorrow})
    assert r.status_code == 409 and r.json()["code"] == "future_business_time"
    r = clerk.post(f"/api/proposals/{pid}/contacts", json={**contact, "at": 1_700_000_000})
    assert r.status_code == 422  # a number is not a time
    assert clerk.post(f"/api/proposals/{pid}/contacts", json={
        **contact, "at": (now - timedelta(days=3)).isoformat()}).status_code == 201
