"""Events: what happened, in the past tense, never changed. Old versions are upcast on read."""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any, Callable, Literal, Union, get_args

from pydantic import Field, TypeAdapter, ValidationError

from .types import (
    Actor,
    BureauId,
    ContactMethod,
    ContactStage,
    DisclosureChoice,
    FeedbackChannel,
    Frozen,
    Kind,
    Level,
    Result,
    Role,
    Satisfaction,
)


class Event(Frozen):
    """The envelope every event carries (DOMAIN.md): identity, order, both clocks, the actor
    (whose act it was), who recorded it when that was someone else (`recorded_by`: an importer
    bringing in another's act; none when the actor entered it, as for every event written
    before it, whose JSON it leaves as it was) and the command that caused it."""

    event_id: str
    proposal_id: str
    seq: int = Field(ge=1)
    schema_version: int = 1
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    recorded_by: Actor | None = Field(default=None, exclude_if=lambda value: value is None)
    command_id: str
    if TYPE_CHECKING:  # each event's own Literal field (an annotation here would move it)
        type: str


ENVELOPE_FIELDS = frozenset(Event.model_fields) | {"type"}


class BureauRegistered(Event):
    type: Literal["BureauRegistered"] = "BureauRegistered"
    bureau: BureauId
    name: str
    name_en: str = ""


class ProposalSubmitted(Event):
    type: Literal["ProposalSubmitted"] = "ProposalSubmitted"
    kind: Kind
    level: Level
    year: int
    number: str
    title: str
    filers: list[str] = Field(default_factory=list)
    affiliation: str = ""
    topics: list[str] = Field(default_factory=list)
    summary: str = ""
    key_item: bool = False


class Duty(Frozen):
    """One bureau's duty as assigned: its role and its deadline (reply for a lead, opinion for a
    co-handler), fixed at assignment so that later profile changes never rewrite history."""

    bureau: BureauId
    role: Role
    due: date


class ProposalAssigned(Event):
    type: Literal["ProposalAssigned"] = "ProposalAssigned"
    duties: list[Duty]


class AssignmentAcknowledged(Event):
    type: Literal["AssignmentAcknowledged"] = "AssignmentAcknowledged"
    bureau: BureauId


class AssignmentReturned(Event):
    type: Literal["AssignmentReturned"] = "AssignmentReturned"
    bureau: BureauId
    reason: str


class ProposalReassigned(Event):
    type: Literal["ProposalReassigned"] = "ProposalReassigned"
    added: list[Duty] = Field(default_factory=list)
    removed: list[BureauId] = Field(default_factory=list)


class ContactLogged(Event):
    type: Literal["ContactLogged"] = "ContactLogged"
    bureau: BureauId
    stage: ContactStage
    method: ContactMethod
    note: str = ""


class OpinionSubmitted(Event):
    type: Literal["OpinionSubmitted"] = "OpinionSubmitted"
    bureau: BureauId
    summary: str = ""


class ReplyIssued(Event):
    """Schema v2 added `signed_by` (签发人) and names results; v1 carried the letter grade."""

    type: Literal["ReplyIssued"] = "ReplyIssued"
    schema_version: int = 2
    bureau: BureauId
    result: Result
    summary: str = ""
    signed_by: str | None = None


class ReplyDrafted(Event):
    type: Literal["ReplyDrafted"] = "ReplyDrafted"
    bureau: BureauId
    result: Result
    summary: str = ""


class ReplySignedOff(Event):
    """A co-handler (`bureau`) signed off the lead's (`lead`) draft (会签)."""

    type: Literal["ReplySignedOff"] = "ReplySignedOff"
    bureau: BureauId
    lead: BureauId
    remark: str = ""


class ReplyRegraded(Event):
    """The coordinator changed the result class of `bureau`'s draft from `previous`."""

    type: Literal["ReplyRegraded"] = "ReplyRegraded"
    bureau: BureauId
    result: Result
    previous: Result
    reason: str


class ReplyApproved(Event):
    """The lead bureau's leader approved the draft (签发); a ReplyIssued follows it."""

    type: Literal["ReplyApproved"] = "ReplyApproved"
    bureau: BureauId
    signed_by: str


class DisclosureDecided(Event):
    type: Literal["DisclosureDecided"] = "DisclosureDecided"
    bureau: BureauId
    disclosure: DisclosureChoice
    reason: str = ""
    url: str | None = None


class FeedbackRecorded(Event):
    """Schema v2 added `channel` (online, paper, phone; None: not stated, as in v1)."""

    type: Literal["FeedbackRecorded"] = "FeedbackRecorded"
    schema_version: int = 2
    bureau: BureauId
    satisfaction: Satisfaction
    comment: str = ""
    channel: FeedbackChannel | None = None


