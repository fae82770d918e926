"""Review before a reply goes out: a lead drafts its reply, the co-handlers sign it off (会签)
when the profile asks, the coordinator may regrade its result class (its own event, with a
reason), and the bureau's leader approves it (签发), which issues it. The default profile keeps
the single `reply`."""
from __future__ import annotations

from datetime import date

import pytest
from pydantic import ValidationError

from banli.domain.registry import parse_command
from banli.domain.timing.deadlines import PROFILES, Profile
from banli.domain.proposal import fold

from .scenario import (
    COORDINATOR, IMPORTER, P, _by, assign, bureaus, clerk, event, given, reopen,
    record_feedback, reply, submit,
)

REVIEWED = PROFILES["reviewed"]  # co-sign, then approve
APPROVE_ONLY = Profile(name="approve_only", review=("approve",))
ASSIGNED = (*bureaus, submit(), assign(co=["sh-hrss", "sh-jrj"], at="2020-02-20"))


def draft_reply(bureau: str, result: str = "solved", **more):
    return _by("draft_reply", bureau, result=result, summary="答复草稿", **more)


def sign_off(bureau: str, lead: str = "sh-ipa", **more):
    return _by("sign_off_reply", bureau, lead=lead, **more)


def regrade(bureau: str, result: str, reason: str = "审核认为属于正在解决类", **more):
    return _by("regrade_reply", bureau, result=result, reason=reason,
               **{"actor": COORDINATOR, **more})


def approve(bureau: str, signed_by: str = "芮文彪", **more):
    return _by("approve_reply", bureau, signed_by=signed_by, **more)


def reviewed(*commands, profile: Profile = REVIEWED):
    return given(*ASSIGNED, *commands, profile=profile)


# --- the default profile ----------------------------------------------------------------------
def test_the_default_profile_keeps_the_single_reply():
    assert PROFILES["default"].review == ()
    given(*ASSIGNED).when(reply("sh-ipa", actor=clerk("sh-ipa"))).then_events(
        event("ReplyIssued", result="solved"))


def test_under_the_default_profile_a_draft_may_still_be_approved_without_sign_offs():
    given(*ASSIGNED, draft_reply("sh-ipa")).when(approve("sh-ipa")).then_events(
        event("ReplyApproved", signed_by="芮文彪"), event("ReplyIssued", result="solved"))


