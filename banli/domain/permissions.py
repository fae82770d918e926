"""Who may do and see what: one table, role × action, each right reaching all bureaus (`all`),
the actor's own bureau only (`own`: a clerk's), the proposals the actor filed (`filed`: a
filer's, as lead filer or co-signer), or the actor's own doings (`self`: the commands and
imports it sent). Every route, the live feed, the dashboard, the lists, the history, the
documents, the command outcome route and the kernel's decisions read this table, so they cannot
disagree. Within a proposal, which of its events a reader sees is `event_for`'s to say (each
event declares its audience: banli.domain.events.Event.shown_to), and what of its state
`proposal_for`'s. Pure data and small functions."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Collection, Mapping

from . import commands as c
from .proposal import Assignment, Proposal
from .registry import EVENT_TYPES, REGISTRY
from .spec import Reach
from .types import Actor, ActorRole, replaced

# `filer`: a deputy or member, signed in, reaching the proposals they filed.
ROLES: tuple[ActorRole, ...] = ("coordinator", "clerk", "overseer", "admin", "importer", "filer")
STAFF: tuple[ActorRole, ...] = tuple(role for role in ROLES if role != "filer")

def _widest(*rows: Mapping[ActorRole, Reach]) -> dict[ActorRole, Reach]:
    """Each role's widest reach over several rows."""
    order: tuple[Reach, ...] = ("self", "filed", "own", "all")
    merged: dict[ActorRole, Reach] = {}
    for row in rows:
        for role, found in row.items():
            if role not in merged or order.index(found) > order.index(merged[role]):
                merged[role] = found
    return merged


# The reads and the operations besides commands. Oversight (coordinator, overseer) and admins
# read everything; a clerk its own bureau's; a filer the proposals they filed (never the
# reports, lists or status: those count others' proposals); an importer imports and reads its
# own outcomes, nothing more.
ACTIONS: dict[str, Mapping[ActorRole, Reach]] = {
    # counts, rates, lists behind them, league, dashboard, documents, deadlines, reminders
    "read:report": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own"},
    # one proposal: its state, history, lineage, deadlines explained; a filer's list of theirs
    "read:proposal": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own",
                      "filer": "filed"},
    # the live feed of events
    "read:live": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own",
                  "filer": "filed"},
    # proposals awaiting assignment, routing suggestions and days lost to misrouting overall
    "read:routing": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # the coordinator's desk (交办台): to assign, returned items to route again, extension
    # requests to decide, key items; oversight reads it too
    "read:desk": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # the office's review (审查立案): its report, the items behind each number, the review queue
    # (what awaits review or its filer); the office decides (the review's commands are
    # COORDINATING's), oversight reads
    "read:intake": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # who is who: bureaus' and filers' names, the signed-in user, the working-day calendar
    "read:directory": {role: "all" for role in ROLES},
    # how the system runs: the log's head, the projections' position and lag, a projector's
    # error; for those who operate it and oversee the numbers (a clerk's page and an importer
    # need none of it: it counts every bureau's events)
    "read:status": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # a command's outcome: the sender's own (an admin's: any)
    "read:command": {"coordinator": "self", "overseer": "self", "clerk": "self",
                     "importer": "self", "filer": "self", "admin": "all"},
    # bulk import of a history (lines act as the signed-in user; an importer may name others),
    # and of an assignment list (交办清单) from a spreadsheet
    "import": {"importer": "all", "coordinator": "all", "admin": "all"},
    # a bureau's reply list from a spreadsheet: a clerk its own bureau's (its commands are the
    # clerk's own, checked again by the kernel)
    "import:replies": {"clerk": "own", "importer": "all", "admin": "all"},
    # a spreadsheet's preview: its uploader's only (to see again, and to commit)
    "read:preview": {"importer": "self", "coordinator": "self", "admin": "self", "clerk": "self"},
    # operations: rebuild the projections, load a holiday notice
    "admin": {"admin": "all"},
    # a reply's letter (答复函), a file: uploaded for a bureau by whoever may send, for that
    # bureau, a command that carries one (reply, approve_reply: their rows in the registry);
    # downloaded by whoever reads the proposal's replies: oversight, the clerks of the bureaus
    # with a duty on it, the proposal's filers. Anyone else signed in, once the reply is
    # disclosed in full (banli.domain.letters).
    "write:letter": _widest(*(spec.roles for spec in REGISTRY
                              if "letter" in spec.command.model_fields)),
    "read:letter": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own",
                    "filer": "filed"},
    # entering records of other people's acts (an import line naming its actor): the event
    # keeps both, the actor and who recorded it (`recorded_by`)
    "record:for_others": {"importer": "all", "admin": "all"},
}

