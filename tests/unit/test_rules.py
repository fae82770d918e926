"""The rules of the Proposal aggregate, one at a time: given what happened, when a command comes,
then these events (or this rejection)."""
from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError

from banli.domain.registry import REGISTRY, parse_command
from banli.domain import commands as c
from banli.domain.timing.deadlines import PROFILES, add_months
from banli.domain.decide import decide
from banli.domain.envelope import EVENT_ID_NAMESPACE
from banli.domain.proposal import Context, Proposal, fold
from banli.domain.views.rates import Scope, compute_report
from banli.domain.rejections import ADAPTER_CODES, MESSAGES, Rejection
from banli.domain.types import SHANGHAI, Actor

from .scenario import (
    ADMIN, COORDINATOR, IMPORTER, OVERSEER, P, Q, acknowledge, assign, bureaus, clerk,
    decide_disclosure, event, extend_deadline, given, log_contact, merge, reassign,
    record_feedback, register_bureau, reopen, reply, return_, revise_result, submit,
    submit_opinion, supervise, withdraw,
)

SUBMITTED = (*bureaus, submit())
ASSIGNED = (*SUBMITTED, assign(co=["sh-hrss"], at="2020-02-20"))  # lead sh-ipa, co sh-hrss
REPLIED = (*ASSIGNED, reply("sh-ipa", at="2020-04-10"))

EVENT_OF = {  # the event each command gives when accepted (the registry's declaration)
    spec.type: spec.events[0].model_fields["type"].default for spec in REGISTRY}


# --- bureaus ------------------------------------------------------------------------------
def test_a_bureau_is_registered_on_its_own_stream():
    then = given().when(register_bureau("sh-ipa", "上海市知识产权局",
                                        name_en="Shanghai Intellectual Property Administration"))
    [registered] = then.then_events(event("BureauRegistered", bureau="sh-ipa",
                                          name="上海市知识产权局"))
    assert registered.proposal_id == c.bureau_stream("sh-ipa") == "bureau:sh-ipa"
    assert registered.seq == 1


def test_a_bureau_is_registered_once():
    given(register_bureau("sh-ipa")).when(register_bureau("sh-ipa")).then_rejected(
        "duplicate_bureau", bureau="sh-ipa")


# --- submit -------------------------------------------------------------------------------
def test_submit_records_the_proposal_under_its_derived_id():
    then = given().when(submit(key_item=True, summary="摘要"))
    [submitted] = then.then_events(event(
        "ProposalSubmitted", kind="cppcc_proposal", level="municipal", year=2020,
        number="21001", filers=["张伟"], affiliation="无党派人士界别", topics=["运营交易"],
        summary="摘要", key_item=True))
    assert submitted.proposal_id == P == "2020-cppcc_proposal-21001"
    assert submitted.seq == 1


def test_a_non_municipal_id_is_prefixed_by_its_level_and_a_given_id_is_kept():
    scenario = given(submit("11001", kind="npc_suggestion", level="district"),
                     submit("11001", kind="npc_suggestion", proposal="sh-2020-A7"))
    assert set(scenario.streams) == {"district-2020-npc_suggestion-11001", "sh-2020-A7"}


def test_a_proposal_id_is_submitted_once():
    given(submit()).when(submit(title="同一编号再次录入")).then_rejected(
        "duplicate_proposal", proposal=P)


def test_level_kind_year_and_number_are_submitted_once_whatever_the_id():
    given(submit()).when(submit(proposal="another-id")).then_rejected(
        "duplicate_number", key="municipal/cppcc_proposal/2020/21001", existing=P)


def test_the_same_number_at_another_level_or_kind_or_year_is_another_proposal():
    given(submit()).when(submit(level="provincial")).then_events(event("ProposalSubmitted"))
    given(submit()).when(submit(kind="npc_suggestion")).then_events(event("ProposalSubmitted"))
    given(submit()).when(submit(year=2021)).then_events(event("ProposalSubmitted"))


def test_a_proposal_id_cannot_take_a_bureau_stream():
    with pytest.raises(ValidationError):
        parse_command({**submit(proposal="bureau:sh-ipa"), "at": "2020-01-15T10:00:00+08:00"})


# --- assign -------------------------------------------------------------------------------
def test_assign_fixes_each_duty_and_its_deadline():
    then = given(*SUBMITTED).when(assign(lead=["sh-ipa"], co=["sh-hrss", "sh-stcsm"],
                                         at="2020-02-20"))
    then.then_events(event("ProposalAssigned", duties=[
        {"bureau": "sh-ipa", "role": "lead", "due": "2020-05-20"},
        {"bureau": "sh-hrss", "role": "co", "due": "2020-03-20"},
        {"bureau": "sh-stcsm", "role": "co", "due": "2020-03-20"},
    ]))
    duty = then.scenario.proposal().duty("sh-ipa")
    assert (duty.role, duty.assigned_on, duty.due, duty.awaiting_reply) == (
        "lead", date(2020, 2, 20), date(2020, 5, 20), True)


def test_split_handling_gives_each_lead_its_own_duty_and_reply():
    scenario = given(*SUBMITTED, assign(lead=["sh-ipa", "sh-jrj"], at="2020-02-20"),
                     reply("sh-ipa", result="solved"))
    scenario.when(reply("sh-jrj", result="planned")).then_events(
        event("ReplyIssued", bureau="sh-jrj", result="planned"))
    p = scenario.proposal()
    assert [(a.bureau, a.role, a.replies, a.result) for a in p.active_duties()] == [
        ("sh-ipa", "lead", 1, "solved"), ("sh-jrj", "lead", 1, "planned")]


def test_the_coordinator_may_set_the_deadlines_itself():
    given(*SUBMITTED).when(assign(co=["sh-hrss"], reply_due="2020-04-30",
                                  opinion_due="2020-03-05", at="2020-02-20")).then_events(
        event("ProposalAssigned", duties=[
            {"bureau": "sh-ipa", "role": "lead", "due": "2020-04-30"},
            {"bureau": "sh-hrss", "role": "co", "due": "2020-03-05"}]))


def test_a_deadline_may_not_come_before_the_assignment():
    given(*SUBMITTED).when(assign(reply_due="2020-02-19", at="2020-02-20")).then_rejected(
        "due_before_assignment", due="2020-02-19", assigned="2020-02-20")


def test_only_registered_bureaus_are_assigned():
    given(*SUBMITTED).when(assign(lead=["sh-nosuch"])).then_rejected(
        "unknown_bureau", bureau="sh-nosuch")
    given(*SUBMITTED).when(assign(co=["sh-nosuch"])).then_rejected("unknown_bureau")


