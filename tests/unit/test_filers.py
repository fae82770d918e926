"""Filers in the kernel (issue 21 §4, §5): the filer registry, a proposal's filers by id, a filer
rating a lead's reply, and who reads which of a proposal's events and what of its state."""
from __future__ import annotations

from datetime import date

import pytest

from banli.domain.timing.deadlines import PROFILES
from banli.domain.events import upcast
from banli.domain.permissions import Parties, event_for, proposal_for, vantage
from banli.domain.proposal import Proposal, RegisteredFiler
from banli.domain.registry import EVENT_TYPES, load_event
from banli.domain.types import Actor
from tests.unit.scenario import (P, Q, acknowledge, assign, bureaus, clerk, decide_disclosure,
                                 event, given, log_contact, record_feedback, reopen, reply,
                                 return_, submit, submit_opinion, supervise)

ZHANG, LI, WANG = "d-zhang", "d-li", "d-wang"
SECTOR = "无党派人士界别"  # the scenario's proposals' affiliation


def register_filer(filer: str, name: str, affiliation: str = SECTOR, **more):
    return {"type": "register_filer", "filer": filer, "name": name, "affiliation": affiliation,
            "term": "十四届", **more}


def filer_actor(filer: str, user: str | None = None) -> dict:
    return {"user": user or filer, "role": "filer", "filer": filer}


REGISTRY = (register_filer(ZHANG, "张伟", account="zhangwei"), register_filer(LI, "李娜"))
FILED = (*bureaus, *REGISTRY, submit(filers=[{"name": "张伟"}, {"name": "李娜"}]),
         assign(lead=["sh-ipa"], co=["sh-hrss"]))


# --- the registry -------------------------------------------------------------------------------
def test_a_filer_is_registered_once_in_a_stream_of_their_own():
    scenario = given(*REGISTRY)
    state = scenario.state(f"filer:{ZHANG}")
    assert isinstance(state, RegisteredFiler)
    assert (state.name, state.affiliation, state.term, state.account) == (
        "张伟", SECTOR, "十四届", "zhangwei")
    scenario.when(register_filer(ZHANG, "张伟")).then_rejected("duplicate_filer", filer=ZHANG)


def test_an_account_maps_to_one_filer():
    given(*REGISTRY).when(register_filer(WANG, "王芳", account="zhangwei")).then_rejected(
        "account_taken", account="zhangwei", owner=ZHANG)


def test_only_the_coordinating_roles_register_filers():
    for actor in (clerk("sh-ipa"), filer_actor(ZHANG), {"user": "o", "role": "overseer"}):
        given().when({**register_filer(WANG, "王芳"), "actor": actor}).then_rejected("forbidden")


def test_a_proposal_id_may_not_name_a_filers_stream():
    with pytest.raises(ValueError, match="filer:"):
        given(*bureaus).when(submit(proposal="filer:d-zhang"))


# --- a proposal's filers --------------------------------------------------------------------------
def test_submit_links_each_name_to_the_one_filer_registered_under_it_and_the_affiliation():
    then = given(*bureaus, *REGISTRY, register_filer(WANG, "王芳", affiliation="经济界"),
                 ).when(submit(filers=[{"name": "张伟"}, {"name": "王芳"}, {"name": "赵六"}]))
    then.then_events(event("ProposalSubmitted", filers=["张伟", "王芳", "赵六"],
                           filer_ids=[ZHANG, None, None]))  # 王芳 is of another sector
    assert then.scenario.proposal().filed_by(ZHANG) and not then.scenario.proposal().filed_by(WANG)


def test_a_name_two_filers_share_links_neither():
    given(*bureaus, *REGISTRY, register_filer("d-zhang-2", "张伟")).when(
        submit(filers=[{"name": "张伟"}])).then_events(
        event("ProposalSubmitted", filer_ids=[None]))


