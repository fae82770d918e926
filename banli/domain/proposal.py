"""The Proposal aggregate (and the small Bureau and RegisteredFiler aggregates): its state, the context a decision
is made in, and `evolve`. The rules that decide commands are banli.domain.deciders' (run by
banli.domain.decide); `evolve` never refuses: events are facts."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Iterable, Literal, Protocol

from . import commands as c
from . import events as e
from .timing.deadlines import DEFAULT_PROFILE, Profile
from .directory import Enrolled, Entry, Keyed, Merged, Registered, Stated, directory_entries
from .types import (
    DisclosureChoice,
    FeedbackChannel,
    FeedbackRecorder,
    FilerKind,
    Frozen,
    Kind,
    Level,
    Result,
    ReviewState,
    Role,
    Satisfaction,
    business_date,
    replaced,
)
from .timing.workdays import NO_CALENDAR, Calendar


# --- state ----------------------------------------------------------------------------------
class ReplyDraft(Frozen):
    """A lead's reply under review: its result (as regraded), who has signed it off (会签)."""

    result: Result
    summary: str = ""
    drafted_on: date
    signed_off: tuple[str, ...] = ()
    regraded: bool = False


class ExtensionRequest(Frozen):
    """A lead's request for a later reply date, pending the coordinator's decision."""

    reply_due: date
    reason: str
    requested_on: date


class Assignment(Frozen):
    """One bureau's duty on one proposal, as far as the events so far tell."""

    bureau: str
    role: Role
    assigned_on: date
    due: date  # the reply deadline of a lead (after extensions) or the opinion deadline of a co
    # handed_over: it went to another bureau (`handed_to`), which holds it from then on
    status: Literal["active", "returned", "removed", "handed_over"] = "active"
    acknowledged: bool = False
    contacts: int = 0
    contacted_before_reply: bool = False
    opinions: int = 0
    first_opinion_on: date | None = None
    replies: int = 0
    first_reply_on: date | None = None
    last_reply_on: date | None = None  # the reply whose disclosure is due (Profile.disclosure_due)
    published_on: date | None = None  # when that reply was first disclosed in full or summary
    awaiting_reply: bool = True
    reopen_due: date | None = None
    extensions: int = 0
    result: Result | None = None
    disclosure: DisclosureChoice | None = None
    first_disclosure: DisclosureChoice | None = None  # before any review changed it
    feedback: Satisfaction | None = None
    feedback_on_reply: Satisfaction | None = None  # on the latest reply; a reopen needs it
    feedback_channel: FeedbackChannel | None = None  # of the latest feedback
    feedback_by_self: bool = False  # the latest feedback was recorded by this very bureau
    feedback_recorder: FeedbackRecorder | None = None  # who recorded the latest feedback
    draft: ReplyDraft | None = None  # a lead's reply under review, until it is issued
    supervisions: int = 0
    extension_request: ExtensionRequest | None = None  # pending: neither approved nor denied
    last_at: datetime  # the duty's clock: its assignment and the latest record on it
    handed_to: str | None = None  # handed over: the bureau that took it
    formerly: tuple[str, ...] = ()  # the bureaus that held it before this one (handovers)

    @property
    def active(self) -> bool:
        return self.status == "active"


class Proposal(Frozen):
    id: str
    kind: Kind
    level: Level
    year: int
    number: str
    title: str
    filers: tuple[str, ...] = ()
    filer_ids: tuple[str | None, ...] = ()  # each filer's id in the registry, None: not linked
    affiliation: str = ""
    topics: tuple[str, ...] = ()
    key_item: bool = False
    # closed when withdrawn, merged, or not filed by the office's review (不立案)
    status: Literal["open", "withdrawn", "merged", "not_filed"] = "open"
    merged_into: str | None = None
    # The office's review (审查立案): "filed" unless the proposal was received for review (a
    # history without review events is filed on submit). `received_on` and `review_due`: the
    # latest receipt (the submission, or a resubmission) and its review's due date;
    # `reviewed_on`: the latest decision (filed, merged, not filed, returned); `returns`: how
    # many times it went back to its filer for revision.
    review: ReviewState = "filed"
    received_on: date | None = None
    review_due: date | None = None
    reviewed_on: date | None = None
    returns: int = 0
    referred_to: tuple[str, ...] = ()  # not filed: the bodies it was passed on to
    filer_kind: FilerKind = "person"  # the lead filer's: a collective's makes it collective
    area: str = ""
    assignments: dict[str, Assignment] = {}
    ever_assigned: bool = False
    supervisions: int = 0
    version: int = 0
    submitted_at: datetime
    last_at: datetime  # the proposal's own clock: submission, (re)assignment, supervision, closing

    @property
    def natural_key(self) -> str:
        return c.natural_key(self.level, self.kind, self.year, self.number)

    def duty(self, bureau: str) -> Assignment | None:
        """The bureau's active assignment, if it has one."""
        found = self.assignments.get(bureau)
        return found if found is not None and found.active else None

    def active_duties(self) -> list[Assignment]:
        return [a for a in self.assignments.values() if a.active]

    def filed_by(self, filer: str | None) -> bool:
        """Whether the registered filer `filer` is one of the proposal's (lead or co-signer)."""
        return filer is not None and filer in self.filer_ids

    def latest_record_at(self) -> datetime:
        """The business time of the proposal's latest record, of any duty."""
        return max([self.last_at, *(a.last_at for a in self.assignments.values())])