def test_an_assignment_needs_a_lead():
    given(*SUBMITTED).when(assign(lead=[], co=["sh-hrss"])).then_rejected("no_lead")


def test_a_bureau_holds_one_role_on_a_proposal():
    given(*SUBMITTED).when(assign(lead=["sh-ipa"], co=["sh-ipa"])).then_rejected(
        "duplicate_role", bureau="sh-ipa")
    given(*SUBMITTED).when(assign(lead=["sh-ipa", "sh-ipa"])).then_rejected("duplicate_role")


def test_a_proposal_is_assigned_once_and_changed_by_reassign():
    given(*ASSIGNED).when(assign(lead=["sh-jrj"])).then_rejected("already_assigned", proposal=P)


def test_commands_on_a_proposal_never_submitted_are_refused():
    given(*bureaus).when(assign()).then_rejected("unknown_proposal", proposal=P)
    given(*bureaus).when(reply("sh-ipa")).then_rejected("unknown_proposal")


# --- deadlines from profiles ---------------------------------------------------------------
@pytest.mark.parametrize("assigned, reply_due, opinion_due", [
    ("2020-02-20", "2020-05-20", "2020-03-20"),
    ("2020-11-30", "2021-02-28", "2020-12-30"),  # month-end: no 30 February
    ("2019-11-30", "2020-02-29", "2019-12-30"),  # leap year
    ("2020-01-31", "2020-04-30", "2020-02-29"),
    ("2020-12-31", "2021-03-31", "2021-01-31"),  # across the year
])
def test_default_deadlines_are_three_months_to_reply_and_one_to_send_an_opinion(
        assigned, reply_due, opinion_due):
    given(*bureaus, submit(at="2019-01-15")).when(
        assign(co=["sh-hrss"], at=assigned)).then_events(event("ProposalAssigned", duties=[
            {"bureau": "sh-ipa", "role": "lead", "due": reply_due},
            {"bureau": "sh-hrss", "role": "co", "due": opinion_due}]))


def test_add_months_clamps_to_the_end_of_the_month():
    assert add_months(date(2020, 11, 30), 3) == date(2021, 2, 28)
    assert add_months(date(2020, 8, 31), 6) == date(2021, 2, 28)
    assert add_months(date(2020, 3, 31), 1) == date(2020, 4, 30)


def test_the_cppcc_5_months_profile_gives_plenary_proposals_five_months():
    profile = PROFILES["cppcc_5_months"]
    cppcc = given(*SUBMITTED, profile=profile).when(assign(co=["sh-hrss"], at="2020-02-20"))
    cppcc.then_events(event("ProposalAssigned", duties=[
        {"bureau": "sh-ipa", "role": "lead", "due": "2020-07-20"},
        {"bureau": "sh-hrss", "role": "co", "due": "2020-03-20"}]))
    npc = given(*bureaus, submit("11001", kind="npc_suggestion"), profile=profile).when(
        assign(proposal="2020-npc_suggestion-11001", at="2020-02-20"))
    npc.then_events(event("ProposalAssigned", duties=[
        {"bureau": "sh-ipa", "role": "lead", "due": "2020-05-20"}]))


def test_the_adopt_planned_profile_counts_planned_replies_as_adopted():
    scenario = given(*bureaus, submit("21001"), submit("21002"),
                     assign(P, at="2020-02-20"), assign(Q, at="2020-02-20"),
                     reply("sh-ipa", proposal=P, result="solved"),
                     reply("sh-ipa", proposal=Q, result="planned"))
    proposals = [scenario.proposal(P), scenario.proposal(Q)]
    scope = Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20))
    assert compute_report(proposals, scope, PROFILES["default"]).rates["adoption"] == 0.5
    assert compute_report(proposals, scope, PROFILES["adopt_planned"]).rates["adoption"] == 1.0


# --- acknowledge, return, reassign ---------------------------------------------------------
def test_a_bureau_acknowledges_its_assignment_once():
    scenario = given(*ASSIGNED)
    scenario.when(acknowledge("sh-hrss")).then_events(
        event("AssignmentAcknowledged", bureau="sh-hrss"))
    assert scenario.proposal().duty("sh-hrss").acknowledged
    scenario.when(acknowledge("sh-hrss")).then_rejected("already_acknowledged", bureau="sh-hrss")


def test_only_an_assigned_bureau_acts_on_a_proposal():
    for command in (acknowledge("sh-jrj"), log_contact("sh-jrj"), reply("sh-jrj"),
                    submit_opinion("sh-jrj"), return_("sh-jrj")):
        given(*ASSIGNED).when(command).then_rejected("not_assigned", bureau="sh-jrj", proposal=P)


def test_a_returned_assignment_is_over_and_the_coordinator_reassigns():
    scenario = given(*ASSIGNED)
    scenario.when(return_("sh-ipa", reason="不属于本单位职责")).then_events(
        event("AssignmentReturned", bureau="sh-ipa", reason="不属于本单位职责"))
    assert scenario.proposal().duty("sh-ipa") is None
    assert scenario.proposal().assignments["sh-ipa"].status == "returned"
    scenario.when(reply("sh-ipa")).then_rejected("not_assigned")
    scenario.when(reassign(add_lead=["sh-jrj"], at="2020-03-02")).then_events(
        event("ProposalReassigned", added=[{"bureau": "sh-jrj", "role": "lead",
                                            "due": "2020-06-02"}], removed=[]))
    scenario.when(reply("sh-jrj")).then_events(event("ReplyIssued", bureau="sh-jrj"))


def test_a_returned_bureau_may_be_assigned_again():
    given(*ASSIGNED, return_("sh-hrss")).when(reassign(add_co=["sh-hrss"])).then_events(
        event("ProposalReassigned"))


def test_a_bureau_that_replied_or_sent_its_opinion_cannot_return_it():
    given(*REPLIED).when(return_("sh-ipa")).then_rejected(
        "cannot_return_after_reply", bureau="sh-ipa")
    given(*ASSIGNED, submit_opinion("sh-hrss")).when(return_("sh-hrss")).then_rejected(
        "cannot_return_after_reply", bureau="sh-hrss")


