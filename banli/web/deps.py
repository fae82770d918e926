"""FastAPI dependencies, as `Annotated` aliases: the signed-in actor and the process's ports.

Each process's composition root (apps/) builds its `Ports` and hands them to `build_app`; routes
receive what they need through the aliases here (and, for reporting's own adapters, through
services/reporting/http/deps.py), never through `request.app.state` or globals. A port a process does
not have answers 503 `not_served`, saying which service serves it.

A dependency that only reads a port is `async def`: FastAPI runs a plain function in a worker
thread, one hop per dependency per request, and under load the hops cost the event loop more
than anything the bare routes do (bench/README.md). Those that block stay plain functions: the
token's check (SQLite) and the calendar (its notices' files);
tests/unit/test_dependencies.py holds the list."""
from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Awaitable, Callable, Mapping, Protocol

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.concurrency import run_in_threadpool

from ..auth import AuthError, Authority
from ..blobs.letters import Letters
from ..clock import system_clock
from ..domain.views.bureaus import NameIndex
from ..domain.commands import Command
from ..domain.proposal import Bureau
from ..domain.permissions import allowed, reach
from ..domain.types import SHANGHAI, Actor
from ..eventlog import Outcome
from ..domain.timing.workdays import YearsCalendar
from ..workcalendar import CalendarBook

bearer = HTTPBearer(auto_error=False, description="a token from `banli token`")


class CommandBus(Protocol):
    """Sends a command to be decided; returns its outcome, or None while it is still pending."""

    async def send(self, command: Command) -> Outcome | None: ...

    async def outcome(self, sender: str, command_id: str) -> Outcome | None:
        """What `sender`'s command `command_id` came to (ids are scoped to their sender)."""
        ...


async def _nothing_to_wait_for() -> None:
    return None


@dataclass
class Ports:
    """What one process serves its routes with. `settle` waits until the projections have what
    the log had when it was called (embedded); over Kafka reads see what is projected so far.
    `end_session` is the identity provider's sign-out, where the page signs people in.
    `clerk_backdate_days` is the rule of time's limit the process's settings give (the forms
    bound a clerk's dates with it)."""

    authority: Authority
    clock: Callable[[], datetime] = system_clock
    settle: Callable[[], Awaitable[None]] = _nothing_to_wait_for
    bus: CommandBus | None = None
    calendars: CalendarBook | None = None
    status: Callable[[], Awaitable[dict[str, Any]]] | None = None
    end_session: Callable[[Request], Awaitable[str | None]] | None = None
    clerk_backdate_days: int = 30
    letters: Letters | None = None  # reply letters' files (banli.blobs)
    # the filers a sign-in account is registered for (the filer registry), where the IdP's
    # claims name none
    filer_accounts: Callable[[str], Awaitable[list[str]]] | None = None
    # the registered bureaus (each one's state: its names over time), where this process reads
    # them: an import resolves the bureaus its lines name by name (banli.domain.views.bureaus)
    bureaus: Callable[[], Awaitable[Mapping[str, Bureau | tuple[str, str]]]] | None = None


async def ports_of(request: Request) -> Ports:
    """The process's ports (the one place that reads the app's state)."""
    return request.app.state.ports


AppPorts = Annotated[Ports, Depends(ports_of)]


def not_served(what: str, where: str) -> HTTPException:
    return HTTPException(503, detail={"code": "not_served", "message": f"本服务不提供{what}",
                                      "message_en": f"this service does not serve {where}"})


@dataclass(frozen=True)
class Session:
    """A request's verified token: its actor and when it expires. An answer that stays open
    (the live feed) asks `ended()` again as it goes: a token revoked or expired since ends it."""

    actor: Actor
    token: str
    expires: float
    authority: Authority

    def ended(self) -> AuthError | None:
        """Why the token no longer holds (expired, revoked, its key retired), or None."""
        try:
            self.authority.verify(self.token)
        except AuthError as exc:
            return exc
        return None

    async def holds(self, checked: list, again: bool = False) -> AuthError | None:
        """`ended()`, asked again only when it may answer otherwise than last time (or
        `again`): the token has expired, or the key ring or a revocation changed since
        (Authority.stamp: one pragma, on the calling thread). `checked` is the caller's memory
        of the last check (an empty list at first). The full check runs in a worker thread:
        a stream asks this on the event loop, before each batch it sends."""
        stamp = self.authority.stamp()
        if checked == [stamp] and not again and time.time() < self.expires:
            return None
        ended = await run_in_threadpool(self.ended)
        checked[:] = [stamp]
        return ended