# --- the review ---------------------------------------------------------------------------------
def test_a_reviewed_reply_is_drafted_co_signed_and_approved():
    scenario = reviewed()
    scenario.when(draft_reply("sh-ipa", actor=clerk("sh-ipa"))).then_events(
        event("ReplyDrafted", bureau="sh-ipa", result="solved", summary="答复草稿"))
    scenario.when(sign_off("sh-hrss", remark="同意", actor=clerk("sh-hrss"))).then_events(
        event("ReplySignedOff", bureau="sh-hrss", lead="sh-ipa", remark="同意"))
    scenario.when(sign_off("sh-jrj", actor=clerk("sh-jrj"))).then_events(
        event("ReplySignedOff", bureau="sh-jrj", remark=""))
    assert scenario.proposal().assignments["sh-ipa"].draft.signed_off == ("sh-hrss", "sh-jrj")
    scenario.when(approve("sh-ipa", at="2020-04-10", actor=clerk("sh-ipa"))).then_events(
        event("ReplyApproved", bureau="sh-ipa", signed_by="芮文彪"),
        event("ReplyIssued", bureau="sh-ipa", result="solved", summary="答复草稿",
              signed_by="芮文彪"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.replies, duty.first_reply_on, duty.draft) == (1, date(2020, 4, 10), None)
    assert fold(scenario.streams[P]) == scenario.proposal()


def test_a_profile_with_review_refuses_a_direct_reply():
    rejection = reviewed().when(reply("sh-ipa", actor=clerk("sh-ipa"))).then_rejected(
        "review_required", profile="reviewed")
    assert "会签" in rejection.message and "co-signed" in rejection.message_en
    given(*ASSIGNED, profile=APPROVE_ONLY).when(reply("sh-ipa", actor=clerk("sh-ipa"))
                                                ).then_rejected("review_required")


def test_an_imported_history_keeps_its_replies_as_issued():
    reviewed().when(reply("sh-ipa", actor=IMPORTER)).then_events(event("ReplyIssued"))


def test_approval_waits_for_every_co_handlers_sign_off():
    scenario = reviewed(draft_reply("sh-ipa"), sign_off("sh-jrj"))
    rejection = scenario.when(approve("sh-ipa")).then_rejected("cosign_pending",
                                                               pending="sh-hrss")
    assert "上海市人力资源和社会保障局" in rejection.message  # by its name
    given(*ASSIGNED, draft_reply("sh-ipa"), profile=APPROVE_ONLY).when(
        approve("sh-ipa")).then_events(event("ReplyApproved"), event("ReplyIssued"))


def test_a_removed_or_returned_co_handler_is_not_waited_for():
    scenario = reviewed(_by("return", "sh-jrj", reason="不属于本单位职责"),
                        draft_reply("sh-ipa"), sign_off("sh-hrss"))
    scenario.when(approve("sh-ipa")).then_events(event("ReplyApproved"), event("ReplyIssued"))


def test_nothing_is_signed_off_regraded_or_approved_without_a_draft():
    scenario = reviewed()
    scenario.when(sign_off("sh-hrss")).then_rejected("no_draft", bureau="sh-ipa")
    scenario.when(regrade("sh-ipa", "planned")).then_rejected("no_draft", bureau="sh-ipa")
    scenario.when(approve("sh-ipa")).then_rejected("no_draft", bureau="sh-ipa")
    scenario.when(sign_off("sh-hrss", lead="sh-jrj")).then_rejected("no_draft", bureau="sh-jrj")


def test_only_a_lead_drafts_and_approves_and_only_a_co_handler_signs_off():
    scenario = reviewed(draft_reply("sh-ipa"))
    scenario.when(draft_reply("sh-hrss")).then_rejected("not_lead")
    scenario.when(approve("sh-hrss")).then_rejected("not_lead")
    scenario.when(sign_off("sh-ipa")).then_rejected("not_co")
    scenario.when(sign_off("sh-stcsm")).then_rejected("not_assigned", bureau="sh-stcsm")


def test_a_co_handler_signs_a_draft_off_once_and_a_new_draft_needs_it_again():
    scenario = reviewed(draft_reply("sh-ipa"), sign_off("sh-hrss"))
    scenario.when(sign_off("sh-hrss")).then_rejected("already_signed_off", bureau="sh-hrss",
                                                     lead="sh-ipa")
    scenario.given(draft_reply("sh-ipa", "planned"))
    assert scenario.proposal().assignments["sh-ipa"].draft.signed_off == ()
    scenario.when(sign_off("sh-hrss")).then_events(event("ReplySignedOff"))


def test_the_coordinator_regrades_a_draft_with_a_reason_and_the_reply_carries_it():
    scenario = reviewed(draft_reply("sh-ipa", "solved"), sign_off("sh-hrss"), sign_off("sh-jrj"))
    scenario.when(regrade("sh-ipa", "planned")).then_events(
        event("ReplyRegraded", bureau="sh-ipa", result="planned", previous="solved",
              reason="审核认为属于正在解决类"))
    rejection = scenario.when(regrade("sh-ipa", "planned")).then_rejected(
        "regrade_unchanged", result_class="B")
    assert "B 类" in rejection.message
    scenario.when(approve("sh-ipa")).then_events(event("ReplyApproved"),
                                                 event("ReplyIssued", result="planned"))


def test_only_the_coordinator_regrades_and_a_regrade_needs_a_reason():
    scenario = reviewed(draft_reply("sh-ipa"))
    scenario.when(regrade("sh-ipa", "planned", actor=clerk("sh-ipa"))).then_rejected(
        "forbidden", role="clerk", command="regrade_reply")
    with pytest.raises(ValidationError):
        parse_command(regrade("sh-ipa", "planned", reason=""))


def test_a_replied_lead_drafts_again_only_after_reopening():
    scenario = reviewed(draft_reply("sh-ipa"), sign_off("sh-hrss"), sign_off("sh-jrj"),
                        approve("sh-ipa"))
    scenario.when(draft_reply("sh-ipa")).then_rejected("already_replied", bureau="sh-ipa")
    scenario.when(approve("sh-ipa")).then_rejected("already_replied")
    scenario.given(record_feedback("sh-ipa", "dissatisfied"), reopen("sh-ipa"))
    scenario.when(draft_reply("sh-ipa", "planned")).then_events(event("ReplyDrafted"))


def test_a_profile_cannot_ask_for_sign_offs_without_an_approval_to_issue_the_reply():
    with pytest.raises(ValidationError):
        Profile(name="odd", review=("cosign",))
