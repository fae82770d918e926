"""Deadlines explained (assignment date, profile rule, extensions, calendar), and the duties
whose on-time status a change of profile or calendar would flip."""
from __future__ import annotations

from datetime import date

from banli.domain.timing.deadlines import DEFAULT_PROFILE, PROFILES
from banli.domain.views.explain import Duty, explain_proposal, flips
from banli.domain.timing.workdays import YearTable
from banli.workcalendar import china_calendar

from .scenario import (
    P, assign, bureaus, decide_disclosure, extend_deadline, given, record_feedback, reopen,
    reply, submit, submit_opinion,
)

CAL = china_calendar()
# The State Council extended the 2020 Spring Festival holiday on 27 January 2020 (31 Jan-2 Feb,
# for the epidemic): a calendar from before that notice had 31 January as a working day.
_2020 = CAL.years[2020]
BEFORE_THE_NOTICE = CAL.without(2020, YearTable(
    2020, _2020.holidays - {date(2020, 1, 31), date(2020, 2, 1), date(2020, 2, 2)},
    _2020.adjusted_workdays, source="before the notice of 27 Jan 2020"))


def test_an_assignments_deadlines_are_explained():
    scenario = given(*bureaus, submit(), assign(co=["sh-hrss"], at="2020-01-17"),
                     submit_opinion("sh-hrss", at="2020-02-14"),
                     extend_deadline("sh-ipa", "2020-06-30", at="2020-03-02"),
                     reply("sh-ipa", at="2020-06-10"),
                     decide_disclosure("sh-ipa", "summary", at="2020-07-01"))
    explained = explain_proposal(scenario.streams[P], DEFAULT_PROFILE, CAL, date(2020, 11, 20))
    assert explained["calendar"] == {"name": CAL.name, "years": [CAL.first_year, CAL.last_year]}
    lead, co = explained["assignments"]
    assert (lead["bureau"], lead["assigned_on"], lead["assigned_due"]) == (
        "sh-ipa", "2020-01-17", "2020-04-17")
    assert lead["rule"] == {"profile": "default", "months": 3, "due": "2020-04-17",
                            "text": "交办后 3 个月内答复",
                            "text_en": "reply within 3 months of the assignment"}
    assert lead["set_by"] == "profile"
    assert lead["extensions"] == [{"on": "2020-03-02", "reply_due": "2020-06-30",
                                   "reason": "需多部门协调"}]
    assert lead["due"] == "2020-06-30"
    assert lead["reply"] == {"first_reply_on": "2020-06-10", "status": "on_time"}
    # 10 working days over the Spring Festival of 2020
    assert lead["return_window"] == {"working_days": 10, "from": "2020-01-17",
                                     "due": "2020-02-07", "provisional": False}
    # 20 working days after 10 June 2020 (Dragon Boat Festival 25-27 June, 28 June worked)
    assert lead["disclosure"]["due"] == "2020-07-09"
    assert lead["disclosure"]["published_on"] == "2020-07-01"
    assert lead["disclosure"]["status"] == "on_time"
    assert co["opinion"] == {"first_opinion_on": "2020-02-14", "status": "on_time"}
    assert co["rule"]["text"] == "交办后 1 个月内提交会办意见" and co["due"] == "2020-02-17"


def test_a_date_the_coordinator_set_and_a_reopening_are_explained():
    scenario = given(*bureaus, submit(), assign(reply_due="2020-03-31", at="2020-01-17"),
                     reply("sh-ipa", at="2020-03-20"),
                     record_feedback("sh-ipa", "dissatisfied", at="2020-04-01"),
                     reopen("sh-ipa", reply_due="2020-05-31", reason="再办", at="2020-04-02"))
    [lead] = explain_proposal(scenario.streams[P], DEFAULT_PROFILE, CAL,
                              date(2020, 11, 20))["assignments"]
    assert (lead["set_by"], lead["assigned_due"]) == ("assignment", "2020-03-31")
    assert lead["reopened"] == [{"on": "2020-04-02", "reply_due": "2020-05-31",
                                 "reason": "再办"}]
    assert lead["reply"]["reopen_due"] == "2020-05-31"
    assert lead["disclosure"]["status"] == "overdue"  # never published, never decided