def test_reassign_removes_and_adds_duties():
    scenario = given(*ASSIGNED)
    scenario.when(reassign(remove=["sh-hrss"], add_co=["sh-stcsm"], at="2020-03-01"))\
        .then_events(event("ProposalReassigned", removed=["sh-hrss"], added=[
            {"bureau": "sh-stcsm", "role": "co", "due": "2020-04-01"}]))
    p = scenario.proposal()
    assert p.assignments["sh-hrss"].status == "removed"
    assert [a.bureau for a in p.active_duties()] == ["sh-ipa", "sh-stcsm"]
    scenario.when(submit_opinion("sh-hrss")).then_rejected("not_assigned")


def test_reassign_removes_only_active_duties_that_have_not_replied():
    given(*ASSIGNED).when(reassign(remove=["sh-jrj"])).then_rejected(
        "not_assigned", bureau="sh-jrj")
    given(*ASSIGNED, return_("sh-hrss")).when(reassign(remove=["sh-hrss"])).then_rejected(
        "not_assigned", bureau="sh-hrss")
    given(*REPLIED).when(reassign(remove=["sh-ipa"], add_lead=["sh-jrj"])).then_rejected(
        "cannot_remove_replied", bureau="sh-ipa")


def test_reassign_adds_only_bureaus_not_already_active():
    given(*ASSIGNED).when(reassign(add_co=["sh-ipa"])).then_rejected(
        "already_active", bureau="sh-ipa", proposal=P)
    given(*ASSIGNED).when(reassign(add_lead=["sh-nosuch"])).then_rejected("unknown_bureau")
    given(*ASSIGNED).when(reassign(remove=["sh-hrss"], add_lead=["sh-hrss"])).then_rejected(
        "duplicate_role", bureau="sh-hrss")
    given(*ASSIGNED).when(reassign(add_lead=["sh-jrj"], add_co=["sh-jrj"])).then_rejected(
        "duplicate_role", bureau="sh-jrj")


def test_reassign_keeps_a_lead():
    given(*ASSIGNED).when(reassign(remove=["sh-ipa"])).then_rejected("no_lead")
    given(*ASSIGNED).when(reassign(remove=["sh-ipa"], add_lead=["sh-jrj"])).then_events(
        event("ProposalReassigned", removed=["sh-ipa"]))
    split = (*SUBMITTED, assign(lead=["sh-ipa", "sh-jrj"]))
    given(*split).when(reassign(remove=["sh-jrj"])).then_events(
        event("ProposalReassigned", removed=["sh-jrj"], added=[]))


def test_reassign_must_change_something():
    with pytest.raises(ValidationError, match="add_lead, add_co or remove"):
        parse_command({**reassign(), "at": "2020-03-01T10:00:00+08:00"})


# --- contacts and opinions -----------------------------------------------------------------
def test_a_contact_before_the_reply_counts_for_the_contact_rate_and_one_after_does_not():
    scenario = given(*ASSIGNED)
    scenario.when(log_contact("sh-ipa", stage="before", method="visit", note="走访")).then_events(
        event("ContactLogged", bureau="sh-ipa", stage="before", method="visit", note="走访"))
    assert scenario.proposal().duty("sh-ipa").contacted_before_reply
    late = given(*REPLIED)
    late.when(log_contact("sh-ipa", stage="after", method="phone")).then_events(
        event("ContactLogged", stage="after"))
    assert late.proposal().duty("sh-ipa").contacts == 1
    assert not late.proposal().duty("sh-ipa").contacted_before_reply


def test_only_a_co_handler_submits_an_opinion():
    scenario = given(*ASSIGNED)
    scenario.when(submit_opinion("sh-hrss", summary="同意")).then_events(
        event("OpinionSubmitted", bureau="sh-hrss", summary="同意"))
    duty = scenario.proposal().duty("sh-hrss")
    assert (duty.opinions, duty.first_opinion_on) == (1, date(2020, 2, 20))
    scenario.when(submit_opinion("sh-ipa")).then_rejected("not_co")


# --- reply ----------------------------------------------------------------------------------
def test_the_lead_replies_with_a_result():
    scenario = given(*ASSIGNED)
    [issued] = scenario.when(reply("sh-ipa", result="reference", summary="答复",
                                   signed_by="芮文彪", at="2020-04-10")).then_events(
        event("ReplyIssued", bureau="sh-ipa", result="reference", summary="答复",
              signed_by="芮文彪"))
    assert issued.schema_version == 3 and issued.letter is None
    duty = scenario.proposal().duty("sh-ipa")
    assert (duty.replies, duty.first_reply_on, duty.result, duty.awaiting_reply) == (
        1, date(2020, 4, 10), "reference", False)


def test_only_a_lead_replies():
    given(*ASSIGNED).when(reply("sh-hrss")).then_rejected("not_lead", proposal=P)


def test_a_reply_before_assignment_is_refused():
    given(*SUBMITTED).when(reply("sh-ipa")).then_rejected("not_assigned", bureau="sh-ipa")


def test_a_lead_replies_once_and_a_further_reply_needs_reopen():
    given(*REPLIED).when(reply("sh-ipa", result="planned")).then_rejected(
        "already_replied", bureau="sh-ipa", proposal=P)


# --- after the reply --------------------------------------------------------------------------
@pytest.mark.parametrize("command", [
    decide_disclosure("sh-ipa"), record_feedback("sh-ipa"), revise_result("sh-ipa"),
    reopen("sh-ipa")])
def test_disclosure_feedback_revision_and_reopen_come_only_after_a_reply(command):
    given(*ASSIGNED).when(command).then_rejected("not_replied", bureau="sh-ipa", proposal=P)
    given(*ASSIGNED).when({**command, "bureau": "sh-hrss"}).then_rejected("not_lead")


def test_disclosure_is_decided_and_may_be_revised_later():
    scenario = given(*REPLIED)
    scenario.when(decide_disclosure("sh-ipa", "withheld", reason="首次答复暂不公开")).then_events(
        event("DisclosureDecided", bureau="sh-ipa", disclosure="withheld",
              reason="首次答复暂不公开", url=None))
    scenario.when(decide_disclosure("sh-ipa", "summary", url="https://example.gov.cn/1",
                                    at="2020-09-15")).then_events(
        event("DisclosureDecided", disclosure="summary", url="https://example.gov.cn/1"))
    assert scenario.proposal().duty("sh-ipa").disclosure == "summary"
    scenario.when(decide_disclosure("sh-ipa", "exempt")).then_events(
        event("DisclosureDecided", disclosure="exempt"))
    assert scenario.proposal().duty("sh-ipa").disclosure == "exempt"


