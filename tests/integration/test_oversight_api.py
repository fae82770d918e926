"""The oversight page's API: items behind every number, the league table, the dashboard in one
answer, who-am-I, and the live feed (server-sent events) — grants and refusals."""
from __future__ import annotations

import asyncio
import json
import threading
from datetime import date, timedelta

import httpx

from banli.demo.model import MODEL_FILE
from banli.domain.views.due_list import of_proposals, urgent
from banli.domain.permissions import ACTIONS
from banli.domain.views.rates import Scope
from banli.history import run_history
from apps.local import import_commands
from services.reporting.http.live import BETWEEN, LiveFeed, _event
from tests.conftest import token_for

MODEL_2020 = {"bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}
IPA_ONLY = "2020-cppcc_proposal-21001"  # the model bureau leads it; sh-hrss has no part in it


def ok(response) -> dict:
    assert response.status_code == 200, response.text
    return response.json()


def refused(response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["detail"]["code"] == code


def test_items_trace_a_rate_and_a_count(model):
    overseer = model.client("overseer")
    adoption = ok(overseer.get("/api/items", params={**MODEL_2020, "measure": "adoption"}))
    assert (adoption["count"], adoption["counted"]) == (10, 9)  # 9 solved, 1 kept for reference
    assert {i["bureau"] for i in adoption["items"]} == {"sh-ipa"}
    kept = [i for i in adoption["items"] if not i["counted"]]
    assert [i["result"] for i in kept] == ["reference"]
    handled = ok(overseer.get("/api/items", params={**MODEL_2020, "measure": "duties"}))
    assert handled["count"] == 29
    term = ok(overseer.get("/api/items", params={**MODEL_2020, "years": "2018-2020",
                                                 "measure": "adoption"}))
    assert (term["counted"], term["count"]) == (24, 26)


def test_items_refusals(model):
    clerk = model.client("clerk", "sh-hrss")
    refused(clerk.get("/api/items", params={**MODEL_2020, "measure": "replied"}), 403, "forbidden")
    refused(clerk.get("/api/items", params={"all": "true", "years": "2020", "as_of": "2020-11-20",
                                            "measure": "replied"}), 403, "forbidden")
    refused(model.client("overseer").get("/api/items", params={**MODEL_2020, "measure": "nope"}),
            422, "bad_measure")
    assert model.client(None).get("/api/items", params={**MODEL_2020, "measure": "lead"}
                                  ).status_code == 401
    own = ok(clerk.get("/api/items", params={**MODEL_2020, "bureau": "sh-hrss",
                                             "measure": "duties"}))
    assert own["count"] > 0 and {i["bureau"] for i in own["items"]} == {"sh-hrss"}


def test_league_is_one_report_per_bureau_and_a_clerk_sees_only_its_own(model):
    scope = {"all": "true", "years": "2018-2020", "as_of": "2020-11-20"}
    league = ok(model.client("overseer").get("/api/league", params=scope))["bureaus"]
    assert len(league) > 3
    ipa = ok(model.client("overseer").get("/api/report", params={
        "bureau": "sh-ipa", "years": "2018-2020", "as_of": "2020-11-20"}))
    assert league["sh-ipa"] == ipa
    clerk = model.client("clerk", "sh-hrss")
    mine = ok(clerk.get("/api/league", params={"bureau": "sh-hrss", "years": "2018-2020",
                                              "as_of": "2020-11-20"}))["bureaus"]
    assert list(mine) == ["sh-hrss"]
    refused(clerk.get("/api/league", params=scope), 403, "forbidden")


def test_dashboard_has_this_year_last_year_parts_and_deadlines(model):
    overseer = model.client("overseer")
    board = ok(overseer.get("/api/dashboard", params=MODEL_2020))
    assert board["report"] == ok(overseer.get("/api/report", params=MODEL_2020))
    assert board["previous"] == ok(overseer.get("/api/report", params={
        **MODEL_2020, "years": "2019", "as_of": "2019-11-20"}))
    assert board["report"]["fractions"]["adoption"] == {"numerator": 9, "denominator": 10}
    assert board["report"]["fractions"]["disclosure"] == {"numerator": 10, "denominator": 10}
    assert board["today"] == "2020-11-20"  # the injected clock
    assert board["position"] == model.system.log.head()
    assert all(i["overdue"] or i["due_soon"] for i in board["open"]["items"])
    assert board["open"]["overdue"] == sum(i["overdue"] for i in board["open"]["items"])


def test_dashboard_audit_clock_sees_what_was_recorded_then(model):
    before = ok(model.client("overseer").get("/api/dashboard", params={
        **MODEL_2020, "recorded_by": "2000-01-01T00:00:00"}))
    assert before["report"]["proposals"] == 0
    assert before["report"]["fractions"]["adoption"] == {"numerator": 0, "denominator": 0}


def test_me_says_who_the_token_is_and_what_it_may_do(model):
    me = ok(model.client("clerk", "sh-hrss").get("/api/me"))
    assert {k: me[k] for k in ("user", "bureau", "role", "commands")} == {
        "user": "test-clerk", "bureau": "sh-hrss", "role": "clerk", "commands": True}
    # the permission table's rows, with their reach: the page offers the imports by them
    assert me["actions"] == {name: rights["clerk"] for name, rights in ACTIONS.items()
                             if "clerk" in rights}
    assert me["actions"]["import:replies"] == "own" and "import" not in me["actions"]
    coordinator = ok(model.client("coordinator").get("/api/me"))["actions"]
    assert coordinator["import"] == "all" and "import:replies" not in coordinator
    overseer = ok(model.client("overseer").get("/api/me"))["actions"]
    assert "import" not in overseer and "import:replies" not in overseer
    assert model.client(None).get("/api/me").status_code == 401


def test_the_urgent_open_assignments_are_the_dashboards_deadlines_list(model):
    coordinator = model.client("coordinator")
    # owed on 2020-11-20: one long overdue, one due within 10 days, one due next year
    for number, on in (("9301", "2020-06-01"), ("9302", "2020-08-25"), ("9303", "2020-11-19")):
        assert coordinator.post("/api/proposals", json={
            "kind": "cppcc_proposal", "year": 2020, "number": number, "title": f"提案 {number}",
            "at": f"{on}T09:00:00+08:00"}).status_code == 201
        assert coordinator.post("/api/commands", json={
            "type": "assign", "proposal": f"2020-cppcc_proposal-{number}", "lead": ["sh-ipa"],
            "at": f"{on}T09:01:00+08:00"}).status_code == 201
    assert model.system.settle(30)
    overseer = model.client("overseer")
    dashboard = ok(overseer.get("/api/dashboard", params=MODEL_2020))["open"]
    urgent = ok(overseer.get("/api/assignments", params={"bureau": "sh-ipa", "urgent": "true"}))
    every = ok(overseer.get("/api/assignments", params={"bureau": "sh-ipa"}))
    assert urgent["items"] == dashboard["items"]
    assert [i["proposal_id"][-4:] for i in every["items"] if i not in urgent["items"]] == ["9303"]
    assert (urgent["overdue"], urgent["due_soon"]) == (every["overdue"], every["due_soon"]) == (
        1, 1)


def deadlines(client, **params) -> list[dict]:
    return ok(client.get("/api/assignments", params=params))["items"]


# Owed on a 2020 board as of 2020-11-20: a 2018 item never replied (not that board's), a 2020
# item long overdue, one due within ten days, one a co-handler owes its opinion on.
LATE = [
    {"type": "submit", "kind": "cppcc_proposal", "year": 2018, "number": "9801",
     "title": "提案 9801", "at": "2018-03-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2018-cppcc_proposal-9801", "lead": ["sh-ipa"],
     "at": "2018-03-01T09:01:00+08:00"},
    {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "9301",
     "title": "提案 9301", "at": "2020-06-01T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-cppcc_proposal-9301", "lead": ["sh-ipa"],
     "co": ["sh-hrss"], "at": "2020-06-01T09:01:00+08:00"},
    {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "9302",
     "title": "建议 9302", "at": "2020-08-25T09:00:00+08:00"},
    {"type": "assign", "proposal": "2020-npc_suggestion-9302", "lead": ["sh-ipa"],
     "at": "2020-08-25T09:01:00+08:00"},
]


def test_the_deadlines_list_follows_the_boards_years_date_and_clocks(model, clock):
    """The deadlines list is read as the board's numbers are: the items of its years, as they
    stood on its as-of date (and as recorded by its audit clock), days left counted to that
    date; the projections' list equals the reference's (banli.domain.views.due_list over the same
    history folded as of the date), and the dashboard's is its urgent part."""
    late = [json.dumps(line, ensure_ascii=False) for line in LATE]
    assert import_commands(model.system.handle, late)[2] == []
    assert model.system.settle(30)
    overseer = model.client("overseer")
    ledger, _ = run_history(MODEL_FILE.read_text(encoding="utf-8").splitlines() + late)
    scopes = [Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20)),
              Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 11, 20)),
              Scope(bureau=None, years=(2018, 2020), as_of=date(2018, 3, 1)),
              Scope(bureau="sh-hrss", years=(2020, 2020), as_of=date(2020, 6, 30)),
              Scope(bureau=None, years=(2019, 2019), as_of=date(2019, 4, 30),
                    kind="cppcc_proposal"),
              Scope(bureau=None, years=(2020, 2020), as_of=date(2020, 11, 20),
                    kind="npc_suggestion")]
    for scope in scopes:
        params = {"years": f"{scope.years[0]}-{scope.years[1]}", "as_of": str(scope.as_of),
                  **({"bureau": scope.bureau} if scope.bureau else {}),
                  **({"kind": scope.kind} if scope.kind else {})}
        expected = of_proposals(ledger.proposals_as_of(scope.as_of), scope)
        assert expected, scope  # something is owed on each of these dates
        got = deadlines(overseer, **params)
        assert got == expected, scope
        assert all(scope.years[0] <= i["year"] <= scope.years[1] for i in got)
        assert all(i["days_left"] == (date.fromisoformat(i["due"]) - scope.as_of).days
                   for i in got)
        board = ok(overseer.get("/api/dashboard", params={
            **params, **({} if scope.bureau else {"all": "true"})}))["open"]
        assert board["items"] == urgent(expected), scope
        assert (board["total"], board["overdue"], board["due_soon"]) == (
            len(expected), sum(i["overdue"] for i in expected),
            sum(i["due_soon"] for i in expected))
    # the 2020 board: 2020's items, counted to 2020-11-20 (2018's item is not on it)
    board = ok(overseer.get("/api/dashboard", params=MODEL_2020))["open"]
    assert [(i["proposal_id"][-4:], i["owed"], i["days_left"], i["overdue"], i["due_soon"])
            for i in board["items"]] == [("9301", "reply", -80, True, False),
                                         ("9302", "reply", 5, False, True)]
    everything = deadlines(overseer, bureau="sh-ipa")  # every year, as of today
    assert "2018-cppcc_proposal-9801" in {i["proposal_id"] for i in everything}

    # the audit clock: a reply dated 2020-11-10 but recorded later still leaves the duty owed
    # in what the system had recorded before it
    owed = next(i for i in board["items"] if i["proposal_id"].endswith("9302"))
    before = clock.now
    clock.now = before + timedelta(days=5)
    r = model.client("clerk", "sh-ipa").post("/api/commands", json={
        "type": "reply", "proposal": owed["proposal_id"], "bureau": "sh-ipa",
        "result": "solved", "at": "2020-11-10T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    assert model.system.settle(30)
    key = (owed["proposal_id"], "sh-ipa")
    now = deadlines(overseer, bureau="sh-ipa", as_of="2020-11-20")
    then = deadlines(overseer, bureau="sh-ipa", as_of="2020-11-20",
                     recorded_by=(before + timedelta(hours=1)).isoformat())
    assert key not in {(i["proposal_id"], i["bureau"]) for i in now}
    assert key in {(i["proposal_id"], i["bureau"]) for i in then}
    assert deadlines(overseer, recorded_by="2000-01-01T00:00:00") == []
    answer = ok(overseer.get("/api/assignments", params={
        "years": "2020", "as_of": "2020-11-20", "recorded_by": "2020-11-21T08:00:00"}))
    assert (answer["as_of"], answer["years"], answer["recorded_by"]) == (
        "2020-11-20", [2020, 2020], "2020-11-21T08:00:00+08:00")  # Shanghai time, as typed


def test_the_deadlines_list_refuses_bad_scopes(model):
    overseer = model.client("overseer")
    for params, code in (({"years": "2021-2020"}, "bad_years"), ({"years": "20x0"}, "malformed"),
                         ({"years": "1800"}, "malformed"), ({"as_of": "2020-13-01"}, "malformed"),
                         ({"as_of": "yesterday"}, "malformed"),
                         ({"recorded_by": "not a time"}, "malformed"),
                         ({"recorded_by": "0.5"}, "malformed"),  # not unix time
                         ({"kind": "petition"}, "malformed"), ({"level": "galactic"}, "malformed"),
                         ({"profile": "default"}, "malformed"),  # the list takes no profile
                         ({"years": "2020" * 50}, "malformed")):
        for path in ("/api/assignments", "/api/bureaus/sh-ipa/assignments"):
            refused(overseer.get(path, params=params), 422, code)
        # the board's download asks with the same words
        refused(overseer.get("/api/assignments", params={**params, "format": "xlsx"}), 422, code)
    clerk = model.client("clerk", "sh-ipa")
    refused(clerk.get("/api/assignments", params={"bureau": "sh-hrss", "years": "2020"}), 403,
            "forbidden")
    mine = deadlines(clerk, years="2018-2020", as_of="2020-11-20")
    assert {i["bureau"] for i in mine} <= {"sh-ipa"}
    assert model.client(None).get("/api/assignments", params={"years": "2020"}
                                  ).status_code == 401


def test_awaiting_assignment_lists_unassigned_and_bounced_proposals(model):
    coordinator = model.client("coordinator")
    for n, at in (("9001", "2020-11-01T09:00:00+08:00"), ("9002", "2020-11-02T09:00:00+08:00")):
        assert coordinator.post("/api/proposals", json={
            "kind": "cppcc_proposal", "year": 2020, "number": n, "title": f"关于{n}的提案",
            "at": at}).status_code == 201
    assert coordinator.post("/api/proposals/2020-cppcc_proposal-9002/assign", json={
        "lead": ["sh-hrss"], "at": "2020-11-03T09:00:00+08:00"}).status_code == 201
    waiting = ok(coordinator.get("/api/proposals/awaiting-assignment", params={"years": "2020"}))
    assert [i["proposal_id"] for i in waiting["items"]] == ["2020-cppcc_proposal-9001"]
    assert waiting["items"][0]["assigned_before"] is False
    r = model.client("clerk", "sh-hrss").post("/api/commands", json={
        "type": "return", "proposal": "2020-cppcc_proposal-9002", "bureau": "sh-hrss",
        "reason": "不属于本单位职责", "at": "2020-11-04T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    waiting = ok(model.client("overseer").get("/api/proposals/awaiting-assignment",
                                              params={"years": "2020"}))
    assert [(i["proposal_id"], i["assigned_before"]) for i in waiting["items"]] == [
        ("2020-cppcc_proposal-9001", False), ("2020-cppcc_proposal-9002", True)]
    refused(model.client("clerk", "sh-hrss").get("/api/proposals/awaiting-assignment",
                                                 params={"years": "2020"}), 403, "forbidden")
    board = ok(coordinator.get("/api/dashboard", params={"all": "true", "years": "2020",
                                                         "as_of": "2020-11-20"}))
    assert board["misrouting"]["sh-hrss"] == {"bounced": 1, "days_lost": 1}


class Listener(threading.Thread):
    """Reads /api/live as a page would, collecting its frames."""

    def __init__(self, url: str, token: str):
        super().__init__(daemon=True)
        self.url, self.token = url, token
        self.frames: list[tuple[str, dict]] = []
        self.ready = threading.Event()
        self.closed = threading.Event()  # the server ended the stream
        self.changed = threading.Condition()

    def run(self) -> None:
        try:
            self._read()
            self.closed.set()
        except httpx.HTTPError:  # the server shutting down at the end of the test
            pass

    def _read(self) -> None:
        with httpx.Client(timeout=None) as client:
            with client.stream("GET", f"{self.url}/api/live",
                               headers={"Authorization": f"Bearer {self.token}"}) as response:
                event = None
                for line in response.iter_lines():
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        with self.changed:
                            self.frames.append((event, json.loads(line[5:])))
                            self.changed.notify_all()
                        self.ready.set()

    def wait_for(self, predicate, timeout: float = 20.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: predicate(self.frames), timeout)


def test_live_feed_pushes_new_events_to_those_who_may_see_them(model):
    secret = model.system.settings.secret
    overseer = Listener(model.url, token_for(secret, "overseer"))
    other = Listener(model.url, token_for(secret, "clerk", "sh-hrss"))
    for listener in (overseer, other):
        listener.start()
        assert listener.ready.wait(20)
        assert listener.frames[0] == ("hello", {"position": model.system.log.head()})
    r = model.client("clerk", "sh-ipa").post("/api/commands", json={
        "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
        "method": "phone"})
    assert r.status_code == 201, r.text
    contact = r.json()["events"][0]

    def carries(frames):
        return any(e["event_id"] == contact["event_id"] if "event_id" in e else
                   (e["proposal_id"], e["seq"]) == (IPA_ONLY, contact["seq"])
                   for kind, frame in frames if kind == "events" for e in frame["events"])

    assert overseer.wait_for(carries)
    (event,) = [e for kind, f in overseer.frames if kind == "events" for e in f["events"]]
    assert event["type"] == "ContactLogged" and event["actor"]["bureau"] == "sh-ipa"
    # The projector pushed it; it reads exactly as the same event read back from the tables.
    (row,) = model.system.reporting.query(BETWEEN, after=event["position"] - 1,
                                          upto=event["position"], limit=10)
    assert {**_event(row), "bureaus": sorted(row["bureaus"])} == event
    assert other.wait_for(lambda frames: any(kind == "events" for kind, _ in frames))
    assert not carries(other.frames), "a clerk of another bureau saw the model bureau's event"
    assert model.client(None).get("/api/live").status_code == 401


def test_the_live_feed_polls_the_tables_where_no_projector_pushes(model):
    """A reporting API without a worker in its process (LiveFeed without `pushed`) follows the
    tables instead: a new event still arrives, once."""
    system = model.system

    async def follow_one() -> list[dict]:
        feed = LiveFeed(system.reporting, lambda: system.projector.position, interval=0.05)

        async def gone() -> bool:
            return False

        batches = feed.follow(gone)
        first = asyncio.ensure_future(batches.__anext__())
        await asyncio.sleep(0.3)  # the poller has taken its watermarks
        r = await asyncio.to_thread(model.client("clerk", "sh-ipa").post, "/api/commands", json={
            "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
            "method": "visit"})
        assert r.status_code == 201, r.text
        batch = await asyncio.wait_for(first, 20)
        await batches.aclose()
        return batch["events"]

    (event,) = asyncio.run(follow_one())
    assert (event["proposal_id"], event["type"]) == (IPA_ONLY, "ContactLogged")