# Whose acts may be recorded by someone else: not an admin's or an overseer's, whose records
# are their own alone (an import line naming one is refused).
RECORDED_FOR: frozenset[ActorRole] = frozenset(ROLES) - {"admin", "overseer"}

# Each command type is an action too, named by its type; who may send it is declared in the
# command registry (banli.domain.registry).
RIGHTS: dict[str, Mapping[ActorRole, Reach]] = {
    **ACTIONS, **{spec.type: spec.roles for spec in REGISTRY}}


def reach(actor: Actor, action: str) -> Reach | None:
    """How far `actor` may take `action`: all, its own bureau, the proposals it filed, its own
    doings, or not at all."""
    return RIGHTS[action].get(actor.role)


def allowed(actor: Actor, action: str, bureau: str | None = None,
            sender: str | None = None, filers: Collection[str] = ()) -> bool:
    """Whether `actor` may take `action` on `bureau`'s business (None: every bureau's, or no
    bureau's in particular), on what `sender` sent, or on a proposal filed by `filers` (their
    ids in the filer registry)."""
    found = reach(actor, action)
    if found == "all":
        return True
    if found == "own":
        return bureau is not None and bureau == actor.bureau
    if found == "self":
        return sender is not None and sender == c.actor_key(actor)
    if found == "filed":
        return actor.filer is not None and actor.filer in filers
    return False


def vantage(actor: Actor, actions: Collection[str]) -> tuple[tuple[Any, ...], ...]:
    """All of `actor` that what it may see under `actions` depends on, in this table and in
    `allowed`, `knows` and `event_for`: per action its reach and what that reach reads of the
    actor (`own`: its bureau; `filed`: its filer id and user; `self`: its key). Two actors with
    the same vantage see the same, so an answer made for one may be given to the other
    (services/reporting/http/answer_cache.py); oversight roles share theirs."""
    parts: list[tuple[Any, ...]] = []
    for action in sorted(actions):
        found = reach(actor, action)
        if found == "own":
            parts.append((action, found, actor.bureau))
        elif found == "filed":
            parts.append((action, found, actor.filer, actor.user))
        elif found == "self":
            parts.append((action, found, c.actor_key(actor)))
        else:
            parts.append((action, found))
    return tuple(parts)


def may_record_for(recorder: Actor, actor: Actor) -> bool:
    """Whether `recorder` may enter a record of `actor`'s act (themselves: always)."""
    return recorder == actor or (reach(recorder, "record:for_others") == "all"
                                 and actor.role in RECORDED_FOR)


# --- within a proposal -----------------------------------------------------------------------
@dataclass(frozen=True)
class Parties:
    """Who is on a proposal, as far as reading it goes: the bureaus with a duty on it (ever:
    a bureau that returned it still reads its own records), its active leads and co-handlers,
    its filers' ids, and whether its co-handlers sign the lead's draft off (the profile's
    review has `cosign`)."""

    bureaus: frozenset[str] = frozenset()
    leads: frozenset[str] = frozenset()
    cos: frozenset[str] = frozenset()
    filers: frozenset[str] = frozenset()
    cosign: bool = False
    # a duty handed over (a merger, a split): its holder reads its predecessors' records on it
    # (left out of the hash: a mapping has none; equal parties still have equal hashes)
    formerly: Mapping[str, frozenset[str]] = field(default_factory=dict, hash=False)

    @classmethod
    def of(cls, p: Proposal, cosign: bool = False) -> "Parties":
        active = p.active_duties()
        return cls(bureaus=frozenset(p.assignments),
                   leads=frozenset(a.bureau for a in active if a.role == "lead"),
                   cos=frozenset(a.bureau for a in active if a.role == "co"),
                   filers=frozenset(f for f in p.filer_ids if f is not None), cosign=cosign,
                   formerly={a.bureau: frozenset(a.formerly)
                             for a in p.assignments.values() if a.formerly})

    def grants(self, bureau: str, readers: Collection[str]) -> bool:
        """Whether an event of another bureau's duty, read by `readers`, is `bureau`'s to see
        (§5 of the workbench): a co-handler's opinion and sign-off are its leads' (the reply is
        written from them), the lead's draft the co-handlers' asked to sign it off."""
        return (("leads" in readers and bureau in self.leads)
                or ("cosigners" in readers and self.cosign and bureau in self.cos))


