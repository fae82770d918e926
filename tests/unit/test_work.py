"""A bureau's work (待办, banli.domain.views.work): given what happened, on a given day, then these
items, each with its clock."""
from __future__ import annotations

from datetime import date

from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.work import OWED, WorkDuty, counts, work
from banli.workcalendar import china_calendar

from .scenario import (COORDINATOR, P, Q, acknowledge, assign, bureaus, clerk, decide_disclosure,
                       given, log_contact, record_feedback, reopen, reply, request_extension,
                       submit, submit_opinion)

ASSIGNED = (*bureaus, submit(), assign(co=["sh-hrss"], at="2020-02-20"))  # lead due 2020-05-20
REVIEWED = PROFILES["reviewed"]


def work_of(scenario, bureau: str, today: str, profile=PROFILES["default"]) -> list[dict]:
    duties = [WorkDuty.of(p, a) for p in scenario.states.values() if hasattr(p, "assignments")
              for a in p.active_duties() if a.bureau == bureau and p.status == "open"]
    return work(duties, profile, china_calendar(), date.fromisoformat(today))


def owed(items: list[dict]) -> list[tuple[str, str | None]]:
    return [(i["owed"], i["due"]) for i in items]


def test_a_new_assignment_is_to_sign_for_contact_and_reply_each_by_its_date():
    items = work_of(given(*ASSIGNED), "sh-ipa", "2020-02-24")
    # the return window: 10 working days after 20 February; the reply: three months
    assert owed(items) == [("acknowledge", "2020-03-05"), ("contact", "2020-05-20"),
                           ("reply", "2020-05-20")]
    sign = items[0]
    assert sign["commands"] == ["acknowledge", "return"]
    assert (sign["days_left"], sign["working_days_left"], sign["colour"]) == (10, 8, "yellow")
    assert items[2]["commands"] == ["reply"] and items[2]["colour"] is None
    assert items[2]["display"] == "市政协提案 21001" and items[2]["role"] == "lead"
    co = work_of(given(*ASSIGNED), "sh-hrss", "2020-02-24")
    assert owed(co) == [("acknowledge", "2020-03-05"), ("opinion", "2020-03-20")]


def test_once_the_return_window_has_closed_it_is_only_to_sign_for_and_red():
    [sign, *_] = work_of(given(*ASSIGNED), "sh-ipa", "2020-03-09")
    assert (sign["owed"], sign["commands"], sign["colour"]) == ("acknowledge", ["acknowledge"],
                                                                "red")
    assert (sign["days_left"], sign["working_days_left"]) == (-4, -2)  # Fri 6, Mon 9 March


def test_signed_for_and_contacted_it_is_the_reply_alone():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), log_contact("sh-ipa"))
    assert owed(work_of(scenario, "sh-ipa", "2020-05-15")) == [("reply", "2020-05-20")]
    [late] = work_of(scenario, "sh-ipa", "2020-05-21")
    assert (late["colour"], late["days_left"]) == ("red", -1)


def test_replied_it_is_the_disclosure_by_its_deadline_and_the_feedback():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), reply("sh-ipa", at="2020-04-10"))
    # 20 working days after 10 April: 1-5 May off, 26 April and 9 May worked
    assert owed(work_of(scenario, "sh-ipa", "2020-04-13")) == [
        ("disclose", "2020-05-11"), ("feedback", None)]
    done = given(*ASSIGNED, acknowledge("sh-ipa"), reply("sh-ipa", at="2020-04-10"),
                 decide_disclosure("sh-ipa", "withheld"), record_feedback("sh-ipa"))
    assert work_of(done, "sh-ipa", "2020-06-01") == []  # withheld: nothing to publish


def test_dissatisfied_it_is_to_reopen_then_to_reply_again_by_the_new_date():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), reply("sh-ipa", at="2020-04-10"),
                     decide_disclosure("sh-ipa", "full"),
                     record_feedback("sh-ipa", "dissatisfied", at="2020-04-20"))
    [again] = work_of(scenario, "sh-ipa", "2020-04-21")
    assert (again["owed"], again["due"], again["commands"]) == ("rehandle", None, ["reopen"])
    scenario.given(reopen("sh-ipa", reply_due="2020-05-31", at="2020-04-22"))
    [again] = work_of(scenario, "sh-ipa", "2020-04-22")
    assert (again["owed"], again["due"], again["commands"]) == ("rehandle", "2020-05-31",
                                                               ["reply"])


