"""Working days: China's calendar (the `chinese-calendar` package) in the rules that count
working days — the window to return an assignment and the deadline to publish a reply — around
the Spring Festival and National Day holidays and their adjusted working days (调休)."""
from __future__ import annotations

from datetime import date, timedelta

import chinese_calendar
import pytest

from banli.domain.deadlines import DEFAULT_PROFILE, Profile
from banli.domain.proposal import Context, decide
from banli.domain.workdays import (
    NO_CALENDAR, OutsideCalendar, TableCalendar, add_working_days, past_working_days,
)
from banli.workcalendar import china_calendar

from .scenario import (
    P, assign, bureaus, decide_disclosure, event, given, reply, return_, submit,
)

CAL = china_calendar()


def assigned_on(day: str, **more):
    return (*bureaus, submit(), assign(co=["sh-hrss"], at=day, **more))


# --- the calendar ----------------------------------------------------------------------------
def test_the_calendar_is_the_packages_day_for_day():
    day, last = date(CAL.first_year, 1, 1), date(CAL.last_year, 12, 31)
    while day <= last:
        assert CAL.is_working_day(day) == chinese_calendar.is_workday(day), day
        day += timedelta(days=1)
    assert CAL.name.startswith("chinese-calendar ")


def test_spring_festival_2020_is_off_and_the_sunday_before_it_is_worked():
    assert CAL.is_working_day(date(2020, 1, 19))  # a Sunday, worked in exchange (调休)
    assert not any(CAL.is_working_day(date(2020, 1, 24) + timedelta(days=k)) for k in range(10))
    assert CAL.is_working_day(date(2020, 2, 3))


def test_national_day_2020_is_off_and_two_weekend_days_are_worked():
    assert CAL.is_working_day(date(2020, 9, 27)) and CAL.is_working_day(date(2020, 10, 10))
    assert not any(CAL.is_working_day(date(2020, 10, 1) + timedelta(days=k)) for k in range(8))


@pytest.mark.parametrize("start, days, expected", [
    (date(2020, 1, 17), 10, date(2020, 2, 7)),    # through Spring Festival, 19 Jan worked
    (date(2020, 1, 23), 1, date(2020, 2, 3)),     # the eve: the next working day is 3 Feb
    (date(2024, 2, 8), 10, date(2024, 2, 28)),    # 2024: 18 Feb (a Sunday) worked
    (date(2020, 9, 25), 10, date(2020, 10, 15)),  # through National Day, 27 Sep and 10 Oct worked
    (date(2020, 9, 25), 20, date(2020, 10, 29)),
    (date(2020, 9, 30), 1, date(2020, 10, 9)),
    (date(2020, 3, 6), 0, date(2020, 3, 6)),
])
def test_working_days_are_counted_after_the_start(start, days, expected):
    assert add_working_days(CAL, start, days) == expected


def test_a_day_the_calendar_has_no_data_for_is_an_error_not_a_guess():
    with pytest.raises(OutsideCalendar) as raised:
        add_working_days(CAL, date(CAL.last_year, 12, 20), 20)
    assert raised.value.day == date(CAL.last_year + 1, 1, 1)
    with pytest.raises(OutsideCalendar):
        CAL.is_working_day(date(CAL.first_year - 1, 6, 1))
    with pytest.raises(OutsideCalendar):
        NO_CALENDAR.is_working_day(date(2020, 6, 1))


def test_past_working_days_asks_the_calendar_only_up_to_the_day():
    year_end = TableCalendar(name="2020 only", first_year=2020, last_year=2020)
    assert not past_working_days(year_end, date(2020, 12, 28), 10, date(2020, 12, 31))
    assert past_working_days(CAL, date(2020, 1, 17), 10, date(2020, 2, 8))
    assert not past_working_days(CAL, date(2020, 1, 17), 10, date(2020, 2, 7))
    assert past_working_days(CAL, date(2020, 3, 6), 0, date(2020, 3, 7))


# --- the return window -----------------------------------------------------------------------
def test_a_return_within_ten_working_days_over_spring_festival_is_taken():
    # 17 Jan 2020 + 10 working days is 7 Feb: counting weekdays alone would close it on 31 Jan
    given(*assigned_on("2020-01-17")).when(return_("sh-ipa", at="2020-02-07")).then_events(
        event("AssignmentReturned", bureau="sh-ipa"))


def test_a_return_after_ten_working_days_is_refused():
    rejection = given(*assigned_on("2020-01-17")).when(
        return_("sh-hrss", at="2020-02-08")).then_rejected(
        "return_window_closed", bureau="sh-hrss", days=10, assigned="2020-01-17",
        deadline="2020-02-07")
    assert "10 个工作日" in rejection.message and "2020-02-07" in rejection.message_en


def test_the_return_window_over_national_day_counts_the_adjusted_saturday():
    # 25 Sep 2020 + 10 working days is 15 Oct (27 Sep and 10 Oct worked, 1-8 Oct off)
    scenario = given(*assigned_on("2020-09-25"))
    scenario.when(return_("sh-hrss", at="2020-10-15")).then_events(
        event("AssignmentReturned", bureau="sh-hrss"))
    scenario.when(return_("sh-ipa", at="2020-10-16")).then_rejected(
        "return_window_closed", deadline="2020-10-15")


def test_a_profile_sets_the_return_window():
    five = Profile(name="five", return_working_days=5)
    given(*assigned_on("2020-09-25"), profile=five).when(
        return_("sh-ipa", at="2020-10-10")).then_rejected("return_window_closed",
                                                          deadline="2020-10-09")


def test_a_return_on_a_day_the_calendar_does_not_cover_is_refused_clearly():
    last = CAL.last_year
    pid = f"{last}-cppcc_proposal-21001"
    scenario = given(*bureaus, submit(year=last), assign(pid, at=f"{last}-12-20"))
    late = return_("sh-ipa", proposal=pid, at=f"{last + 1}-01-04")
    rejection = scenario.when(late).then_rejected(
        "calendar_not_covered", day=f"{last + 1}-01-01", first=CAL.first_year, last=last)
    assert CAL.name in rejection.message_en


def test_without_a_calendar_the_kernel_refuses_rather_than_counting_weekdays():
    scenario = given(*assigned_on("2020-03-02"))
    command = scenario.command(return_("sh-ipa", at="2020-03-03"))
    outcome = decide(scenario.state(P), command, Context(recorded_at=command.at,
                                                         directory=scenario.directory))
    assert outcome.code == "calendar_not_covered" and outcome.details["calendar"] == "none"


# --- the disclosure deadline ------------------------------------------------------------------
def test_a_reply_is_due_for_publication_twenty_working_days_after_it():
    assert DEFAULT_PROFILE.disclosure_due(CAL, date(2020, 9, 25)) == date(2020, 10, 29)
    assert DEFAULT_PROFILE.disclosure_due(CAL, date(2020, 1, 17)) == date(2020, 2, 21)


def test_the_state_knows_when_the_latest_reply_was_published():
    scenario = given(*assigned_on("2020-08-03"), reply("sh-ipa", at="2020-09-25"),
                     decide_disclosure("sh-ipa", "withheld", at="2020-10-09"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.last_reply_on, duty.published_on) == (date(2020, 9, 25), None)
    scenario.given(decide_disclosure("sh-ipa", "summary", at="2020-10-20"),
                   decide_disclosure("sh-ipa", "full", at="2020-11-02"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert duty.published_on == date(2020, 10, 20)  # on time: due 29 Oct