def test_feedback_is_recorded_and_the_latest_counts():
    scenario = given(*REPLIED, record_feedback("sh-ipa", "basically_satisfied"))
    scenario.when(record_feedback("sh-ipa", "satisfied", comment="满意")).then_events(
        event("FeedbackRecorded", bureau="sh-ipa", satisfaction="satisfied", comment="满意"))
    assert scenario.proposal().duty("sh-ipa").feedback == "satisfied"


def test_a_dissatisfied_filer_gets_the_item_handled_again_and_a_second_reply():
    scenario = given(*REPLIED, record_feedback("sh-ipa", "dissatisfied"))
    scenario.when(reopen("sh-ipa", reply_due="2020-06-30", reason="代表不满意")).then_events(
        event("HandlingReopened", bureau="sh-ipa", reason="代表不满意", reply_due="2020-06-30"))
    duty = scenario.proposal().duty("sh-ipa")
    assert (duty.awaiting_reply, duty.reopen_due) == (True, date(2020, 6, 30))
    scenario.when(reopen("sh-ipa")).then_rejected("not_replied")  # already reopened
    scenario.when(reply("sh-ipa", result="planned")).then_events(
        event("ReplyIssued", result="planned"))
    duty = scenario.proposal().duty("sh-ipa")
    assert (duty.replies, duty.first_reply_on, duty.result) == (2, date(2020, 4, 10), "planned")
    scenario.when(record_feedback("sh-ipa", "satisfied")).then_events(event("FeedbackRecorded"))
    assert scenario.proposal().duty("sh-ipa").feedback == "satisfied"


def test_reopen_needs_dissatisfied_feedback():
    given(*REPLIED).when(reopen("sh-ipa")).then_rejected("not_dissatisfied")
    given(*REPLIED, record_feedback("sh-ipa", "satisfied")).when(reopen("sh-ipa"))\
        .then_rejected("not_dissatisfied")
    given(*REPLIED, record_feedback("sh-ipa", "dissatisfied"),
          record_feedback("sh-ipa", "basically_satisfied")).when(reopen("sh-ipa"))\
        .then_rejected("not_dissatisfied")


def test_reopen_needs_dissatisfaction_with_the_latest_reply():
    second_reply = (*REPLIED, record_feedback("sh-ipa", "dissatisfied"), reopen("sh-ipa"),
                    reply("sh-ipa", result="planned"))
    given(*second_reply).when(reopen("sh-ipa")).then_rejected("not_dissatisfied")
    given(*second_reply, record_feedback("sh-ipa", "dissatisfied")).when(reopen("sh-ipa"))\
        .then_events(event("HandlingReopened"))


def test_a_reopened_reply_is_due_no_earlier_than_the_reopening():
    given(*REPLIED, record_feedback("sh-ipa", "dissatisfied")).when(
        reopen("sh-ipa", reply_due="2020-04-01", at="2020-05-10")).then_rejected(
        "due_before_assignment", due="2020-04-01", assigned="2020-05-10")


def test_a_result_is_revised_when_it_changes_later():
    scenario = given(*ASSIGNED, reply("sh-ipa", result="reference"))
    scenario.when(revise_result("sh-ipa", "solved", note="已纳入人才政策",
                                at="2020-06-30")).then_events(
        event("ResultRevised", bureau="sh-ipa", result="solved", note="已纳入人才政策"))
    assert scenario.proposal().duty("sh-ipa").result == "solved"


# --- extend_deadline --------------------------------------------------------------------------
def test_the_coordinator_extends_a_lead_deadline_up_to_six_months_after_assignment():
    scenario = given(*ASSIGNED)
    scenario.when(extend_deadline("sh-ipa", "2020-08-20", reason="需市级层面协调",
                                  actor=COORDINATOR)).then_events(
        event("DeadlineExtended", bureau="sh-ipa", reply_due="2020-08-20", reason="需市级层面协调"))
    duty = scenario.proposal().duty("sh-ipa")
    assert (duty.due, duty.extensions) == (date(2020, 8, 20), 1)


def test_an_extension_never_goes_beyond_six_months():
    given(*ASSIGNED).when(extend_deadline("sh-ipa", "2020-08-21")).then_rejected(
        "extension_too_long", limit="2020-08-20")
    twice = (*ASSIGNED, extend_deadline("sh-ipa", "2020-07-01"))
    given(*twice).when(extend_deadline("sh-ipa", "2020-08-20")).then_events(
        event("DeadlineExtended"))
    given(*twice).when(extend_deadline("sh-ipa", "2020-09-01")).then_rejected(
        "extension_too_long")


def test_an_extension_must_be_later_than_the_current_deadline():
    given(*ASSIGNED).when(extend_deadline("sh-ipa", "2020-05-20")).then_rejected(
        "extension_not_later", reply_due="2020-05-20", current="2020-05-20")
    given(*ASSIGNED).when(extend_deadline("sh-ipa", "2020-04-01")).then_rejected(
        "extension_not_later")


def test_only_an_unreplied_lead_deadline_is_extended():
    given(*REPLIED).when(extend_deadline("sh-ipa", "2020-07-01")).then_rejected(
        "already_replied", bureau="sh-ipa")
    given(*ASSIGNED).when(extend_deadline("sh-hrss", "2020-07-01")).then_rejected("not_lead")
    given(*ASSIGNED).when(extend_deadline("sh-jrj", "2020-07-01")).then_rejected("not_assigned")


def test_the_six_months_count_from_a_reassigned_leads_own_assignment():
    scenario = given(*ASSIGNED, return_("sh-ipa"), reassign(add_lead=["sh-jrj"], at="2020-04-01"))
    scenario.when(extend_deadline("sh-jrj", "2020-10-01")).then_events(event("DeadlineExtended"))


# --- supervise, withdraw, merge ----------------------------------------------------------------
def test_supervision_presses_the_proposal_or_one_bureau():
    scenario = given(*ASSIGNED)
    scenario.when(supervise(note="重点督办")).then_events(
        event("ProposalSupervised", bureau=None, note="重点督办"))
    scenario.when(supervise(bureau="sh-ipa", note="请加快")).then_events(
        event("ProposalSupervised", bureau="sh-ipa"))
    p = scenario.proposal()
    assert (p.supervisions, p.duty("sh-ipa").supervisions) == (2, 1)
    scenario.when(supervise(bureau="sh-jrj")).then_rejected("not_assigned", bureau="sh-jrj")


