"""The command registry: one declaration per command type — its class, the roles that may send
it, its decider, the events it may produce, the clock its business time follows, its HTTP route
and its name for people. Everything else is derived from here: the command union and its
validator, the permission table's command rows, the dispatch of `decide`, the workflow routes,
the page's list of commands (served by the API) and the tests' lists.

Adding a command: its class (commands.py), its events (events.py), its decider (deciders.py),
its line here, `evolve` for its events (proposal.py), the projector if it changes a row, tests.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Mapping, Union

from pydantic import Field, TypeAdapter

from . import commands as c
from . import deciders as d
from . import events as e
from .types import ActorRole

Reach = Literal["all", "own", "self"]
# Who may send a command, and for which bureau: the permission table's rows for commands.
COORDINATING: Mapping[ActorRole, Reach] = {"coordinator": "all", "admin": "all",
                                           "importer": "all"}
BUREAUS: Mapping[ActorRole, Reach] = {"clerk": "own", "admin": "all", "importer": "all"}
FEEDBACK: Mapping[ActorRole, Reach] = {**BUREAUS, "coordinator": "all"}
SUPERVISION: Mapping[ActorRole, Reach] = {**COORDINATING, "overseer": "all"}  # 督办: oversight's

# What a command's business time follows (banli.domain.decide's rule of time): nothing before it
# ("none": a new stream), the duties it records on ("duty"), the proposal's own records too
# ("proposal"), or every record of the proposal ("closing").
Clock = Literal["none", "duty", "proposal", "closing"]


@dataclass(frozen=True)
class Spec:
    command: type[c.Command]
    decider: Callable[..., Any]
    events: tuple[type[e.Event], ...]
    roles: Mapping[ActorRole, Reach]
    clock: Clock
    title: tuple[str, str]  # zh, en
    # the HTTP route that takes it besides /api/commands: a path under /api and the service
    # whose API serves it
    route: str | None = None
    service: Literal["intake", "handling"] = "handling"
    on_proposal: bool = field(default=True)  # decided against an open proposal

    @property
    def type(self) -> str:
        return self.command.model_fields["type"].default


def _proposal(segment: str) -> str:
    return f"/proposals/{{proposal_id}}/{segment}"


REGISTRY: tuple[Spec, ...] = (
    Spec(c.RegisterBureau, d.register_bureau, (e.BureauRegistered,), COORDINATING, "none",
         ("登记承办单位", "register a bureau"), "/bureaus", "intake", on_proposal=False),
    Spec(c.Submit, d.submit, (e.ProposalSubmitted,), COORDINATING, "none",
         ("登记建议提案", "submit"), "/proposals", "intake", on_proposal=False),
    Spec(c.Assign, d.assign, (e.ProposalAssigned,), COORDINATING, "proposal",
         ("交办", "assign"), _proposal("assign"), "intake"),
    Spec(c.Acknowledge, d.acknowledge, (e.AssignmentAcknowledged,), BUREAUS, "duty",
         ("签收", "acknowledge"), _proposal("acknowledge")),
    Spec(c.Return, d.return_, (e.AssignmentReturned,), BUREAUS, "duty",
         ("退回", "return"), _proposal("return")),
    Spec(c.Reassign, d.reassign, (e.ProposalReassigned,), COORDINATING, "proposal",
         ("调整交办", "reassign")),
    Spec(c.LogContact, d.log_contact, (e.ContactLogged,), BUREAUS, "duty",
         ("沟通", "log a contact"), _proposal("contacts")),
    Spec(c.SubmitOpinion, d.submit_opinion, (e.OpinionSubmitted,), BUREAUS, "duty",
         ("提交会办意见", "submit an opinion"), _proposal("opinion")),
    Spec(c.Reply, d.reply, (e.ReplyIssued,), BUREAUS, "duty", ("答复", "reply"),
         _proposal("reply")),
    Spec(c.DecideDisclosure, d.decide_disclosure, (e.DisclosureDecided,), BUREAUS, "duty",
         ("公开决定", "decide disclosure"), _proposal("disclosure")),
    Spec(c.RecordFeedback, d.record_feedback, (e.FeedbackRecorded,), FEEDBACK, "duty",
         ("意见反馈", "record feedback"), _proposal("feedback")),
    Spec(c.Reopen, d.reopen, (e.HandlingReopened,), BUREAUS, "duty", ("重新办理", "reopen"),
         _proposal("reopen")),
    Spec(c.ReviseResult, d.revise_result, (e.ResultRevised,), BUREAUS, "duty",
         ("修订办理结果", "revise the result"), _proposal("revise-result")),
    Spec(c.ExtendDeadline, d.extend_deadline, (e.DeadlineExtended,), COORDINATING, "duty",
         ("批准延期", "extend the deadline"), _proposal("extend-deadline")),
    Spec(c.Supervise, d.supervise, (e.ProposalSupervised,), SUPERVISION, "proposal",
         ("督办", "supervise"), _proposal("supervise")),
    Spec(c.Withdraw, d.withdraw, (e.ProposalWithdrawn,), COORDINATING, "closing",
         ("撤回", "withdraw")),
    Spec(c.Merge, d.merge, (e.ProposalMerged,), COORDINATING, "closing", ("并案", "merge")),
    # review before a reply goes out: draft, co-handlers' sign-off (会签), the coordinator's
    # regrade, the leader's approval (签发) that issues it
    Spec(c.DraftReply, d.draft_reply, (e.ReplyDrafted,), BUREAUS, "duty",
         ("起草答复", "draft the reply"), _proposal("reply/draft")),
    Spec(c.SignOffReply, d.sign_off_reply, (e.ReplySignedOff,), BUREAUS, "duty",
         ("会签", "sign off the draft"), _proposal("reply/sign-off")),
    Spec(c.RegradeReply, d.regrade_reply, (e.ReplyRegraded,), COORDINATING, "duty",
         ("调整结果类别", "regrade the draft"), _proposal("reply/regrade")),
    Spec(c.ApproveReply, d.approve_reply, (e.ReplyApproved, e.ReplyIssued), BUREAUS, "duty",
         ("签发", "approve and issue"), _proposal("reply/approve")),
)

BY_CLASS: dict[type[c.Command], Spec] = {spec.command: spec for spec in REGISTRY}
BY_TYPE: dict[str, Spec] = {spec.type: spec for spec in REGISTRY}
COMMAND_TYPES: tuple[str, ...] = tuple(BY_TYPE)


def spec_of(command: c.Command) -> Spec:
    return BY_CLASS[type(command)]


# The command vocabulary as one validated union, discriminated by `type`. (For the type checker
# it is the common base: the union is made from the registry at run time.)
if TYPE_CHECKING:
    AnyCommand = c.Command
else:
    AnyCommand = Annotated[Union[tuple(BY_CLASS)], Field(discriminator="type")]
COMMAND_ADAPTER: TypeAdapter[c.Command] = TypeAdapter(AnyCommand)


def parse_command(data: dict | str | bytes) -> c.Command:
    """Validate a command from a dict or JSON text; raises pydantic.ValidationError."""
    if isinstance(data, (str, bytes)):
        return COMMAND_ADAPTER.validate_json(data)
    return COMMAND_ADAPTER.validate_python(data)


def vocabulary() -> list[dict[str, Any]]:
    """The commands as the page (and anyone reading the API) sees them: type, names, route,
    who may send them."""
    return [{"type": s.type, "title": s.title[0], "title_en": s.title[1], "route": s.route,
             "roles": dict(s.roles), "events": [ev.model_fields["type"].default
                                                for ev in s.events]} for s in REGISTRY]
