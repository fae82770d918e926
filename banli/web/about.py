"""The routes every page-serving process answers alike, embedded or distributed: who the
token says you are (`GET /api/me`) and where the projections stand (`GET /api/status`). The
command outcome's poll is banli.web.commands.poll_router."""
from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from banli.domain.permissions import ACTIONS, reach
from banli.domain.spec import Reach
from banli.domain.types import Actor

from .deps import AppPorts, CurrentActor, not_served, permit
from .schemas import READ, action, errors

router = APIRouter(prefix="/api", tags=["session"], responses=READ)


class Me(Actor):
    commands: bool  # whether this server decides commands (the page offers them only then)
    # the permission table's actions besides commands (banli.domain.permissions.ACTIONS) this
    # user may take, each with its reach: every bureau's, its own bureau's, or its own doings
    actions: dict[str, Reach]


class Status(BaseModel):
    """Where the projections stand: in the embedded system the log's head, the projected
    position and the lag between them; in the distributed reporting service the events
    projected and the lag behind `banli.events` (end offsets minus projected)."""

    model_config = ConfigDict(extra="allow")

    lag: int | None = None
    projected_events: int | None = None


@router.get("/me", summary="Who the token says you are, and what this server takes",
            response_model=Me, openapi_extra=action("read:directory"))
async def me(actor: CurrentActor, ports: AppPorts) -> Me:
    """`commands` is whether this server decides commands (embedded, or the reporting service
    sending them over Kafka); the page offers assigning and importing only where it can.
    `actions` are the rows of the permission table this user reaches (the page offers the
    spreadsheet imports by them: `import`, `import:replies`)."""
    permit(actor, "read:directory")
    return Me(**actor.model_dump(), commands=ports.bus is not None,
                  actions={name: found for name in ACTIONS
                           if (found := reach(actor, name)) is not None})


@router.get("/status", summary="The log's head, the projections' position and their lag",
            response_model=Status, openapi_extra=action("read:status"),
            responses=errors(503))
async def status(actor: CurrentActor, ports: AppPorts) -> Status:
    permit(actor, "read:status")
    if ports.status is None:
        raise not_served("投影状态", "the projections' status")
    return Status(**await ports.status())
