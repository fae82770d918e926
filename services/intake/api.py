"""intake's HTTP API: where proposals enter (submit, assign, bulk import) and any command."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from fastapi import Request
from pydantic import BaseModel

from banli.domain.commands import bureau_stream
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


# Pipelining keeps order within a stream only (the bus sends one stream's commands in order), so
# a command that reads another stream through the directory waits for the commands in flight on
# that stream:
# - a merge reads its target's status: it waits for the target's commands in flight;
# - an assignment reads the registry of bureaus: it waits for the registrations in flight of the
#   bureaus it names;
# - a submit reads the natural keys: when an earlier submit of the same import claimed its key
#   under another proposal, it waits for that proposal's commands in flight, so that the later
#   one is refused as a duplicate whichever partitions the two land on.
# Nothing else waits: the window stays full.
class Ordering:
    """What one import's next command has to wait for."""

    def __init__(self) -> None:
        self.claimed: dict[str, str] = {}  # natural key -> the stream of its first submit

    def reads(self, command) -> set[str]:
        """The other streams whose commands in flight `command` waits for; notes what it
        claims."""
        match command.type:
            case "submit":
                first = self.claimed.setdefault(command.natural_key, command.stream)
                found = {first}
            case "assign":
                found = {bureau_stream(b) for b in [*command.lead, *command.co]}
            case "reassign":
                found = {bureau_stream(b) for b in [*command.add_lead, *command.add_co]}
            case "merge":
                found = {command.into}
            case _:
                found = set()
        return found - {command.stream}


async def import_commands(bus, lines) -> dict[str, Any]:
    """Send each command and gather the answers: counts, and every line not taken with its
    reason. Pipelined where the bus keeps per-stream order: up to `bus.window` commands in
    flight, the window refilled as soon as any answer comes back (answers come back in the
    order each handling worker decides, not in the file's)."""
    counts = {"accepted": 0, "already_decided": 0, "pending": 0}
    problems: list[dict[str, Any]] = []
    window = asyncio.Semaphore(getattr(bus, "window", 1))
    in_flight: dict[str, set[asyncio.Task]] = {}  # by stream

    def settle(number: int, outcome) -> None:
        if outcome is None:
            counts["pending"] += 1
        elif outcome.rejection is not None:
            problems.append({"line": number, "code": outcome.rejection.code,
                             "reason": outcome.rejection.message,
                             "reason_en": outcome.rejection.message_en})
        else:
            counts["already_decided" if outcome.replayed else "accepted"] += 1

    async def send(number: int, item) -> None:
        try:
            settle(number, await bus.send(item))
        finally:
            window.release()

    def landed(stream: str) -> Callable[[asyncio.Task], None]:
        def forget(task: asyncio.Task) -> None:
            tasks = in_flight[stream]
            tasks.discard(task)
            if not tasks:
                del in_flight[stream]
        return forget

    ordering = Ordering()
    try:
        for number, item in lines:
            if isinstance(item, LineProblem):
                problems.append({"line": number, "code": item.code, "reason": item.reason})
                continue
            awaited = [t for stream in ordering.reads(item) for t in in_flight.get(stream, ())]
            if awaited:
                await asyncio.gather(*awaited)
            await window.acquire()
            task = asyncio.ensure_future(send(number, item))
            in_flight.setdefault(item.stream, set()).add(task)
            task.add_done_callback(landed(item.stream))
            await asyncio.sleep(0)  # let the task hand its command to the producer, in order
        remaining = [t for tasks in in_flight.values() for t in tasks]
        if remaining:
            await asyncio.gather(*remaining)
    finally:
        for tasks in list(in_flight.values()):
            for task in tasks:
                task.cancel()
    problems.sort(key=lambda p: p["line"])
    return {**counts, "problems": problems}