class BureauName(Frozen):
    """A bureau's names from a business day on (until the next rename)."""

    since: date
    name: str
    name_en: str = ""
    short_names: tuple[str, ...] = ()


class Bureau(Frozen):
    """A bureau as offices name it: its full name, short names (简称) and former names (every
    name it had before: registered as such, or left by a rename), its names over time
    (`names`: the first holds for every day before it too), and whether it was merged into
    another (机构改革), from when."""

    id: str
    name: str
    name_en: str = ""
    short_names: tuple[str, ...] = ()
    former_names: tuple[str, ...] = ()
    names: tuple[BureauName, ...] = ()
    merged_into: str | None = None
    merged_at: datetime | None = None
    version: int = 0
    last_at: datetime

    def named_on(self, day: date) -> BureauName:
        """Its names as of `day`: the last rename on or before it (the first names before
        any)."""
        found = self.names[0] if self.names else BureauName(
            since=day, name=self.name, name_en=self.name_en, short_names=self.short_names)
        for names in self.names:
            if names.since <= day:
                found = names
        return found


class RegisteredFiler(Frozen):
    """A deputy or member in the filer registry."""

    id: str
    name: str
    kind: FilerKind = "person"
    affiliation: str = ""
    term: str = ""
    account: str = ""
    version: int = 0
    last_at: datetime


State = Proposal | Bureau | RegisteredFiler | None


# --- context --------------------------------------------------------------------------------
class Directory(Protocol):
    """What a decision may ask beyond its own aggregate: registered bureaus and their names (a
    refusal names a bureau by its name), the bureaus merged into others, the owner of a natural
    key, and another proposal's status (for merge). Read-only."""

    def has_bureau(self, bureau: str) -> bool: ...

    def bureau_name(self, bureau: str) -> tuple[str, str] | None:
        """A registered bureau's name and English name ("" when it has none), or None."""

    def merged_into(self, bureau: str) -> tuple[str, datetime] | None:
        """The bureau a merged bureau went into and the business time of the merger, or None
        (not merged, or not registered)."""

    def owner_of(self, natural_key: str) -> str | None: ...

    def proposal_status(self, proposal_id: str) -> str | None: ...

    # The filer registry: the name a filer is registered under (None: not registered), the ids
    # registered under a name and affiliation, an account's filer.
    def filer_name(self, filer: str) -> str | None: ...

    def filers_named(self, name: str, affiliation: str) -> list[str]: ...

    def filer_of_account(self, account: str) -> str | None: ...


