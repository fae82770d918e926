"""The workbench's new rules (issue 21): a lead bureau asks for an extension, the coordinator
approves it (`extend_deadline`) or denies it; the coordinator marks key items (重点督办件).
Given what happened, when a command comes, then these events or this refusal."""
from __future__ import annotations

from datetime import date

from .scenario import (COORDINATOR, OVERSEER, P, assign, bureaus, clerk, deny_extension, event,
                       extend_deadline, given, mark_key_item, reply, request_extension, submit,
                       withdraw)

ASSIGNED = (*bureaus, submit(), assign(co=["sh-hrss"], at="2020-02-20"))  # lead due 2020-05-20
REQUESTED = (*ASSIGNED, request_extension("sh-ipa", "2020-07-20", at="2020-05-01",
                                          actor=clerk("sh-ipa")))


# --- request_extension ------------------------------------------------------------------------
def test_a_lead_clerk_asks_for_a_later_reply_date_and_it_is_pending():
    then = given(*ASSIGNED).when(request_extension("sh-ipa", "2020-07-20", reason="需调研",
                                                   at="2020-05-01", actor=clerk("sh-ipa")))
    then.then_events(event("ExtensionRequested", bureau="sh-ipa", reply_due="2020-07-20",
                           reason="需调研"))
    duty = then.scenario.proposal().duty("sh-ipa")
    assert duty.due == date(2020, 5, 20)  # the deadline moves only when approved
    assert duty.extension_request is not None
    assert (duty.extension_request.reply_due, duty.extension_request.requested_on) == (
        date(2020, 7, 20), date(2020, 5, 1))


def test_a_request_follows_the_rules_of_an_extension():
    given(*ASSIGNED).when(request_extension("sh-ipa", "2020-05-20")).then_rejected(
        "extension_not_later", reply_due="2020-05-20", current="2020-05-20")
    given(*ASSIGNED).when(request_extension("sh-ipa", "2020-08-21")).then_rejected(
        "extension_too_long", limit="2020-08-20")
    given(*ASSIGNED).when(request_extension("sh-hrss", "2020-07-20")).then_rejected(
        "not_lead", proposal=P)
    given(*ASSIGNED, reply("sh-ipa")).when(request_extension("sh-ipa", "2020-07-20")
                                           ).then_rejected("already_replied", bureau="sh-ipa")


def test_a_clerk_asks_for_its_own_bureau_only_and_a_coordinator_does_not_ask():
    given(*ASSIGNED).when(request_extension("sh-ipa", "2020-07-20", actor=clerk("sh-hrss"))
                          ).then_rejected("wrong_bureau", own="sh-hrss", bureau="sh-ipa")
    given(*ASSIGNED).when(request_extension("sh-ipa", "2020-07-20", actor=COORDINATOR)
                          ).then_rejected("forbidden", role="coordinator")


def test_a_new_request_replaces_the_pending_one():
    scenario = given(*REQUESTED, request_extension("sh-ipa", "2020-06-30", reason="改为六月底",
                                                   actor=clerk("sh-ipa")))
    request = scenario.proposal().duty("sh-ipa").extension_request
    assert request is not None and (request.reply_due, request.reason) == (
        date(2020, 6, 30), "改为六月底")


def test_a_request_and_its_denial_follow_the_duty_they_are_on():
    given(*ASSIGNED).when(request_extension("sh-ipa", "2020-07-20", at="2020-02-19")
                          ).then_rejected("out_of_order", bureau="sh-ipa")
    given(*REQUESTED).when(deny_extension("sh-ipa", at="2020-04-30")).then_rejected(
        "out_of_order", bureau="sh-ipa")


# --- deny_extension and extend_deadline (the approval) ------------------------------------------
def test_the_coordinator_denies_the_pending_request_and_the_date_stays():
    then = given(*REQUESTED).when(deny_extension("sh-ipa", reason="请按期答复",
                                                 actor=COORDINATOR, at="2020-05-06"))
    then.then_events(event("ExtensionDenied", bureau="sh-ipa", reply_due="2020-07-20",
                           reason="请按期答复"))
    duty = then.scenario.proposal().duty("sh-ipa")
    assert duty.extension_request is None and duty.due == date(2020, 5, 20)
    then.scenario.when(deny_extension("sh-ipa", actor=COORDINATOR)).then_rejected(
        "no_extension_request", bureau="sh-ipa")


def test_there_is_nothing_to_deny_without_a_request():
    given(*ASSIGNED).when(deny_extension("sh-ipa", actor=COORDINATOR)).then_rejected(
        "no_extension_request", bureau="sh-ipa")
    given(*ASSIGNED).when(deny_extension("sh-stcsm", actor=COORDINATOR)).then_rejected(
        "not_assigned", bureau="sh-stcsm")


def test_only_the_coordinator_denies():
    given(*REQUESTED).when(deny_extension("sh-ipa", actor=clerk("sh-ipa"))).then_rejected(
        "forbidden", role="clerk")
    given(*REQUESTED).when(deny_extension("sh-ipa", actor=OVERSEER)).then_rejected(
        "forbidden", role="overseer")


def test_the_approval_settles_the_request_whatever_date_it_gives():
    then = given(*REQUESTED).when(extend_deadline("sh-ipa", "2020-06-30", actor=COORDINATOR,
                                                  at="2020-05-06"))
    then.then_events(event("DeadlineExtended", bureau="sh-ipa", reply_due="2020-06-30"))
    duty = then.scenario.proposal().duty("sh-ipa")
    assert (duty.due, duty.extension_request) == (date(2020, 6, 30), None)


def test_a_reply_settles_the_request():
    scenario = given(*REQUESTED, reply("sh-ipa", at="2020-05-10", actor=clerk("sh-ipa")))
    assert scenario.proposal().duty("sh-ipa").extension_request is None
    scenario.when(deny_extension("sh-ipa", actor=COORDINATOR)).then_rejected(
        "no_extension_request")


# --- mark_key_item ------------------------------------------------------------------------------
def test_the_coordinator_marks_and_unmarks_a_key_item():
    then = given(*ASSIGNED).when(mark_key_item(reason="市领导关注", actor=COORDINATOR))
    then.then_events(event("KeyItemMarked", key=True, reason="市领导关注"))
    assert then.scenario.proposal().key_item
    again = then.scenario.when(mark_key_item(key=False, reason="已办结", actor=COORDINATOR))
    again.then_events(event("KeyItemMarked", key=False))
    assert not again.scenario.proposal().key_item


def test_a_mark_that_changes_nothing_is_refused():
    rejection = given(*bureaus, submit(key_item=True)).when(mark_key_item()).then_rejected(
        "key_item_unchanged", proposal=P)
    assert rejection.message == "建议提案 市政协提案 21001 已是重点督办件"
    given(*ASSIGNED).when(mark_key_item(key=False)).then_rejected("key_item_unchanged")


def test_only_the_coordinator_marks_key_items():
    given(*ASSIGNED).when(mark_key_item(actor=clerk("sh-ipa"))).then_rejected(
        "forbidden", role="clerk")
    given(*ASSIGNED).when(mark_key_item(actor=OVERSEER)).then_rejected(
        "forbidden", role="overseer")


def test_a_mark_is_one_of_the_proposals_own_records():
    given(*ASSIGNED).when(mark_key_item(at="2020-02-19")).then_rejected(
        "out_of_order", what_en="the proposal's last assignment, reassignment or supervision")
    given(*ASSIGNED, withdraw(at="2020-03-01")).when(mark_key_item()).then_rejected(
        "closed", proposal=P)