def test_a_filer_named_by_id_must_be_registered():
    scenario = given(*bureaus, *REGISTRY)
    scenario.when(submit(filers=[{"name": "王芳", "id": WANG}])).then_rejected(
        "unknown_filer", filer=WANG)
    scenario.when(submit(filers=[{"name": "张卫", "id": ZHANG}])).then_events(
        event("ProposalSubmitted", filers=["张卫"], filer_ids=[ZHANG]))


def test_link_filers_links_names_recorded_before_the_registry():
    scenario = given(*bureaus, submit(filers=[{"name": "张伟"}, {"name": "李娜"}]),
                     assign(lead=["sh-ipa"]), *REGISTRY)
    assert scenario.proposal().filer_ids == (None, None)
    scenario.when({"type": "link_filers", "proposal": P, "filers": [{"id": LI}]}).then_events(
        event("FilersLinked", filers=[{"name": "李娜", "id": LI}]))
    assert scenario.proposal().filer_ids == (None, LI)
    scenario.when({"type": "link_filers", "proposal": P, "filers": [{"id": LI}]}
                  ).then_rejected("already_linked")
    scenario.when({"type": "link_filers", "proposal": P, "filers": [{"id": WANG}]}
                  ).then_rejected("unknown_filer", filer=WANG)
    given(*bureaus, submit(), register_filer(WANG, "王芳")).when(
        {"type": "link_filers", "proposal": P, "filers": [{"id": WANG}]}
    ).then_rejected("not_a_filer_name", name="王芳")
    scenario.when({"type": "link_filers", "proposal": P, "filers": [{"id": ZHANG}],
                   "actor": clerk("sh-ipa")}).then_rejected("forbidden")


def test_a_link_is_no_record_of_the_handling_and_moves_no_clock():
    scenario = given(*bureaus, submit(), assign(lead=["sh-ipa"], at="2020-03-01"), *REGISTRY)
    scenario.when({"type": "link_filers", "proposal": P, "filers": [{"id": ZHANG}],
                   "at": "2020-06-01"}).then_events(event("FilersLinked"))
    # a supervision imported afterwards, dated before the link, still follows the assignment
    scenario.when(supervise(at="2020-04-01")).then_events(event("ProposalSupervised"))


def test_a_proposal_submitted_before_filer_ids_reads_with_none_linked():
    v1 = {"type": "ProposalSubmitted", "schema_version": 1, "event_id": "e", "proposal_id": P,
          "seq": 1, "occurred_at": "2020-01-15T09:00:00+08:00",
          "recorded_at": "2020-01-15T09:00:00+08:00", "actor": {"user": "i", "role": "importer"},
          "command_id": "c", "kind": "cppcc_proposal", "level": "municipal", "year": 2020,
          "number": "1", "title": "t", "filers": ["张伟", "李娜"]}
    assert upcast(v1)["filer_ids"] == [None, None]
    assert load_event(v1).filer_ids == [None, None]


# --- a filer's own feedback ---------------------------------------------------------------------
def test_a_filer_rates_the_lead_reply_online_and_it_counts_as_theirs():
    scenario = given(*FILED, reply("sh-ipa", "planned"))
    scenario.when(record_feedback("sh-ipa", "basically_satisfied", comment="基本满意",
                                  actor=filer_actor(LI))).then_events(
        event("FeedbackRecorded", satisfaction="basically_satisfied", channel="online"))
    duty = scenario.proposal().assignments["sh-ipa"]
    assert (duty.feedback, duty.feedback_recorder, duty.feedback_by_self) == (
        "basically_satisfied", "filer", False)
    scenario.when(record_feedback("sh-ipa", channel="phone", actor=filer_actor(LI))
                  ).then_events(event("FeedbackRecorded", channel="phone"))