@dataclass
class MemoryDirectory:
    """A directory kept in memory, updated from the events it is shown."""

    bureaus: dict[str, tuple[str, str]] = field(default_factory=dict)  # id -> (name, name_en)
    keys: dict[str, str] = field(default_factory=dict)
    statuses: dict[str, str] = field(default_factory=dict)
    filers: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # id -> name, aff., account
    merged: dict[str, tuple[str, datetime]] = field(default_factory=dict)  # id -> into, when

    def has_bureau(self, bureau: str) -> bool:
        return bureau in self.bureaus

    def bureau_name(self, bureau: str) -> tuple[str, str] | None:
        return self.bureaus.get(bureau)

    def merged_into(self, bureau: str) -> tuple[str, datetime] | None:
        return self.merged.get(bureau)

    def owner_of(self, natural_key: str) -> str | None:
        return self.keys.get(natural_key)

    def proposal_status(self, proposal_id: str) -> str | None:
        return self.statuses.get(proposal_id)

    def filer_name(self, filer: str) -> str | None:
        found = self.filers.get(filer)
        return found[0] if found is not None else None

    def filers_named(self, name: str, affiliation: str) -> list[str]:
        return sorted(f for f, (n, a, _) in self.filers.items() if (n, a) == (name, affiliation))

    def filer_of_account(self, account: str) -> str | None:
        return next((f for f, (_, _, a) in self.filers.items() if account and a == account), None)

    def observe(self, event: e.Event) -> None:
        for entry in directory_entries(event):
            self.apply(entry)

    def apply(self, entry: Entry) -> None:
        match entry:
            case Registered():
                self.bureaus[entry.bureau] = (entry.name, entry.name_en)
            case Enrolled():
                self.filers[entry.filer] = (entry.name, entry.affiliation, entry.account)
            case Keyed():
                self.keys[entry.natural_key] = entry.proposal_id
            case Stated():
                self.statuses[entry.proposal_id] = entry.status
            case Merged():
                self.merged[entry.bureau] = (entry.into, entry.at)


@dataclass(frozen=True)
class Context:
    """What the caller supplies besides state and command: the system clock's reading
    (`recorded_at`, also "now" for a command without a business time), the deadline profile,
    the directory, the working-day calendar (without one, every rule that counts working days
    refuses), and how many days back a clerk may date a record (`clerk_backdate_days`)."""

    recorded_at: datetime
    profile: Profile = DEFAULT_PROFILE
    directory: Directory = field(default_factory=MemoryDirectory)
    calendar: Calendar = NO_CALENDAR
    clerk_backdate_days: int = 30


# --- evolve ---------------------------------------------------------------------------------
def evolve(state: State, event: e.Event) -> State:
    """The state after one more event. Events are facts: evolve never refuses. Folding the
    events dated on or before a day, in the order they were recorded, gives the state as of
    that day: each duty's records are in business-time order, and so are the proposal's own."""
    at = event.occurred_at
    match event:
        case e.BureauRegistered():
            short = tuple(event.short_names)
            return Bureau(id=event.bureau, name=event.name, name_en=event.name_en,
                          short_names=short, former_names=tuple(event.former_names),
                          names=(BureauName(since=business_date(at), name=event.name,
                                            name_en=event.name_en, short_names=short),),
                          version=event.seq, last_at=at)
        case e.FilerRegistered():
            return RegisteredFiler(id=event.filer, name=event.name, kind=event.kind,
                                   affiliation=event.affiliation, term=event.term,
                                   account=event.account, version=event.seq, last_at=at)
        case e.ProposalSubmitted():
            return Proposal(
                id=event.proposal_id, kind=event.kind, level=event.level, year=event.year,
                number=event.number, title=event.title, filers=tuple(event.filers),
                filer_ids=_aligned(event.filer_ids, len(event.filers)),
                affiliation=event.affiliation, topics=tuple(event.topics),
                key_item=event.key_item, filer_kind=event.filer_kind, area=event.area,
                version=event.seq, submitted_at=at, last_at=at)
    if isinstance(state, Bureau):
        return _bureau_changed(state, event)
    assert isinstance(state, Proposal), f"{event.type} before ProposalSubmitted"
    update: dict[str, Any] = {"version": event.seq}
    day = business_date(at)
    match event:
        case e.ProposalAssigned(duties=duties) | e.ProposalReassigned(added=duties):
            assignments = dict(state.assignments)
            removed = event.removed if isinstance(event, e.ProposalReassigned) else ()
            for bureau in removed:
                assignments[bureau] = replaced(assignments[bureau], {
                    "status": "removed", "last_at": _later(assignments[bureau].last_at, at)})
            for given in duties:
                assignments[given.bureau] = Assignment(bureau=given.bureau, role=given.role,
                                                       assigned_on=day, due=given.due, last_at=at)
            update.update(assignments=assignments, ever_assigned=True)
        case e.ProposalSupervised():
            update["supervisions"] = state.supervisions + 1
            if event.bureau is not None:
                duty = state.assignments[event.bureau]
                update["assignments"] = _with(state, event.bureau,
                                              supervisions=duty.supervisions + 1,
                                              last_at=_later(duty.last_at, at))
        case e.KeyItemMarked():
            update["key_item"] = event.key
        case e.ProposalWithdrawn():
            update["status"] = "withdrawn"
        case e.ProposalMerged():
            update.update(status="merged", merged_into=event.into)
            if state.review in ("pending", "returned"):  # the review's outcome: 并案
                update.update(review="merged", reviewed_on=day)
        case e.ProposalReceived():
            update.update(review="pending", received_on=day, review_due=event.review_due)
        case e.ProposalFiled():
            update.update(review="filed", reviewed_on=day, area=event.area or state.area)
        case e.FilingDeclined():
            update.update(review="not_filed", status="not_filed", reviewed_on=day,
                          referred_to=tuple(event.referred_to))
        case e.RevisionRequested():
            update.update(review="returned", reviewed_on=day, returns=state.returns + 1)
        case e.ProposalResubmitted():
            update.update(review="pending", received_on=day, review_due=event.review_due)
            update.update({name: value for name, value in (
                ("title", event.title), ("area", event.area),
                ("topics", None if event.topics is None else tuple(event.topics)))
                if value is not None})
        case e.FilersLinked():  # who filed it: no record of the handling, no clock moves
            update["filer_ids"] = linked(state, event.filers)
            return replaced(state, update)
        case e.DutyHandedOver():  # a record on both duties, not of the proposal's own
            update["assignments"] = _handed_over(state, event.from_bureau, event.to_bureau, at)
            return replaced(state, update)
        case e.ReplySignedOff():  # the sign-off is a record of the co-handler's and on the draft
            lead, co = state.assignments[event.lead], state.assignments[event.bureau]
            assert lead.draft is not None, "a sign-off needs a draft"
            assignments = dict(state.assignments)
            assignments[event.lead] = replaced(lead, {
                "draft": replaced(lead.draft, {"signed_off": (*lead.draft.signed_off,
                                                              event.bureau)}),
                "last_at": _later(lead.last_at, at)})
            assignments[event.bureau] = replaced(co, {"last_at": _later(co.last_at, at)})
            update["assignments"] = assignments
            return replaced(state, update)
        case _ if not event.changes_state:
            # a record that changes nothing else: the clock of the duty it is on moves (an
            # event about a duty names its bureau), else the proposal's own, below
            if (on := state.assignments.get(event.__dict__.get("bureau") or "")) is not None:
                update["assignments"] = _with(state, on.bureau, last_at=_later(on.last_at, at))
                return replaced(state, update)
        case _:
            duty = state.assignments[event.__dict__["bureau"]]  # every other duty event has one
            update["assignments"] = _with(state, duty.bureau, **_duty_change(duty, event, day),
                                          last_at=_later(duty.last_at, at))
            return replaced(state, update)
    update["last_at"] = _later(state.last_at, at)  # one of the proposal's own records
    return replaced(state, update)