def bad_token(exc: AuthError) -> dict[str, str]:
    """The error body of a token that does not hold."""
    return {"code": "bad_token", "message": "令牌无效、已过期或已吊销，请重新登录",
            "message_en": f"invalid token: {exc}"}


def current_session(ports: AppPorts,
                    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                    ) -> Session:
    if credentials is None:
        raise HTTPException(401, detail={"code": "unauthenticated", "message": "需要登录令牌",
                                         "message_en": "a bearer token is required"},
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        actor, claims = ports.authority.verify(credentials.credentials)
    except AuthError as exc:
        raise HTTPException(401, detail=bad_token(exc),
                            headers={"WWW-Authenticate": "Bearer"}) from None
    return Session(actor, credentials.credentials, float(claims["exp"]), ports.authority)


CurrentSession = Annotated[Session, Depends(current_session)]


async def current_actor(session: CurrentSession) -> Actor:
    return session.actor


CurrentActor = Annotated[Actor, Depends(current_actor)]

# A proposal id in a path: the command vocabulary's own pattern (banli.domain.types.ProposalId);
# a bureau's stream (`bureau:…`) is no proposal, and is answered 404 where it is looked up.
ProposalPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$",
                                   description="a proposal's id")]


def forbid(message: str, message_en: str) -> HTTPException:
    return HTTPException(403, detail={"code": "forbidden", "message": message,
                                      "message_en": message_en})


def permit(actor: Actor, action: str, bureau: str | None = None) -> None:
    """Go on if the permission table (banli.domain.permissions) lets `actor` take `action` on
    `bureau`'s business (None: every bureau's); else 403, saying what the role may do."""
    if allowed(actor, action, bureau):
        return
    if reach(actor, action) == "own":
        raise forbid(f"只能查看本单位（{actor.bureau}）的数据",
                     f"a {actor.role} reads its own bureau ({actor.bureau}) only")
    raise forbid(f"{actor.role} 无权进行此操作（{action}）",
                 f"a {actor.role} may not do this ({action})")


def permit_any(actor: Actor, action: str) -> None:
    """Go on if the permission table gives `actor` `action` over anything at all (its own
    bureau's proposals, the proposals it filed, every one): for a route on one proposal, which
    then asks whether this one is the actor's to know of (banli.domain.permissions.knows) and
    answers one that is not as unknown (404, as an id never used); else 403."""
    if reach(actor, action) is None:
        raise forbid(f"{actor.role} 无权进行此操作（{action}）",
                     f"a {actor.role} may not do this ({action})")


def own_bureau(actor: Actor, action: str, bureau: str | None) -> str | None:
    """The bureau a request is about: the one asked for, or, when none was, the actor's own
    where the table holds it to its own bureau (a clerk's lists default to its bureau)."""
    if bureau is None and reach(actor, action) == "own":
        return actor.bureau
    return bureau


async def _bus(ports: AppPorts) -> CommandBus:
    if ports.bus is None:
        raise not_served("办理命令", "commands")
    return ports.bus


async def _letters(ports: AppPorts) -> Letters:
    if ports.letters is None:
        raise not_served("答复函文件", "reply letters' files")
    return ports.letters


async def _clock(ports: AppPorts) -> Callable[[], datetime]:
    return ports.clock


async def _calendars(ports: AppPorts) -> CalendarBook:
    if ports.calendars is None:
        raise not_served("工作日历", "the working-day calendar")
    return ports.calendars


def _calendar(calendars: Annotated[CalendarBook, Depends(_calendars)]) -> YearsCalendar:
    """The process's current working-day calendar (with the loaded holiday notices)."""
    return calendars.current()


async def settled(ports: AppPorts) -> None:
    """Waits until the projections have what the log had (see Ports.settle)."""
    await ports.settle()


def today(clock: Callable[[], datetime]) -> date:
    return clock().astimezone(SHANGHAI).date()


async def _bureau_names(ports: AppPorts) -> NameIndex:
    """The registered bureaus by their names; where the process reads none, an index that
    knows only what an import's own lines register."""
    return NameIndex.of(await ports.bureaus()) if ports.bureaus is not None else NameIndex()


Bus = Annotated[CommandBus, Depends(_bus)]
BureauNames = Annotated[NameIndex, Depends(_bureau_names)]
LetterFiles = Annotated[Letters, Depends(_letters)]
Clock = Annotated[Callable[[], datetime], Depends(_clock)]
Calendars = Annotated[CalendarBook, Depends(_calendars)]
WorkCalendar = Annotated[YearsCalendar, Depends(_calendar)]
Settled = Annotated[None, Depends(settled)]