def test_a_withdrawn_proposal_takes_no_further_command():
    scenario = given(*ASSIGNED)
    scenario.when(withdraw(reason="代表撤回")).then_events(
        event("ProposalWithdrawn", reason="代表撤回"))
    assert scenario.proposal().status == "withdrawn"
    for command in (reply("sh-ipa"), submit_opinion("sh-hrss"), supervise(), withdraw(),
                    reassign(add_co=["sh-jrj"]), merge()):
        rejection = scenario.when(command).then_rejected("closed", proposal=P,
                                                         status_en="withdrawn")
        assert "撤回" in rejection.message


def test_a_merged_proposal_takes_no_further_command():
    scenario = given(*ASSIGNED, submit("21002"))
    scenario.when(merge(P, into=Q)).then_events(event("ProposalMerged", into=Q))
    assert (scenario.proposal().status, scenario.proposal().merged_into) == ("merged", Q)
    rejection = scenario.when(reply("sh-ipa")).then_rejected("closed", status_en="merged")
    assert "并案" in rejection.message
    assert scenario.directory.proposal_status(P) == "merged"


def test_a_merge_goes_into_another_open_proposal():
    given(*ASSIGNED).when(merge(P, into=P)).then_rejected("merge_target", into=P)
    given(*ASSIGNED).when(merge(P, into="2020-cppcc_proposal-99999")).then_rejected(
        "merge_target")
    given(*ASSIGNED, submit("21002"), withdraw(Q)).when(merge(P, into=Q)).then_rejected(
        "merge_target", into=Q)
    given(*ASSIGNED, submit("21002"), submit("21003"),
          merge(Q, into="2020-cppcc_proposal-21003")).when(merge(P, into=Q)).then_rejected(
        "merge_target")


# --- business time: the rule of time ------------------------------------------------------------
# Business time orders a duty's records, not the whole proposal's; a record may not be dated
# before what it depends on, nor after today.
SPLIT = (*SUBMITTED, assign(lead=["sh-ipa", "sh-hrss"], co=["sh-jrj"], at="2020-02-20"))


def test_a_dutys_records_keep_their_business_order():
    scenario = given(*ASSIGNED, log_contact("sh-ipa", at="2020-03-10"))
    rejection = scenario.when(reply("sh-ipa", at="2020-03-09")).then_rejected(
        "out_of_order", last="2020-03-10T10:00:00+08:00", bureau="sh-ipa")
    # the blocking record's date in words, its bureau by name, and what to do
    assert rejection.message == ("业务时间 2020年3月9日 10:00 早于其所依据的上海市知识产权局在该件的"
                                 "最后一条记录（2020年3月10日 10:00）")
    assert rejection.message_en == (
        "business time 9 March 2020, 10:00 is before Shanghai Intellectual Property "
        "Administration's last record on it at 10 March 2020, 10:00, which it follows")
    assert rejection.hint == "请把业务时间改为 2020年3月10日 10:00 或之后"
    assert rejection.hint_en == "date it 10 March 2020, 10:00 or later"
    scenario.when(reply("sh-ipa", at="2020-03-10T10:00:00+08:00")).then_events(
        event("ReplyIssued"))  # the same moment is not before


def test_a_record_is_not_dated_before_its_own_assignment_or_the_submission():
    given(*ASSIGNED).when(reply("sh-ipa", at="2020-02-19")).then_rejected(
        "out_of_order", last="2020-02-20T10:00:00+08:00")
    rejection = given(*SUBMITTED).when(assign(at="2020-01-14")).then_rejected(
        "out_of_order", what_en="the proposal's submission")
    assert "提交" in rejection.message


def test_split_leads_record_in_their_own_order():
    """分办: each lead types in its own records after the other has typed in its later ones."""
    scenario = given(*SPLIT, reply("sh-ipa", at="2020-05-10"),
                     decide_disclosure("sh-ipa", at="2020-05-20"),
                     record_feedback("sh-ipa", at="2020-06-01"))
    scenario.when(reply("sh-hrss", at="2020-04-01")).then_events(event("ReplyIssued"))
    scenario.when(decide_disclosure("sh-hrss", at="2020-04-02")).then_events(
        event("DisclosureDecided"))
    scenario.when(submit_opinion("sh-jrj", at="2020-03-01")).then_events(
        event("OpinionSubmitted"))
    scenario.when(record_feedback("sh-hrss", at="2020-03-31")).then_rejected(
        "out_of_order", bureau="sh-hrss")


def test_the_proposals_own_records_keep_their_order():
    scenario = given(*SPLIT, supervise(at="2020-04-01"))
    scenario.when(supervise(bureau="sh-ipa", at="2020-03-01")).then_rejected(
        "out_of_order", what_en="the proposal's last assignment, reassignment or supervision")
    scenario.when(reassign(add_co=["sh-stcsm"], at="2020-03-01")).then_rejected("out_of_order")
    scenario.when(reassign(add_co=["sh-stcsm"], at="2020-04-01")).then_events(
        event("ProposalReassigned"))


def test_supervising_a_bureau_is_a_record_on_its_duty():
    scenario = given(*SPLIT, log_contact("sh-ipa", at="2020-04-01"))
    scenario.when(supervise(bureau="sh-ipa", at="2020-03-15")).then_rejected("out_of_order")
    scenario.when(supervise(bureau="sh-hrss", at="2020-03-15")).then_events(
        event("ProposalSupervised"))
    scenario.when(log_contact("sh-hrss", at="2020-03-14")).then_rejected("out_of_order")


def test_a_reassignment_follows_the_duties_it_ends_or_replaces():
    scenario = given(*SPLIT, log_contact("sh-hrss", at="2020-04-01"),
                     return_("sh-ipa", at="2020-02-25"))
    scenario.when(reassign(remove=["sh-hrss"], add_lead=["sh-stcsm"], at="2020-03-01")
                  ).then_rejected("out_of_order", bureau="sh-hrss")
    scenario.when(reassign(add_lead=["sh-ipa"], at="2020-02-24")).then_rejected("out_of_order")
    scenario.when(reassign(add_lead=["sh-ipa"], at="2020-03-01")).then_events(
        event("ProposalReassigned"))  # sh-hrss's later record is not its business


def test_withdrawal_and_merger_follow_every_record():
    scenario = given(*SPLIT, submit("21002"), reply("sh-hrss", at="2020-05-10"))
    scenario.when(withdraw(at="2020-05-01")).then_rejected(
        "out_of_order", what_en="the proposal's last record")
    scenario.when(merge(P, into=Q, at="2020-05-01")).then_rejected("out_of_order")
    scenario.when(withdraw(at="2020-05-10")).then_events(event("ProposalWithdrawn"))