def test_a_deadline_the_calendar_cannot_count_is_shown_as_unknown_with_the_reason():
    last = CAL.last_year
    pid = f"{last}-cppcc_proposal-21001"
    scenario = given(*bureaus, submit(year=last), assign(pid, at=f"{last}-12-20"),
                     reply("sh-ipa", proposal=pid, at=f"{last}-12-28"))
    [lead] = explain_proposal(scenario.streams[pid], DEFAULT_PROFILE, CAL,
                              date(last, 12, 31))["assignments"]
    assert lead["return_window"]["due"] is None
    assert lead["return_window"]["calendar_gap"]["day"] == f"{last + 1}-01-01"
    assert lead["disclosure"]["due"] is None and lead["disclosure"]["status"] == "unknown"


def test_a_returned_and_reassigned_bureau_is_explained_from_its_new_assignment():
    scenario = given(*bureaus, submit(), assign(co=["sh-hrss"], at="2020-03-02"),
                     {"type": "return", "proposal": P, "bureau": "sh-hrss", "reason": "非本单位",
                      "at": "2020-03-04"},
                     {"type": "reassign", "proposal": P, "add_co": ["sh-hrss"],
                      "at": "2020-03-10"})
    explained = explain_proposal(scenario.streams[P], DEFAULT_PROFILE, CAL, date(2020, 3, 11))
    co = next(a for a in explained["assignments"] if a["bureau"] == "sh-hrss")
    assert (co["assigned_on"], co["due"], co["status"]) == ("2020-03-10", "2020-04-10", "active")


# --- flips -------------------------------------------------------------------------------------
def duties(scenario) -> list[Duty]:
    return [Duty.of(p, a) for p in (scenario.proposal(pid) for pid in scenario.streams
                                    if not pid.startswith("bureau:"))
            for a in p.assignments.values()]


def test_another_profile_flips_the_replies_its_deadline_would_change():
    scenario = given(*bureaus, submit(), submit("21002"), submit("11001", kind="npc_suggestion"),
                     assign(at="2020-01-17"),  # a CPPCC proposal: 3 months, or 5
                     assign("2020-cppcc_proposal-21002", at="2020-01-17",
                            reply_due="2020-04-30"),  # the coordinator's own date stays
                     assign("2020-npc_suggestion-11001", at="2020-01-17"),
                     reply("sh-ipa", at="2020-05-20"),
                     reply("sh-ipa", proposal="2020-cppcc_proposal-21002", at="2020-05-20"),
                     reply("sh-ipa", proposal="2020-npc_suggestion-11001", at="2020-05-20"))
    changed = flips(duties(scenario), DEFAULT_PROFILE, CAL, PROFILES["cppcc_5_months"], CAL,
                    date(2020, 11, 20))
    assert changed == [{"proposal_id": P, "bureau": "sh-ipa", "role": "lead", "what": "reply",
                        "before": "late", "after": "on_time", "due_before": "2020-04-17",
                        "due_after": "2020-06-17"}]
    assert flips(duties(scenario), DEFAULT_PROFILE, CAL, DEFAULT_PROFILE, CAL,
                 date(2020, 11, 20)) == []


def test_a_calendar_change_flips_the_publications_it_moves():
    # replied 2 Jan 2020: due for publication on 6 Feb with the extended holiday, 5 Feb before
    scenario = given(*bureaus, submit(at="2019-12-10"), assign(at="2019-12-20"),
                     reply("sh-ipa", at="2020-01-02"),
                     decide_disclosure("sh-ipa", "full", at="2020-02-06"))
    changed = flips(duties(scenario), DEFAULT_PROFILE, BEFORE_THE_NOTICE, DEFAULT_PROFILE, CAL,
                    date(2020, 11, 20))
    assert changed == [{"proposal_id": P, "bureau": "sh-ipa", "role": "lead",
                        "what": "disclosure", "before": "late", "after": "on_time",
                        "due_before": "2020-02-05", "due_after": "2020-02-06"}]


def test_a_withheld_reply_is_not_due_for_publication():
    scenario = given(*bureaus, submit(at="2019-12-10"), assign(at="2019-12-20"),
                     reply("sh-ipa", at="2020-01-02"),
                     decide_disclosure("sh-ipa", "withheld", at="2020-01-03"))
    [explained] = explain_proposal(scenario.streams[P], DEFAULT_PROFILE, CAL,
                                   date(2020, 11, 20))["assignments"]
    assert explained["disclosure"]["status"] == "not_due"
