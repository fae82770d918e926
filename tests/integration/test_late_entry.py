"""Late entry, counted: per bureau, how many of its records were recorded more than N working
days after their business date, and how many came in a bulk import (counted apart). The SQL
over the projections equals the reference (the events folded in memory), in the report, the
league and the list behind the number; the HTTP API serves both to whom may read them."""
from __future__ import annotations

import json
from datetime import date, timedelta

from banli.demo.model import MODEL_FILE
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Entries, Scope, entry_kind
from banli.history import read_commands, reference_entries, reference_report, run_history
from apps.local import import_commands

from tests.integration.http_world import expect

ADMIN = {"user": "typist", "role": "admin"}


def lag_of(command) -> timedelta:
    """How long after it happened each record was typed in: none, a day, or up to three weeks."""
    n = int(command.command_id.split("-")[1], 16)
    return timedelta(days=(0, 1, 4, 9, 21)[n % 5], hours=2)


def typed_in_late(lines: list[str]) -> list[str]:
    """The model history with two lines in three typed in by an admin (the rest imported)."""
    out = []
    for number, line in enumerate(lines):
        data = json.loads(line)
        if number % 3 and data["type"] not in ("register_bureau", "submit", "assign"):
            data["actor"] = ADMIN
        out.append(json.dumps(data, ensure_ascii=False))
    return out


def load_with_lags(system, clock, lines):
    def handle(command):
        clock.now = command.at + lag_of(command)
        return system.handle(command)

    accepted, _, problems = import_commands(handle, lines)
    assert problems == [] and system.settle(60)
    return accepted


SCOPES = [Scope(bureau=b, years=y, as_of=d) for b in ("sh-ipa", "sh-hrss", None)
          for y in ((2020, 2020), (2018, 2020)) for d in (date(2019, 6, 30), date(2020, 11, 20))]


def test_late_entries_in_sql_equal_the_reference(system, clock):
    lines = typed_in_late(MODEL_FILE.read_text(encoding="utf-8").splitlines())
    load_with_lags(system, clock, lines)
    ledger, problems = run_history(lines, clock=lambda command: command.at + lag_of(command),
                                   clerk_backdate_days=system.settings.clerk_backdate_days)
    assert problems == []
    seen = {"late": 0, "imported": 0, "on_time": 0}
    for scope in SCOPES:
        expected = reference_report(ledger, scope)
        assert system.reporting.report(scope, PROFILES["default"]) == expected, scope
        listed = system.reporting.entries(scope)
        reference = [(ev.proposal_id, ev.seq, entry_kind(stamp, ledger.calendar, 5))
                     for ev, stamp in reference_entries(
                         ledger, list(ledger.proposals_as_of(scope.as_of)), scope)]
        assert sorted((r["proposal_id"], r["seq"], r["entry"]) for r in listed) == sorted(reference)
        entries = expected.entries
        assert entries is not None and entries.records == len(listed)
        assert entries.late == sum(r["entry"] == "late" for r in listed)
        assert entries.imported == sum(r["entry"] == "imported" for r in listed)
        for r in listed:
            seen[r["entry"]] += 1
    assert all(seen.values()), seen  # every kind is exercised
    everyone = Scope(bureau=None, years=(2018, 2020), as_of=date(2020, 11, 20))
    league = system.reporting.league(everyone, PROFILES["default"])
    for bureau, report in league.items():
        one = everyone.model_copy(update={"bureau": bureau})
        assert report.entries == reference_report(ledger, one).entries, bureau


def test_a_record_is_late_after_n_working_days_over_a_holiday(system, clock):
    """Five working days after 23 January 2020 end on 7 February (Spring Festival, extended)."""
    base = [
        {"type": "register_bureau", "bureau": "sh-ipa", "name": "知识产权局", "at": "2020-01-02T09:00:00+08:00"},
        {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "1", "title": "一",
         "at": "2020-01-06T09:00:00+08:00"},
        {"type": "assign", "proposal": "2020-cppcc_proposal-1", "lead": ["sh-ipa"],
         "at": "2020-01-07T09:00:00+08:00"},
    ]
    for command in base:
        clock.now = date_time(command["at"])
        assert system.handle(parsed(command)).accepted
    clerk = {"user": "clerk@sh-ipa", "bureau": "sh-ipa", "role": "clerk"}
    for at, recorded in (("2020-01-23T10:00:00+08:00", "2020-02-07T17:00:00+08:00"),   # on time
                         ("2020-01-23T11:00:00+08:00", "2020-02-10T09:00:00+08:00")):  # late
        clock.now = date_time(recorded)
        assert system.handle(parsed({"type": "log_contact", "proposal": "2020-cppcc_proposal-1",
                                     "bureau": "sh-ipa", "stage": "before", "method": "phone",
                                     "at": at, "actor": clerk})).accepted
    assert system.settle(30)
    scope = Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 3, 1))
    assert system.reporting.report(scope, PROFILES["default"]).entries == Entries(
        records=2, late=1, imported=0, late_after_working_days=5)
    assert [r["entry"] for r in system.reporting.entries(scope)] == ["on_time", "late"]


def test_entries_over_http_for_whom_may_read_them(server, clock):
    lines = typed_in_late(MODEL_FILE.read_text(encoding="utf-8").splitlines())
    load_with_lags(server.system, clock, lines)
    params = {"bureau": "sh-ipa", "years": "2018-2020", "as_of": "2020-11-20"}
    clerk = server.client("clerk", "sh-ipa")
    report = expect(clerk.get("/api/report", params=params), 200)
    late = expect(clerk.get("/api/entries", params=params), 200)
    assert late["count"] == report["entries"]["late"] > 0
    assert {r["entry"] for r in late["items"]} == {"late"}
    assert {r["bureau"] for r in late["items"]} == {"sh-ipa"}
    every = expect(clerk.get("/api/entries", params={**params, "which": "all"}), 200)
    assert every["count"] == report["entries"]["records"]
    imported = expect(clerk.get("/api/entries", params={**params, "which": "imported"}), 200)
    assert imported["count"] == report["entries"]["imported"] > 0
    assert server.client("clerk", "sh-hrss").get("/api/entries", params=params).status_code == 403
    assert server.client("clerk", "sh-ipa").get(
        "/api/entries", params={**params, "which": "sideways"}).status_code == 422
    board = expect(server.client("overseer").get("/api/dashboard", params=params), 200)
    assert board["report"]["entries"] == report["entries"]


def parsed(data: dict):
    [(_, command)] = list(read_commands([json.dumps(data, ensure_ascii=False)]))
    return command


def date_time(text: str):
    from datetime import datetime
    return datetime.fromisoformat(text)
