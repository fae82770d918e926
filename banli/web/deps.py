"""FastAPI dependencies, as `Annotated` aliases: the signed-in actor and the app's ports.

Each process's composition root puts its adapters on `app.state` (`secret`, `bus`, `reporting`,
`states`, `clock`); routes receive them through these aliases, never through globals."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Callable, Protocol

from fastapi import Depends, HTTPException, Path, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..auth import AuthError
from ..domain.permissions import allowed, reach
from ..domain.commands import Command
from ..domain.types import SHANGHAI, Actor

bearer = HTTPBearer(auto_error=False, description="a token from `banli token`")


def current_actor(request: Request,
                  credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
                  ) -> Actor:
    if credentials is None:
        raise HTTPException(401, detail={"code": "unauthenticated", "message": "需要登录令牌",
                                         "message_en": "a bearer token is required"},
                            headers={"WWW-Authenticate": "Bearer"})
    try:
        actor, _ = request.app.state.authority.verify(credentials.credentials)
        return actor
    except AuthError as exc:
        raise HTTPException(401, detail={"code": "bad_token", "message": "令牌无效或已过期",
                                         "message_en": f"invalid token: {exc}"},
                            headers={"WWW-Authenticate": "Bearer"}) from None


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


def own_bureau(actor: Actor, action: str, bureau: str | None) -> str | None:
    """The bureau a request is about: the one asked for, or, when none was, the actor's own
    where the table holds it to its own bureau (a clerk's lists default to its bureau)."""
    if bureau is None and reach(actor, action) == "own":
        return actor.bureau
    return bureau


class CommandBus(Protocol):
    """Sends a command to be decided; returns its outcome, or None while it is still pending."""

    async def send(self, command: Command) -> Any: ...

    async def outcome(self, command_id: str) -> Any: ...


def _bus(request: Request) -> CommandBus:
    return request.app.state.bus


def _reporting(request: Request) -> Any:
    return request.app.state.reporting


def _clock(request: Request) -> Callable[[], datetime]:
    return request.app.state.clock


def _calendar(request: Request) -> Any:
    """The process's current working-day calendar (a CalendarBook's, with loaded notices)."""
    return request.app.state.calendars.current()


def today(clock: Callable[[], datetime]) -> date:
    return clock().astimezone(SHANGHAI).date()


Bus = Annotated[CommandBus, Depends(_bus)]
Reporting = Annotated[Any, Depends(_reporting)]
Clock = Annotated[Callable[[], datetime], Depends(_clock)]
WorkCalendar = Annotated[Any, Depends(_calendar)]