def test_a_sign_off_follows_the_draft_it_signs():
    scenario = given(*SPLIT, {"type": "draft_reply", "proposal": P, "bureau": "sh-ipa",
                              "result": "solved", "at": "2020-04-10"})
    sign_off = {"type": "sign_off_reply", "proposal": P, "bureau": "sh-jrj", "lead": "sh-ipa"}
    scenario.when({**sign_off, "at": "2020-04-09"}).then_rejected(
        "out_of_order", bureau="sh-ipa")
    scenario.when({**sign_off, "at": "2020-04-11"}).then_events(event("ReplySignedOff"))
    scenario.when(reply("sh-hrss", at="2020-03-01")).then_events(event("ReplyIssued"))


def test_a_co_signed_approval_follows_every_co_handlers_duty():
    """Where drafts are co-signed (profile `reviewed`), approving depends on every co-handler:
    signed off, or returned before it. A co-handler's return dated before the approval is
    typed in before it, not after."""
    draft = {"type": "draft_reply", "proposal": P, "bureau": "sh-ipa", "result": "solved",
             "at": "2020-04-10"}
    approve = {"type": "approve_reply", "proposal": P, "bureau": "sh-ipa", "signed_by": "局长"}
    scenario = given(*SUBMITTED, assign(co=["sh-hrss", "sh-jrj"], at="2020-02-20"), draft,
                     {"type": "sign_off_reply", "proposal": P, "bureau": "sh-hrss",
                      "lead": "sh-ipa", "at": "2020-04-12"},
                     acknowledge("sh-jrj", at="2020-04-20"), profile=PROFILES["reviewed"])
    scenario.when({**approve, "at": "2020-04-15"}).then_rejected(
        "out_of_order", bureau="sh-jrj")
    given(*SUBMITTED, assign(co=["sh-hrss", "sh-jrj"], at="2020-02-20"),
          return_("sh-jrj", at="2020-02-25"), draft,
          {"type": "sign_off_reply", "proposal": P, "bureau": "sh-hrss", "lead": "sh-ipa",
           "at": "2020-04-12"}, profile=PROFILES["reviewed"]).when(
        {**approve, "at": "2020-04-15"}).then_events(event("ReplyApproved"), event("ReplyIssued"))


def test_a_business_time_later_than_today_is_refused():
    scenario = given(*ASSIGNED).on("2020-04-09T23:00:00")
    scenario.when(reply("sh-ipa", at="2020-04-10T00:30:00+08:00")).then_rejected(
        "future_business_time", today="2020-04-09")
    scenario.when(log_contact("sh-ipa", at="2020-04-09T23:30:00+08:00")).then_events(
        event("ContactLogged"))  # later today is not later than today


def test_a_clerk_records_only_so_far_back():
    old = reply("sh-ipa", at="2020-04-10", actor=clerk("sh-ipa"))
    rejection = given(*ASSIGNED).on("2020-05-11T09:00").when(old).then_rejected(
        "backdated_too_far", limit=30, days=31)
    assert "coordinator" in rejection.message_en and "importer" in rejection.message_en
    assert "30 天" in rejection.message
    given(*ASSIGNED).on("2020-05-10T09:00").when(old).then_events(event("ReplyIssued"))
    for actor in (IMPORTER, COORDINATOR):  # older records are theirs to enter
        given(*ASSIGNED).on("2021-01-05T09:00").when(
            supervise(at="2020-04-10", actor=actor)).then_events(event("ProposalSupervised"))
    given(*ASSIGNED).on("2021-01-05T09:00").when({**old, "actor": IMPORTER}).then_events(
        event("ReplyIssued"))


def test_another_proposal_keeps_its_own_time():
    given(*ASSIGNED, reply("sh-ipa", at="2020-06-01")).when(
        submit("21002", at="2020-01-20")).then_events(event("ProposalSubmitted"))


def test_a_time_without_offset_is_shanghai_time():
    [issued] = given(*ASSIGNED).when(reply("sh-ipa", at="2020-04-10T10:00:00")).then_events(
        event("ReplyIssued"))
    assert issued.occurred_at == datetime(2020, 4, 10, 10, 0, tzinfo=SHANGHAI)
    assert issued.occurred_at.utcoffset() == timedelta(hours=8)


# --- who may do what ----------------------------------------------------------------------------
def test_a_clerk_acts_for_its_own_bureau_only():
    given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-ipa"))).then_events(
        event("ReplyIssued"))
    rejection = given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-hrss"))).then_rejected(
        "wrong_bureau", user="clerk@sh-hrss", own="sh-hrss", bureau="sh-ipa")
    assert "上海市人力资源和社会保障局" in rejection.message  # bureaus by their names
    assert "Shanghai Intellectual Property Administration" in rejection.message_en
    assert rejection.hint == "请以本单位（上海市人力资源和社会保障局）的名义办理"


def test_a_proposal_its_bureau_has_no_duty_on_is_unknown_to_a_clerk():
    """As unknown as one never submitted: the same refusal, decided before anything of the
    proposal (its submission date, its status, its duties) could show in the answer."""
    never = given(*bureaus).when(reply("sh-jrj", at="2020-01-10", actor=clerk("sh-jrj")))
    expected = never.then_rejected("unknown_proposal", proposal=P)
    for history in (ASSIGNED, (*ASSIGNED, withdraw(at="2020-03-01"))):
        for at in ("2020-01-10", "2020-05-01"):  # before its submission, and after
            for command in (reply("sh-jrj", at=at), acknowledge("sh-jrj", at=at),
                            log_contact("sh-jrj", at=at)):
                refused = given(*history).when({**command, "actor": clerk("sh-jrj")})
                assert refused.then_rejected("unknown_proposal", proposal=P) == expected
    # a bureau once on it (its duty returned) knows it: the rules say why not
    given(*ASSIGNED, return_("sh-hrss")).when(submit_opinion(
        "sh-hrss", actor=clerk("sh-hrss"))).then_rejected("not_assigned", bureau="sh-hrss")


def test_a_clerk_gives_only_bureau_commands():
    for command in (assign(), supervise(), withdraw(), extend_deadline("sh-ipa", "2020-07-01"),
                    register_bureau("sh-new"), submit("21009")):
        given(*ASSIGNED).when({**command, "actor": clerk("sh-ipa")}).then_rejected(
            "forbidden", role="clerk", command=command["type"])


