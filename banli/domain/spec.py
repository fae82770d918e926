"""What a registry entry says of a command type, declared beside its decider
(banli.domain.deciders) and gathered by banli.domain.registry: `Spec[C]`, the reaches (who may
send a command, and for which bureau), the clocks a command's business time follows, and the
decorator that declares a decider's Spec.

`Spec` is generic in its command: `@decides(c.Reply, ...)` on a decider that takes another
command is a type error, so mypy checks every decider against the command it is registered
for."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Literal, Mapping, TypeVar

from . import commands as c
from . import events as e
from .envelope import Decision, Envelopes
from .proposal import Context
from .types import ActorRole
from .words import Labels

# `filed`: the proposals the actor filed, as lead filer or co-signer (a filer's)
Reach = Literal["all", "own", "self", "filed"]
# Who may send a command, and for which bureau: the permission table's rows for commands.
COORDINATING: Mapping[ActorRole, Reach] = {"coordinator": "all", "admin": "all",
                                           "importer": "all"}
BUREAUS: Mapping[ActorRole, Reach] = {"clerk": "own", "admin": "all", "importer": "all"}
# feedback: the office's, the bureau's, and the filer's own on the proposals they filed
FEEDBACK: Mapping[ActorRole, Reach] = {**BUREAUS, "coordinator": "all", "filer": "filed"}
SUPERVISION: Mapping[ActorRole, Reach] = {**COORDINATING, "overseer": "all"}  # 督办: oversight's

# What a command's business time follows (banli.domain.decide's rule of time): nothing before it
# ("none": a new stream; on a proposal, its submission only: a record of who filed it), the duties it records on ("duty"), the proposal's own records too
# ("proposal"), or every record of the proposal ("closing").
Clock = Literal["none", "duty", "proposal", "closing"]

C = TypeVar("C", bound=c.Command)
# A decider: the state of the command's stream (a Proposal for a command on one; the Bureau or
# None for a command that opens a stream), the command, the context, the events' envelopes.
Decider = Callable[[Any, C, Context, Envelopes], Decision]


@dataclass(frozen=True)
class Spec(Generic[C]):
    """One command type: its class, its decider, the events it may produce, the roles that may
    send it, the clock its business time follows, the HTTP route that takes it besides
    /api/commands (a path under /api, and the service whose API serves it), and whether it is
    decided against an open proposal. Its name for people is its class's (`Command.labels`)."""

    command: type[C]
    decider: Decider[C]
    events: tuple[type[e.Event], ...]
    roles: Mapping[ActorRole, Reach]
    clock: Clock
    route: str | None = None
    service: Literal["intake", "handling"] = "handling"
    on_proposal: bool = True

    @property
    def type(self) -> str:
        found: str = self.command.model_fields["type"].default
        return found

    @property
    def title(self) -> tuple[str, str]:
        """The command's name, in Chinese and English, as its class declares it (KeyError when
        it declares none: `Command`'s own name is no command's)."""
        labels: Labels = self.command.__dict__["labels"]
        return labels.title


class Specs:
    """The Specs of a module of deciders, in the order they are declared."""

    def __init__(self) -> None:
        self.entries: list[Spec[Any]] = []

    def decides(self, command: type[C], *, emits: tuple[type[e.Event], ...],
                roles: Mapping[ActorRole, Reach], clock: Clock, route: str | None = None,
                service: Literal["intake", "handling"] = "handling", on_proposal: bool = True
                ) -> Callable[[Decider[C]], Decider[C]]:
        """A decorator: the decider below decides `command` (the Spec's other fields as named),
        and is kept as it is."""
        def declare(decider: Decider[C]) -> Decider[C]:
            self.entries.append(Spec(command, decider, emits, roles, clock, route, service,
                                     on_proposal))
            return decider

        return declare


def proposal_route(segment: str) -> str:
    """A route on one proposal: `/proposals/{proposal_id}/<segment>`."""
    return f"/proposals/{{proposal_id}}/{segment}"
