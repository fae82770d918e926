"""The API's shared answers, as models the OpenAPI publishes: the error body every refusal has,
the statuses each kind of route can answer, and a command's outcome.

Every error is `{"detail": {"code", "message" (zh), "message_en", ...}}`, the 422 of a
malformed request included (FastAPI's own 422 shape is replaced: banli.web.app)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from banli.domain.rejections import Rejection


class ErrorDetail(BaseModel):
    """What went wrong: `code` is stable for programs, the messages are for people. Some codes
    carry more (`errors` of a malformed request, `problems` of a file)."""

    model_config = ConfigDict(extra="allow")

    code: str
    message: str
    message_en: str


class ErrorBody(BaseModel):
    detail: ErrorDetail


_MEANING = {
    401: "no token, or a bad, expired or revoked one (`unauthenticated`, `bad_token`)",
    403: "the permission table does not let this user do this (`forbidden`)",
    404: "not found, or not yours to see",
    409: "conflicts with what is already there",
    413: "the body is over the size limit (`too_large`)",
    422: "malformed (`malformed`), fields that do not fit together (`inconsistent`), or out "
         "of range (`bad_scope`, `bad_years`, ...)",
    503: "not served by this process (`not_served`), or the data moved while being read",
}


def errors(*statuses: int, **meanings: str) -> dict[int | str, dict[str, Any]]:
    """The error statuses a route can answer, each with the error body; `meanings` (as
    `e404="..."`) say what a status means on this route."""
    return {status: {"model": ErrorBody,
                     "description": meanings.get(f"e{status}", _MEANING[status])}
            for status in statuses}


# Every route checks a token and validates its input.
READ = errors(401, 403, 422)
WRITE = errors(401, 403, 413, 422)


# --- A command's answer ------------------------------------------------------------------------
class StoredEvent(BaseModel):
    """An event as stored: its position in the log and its fields (banli.domain.events)."""

    model_config = ConfigDict(extra="allow")

    position: int
    event_id: str
    proposal_id: str
    seq: int
    type: str
    occurred_at: str
    recorded_at: str


class Accepted(BaseModel):
    command_id: str
    accepted: Literal[True]
    replayed: bool
    events: list[StoredEvent]


class Refused(BaseModel):
    """The rules refused the command (`code`; `message` says why and `hint` what to do, each
    also in English; `details` with ids and ISO dates for programs); or its id was used before
    by another sender or for another command (`command_id_conflict`)."""

    command_id: str
    accepted: Literal[False]
    replayed: bool
    code: str
    message: str
    message_en: str
    hint: str = ""
    hint_en: str = ""
    details: dict[str, Any] = Field({}, description=Rejection.model_fields["details"].description)


class Pending(BaseModel):
    command_id: str
    status: Literal["pending"]
    poll: str


COMMAND_RESPONSES: dict[int | str, dict[str, Any]] = {
    201: {"model": Accepted, "description": "accepted: the events it became (or, sent again by "
                                            "the same sender, its first answer)"},
    202: {"model": Pending, "description": "not decided yet: poll /api/commands/{command_id}"},
    409: {"model": Refused, "description": "refused by the rules (a role the permission table "
                                           "does not allow too: `forbidden`, kept in the log "
                                           "for audit), or its command id was used for "
                                           "something else (`command_id_conflict`)"},
    **errors(401, 413, 422, 503),
}


def action(name: str) -> dict[str, Any]:
    """A route's row of the permission table (banli.domain.permissions: an action, or a command
    type), published in the OpenAPI as `x-banli-action`: the permission-matrix test reads it
    and holds every answer to the table."""
    return {"x-banli-action": name}