def test_coordinators_give_the_coordinating_commands_and_record_feedback():
    scenario = given(*bureaus)
    for command in (submit(), assign(co=["sh-hrss"]), supervise(),
                    reassign(add_co=["sh-jrj"]), extend_deadline("sh-ipa", "2020-07-01"),
                    register_bureau("sh-new")):
        scenario.when({**command, "actor": COORDINATOR}).then_events(
            event(EVENT_OF[command["type"]]))
    scenario.given(reply("sh-ipa"))
    scenario.when(record_feedback("sh-ipa", actor=COORDINATOR)).then_events(
        event("FeedbackRecorded"))
    for command in (reply("sh-ipa"), acknowledge("sh-ipa"), submit_opinion("sh-hrss"),
                    decide_disclosure("sh-ipa")):
        scenario.when({**command, "actor": COORDINATOR}).then_rejected("forbidden",
                                                                       role="coordinator")


def test_an_overseer_supervises_and_changes_nothing_else():
    given(*ASSIGNED).when(supervise(actor=OVERSEER, note="督办")).then_events(
        event("ProposalSupervised", note="督办"))
    given(*ASSIGNED).when(supervise(bureau="sh-ipa", actor=OVERSEER)).then_events(
        event("ProposalSupervised", bureau="sh-ipa"))
    for command in (submit("21009"), reply("sh-ipa"), record_feedback("sh-ipa"),
                    withdraw(), register_bureau("sh-new"), assign(), reassign(add_co=["sh-jrj"]),
                    extend_deadline("sh-ipa", "2020-07-01")):
        given(*ASSIGNED).when({**command, "actor": OVERSEER}).then_rejected(
            "forbidden", role="overseer")


@pytest.mark.parametrize("actor", [IMPORTER, ADMIN], ids=["importer", "admin"])
def test_importers_and_admins_may_do_anything(actor):
    scenario = given(*bureaus)
    for command in (submit(), assign(co=["sh-hrss"]), acknowledge("sh-ipa"),
                    submit_opinion("sh-hrss"), log_contact("sh-ipa"), reply("sh-ipa"),
                    decide_disclosure("sh-ipa"), record_feedback("sh-ipa", "dissatisfied"),
                    reopen("sh-ipa"), reply("sh-ipa"), revise_result("sh-ipa"), supervise(),
                    withdraw()):
        scenario.when({**command, "actor": actor}).then_events(event(EVENT_OF[command["type"]]))


# --- who entered it: an importer brings in records of other bureaus' acts, and says so ------------
def test_an_importer_records_another_bureaus_act_and_says_so():
    [issued] = given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-ipa"),
                                           recorded_by=IMPORTER)).then_events(
        event("ReplyIssued", bureau="sh-ipa"))
    assert issued.actor.model_dump() == {**clerk("sh-ipa")}
    assert issued.recorded_by is not None and issued.recorded_by.role == "importer"
    # the act is still the actor's to make: a clerk's record is its own bureau's
    given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-hrss"), recorded_by=IMPORTER)
                          ).then_rejected("wrong_bureau", own="sh-hrss", bureau="sh-ipa")
    # and an admin may bring one in too
    given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-ipa"), recorded_by=ADMIN)
                          ).then_events(event("ReplyIssued"))


def test_an_event_the_actor_entered_names_no_recorder():
    [issued] = given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-ipa"))).then_events(
        event("ReplyIssued"))
    assert issued.recorded_by is None and "recorded_by" not in issued.model_dump_json()


def test_the_backdating_limit_is_on_whoever_types_the_record_in():
    old = reply("sh-ipa", at="2020-04-10", actor=clerk("sh-ipa"))
    given(*ASSIGNED).on("2021-01-05T09:00").when(old).then_rejected("backdated_too_far")
    given(*ASSIGNED).on("2021-01-05T09:00").when({**old, "recorded_by": IMPORTER}).then_events(
        event("ReplyIssued"))


def test_a_history_import_records_a_clerks_reply_as_it_was_issued():
    reviewed = PROFILES["reviewed"]
    given(*ASSIGNED, profile=reviewed).when(reply("sh-ipa", actor=clerk("sh-ipa"))
                                            ).then_rejected("review_required")
    given(*ASSIGNED, profile=reviewed).when(reply("sh-ipa", actor=clerk("sh-ipa"),
                                                  recorded_by=IMPORTER)).then_events(
        event("ReplyIssued"))


@pytest.mark.parametrize("claimed", [ADMIN, OVERSEER], ids=["admin", "overseer"])
def test_no_one_enters_an_admins_or_an_overseers_act_for_them(claimed):
    rejection = given(*ASSIGNED).when(supervise(actor=claimed, recorded_by=IMPORTER)
                                      ).then_rejected("claimed_actor", role=claimed["role"])
    assert claimed["role"] in rejection.message and claimed["role"] in rejection.message_en
    assert re.search(r"[\u4e00-\u9fff]", rejection.message)


@pytest.mark.parametrize("recorder", [COORDINATOR, OVERSEER,
                                      {"user": "a colleague", "bureau": "sh-ipa", "role": "clerk"},
                                      {"user": "deputy", "role": "filer"}],
                         ids=["coordinator", "overseer", "clerk", "filer"])
def test_only_importers_and_admins_enter_others_acts(recorder):
    given(*ASSIGNED).when(acknowledge("sh-ipa", actor=clerk("sh-ipa"), recorded_by=recorder)
                          ).then_rejected("not_recorder", role=recorder["role"],
                                          user="clerk@sh-ipa")


def test_a_filer_may_send_nothing_but_their_feedback():
    filer = {"user": "deputy", "role": "filer", "filer": "d-zhang"}
    scenario = given(*ASSIGNED, reply("sh-ipa"))
    for command in (supervise(), submit("21009"), acknowledge("sh-ipa"), reopen("sh-ipa"),
                    decide_disclosure("sh-ipa")):
        scenario.when({**command, "actor": filer}).then_rejected("forbidden", role="filer")


def test_a_command_needs_an_actor():
    no_actor = parse_command({**reply("sh-ipa"), "command_id": "x1",
                                "at": "2020-04-10T10:00:00+08:00"})
    given(*ASSIGNED).when(no_actor).then_rejected("missing_actor")