def _bureau_changed(state: Bureau, event: e.Event) -> Bureau:
    """A registered bureau after a rename or its merger."""
    at = event.occurred_at
    match event:
        case e.BureauRenamed():
            short = tuple(event.short_names)
            current = {event.name, *short}
            former = [*state.former_names, state.name, *state.short_names]
            return replaced(state, {
                "name": event.name, "name_en": event.name_en, "short_names": short,
                "former_names": tuple(n for n in dict.fromkeys(former) if n not in current),
                "names": (*state.names, BureauName(since=business_date(at), name=event.name,
                                                   name_en=event.name_en, short_names=short)),
                "version": event.seq, "last_at": _later(state.last_at, at)})
        case e.BureauMerged():
            return replaced(state, {"merged_into": event.into, "merged_at": at,
                                    "version": event.seq, "last_at": _later(state.last_at, at)})
    raise TypeError(f"no evolution of a bureau for {event.type}")


def _handed_over(state: Proposal, source: str, target: str, at: datetime
                 ) -> dict[str, Assignment]:
    """The duties after `source`'s went to `target` at `at`. Where `target` already holds an
    active duty the two become one: `source`'s, if it was the lead and `target`'s a
    co-handler's (the lead's work goes on), else `target`'s own (a co-handler's opinion to
    itself, or a second lead's part of a reply it gives anyway, ends)."""
    assignments = dict(state.assignments)
    old, held = assignments[source], assignments.get(target)
    if held is None or not held.active or (old.role == "lead" and held.role == "co"):
        clock = old.last_at if held is None else _later(old.last_at, held.last_at)
        assignments[target] = replaced(old, {"bureau": target, "formerly": (*old.formerly, source),
                                             "last_at": _later(clock, at)})
    else:
        assignments[target] = replaced(held, {"last_at": _later(held.last_at, at)})
    assignments[source] = replaced(old, {"status": "handed_over", "handed_to": target,
                                         "last_at": _later(old.last_at, at)})
    for bureau, duty in assignments.items():  # a draft `source` signed off: its successor did
        if duty.draft is not None and source in duty.draft.signed_off:
            signed = tuple(dict.fromkeys(target if b == source else b
                                         for b in duty.draft.signed_off))
            assignments[bureau] = replaced(duty, {"draft": replaced(duty.draft,
                                                                    {"signed_off": signed})})
    return assignments


