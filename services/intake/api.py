"""intake's HTTP API: where proposals enter (submit, assign, bulk import) and any command."""
from __future__ import annotations

import asyncio
from collections import deque
from typing import Any

from fastapi import Request
from pydantic import BaseModel

from banli.history import LineProblem, read_commands, split_lines
from banli.web.commands import command_routes
from banli.web.deps import Bus, CurrentActor, permit
from banli.web.schemas import action, errors

# submit, assign, register a bureau: their routes from the command registry; and any command
router = command_routes("intake", any_command=True)


class LineRefused(BaseModel):
    line: int
    code: str
    reason: str
    reason_en: str | None = None


class Imported(BaseModel):
    """Counts, and every line not taken with its reason."""

    accepted: int
    already_decided: int
    pending: int
    problems: list[LineRefused]


@router.post("/import", summary="Bulk import: a JSON Lines body of commands",
             response_model=Imported, responses=errors(401, 403, 413, 422, 503),
             openapi_extra={**action("import"), "requestBody": {"required": True, "content": {
                 "application/x-ndjson": {"schema": {"type": "string"}}}}})
async def import_lines(request: Request, actor: CurrentActor, bus: Bus) -> dict[str, Any]:
    """A history, as `banli import` takes it: each line a command with its business time `at`
    (a line without one is reported, as a bad line is); lines without `actor` act as the
    signed-in user. Only importers, admins and coordinators may import. Lines are split at
    `\n` only; a line too long, not UTF-8, nested too deep or not JSON is reported with its
    number and the others are imported."""
    permit(actor, "import")
    lines = read_commands(split_lines(await request.body()), default_actor=actor)
    return await import_commands(bus, _as_actor(lines, actor))


def _as_actor(lines, actor):
    """Lines act as the signed-in user (an importer may name other actors)."""
    for number, item in lines:
        if not isinstance(item, LineProblem) and actor.role != "importer" and item.actor != actor:
            item = item.model_copy(update={"actor": actor})
        yield number, item


# Pipelining keeps order within a stream only, so what reads across streams waits:
# - a merge reads its target's status: it waits for every command before it, and every command
#   after it waits for it;
# - assignments read the registry of bureaus: every command after a bureau's registration waits
#   for it, except the next registrations (a registration reads only its own bureau's stream);
# - a submit reads the natural keys: it waits for every command before it when an earlier submit
#   of the same import claimed its key, so that the later one is refused as a duplicate whichever
#   partitions the two land on. Submits of different numbers go on without waiting.
class Ordering:
    """What one import's next command has to wait for."""

    def __init__(self) -> None:
        self.claimed: set[str] = set()  # the natural keys the import's submits claimed so far
        self.holding: str | None = None  # a registration or merge in flight that others await

    def waits(self, command) -> bool:
        """Whether `command` waits for every command sent before it; notes what it claims."""
        repeated = False
        if command.type == "submit":
            repeated = command.natural_key in self.claimed
            self.claimed.add(command.natural_key)
        held = self.holding is not None and not (
            self.holding == command.type == "register_bureau")
        self.holding = (command.type if command.type in ("register_bureau", "merge")
                        else None if held else self.holding)
        return command.type == "merge" or repeated or held


async def import_commands(bus, lines) -> dict[str, Any]:
    """Send each command and gather the answers: counts, and every line not taken with its
    reason. Pipelined (`bus.window` in flight) where the bus keeps per-stream order."""
    counts = {"accepted": 0, "already_decided": 0, "pending": 0}
    problems: list[dict[str, Any]] = []
    in_flight: deque[tuple[int, asyncio.Task]] = deque()

    def settle(number: int, outcome) -> None:
        if outcome is None:
            counts["pending"] += 1
        elif outcome.rejection is not None:
            problems.append({"line": number, "code": outcome.rejection.code,
                             "reason": outcome.rejection.message,
                             "reason_en": outcome.rejection.message_en})
        else:
            counts["already_decided" if outcome.replayed else "accepted"] += 1

    async def drain(keep: int) -> None:
        while len(in_flight) > keep:
            number, task = in_flight.popleft()
            settle(number, await task)

    window = getattr(bus, "window", 1)
    ordering = Ordering()
    for number, item in lines:
        if isinstance(item, LineProblem):
            problems.append({"line": number, "code": item.code, "reason": item.reason})
            continue
        await drain(0 if ordering.waits(item) else window - 1)
        in_flight.append((number, asyncio.ensure_future(bus.send(item))))
        await asyncio.sleep(0)  # let the task hand its command to the producer, in order
    await drain(0)
    problems.sort(key=lambda p: p["line"])
    return {**counts, "problems": problems}