# Each event type's readers beyond oversight and the bureaus it is about, as the event declares
SHOWN_TO: dict[str, tuple[str, ...]] = {name: cls.shown_to for name, cls in EVENT_TYPES.items()}


def knows(actor: Actor, action: str, p: Proposal | None) -> bool:
    """Whether `p` is a proposal `actor` may know of under `action`: to a clerk, one its bureau
    has had a duty on; to a filer, one they filed; to everyone else any. Every other proposal
    is, to them, as unknown as one that does not exist."""
    found = reach(actor, action)
    if found == "own":
        return p is not None and actor.bureau in p.assignments
    if found == "filed":
        return p is not None and p.filed_by(actor.filer)
    return True


def event_for(actor: Actor, action: str, event: dict[str, Any], parties: Parties
              ) -> dict[str, Any] | None:
    """An event of a proposal as `actor` may see it under `action` (read:proposal, read:live),
    or None: the one function every history, feed and list of events asks. An event is a dict
    with `type`, `bureau` (the duty it is about, or none), `actor`, `recorded_by` (who entered
    it for the actor, if anyone) and `command_id`; `parties` are its proposal's.
    - oversight and admins see every event;
    - a clerk, on a proposal its bureau has a duty on: the events about its duty and the
      proposal's own, and of other bureaus' duties those the event's audience grants it
      (Parties.grants); command ids of the events its own bureau entered only;
    - a filer, on a proposal they filed: the events whose audience has the filers (never
      drafts, sign-offs, approvals, regrades, opinions, returns, supervision), command ids of
      those they entered only."""
    found = reach(actor, action)
    if found == "all":
        return event
    readers = SHOWN_TO.get(event.get("type", ""), ())
    if found == "filed":
        if actor.filer is None or actor.filer not in parties.filers or "filers" not in readers:
            return None
        entered = event.get("recorded_by") or event.get("actor") or {}
        mine = entered.get("role") == "filer" and entered.get("user") == actor.user
        return event if mine else {**event, "command_id": None}
    if (found != "own" or actor.bureau is None or actor.bureau not in parties.bureaus):
        return None
    if (event.get("bureau") not in (None, "", actor.bureau)
            and event.get("bureau") not in parties.formerly.get(actor.bureau, ())
            and not parties.grants(actor.bureau, readers)):
        return None
    if (event.get("recorded_by") or event.get("actor") or {}).get("bureau") != actor.bureau:
        return {**event, "command_id": None}
    return event


def proposal_for(actor: Actor, p: Proposal) -> Proposal | None:
    """A proposal's state as `actor` may read it (read:proposal), or None where it is unknown
    to them (`knows`): oversight the whole; a clerk the proposal with its own bureau's duty
    only; a filer the proposal with the duties of the bureaus handling it, less what is
    internal (a draft, co-handlers' opinions, supervision; a duty returned or removed)."""
    found = reach(actor, "read:proposal")
    if found == "all":
        return p
    if not knows(actor, "read:proposal", p):
        return None
    if found == "own":
        assert actor.bureau is not None
        return replaced(p, {"assignments": {actor.bureau: p.assignments[actor.bureau]}})
    return replaced(p, {"supervisions": 0, "assignments": {
        bureau: _as_filed(duty) for bureau, duty in p.assignments.items() if duty.active}})


def _as_filed(duty: Assignment) -> Assignment:
    """A duty as its proposal's filer reads it."""
    return replaced(duty, {"draft": None, "opinions": 0, "first_opinion_on": None,
                           "supervisions": 0})