def test_a_filers_dissatisfaction_lets_the_lead_reopen():
    scenario = given(*FILED, reply("sh-ipa", "reference"))
    scenario.when(reopen("sh-ipa", actor=clerk("sh-ipa"))).then_rejected("not_dissatisfied")
    scenario.when(record_feedback("sh-ipa", "dissatisfied", comment="未解决",
                                  actor=filer_actor(ZHANG))).then_events(event("FeedbackRecorded"))
    scenario.when(reopen("sh-ipa", actor=clerk("sh-ipa"))).then_events(event("HandlingReopened"))


def test_a_filer_rates_only_their_own_proposals_lead_replies():
    scenario = given(*FILED, submit("21002", filers=[{"name": "王芳"}]),
                     assign(Q, lead=["sh-ipa"]), reply("sh-ipa"),
                     reply("sh-ipa", proposal=Q), submit_opinion("sh-hrss"))
    # another's proposal is as unknown as one that does not exist
    scenario.when(record_feedback("sh-ipa", proposal=Q, actor=filer_actor(ZHANG))
                  ).then_rejected("unknown_proposal", proposal=Q)
    scenario.when(record_feedback("sh-ipa", proposal="2020-cppcc_proposal-9",
                                  actor=filer_actor(ZHANG))
                  ).then_rejected("unknown_proposal")
    scenario.when(record_feedback("sh-hrss", actor=filer_actor(ZHANG))).then_rejected("not_lead")
    # a filer token without its id in the registry files nothing
    scenario.when(record_feedback("sh-ipa", actor={"user": "x", "role": "filer"})
                  ).then_rejected("unknown_proposal")


def test_a_filers_rating_is_dated_today():
    scenario = given(*FILED, reply("sh-ipa", at="2020-03-01")).on("2020-04-01T10:00:00")
    scenario.when(record_feedback("sh-ipa", actor=filer_actor(ZHANG), at="2020-03-20")
                  ).then_rejected("filer_backdated")
    scenario.when({**record_feedback("sh-ipa", actor=filer_actor(ZHANG)), "at": None}
                  ).then_events(event("FeedbackRecorded"))


# --- who reads what -------------------------------------------------------------------------------
def _history(scenario, stream: str = P) -> list[dict]:
    return [{"type": e.type, "bureau": e.__dict__.get("bureau"), "command_id": e.command_id,
             "actor": e.actor.model_dump(), "recorded_by": None}
            for e in scenario.streams[stream]]


def _seen(actor: Actor, scenario, cosign: bool = False) -> list[str]:
    parties = Parties.of(scenario.proposal(), cosign=cosign)
    return [e["type"] for e in _history(scenario)
            if event_for(actor, "read:proposal", e, parties) is not None]


LIFE = (*FILED, acknowledge("sh-ipa"), log_contact("sh-ipa"), submit_opinion("sh-hrss"),
        {"type": "draft_reply", "proposal": P, "bureau": "sh-ipa", "result": "solved"},
        {"type": "sign_off_reply", "proposal": P, "bureau": "sh-hrss", "lead": "sh-ipa"},
        {"type": "regrade_reply", "proposal": P, "bureau": "sh-ipa", "result": "planned",
         "reason": "尚在计划中"},
        {"type": "approve_reply", "proposal": P, "bureau": "sh-ipa", "signed_by": "局长"},
        decide_disclosure("sh-ipa"), supervise(bureau="sh-ipa", note="加快办理"),
        record_feedback("sh-ipa", actor=filer_actor(ZHANG)))
SHOWN_TO_FILERS = ["ProposalSubmitted", "ProposalAssigned", "AssignmentAcknowledged",
                   "ContactLogged", "ReplyIssued", "DisclosureDecided", "FeedbackRecorded"]


def _lived():
    return given(*LIFE, profile=PROFILES["reviewed"])


def test_a_filer_reads_the_handling_and_none_of_the_internal_records():
    scenario = _lived()
    assert _seen(Actor(user="zhangwei", role="filer", filer=ZHANG), scenario) == SHOWN_TO_FILERS
    assert _seen(Actor(user="lina", role="filer", filer=LI), scenario) == SHOWN_TO_FILERS
    for stranger in (Actor(user="w", role="filer", filer=WANG), Actor(user="w", role="filer")):
        assert _seen(stranger, scenario) == []