def test_a_co_handler_owes_its_opinion_until_it_is_in():
    scenario = given(*ASSIGNED, acknowledge("sh-hrss"), submit_opinion("sh-hrss"))
    assert work_of(scenario, "sh-hrss", "2020-03-01") == []


def test_under_review_the_lead_drafts_the_co_handlers_sign_off_then_the_lead_approves():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), log_contact("sh-ipa"),
                     acknowledge("sh-hrss"), submit_opinion("sh-hrss"), profile=REVIEWED)
    assert owed(work_of(scenario, "sh-ipa", "2020-04-01", REVIEWED)) == [("draft", "2020-05-20")]
    assert work_of(scenario, "sh-hrss", "2020-04-01", REVIEWED) == []
    scenario.given({"type": "draft_reply", "proposal": P, "bureau": "sh-ipa",
                    "result": "solved"})
    [approve] = work_of(scenario, "sh-ipa", "2020-04-01", REVIEWED)
    assert (approve["owed"], approve["waiting_for"]) == ("approve", ["sh-hrss"])
    assert approve["commands"] == ["approve_reply", "draft_reply"]
    [sign] = work_of(scenario, "sh-hrss", "2020-04-01", REVIEWED)
    assert (sign["owed"], sign["due"], sign["lead"]) == ("sign_off", "2020-05-20", "sh-ipa")
    scenario.given({"type": "sign_off_reply", "proposal": P, "bureau": "sh-hrss",
                    "lead": "sh-ipa"})
    assert work_of(scenario, "sh-hrss", "2020-04-01", REVIEWED) == []
    [approve] = work_of(scenario, "sh-ipa", "2020-04-01", REVIEWED)
    assert approve["waiting_for"] == []


def test_a_pending_extension_request_shows_on_the_reply():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), log_contact("sh-ipa"),
                     request_extension("sh-ipa", "2020-07-20", actor=clerk("sh-ipa")))
    [item] = work_of(scenario, "sh-ipa", "2020-05-01")
    assert (item["owed"], item["due"], item["extension_requested"]) == (
        "reply", "2020-05-20", "2020-07-20")
    scenario.given({"type": "extend_deadline", "proposal": P, "bureau": "sh-ipa",
                    "reply_due": "2020-07-20", "reason": "同意", "actor": COORDINATOR})
    [item] = work_of(scenario, "sh-ipa", "2020-05-01")
    assert item["due"] == "2020-07-20" and "extension_requested" not in item


def test_items_are_sorted_by_due_date_those_without_one_last_and_counted():
    scenario = given(*ASSIGNED, acknowledge("sh-ipa"), log_contact("sh-ipa"),
                     reply("sh-ipa", at="2020-04-10"), decide_disclosure("sh-ipa", "full"),
                     submit("21002"), assign(Q, lead=["sh-ipa"], at="2020-04-20"))
    items = work_of(scenario, "sh-ipa", "2020-04-21")
    assert [(i["proposal_id"], i["owed"]) for i in items] == [
        (Q, "acknowledge"), (Q, "contact"), (Q, "reply"), (P, "feedback")]
    # Q's return window: 10 working days after 20 April (26 April worked, 1-5 May off)
    assert [i["due"] for i in items] == ["2020-05-06", "2020-07-20", "2020-07-20", None]
    found = counts(items)
    assert list(found) == list(OWED)
    assert (found["reply"], found["feedback"], found["opinion"]) == (1, 1, 0)


def test_a_clock_over_a_year_without_its_notice_is_provisional():
    scenario = given(*bureaus, submit(year=2027),
                     assign("2027-cppcc_proposal-21001", lead=["sh-ipa"], at="2027-03-01"))
    [sign, _, reply_] = work_of(scenario, "sh-ipa", "2027-03-01")
    assert sign["provisional"] and reply_["provisional"]
    assert not work_of(given(*ASSIGNED), "sh-ipa", "2020-02-24")[0]["provisional"]


def test_the_working_days_left_skip_the_spring_festival():
    scenario = given(*bureaus, submit(), assign(lead=["sh-ipa"], at="2020-01-17"))
    [sign, *_] = work_of(scenario, "sh-ipa", "2020-01-17")
    # 17 January + 10 working days is 7 February (24 January to 2 February off)
    assert (sign["due"], sign["working_days_left"], sign["days_left"]) == ("2020-02-07", 10, 21)