def test_a_command_without_a_business_time_happens_when_it_is_decided():
    scenario = given(*ASSIGNED, log_contact("sh-ipa", at="2020-03-01T10:00:00+08:00"))
    now = parse_command({**reply("sh-ipa"), "command_id": "x2", "actor": IMPORTER})
    recorded = datetime(2020, 4, 1, 9, 30, tzinfo=SHANGHAI)
    [issued] = decide(scenario.proposal(), now, Context(recorded_at=recorded,
                                                         directory=scenario.directory))
    assert issued.occurred_at == issued.recorded_at == recorded
    # a clock that reads earlier than what the record follows: the record comes right after it
    behind = datetime(2020, 3, 1, 9, 0, tzinfo=SHANGHAI)
    [issued] = decide(scenario.proposal(), now, Context(recorded_at=behind,
                                                         directory=scenario.directory))
    assert issued.occurred_at == datetime(2020, 3, 1, 10, 0, tzinfo=SHANGHAI)


def test_the_adapter_must_name_every_command():
    command = parse_command({**submit(), "actor": IMPORTER, "at": "2020-01-15T10:00:00+08:00"})
    with pytest.raises(ValueError, match="command_id"):
        decide(None, command, Context(recorded_at=datetime(2020, 1, 15, tzinfo=SHANGHAI)))


# --- envelopes ------------------------------------------------------------------------------------
def test_events_carry_a_deterministic_envelope():
    scenario = given(*ASSIGNED)
    command = scenario.command(reply("sh-ipa", command_id="reply-1", actor=clerk("sh-ipa"),
                                     at="2020-04-10"))
    recorded = datetime(2020, 4, 20, 9, 30, tzinfo=SHANGHAI)
    ctx = Context(recorded_at=recorded, directory=scenario.directory)
    first = decide(scenario.proposal(), command, ctx)
    again = decide(scenario.proposal(), command, ctx)
    assert first == again
    [issued] = first
    sender = c.sender_of(command)
    assert sender == "clerk:clerk@sh-ipa@sh-ipa"  # its role, user and bureau
    assert issued.event_id == str(uuid.uuid5(EVENT_ID_NAMESPACE, f"{len(sender)}:{sender}reply-1/0"))
    # another sender's command under the same id is another command, with events of its own
    other = scenario.command(reply("sh-ipa", command_id="reply-1", actor={
        **clerk("sh-ipa"), "user": "another-clerk"}, at="2020-04-10"))
    [theirs] = decide(scenario.proposal(), other, ctx)
    assert theirs.event_id != issued.event_id and theirs.command_id == issued.command_id
    assert (issued.proposal_id, issued.seq, issued.command_id) == (P, 3, "reply-1")
    assert issued.occurred_at == command.at and issued.recorded_at == recorded
    assert issued.actor.model_dump() == clerk("sh-ipa")


def test_each_event_names_its_commands_sender():
    """`envelope.event_sender` of every event is `commands.sender_of` of its command, over a
    generated history with importers, coordinators and clerks: the Kafka worker finds the
    events of a command it decides again by it, and an old store's records their sender."""
    from banli.demo.generate import generate_history, to_jsonl
    from banli.domain.envelope import event_sender
    from banli.domain.permissions import reach
    from banli.history import run_history

    def sent_by(line: dict[str, Any]) -> dict[str, Any]:
        if line.get("bureau") and reach(Actor(**clerk(line["bureau"])), line["type"]):
            return {**line, "actor": clerk(line["bureau"])}
        if line["type"] == "register_bureau":
            return line  # the importer's
        return {**line, "actor": {"user": "coordinator", "role": "coordinator"}}

    lines = [to_jsonl(sent_by(line)) for line in generate_history(12, seed=5)]
    ledger, problems = run_history(lines)  # each line entered by the actor it names
    # the same lines entered by an importer: it is the sender of every one (recorded_by)
    imported, imported_problems = run_history(lines, recorder=Actor(user="imp", role="importer"))
    assert problems == [] and imported_problems == []
    assert len({sender for sender, _ in ledger.decided}) > 3
    assert {sender for sender, _ in imported.decided} == {"importer:imp@"}
    for decided_by in (ledger.decided, imported.decided):
        for (sender, _), decided in decided_by.items():
            if isinstance(decided, list):
                assert {event_sender(event) for event in decided} == {sender}


def test_seq_counts_each_proposal_from_one():
    scenario = given(*ASSIGNED, submit("21002"), log_contact("sh-ipa"), submit_opinion("sh-hrss"),
                     reply("sh-ipa"), assign(Q))
    assert [e.seq for e in scenario.streams[P]] == [1, 2, 3, 4, 5]
    assert [e.seq for e in scenario.streams[Q]] == [1, 2]
    assert [e.seq for e in scenario.streams["bureau:sh-ipa"]] == [1]
    assert scenario.proposal().version == 5
    assert fold(scenario.streams[P]) == scenario.proposal()


def test_folding_a_proposals_events_gives_its_state():
    scenario = given(*REPLIED, decide_disclosure("sh-ipa", "summary"),
                     record_feedback("sh-ipa", "dissatisfied"), reopen("sh-ipa"),
                     reply("sh-ipa", result="planned"))
    state = fold(scenario.streams[P])
    assert isinstance(state, Proposal) and state == scenario.proposal()


# --- rejections ---------------------------------------------------------------------------------
def test_rejections_speak_chinese_and_english():
    rejection = given(*ASSIGNED).when(reply("sh-hrss")).then_rejected("not_lead")
    assert rejection.message == "只有主办单位可以答复 市政协提案 21001"  # by its number
    assert rejection.message_en == "only a lead bureau may do this on municipal CPPCC proposal 21001"
    assert rejection.hint and rejection.hint_en
    assert rejection.details == {"proposal": P}  # programs read the ids


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_every_rejection_says_why_and_what_to_do_in_both_languages(code):
    assert len(MESSAGES[code]) == 4, f"{code}: a message and a hint, each in zh and en"
    names = {name for text in MESSAGES[code] for name in re.findall(r"{(\w+)}", text)}
    rejection = Rejection.of(code, **{name: f"<{name}>" for name in names})
    texts = (rejection.message, rejection.message_en, rejection.hint, rejection.hint_en)
    assert all(texts), texts
    assert "{" not in "".join(texts)
    assert re.search(r"[\u4e00-\u9fff]", rejection.message), "the zh message has Chinese"
    assert re.search(r"[\u4e00-\u9fff]", rejection.hint), "the zh hint has Chinese"


def test_every_rejection_code_has_a_rule_test_here():
    tested = {code for test in Path(__file__).parent.glob("test_*.py")
              for code in re.findall(r'then_rejected\(\s*"(\w+)"', test.read_text("utf-8"))}
    assert tested == set(MESSAGES) - ADAPTER_CODES, f"untested: {set(MESSAGES) - tested}"
