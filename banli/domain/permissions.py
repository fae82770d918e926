"""Who may do and see what: one table, role × action, each right reaching all bureaus (`all`),
the actor's own bureau only (`own`: a clerk's), or the actor's own doings (`self`: the
commands and imports it sent). Every route, the live feed, the dashboard, the lists, the
history, the documents, the command outcome route and the kernel's decisions read this table,
so they cannot disagree. Pure data and two small functions."""
from __future__ import annotations

from typing import Any, Collection, Mapping

from . import commands as c
from .registry import REGISTRY
from .spec import Reach
from .types import Actor, ActorRole

# `filer` (a deputy or member) is a role with no rights yet: the workbench gives it its own.
ROLES: tuple[ActorRole, ...] = ("coordinator", "clerk", "overseer", "admin", "importer", "filer")
STAFF: tuple[ActorRole, ...] = tuple(role for role in ROLES if role != "filer")

def _widest(*rows: Mapping[ActorRole, Reach]) -> dict[ActorRole, Reach]:
    """Each role's widest reach over several rows."""
    order: tuple[Reach, ...] = ("self", "own", "all")
    merged: dict[ActorRole, Reach] = {}
    for row in rows:
        for role, found in row.items():
            if role not in merged or order.index(found) > order.index(merged[role]):
                merged[role] = found
    return merged


# The reads and the operations besides commands. Oversight (coordinator, overseer) and admins
# read everything; a clerk its own bureau's; an importer imports and reads its own outcomes,
# nothing more.
ACTIONS: dict[str, Mapping[ActorRole, Reach]] = {
    # counts, rates, lists behind them, league, dashboard, documents, deadlines, reminders
    "read:report": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own"},
    # one proposal: its state, history, lineage, deadlines explained
    "read:proposal": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own"},
    # the live feed of events
    "read:live": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own"},
    # proposals awaiting assignment, routing suggestions and days lost to misrouting overall
    "read:routing": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # the coordinator's desk (交办台): to assign, returned items to route again, extension
    # requests to decide, key items; oversight reads it too
    "read:desk": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # who is who: bureaus' names, the signed-in user, the working-day calendar
    "read:directory": {role: "all" for role in STAFF},
    # how the system runs: the log's head, the projections' position and lag, a projector's
    # error; for those who operate it and oversee the numbers (a clerk's page and an importer
    # need none of it: it counts every bureau's events)
    "read:status": {"coordinator": "all", "overseer": "all", "admin": "all"},
    # a command's outcome: the sender's own (an admin's: any)
    "read:command": {"coordinator": "self", "overseer": "self", "clerk": "self",
                     "importer": "self", "admin": "all"},
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
    # with a duty on it. Anyone else signed in, once the reply is disclosed in full
    # (banli.domain.letters).
    "write:letter": _widest(*(spec.roles for spec in REGISTRY
                              if "letter" in spec.command.model_fields)),
    "read:letter": {"coordinator": "all", "overseer": "all", "admin": "all", "clerk": "own"},
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
    """How far `actor` may take `action`: all, its own bureau, its own doings, or not at all."""
    return RIGHTS[action].get(actor.role)


def allowed(actor: Actor, action: str, bureau: str | None = None,
            sender: str | None = None) -> bool:
    """Whether `actor` may take `action` on `bureau`'s business (None: every bureau's, or no
    bureau's in particular) or on what `sender` sent."""
    found = reach(actor, action)
    if found == "all":
        return True
    if found == "own":
        return bureau is not None and bureau == actor.bureau
    if found == "self":
        return sender is not None and sender == c.actor_key(actor)
    return False


def may_record_for(recorder: Actor, actor: Actor) -> bool:
    """Whether `recorder` may enter a record of `actor`'s act (themselves: always)."""
    return recorder == actor or (reach(recorder, "record:for_others") == "all"
                                 and actor.role in RECORDED_FOR)


def event_for(actor: Actor, action: str, event: dict[str, Any], bureaus: Collection[str]
              ) -> dict[str, Any] | None:
    """An event as `actor` may see it under `action` (read:proposal, read:live), or None. An
    event is a dict with `bureau` (the duty it is about, or none), `actor`, `recorded_by` (who
    entered it for the actor, if anyone) and `command_id`; `bureaus` are those with a duty on
    its proposal. Reaching its own bureau only, an actor sees the events of proposals its bureau
    is on that are about its duty or the proposal itself, and the command ids of the events its
    own bureau entered only (the command id is its sender's)."""
    found = reach(actor, action)
    if found == "all":
        return event
    if (found != "own" or actor.bureau is None or actor.bureau not in bureaus
            or event.get("bureau") not in (None, "", actor.bureau)):
        return None
    if (event.get("recorded_by") or event.get("actor") or {}).get("bureau") != actor.bureau:
        return {**event, "command_id": None}
    return event