class HandlingReopened(Event):
    type: Literal["HandlingReopened"] = "HandlingReopened"
    bureau: BureauId
    reason: str
    reply_due: date


class ResultRevised(Event):
    type: Literal["ResultRevised"] = "ResultRevised"
    bureau: BureauId
    result: Result
    note: str = ""


class DeadlineExtended(Event):
    type: Literal["DeadlineExtended"] = "DeadlineExtended"
    bureau: BureauId
    reply_due: date
    reason: str


class ProposalSupervised(Event):
    type: Literal["ProposalSupervised"] = "ProposalSupervised"
    bureau: BureauId | None = None
    note: str = ""


class ProposalWithdrawn(Event):
    type: Literal["ProposalWithdrawn"] = "ProposalWithdrawn"
    reason: str


class ProposalMerged(Event):
    type: Literal["ProposalMerged"] = "ProposalMerged"
    into: str


AnyEvent = Annotated[
    Union[
        BureauRegistered, ProposalSubmitted, ProposalAssigned, AssignmentAcknowledged,
        AssignmentReturned, ProposalReassigned, ContactLogged, OpinionSubmitted, ReplyIssued,
        DisclosureDecided, FeedbackRecorded, HandlingReopened, ResultRevised, DeadlineExtended,
        ProposalSupervised, ProposalWithdrawn, ProposalMerged, ReplyDrafted, ReplySignedOff,
        ReplyRegraded, ReplyApproved,
    ],
    Field(discriminator="type"),
]
EVENT_ADAPTER: TypeAdapter[AnyEvent] = TypeAdapter(AnyEvent)

# --- upcasting -------------------------------------------------------------------------------
# (type, version) -> a function from that version's dict to the next version's dict.
Upcaster = Callable[[dict[str, Any]], dict[str, Any]]
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
CURRENT_VERSION: dict[str, int] = {
    cls.model_fields["type"].default: cls.model_fields["schema_version"].default
    for cls in get_args(get_args(AnyEvent)[0])
}


def upcaster(event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
    def register(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        return fn

    return register


_GRADES = {"A": "solved", "B": "planned", "C": "deferred", "D": "reference"}


@upcaster("ReplyIssued", 1)
def _reply_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 replies stored the result as the letter grade (A-D) of the paper forms and had no
    signer; v2 names the result and records `signed_by` (unknown for old replies)."""
    data = dict(data)
    grade = data.get("result")
    data["result"] = _GRADES.get(grade, grade) if isinstance(grade, str) else grade
    data.setdefault("signed_by", None)
    data["schema_version"] = 2
    return data


@upcaster("FeedbackRecorded", 1)
def _feedback_v1_to_v2(data: dict[str, Any]) -> dict[str, Any]:
    """v1 feedback did not say how it was received: its channel is unknown (None), never
    guessed."""
    data = dict(data)
    data.setdefault("channel", None)
    data["schema_version"] = 2
    return data


def upcast(data: dict[str, Any]) -> dict[str, Any]:
    """Bring a stored event dict up to the current schema, one version at a time."""
    event_type: str = data.get("type", "")
    version: int = data.get("schema_version", 1)
    while (event_type, version) in UPCASTERS:
        data = UPCASTERS[(event_type, version)](data)
        version = data["schema_version"]
    return data


def load_event(data: dict[str, Any] | str | bytes) -> AnyEvent:
    """Read a stored event (dict or JSON) of any known version as the current model."""
    if not isinstance(data, dict):
        if (event := _load_current(data)) is not None:
            return event
        return EVENT_ADAPTER.validate_python(upcast(json.loads(data)))
    return EVENT_ADAPTER.validate_python(upcast(data))


def _load_current(text: str | bytes) -> AnyEvent | None:
    """The event in `text` parsed and validated in one pass by pydantic-core (replay reads every
    event of the log, and this is twice as fast as json.loads + validate_python), when it needs
    no upcasting; else None, and the caller takes the long way (which also reports the errors
    of JSON that does not validate). The version is the one `upcast` would see: the stored
    `schema_version`, or 1 when the JSON has none (the model's default may be later)."""
    try:
        event = EVENT_ADAPTER.validator.validate_json(text)
    except ValidationError:
        return None
    version = event.schema_version if "schema_version" in event.__pydantic_fields_set__ else 1
    return None if (event.type, version) in UPCASTERS else event


def event_payload(event: Event) -> dict[str, Any]:
    """The event's own data, without the envelope."""
    return event.model_dump(mode="json", exclude=set(ENVELOPE_FIELDS))
