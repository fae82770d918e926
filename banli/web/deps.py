"""FastAPI dependencies, as `Annotated` aliases: the signed-in actor and the app's ports.

Each process's composition root puts its adapters on `app.state` (`secret`, `bus`, `reporting`,
`states`, `clock`); routes receive them through these aliases, never through globals."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Callable, Protocol

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from ..auth import AuthError, may_read_bureau, verify_token
from ..domain.commands import AnyCommand
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
        return verify_token(request.app.state.secret, credentials.credentials)
    except AuthError as exc:
        raise HTTPException(401, detail={"code": "bad_token", "message": "令牌无效或已过期",
                                         "message_en": f"invalid token: {exc}"},
                            headers={"WWW-Authenticate": "Bearer"}) from None


CurrentActor = Annotated[Actor, Depends(current_actor)]


def forbid(message: str, message_en: str) -> HTTPException:
    return HTTPException(403, detail={"code": "forbidden", "message": message,
                                      "message_en": message_en})


def require_bureau_reader(actor: Actor, bureau: str | None) -> None:
    if not may_read_bureau(actor, bureau):
        raise forbid(f"只能查看本单位（{actor.bureau}）的数据",
                     f"a clerk reads its own bureau ({actor.bureau}) only")


class CommandBus(Protocol):
    """Sends a command to be decided; returns its outcome, or None while it is still pending."""

    async def send(self, command: AnyCommand) -> Any: ...

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