def _aligned(ids: list[str | None], count: int) -> tuple[str | None, ...]:
    """One id (or None) per filer named."""
    return (*ids[:count], *(None,) * (count - len(ids)))


def linked(p: Proposal, links: Iterable[e.LinkedFiler]) -> tuple[str | None, ...]:
    """The proposal's filer ids with each link made: the first filer of that name not linked
    yet takes the id (an id linked already stays where it is)."""
    ids = list(p.filer_ids)
    for link in links:
        if link.id in ids:
            continue
        at = next((i for i, (name, filer) in enumerate(zip(p.filers, ids))
                   if name == link.name and filer is None), None)
        if at is not None:
            ids[at] = link.id
    return tuple(ids)


def _later(a: datetime, b: datetime) -> datetime:
    return b if b > a else a


def _duty_change(duty: Assignment, event: e.Event, day: date) -> dict[str, Any]:
    match event:
        case e.AssignmentAcknowledged():
            return {"acknowledged": True}
        case e.AssignmentReturned():
            return {"status": "returned"}
        case e.ContactLogged():
            return {"contacts": duty.contacts + 1,
                    "contacted_before_reply": duty.contacted_before_reply or not duty.replies}
        case e.OpinionSubmitted():
            return {"opinions": duty.opinions + 1, "first_opinion_on": duty.first_opinion_on or day}
        case e.ReplyIssued():
            return {"replies": duty.replies + 1, "first_reply_on": duty.first_reply_on or day,
                    "last_reply_on": day, "published_on": None, "draft": None,
                    "awaiting_reply": False, "result": event.result, "feedback_on_reply": None,
                    "extension_request": None}  # replied: nothing left to extend
        case e.DisclosureDecided():
            published = event.disclosure in ("full", "summary")
            return {"disclosure": event.disclosure,
                    "published_on": duty.published_on or (day if published else None),
                    "first_disclosure": duty.first_disclosure or event.disclosure}
        case e.FeedbackRecorded():
            recorder = feedback_recorder(event, duty.bureau)
            return {"feedback": event.satisfaction, "feedback_on_reply": event.satisfaction,
                    "feedback_channel": event.channel, "feedback_recorder": recorder,
                    "feedback_by_self": recorder == "bureau"}
        case e.HandlingReopened():
            return {"awaiting_reply": True, "reopen_due": event.reply_due}
        case e.ResultRevised():
            return {"result": event.result}
        case e.ReplyDrafted():
            return {"draft": ReplyDraft(result=event.result, summary=event.summary,
                                        drafted_on=day)}
        case e.ReplyRegraded():
            assert duty.draft is not None, "a regrade needs a draft"
            return {"draft": replaced(duty.draft, {"result": event.result, "regraded": True})}
        case e.DeadlineExtended():  # the approval settles a pending request
            return {"due": event.reply_due, "extensions": duty.extensions + 1,
                    "extension_request": None}
        case e.ExtensionRequested():
            return {"extension_request": ExtensionRequest(reply_due=event.reply_due,
                                                          reason=event.reason, requested_on=day)}
        case e.ExtensionDenied():
            return {"extension_request": None}
    raise TypeError(f"no evolution for {event.type}")


def feedback_recorder(event: e.Event, bureau: str) -> FeedbackRecorder:
    """Who recorded a feedback on `bureau`'s duty: whoever entered it (`recorded_by`, else its
    actor, as for every event written before it), a filer, the bureau itself, or the office
    (anyone else: the coordinator, an importer, an admin)."""
    recorder = event.recorded_by or event.actor
    if recorder.role == "filer":
        return "filer"
    return "bureau" if recorder.bureau == bureau else "office"


def _with(state: Proposal, bureau: str, **change: Any) -> dict[str, Assignment]:
    assignments = dict(state.assignments)
    assignments[bureau] = replaced(assignments[bureau], change)
    return assignments


def fold(events: Iterable[e.Event], state: State = None) -> State:
    for event in events:
        state = evolve(state, event)
    return state
