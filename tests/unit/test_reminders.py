"""Reminders: yellow when a reply, an opinion, a return decision or a publication is due in 10
days or fewer, red once it is overdue; each with a key that changes only with the deadline."""
from __future__ import annotations

from datetime import date

from banli.domain.timing.deadlines import DEFAULT_PROFILE
from banli.domain.views.explain import Duty
from banli.domain.views.reminders import reminders
from banli.workcalendar import china_calendar

from .scenario import (
    P, acknowledge, assign, bureaus, decide_disclosure, extend_deadline, given, record_feedback,
    reopen, reply, submit, submit_opinion,
)

CAL = china_calendar()
ASSIGNED = (*bureaus, submit(), assign(co=["sh-hrss"], at="2020-03-02"))


def due_on(scenario, today: str) -> set[tuple[str, str, str, str]]:
    duties = [Duty.of(p, a) for p in (scenario.proposal(),) for a in p.active_duties()]
    return {(r.bureau, r.owed, r.colour, r.due.isoformat())
            for r in reminders(duties, DEFAULT_PROFILE, CAL, date.fromisoformat(today))}


def test_the_return_window_is_yellow_until_it_closes_and_red_after_unless_signed_for():
    scenario = given(*ASSIGNED)
    # 10 working days after 2 March 2020: 16 March, yellow from 10 days before
    assert due_on(scenario, "2020-03-05") == set()
    assert due_on(scenario, "2020-03-06") == {("sh-ipa", "return", "yellow", "2020-03-16"),
                                              ("sh-hrss", "return", "yellow", "2020-03-16")}
    scenario.given(acknowledge("sh-ipa", at="2020-03-07"))
    assert due_on(scenario, "2020-03-17") == {("sh-hrss", "return", "red", "2020-03-16")}


def test_opinions_and_replies_turn_yellow_ten_days_before_and_red_after():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), acknowledge("sh-hrss"))
    assert due_on(scenario, "2020-03-22") == set()  # opinion due 2 April: 11 days
    assert due_on(scenario, "2020-03-23") == {("sh-hrss", "opinion", "yellow", "2020-04-02")}
    assert due_on(scenario, "2020-04-03") == {("sh-hrss", "opinion", "red", "2020-04-02")}
    scenario.given(submit_opinion("sh-hrss", at="2020-04-03"))
    assert due_on(scenario, "2020-05-23") == {("sh-ipa", "reply", "yellow", "2020-06-02")}
    assert due_on(scenario, "2020-06-02") == {("sh-ipa", "reply", "yellow", "2020-06-02")}
    assert due_on(scenario, "2020-06-03") == {("sh-ipa", "reply", "red", "2020-06-02")}


def test_an_extension_moves_the_reply_reminder_to_a_new_key():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), submit_opinion("sh-hrss"),
                     extend_deadline("sh-ipa", "2020-07-31", at="2020-05-20"))
    assert due_on(scenario, "2020-06-03") == set()
    duties = [Duty.of(scenario.proposal(), scenario.proposal().assignments["sh-ipa"])]
    [found] = reminders(duties, DEFAULT_PROFILE, CAL, date(2020, 7, 25))
    assert found.key == f"{P}/sh-ipa/reply/yellow/2020-07-31" and found.days_left == 6
    assert "2020-07-31" in found.message and "6" in found.message_en


def test_a_reply_is_to_be_published_within_twenty_working_days():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), submit_opinion("sh-hrss"),
                     reply("sh-ipa", at="2020-05-20"))
    assert due_on(scenario, "2020-06-07") == {("sh-ipa", "disclosure", "yellow", "2020-06-17")}
    assert due_on(scenario, "2020-06-18") == {("sh-ipa", "disclosure", "red", "2020-06-17")}
    withheld = given(*ASSIGNED, acknowledge("sh-ipa"), submit_opinion("sh-hrss"),
                     reply("sh-ipa", at="2020-05-20"), decide_disclosure("sh-ipa", "withheld"))
    assert due_on(withheld, "2020-06-18") == set()
    scenario.given(decide_disclosure("sh-ipa", "full", at="2020-06-19"))
    assert due_on(scenario, "2020-06-20") == set()


def test_a_reopened_reply_is_reminded_by_its_new_deadline():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), submit_opinion("sh-hrss"),
                     reply("sh-ipa", at="2020-05-20"),
                     decide_disclosure("sh-ipa", "full", at="2020-05-21"),
                     record_feedback("sh-ipa", "dissatisfied", at="2020-06-01"),
                     reopen("sh-ipa", reply_due="2020-07-01", at="2020-06-02"))
    assert due_on(scenario, "2020-06-25") == {("sh-ipa", "reply", "yellow", "2020-07-01")}


def test_a_working_day_deadline_the_calendar_cannot_count_is_left_out():
    last = CAL.last_year
    pid = f"{last}-cppcc_proposal-21001"
    scenario = given(*bureaus, submit(year=last), assign(pid, at=f"{last}-12-28",
                                                         reply_due=f"{last}-12-31"))
    duties = [Duty.of(scenario.proposal(pid), a)
              for a in scenario.proposal(pid).active_duties()]
    found = reminders(duties, DEFAULT_PROFILE, CAL, date(last, 12, 29))
    assert [(r.owed, r.colour) for r in found] == [("reply", "yellow")]
