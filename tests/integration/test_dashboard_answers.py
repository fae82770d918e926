"""The dashboard once per change, not once per viewer (services/reporting/http/answer_cache.py),
over real HTTP and chDB: a kept answer is the one computed, a new projected position computes it
again (on `banli serve` and on the reporting service, which reads the position from the
projections' marks), viewers who may see differently never share one, and viewers asking at
once share one computation."""
from __future__ import annotations

import threading

import httpx

from services.reporting.http.answer_cache import AnswerCache
from tests.conftest import LiveServer, token_for

MODEL_2020 = {"bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}
HRSS_2020 = {**MODEL_2020, "bureau": "sh-hrss"}


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def answers_of(live) -> AnswerCache:
    return live.server.app.state.ports.dashboards


def add_overdue_duty(model, number: str) -> None:
    """A 2020 proposal led by sh-ipa since June: overdue on 2020-11-20."""
    coordinator = model.client("coordinator")
    assert coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": number, "title": f"提案 {number}",
        "at": "2020-06-01T09:00:00+08:00"}).status_code == 201
    assert coordinator.post("/api/commands", json={
        "type": "assign", "proposal": f"2020-cppcc_proposal-{number}", "lead": ["sh-ipa"],
        "at": "2020-06-01T09:01:00+08:00"}).status_code == 201


def test_a_kept_answer_is_the_one_computed(model):
    answers, overseer = answers_of(model), model.client("overseer")
    computed = answers.computed
    first = ok(overseer.get("/api/dashboard", params=MODEL_2020))
    assert answers.computed == computed + 1
    kept = ok(model.client("coordinator").get("/api/dashboard", params=MODEL_2020))
    assert answers.computed == computed + 1  # oversight roles see the same: one answer
    assert kept == first
    # and it is what the routes of its parts answer now
    assert kept["report"] == ok(overseer.get("/api/report", params=MODEL_2020))
    assert kept["league"] == ok(overseer.get("/api/league", params=MODEL_2020))["bureaus"]
    assert kept["position"] == model.system.log.head()


def test_a_new_projected_position_computes_the_answer_again(model):
    answers, overseer = answers_of(model), model.client("overseer")
    before = ok(overseer.get("/api/dashboard", params=MODEL_2020))
    computed = answers.computed
    add_overdue_duty(model, "9401")
    after = ok(overseer.get("/api/dashboard", params=MODEL_2020))  # the route settles first
    assert answers.computed == computed + 1
    assert after["position"] > before["position"]
    assert after["open"]["overdue"] == before["open"]["overdue"] + 1
    assert after["report"]["proposals"] == before["report"]["proposals"] + 1
    assert ok(overseer.get("/api/dashboard", params=MODEL_2020)) == after
    assert answers.computed == computed + 1


def test_viewers_who_may_see_differently_never_share_an_answer(model):
    answers = answers_of(model)
    computed = answers.computed
    overseer = ok(model.client("overseer").get("/api/dashboard", params=HRSS_2020))
    clerk = ok(model.client("clerk", "sh-hrss").get("/api/dashboard", params=HRSS_2020))
    assert answers.computed == computed + 2
    assert list(clerk["league"]) == ["sh-hrss"] and len(overseer["league"]) > 1
    assert set(clerk["misrouting"]) <= {"sh-hrss"}
    assert clerk["report"] == overseer["report"]  # the bureau's own numbers are the clerk's too
    # another clerk of the bureau sees what the first one does: the kept answer
    other = model.client(token=token_for(model.system.settings.secret, "clerk", "sh-hrss",
                                         user="another-clerk"))
    assert ok(other.get("/api/dashboard", params=HRSS_2020)) == clerk
    assert answers.computed == computed + 2
    # a clerk of another bureau may not ask for this one's at all, kept or not
    refused = model.client("clerk", "sh-ipa").get("/api/dashboard", params=HRSS_2020)
    assert refused.status_code == 403
    # nor may a filer, whatever is kept
    assert model.client("filer", filer="F-NONE").get(
        "/api/dashboard", params=HRSS_2020).status_code == 403


def test_viewers_asking_at_once_share_one_computation(model):
    reporting = model.system.reporting
    league, calls = reporting.league, []
    started = threading.Barrier(6)

    def counted(*args, **kwargs):  # our own store's query, counted and made slow enough to overlap
        calls.append(1)
        threading.Event().wait(0.5)
        return league(*args, **kwargs)

    reporting.league = counted
    scope = {"all": "true", "years": "2019", "as_of": "2019-11-20"}
    got: list[dict] = []

    def ask(role: str) -> None:
        client = model.client(role)
        started.wait()
        got.append(ok(client.get("/api/dashboard", params=scope)))

    try:
        askers = [threading.Thread(target=ask, args=(role,))
                  for role in ("overseer", "coordinator", "admin") * 2]
        for asker in askers:
            asker.start()
        for asker in askers:
            asker.join(60)
    finally:
        del reporting.league
    assert len(got) == 6 and all(answer == got[0] for answer in got)
    assert len(calls) == 1


def test_the_reporting_service_keeps_answers_by_the_projections_marks(model):
    from apps.reporting import create_api

    system = model.system
    with LiveServer(create_api(system.settings, system.reporting)) as reporting:
        read = httpx.Client(base_url=reporting.url, timeout=60, headers={
            "Authorization": f"Bearer {token_for(system.settings.secret, 'overseer')}"})
        with read:
            answers = answers_of(reporting)
            before = ok(read.get("/api/dashboard", params=MODEL_2020))
            assert ok(read.get("/api/dashboard", params=MODEL_2020)) == before
            assert answers.computed == 1
            add_overdue_duty(model, "9402")  # projected by the embedded system's projector
            assert system.settle(30)
            after = ok(read.get("/api/dashboard", params=MODEL_2020))
            assert answers.computed == 2
            assert after["open"]["overdue"] == before["open"]["overdue"] + 1