def test_a_filer_sees_the_command_ids_of_their_own_records_only():
    scenario = _lived()
    parties = Parties.of(scenario.proposal())
    zhang = Actor(user=ZHANG, role="filer", filer=ZHANG)
    li = Actor(user=LI, role="filer", filer=LI)
    feedback = _history(scenario)[-1]
    assert event_for(zhang, "read:proposal", feedback, parties)["command_id"] is not None
    assert event_for(li, "read:proposal", feedback, parties)["command_id"] is None
    reply_event = next(e for e in _history(scenario) if e["type"] == "ReplyIssued")
    assert event_for(zhang, "read:live", reply_event, parties)["command_id"] is None


def test_every_event_type_is_shown_to_filers_or_kept_internal_as_the_workbench_says():
    internal = {"ReplyDrafted", "ReplySignedOff", "ReplyRegraded", "ReplyApproved",
                "OpinionSubmitted", "AssignmentReturned", "ProposalSupervised"}
    shown = {"ProposalSubmitted", "ProposalAssigned", "ProposalReassigned",
             "AssignmentAcknowledged", "ContactLogged", "ReplyIssued", "DisclosureDecided",
             "FeedbackRecorded", "HandlingReopened", "DeadlineExtended", "ProposalWithdrawn",
             "ProposalMerged", "ResultRevised", "FilersLinked"}
    for name, cls in EVENT_TYPES.items():
        if name in shown:
            assert "filers" in cls.shown_to, name
        elif name in internal:
            assert "filers" not in cls.shown_to, name


def test_the_lead_reads_its_co_handlers_opinions_and_sign_offs():
    scenario = _lived()
    lead = Actor(user="a", role="clerk", bureau="sh-ipa")
    seen = _seen(lead, scenario)
    assert "OpinionSubmitted" in seen and "ReplySignedOff" in seen
    assert "AssignmentAcknowledged" in seen  # its own
    # another bureau reads nothing of it; the co-handler not the lead's contacts
    assert _seen(Actor(user="b", role="clerk", bureau="sh-stcsm"), scenario) == []
    assert "ContactLogged" not in _seen(Actor(user="c", role="clerk", bureau="sh-hrss"),
                                        scenario, cosign=True)


def test_a_co_handler_asked_to_sign_off_reads_the_draft_and_only_then():
    scenario = _lived()
    co = Actor(user="c", role="clerk", bureau="sh-hrss")
    asked = _seen(co, scenario, cosign=True)
    assert "ReplyDrafted" in asked and "ReplyRegraded" in asked
    assert "ReplyIssued" not in asked and "ReplyApproved" not in asked
    assert "ReplyDrafted" not in _seen(co, scenario, cosign=False)  # no co-signing: not its
    other = given(*bureaus, submit(), assign(lead=["sh-ipa"], co=["sh-hrss", "sh-jrj"]),
                  return_("sh-jrj"),
                  {"type": "draft_reply", "proposal": P, "bureau": "sh-ipa", "result": "solved"},
                  profile=PROFILES["reviewed"])
    # a co-handler that returned it is asked nothing
    assert "ReplyDrafted" not in _seen(Actor(user="j", role="clerk", bureau="sh-jrj"), other,
                                       cosign=True)
    # nor does a lead that returned its duty read the co-handlers' opinions after
    split = given(*bureaus, submit(), assign(lead=["sh-ipa", "sh-jrj"], co=["sh-hrss"]),
                  return_("sh-jrj"), submit_opinion("sh-hrss"))
    assert "OpinionSubmitted" not in _seen(Actor(user="j", role="clerk", bureau="sh-jrj"), split)
    assert "OpinionSubmitted" in _seen(Actor(user="i", role="clerk", bureau="sh-ipa"), split)


def test_the_state_a_filer_reads_has_no_draft_opinion_supervision_or_return():
    scenario = given(*bureaus, *REGISTRY,
                     submit(filers=[{"name": "张伟"}]),
                     assign(lead=["sh-ipa"], co=["sh-hrss", "sh-jrj"]), return_("sh-jrj"),
                     submit_opinion("sh-hrss"), supervise(bureau="sh-ipa"),
                     {"type": "draft_reply", "proposal": P, "bureau": "sh-ipa",
                      "result": "solved"})
    p = scenario.proposal()
    seen = proposal_for(Actor(user="z", role="filer", filer=ZHANG), p)
    assert isinstance(seen, Proposal)
    assert set(seen.assignments) == {"sh-ipa", "sh-hrss"}
    assert seen.assignments["sh-ipa"].draft is None and seen.supervisions == 0
    assert seen.assignments["sh-ipa"].supervisions == 0
    assert seen.assignments["sh-hrss"].opinions == 0
    assert seen.assignments["sh-ipa"].due == p.assignments["sh-ipa"].due
    assert proposal_for(Actor(user="l", role="filer", filer=LI), p) is None
    assert proposal_for(Actor(user="l", role="filer"), p) is None
    clerk_view = proposal_for(Actor(user="c", role="clerk", bureau="sh-hrss"), p)
    assert clerk_view is not None and set(clerk_view.assignments) == {"sh-hrss"}
    assert proposal_for(Actor(user="o", role="overseer"), p) is p
    assert proposal_for(Actor(user="c", role="clerk", bureau="sh-stcsm"), p) is None


def test_parties_of_a_proposal():
    scenario = given(*FILED, return_("sh-hrss"))
    parties = Parties.of(scenario.proposal(), cosign=True)
    assert parties == Parties(bureaus=frozenset({"sh-ipa", "sh-hrss"}),
                              leads=frozenset({"sh-ipa"}), cos=frozenset(),
                              filers=frozenset({ZHANG, LI}), cosign=True)
    assert scenario.proposal().assignments["sh-ipa"].due == date(2020, 4, 15)


def test_the_readers_of_one_audience_see_every_event_alike_and_the_others_apart():
    """The live feed filters and encodes a batch once per audience (the readers of one
    vantage on read:live): that is only right if event_for answers every reader of one alike,
    for every event of a proposal's life, under either action and either profile's sign-off
    rule."""
    readers = [Actor(user="o1", role="overseer"), Actor(user="o2", role="coordinator"),
               Actor(user="o3", role="admin"),
               Actor(user="c1", role="clerk", bureau="sh-ipa"),
               Actor(user="c2", role="clerk", bureau="sh-ipa"),
               Actor(user="c3", role="clerk", bureau="sh-hrss"),
               Actor(user="c4", role="clerk", bureau="sh-fin"),
               Actor(user=ZHANG, role="filer", filer=ZHANG),
               Actor(user="zhangwei", role="filer", filer=ZHANG),
               Actor(user=LI, role="filer", filer=LI), Actor(user="imp", role="importer")]
    scenario = _lived()
    history = _history(scenario)
    for action in ("read:live", "read:proposal"):
        groups: dict[tuple, list[Actor]] = {}
        for actor in readers:
            groups.setdefault(vantage(actor, (action,)), []).append(actor)
        assert len(groups) == 8  # oversight, 3 bureaus, 3 filers' users, the importer
        for cosign in (False, True):
            parties = Parties.of(scenario.proposal(), cosign=cosign)
            seen = {a.user: [event_for(a, action, e, parties) for e in history] for a in readers}
            for members in groups.values():
                assert all(seen[a.user] == seen[members[0].user] for a in members), members
            # apart: the two bureaus on it, and the lead filer's two accounts, see differently
            assert seen["c1"] != seen["c3"] and seen["c3"] != seen["c4"]
            assert seen[ZHANG] != seen["zhangwei"] and seen["o1"] != seen["c1"]

