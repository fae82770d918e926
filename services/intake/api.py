"""intake's HTTP API: where proposals enter (submit, assign, bulk import) and any command."""
from __future__ import annotations

import asyncio
from typing import Any, Callable

from fastapi import Request
from pydantic import BaseModel

from banli.domain.commands import bureau_stream, entered_by, filer_stream, sender_of
from banli.domain.permissions import reach
from banli.domain.types import Actor
from banli.history import LineProblem, read_commands, split_lines
from banli.web.commands import command_routes
from banli.web.deps import BureauNames, Bus, CurrentActor, permit
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
async def import_lines(request: Request, actor: CurrentActor, bus: Bus,
                       names: BureauNames) -> dict[str, Any]:
    """A history, as `banli import` takes it: each line a command with its business time `at`
    (a line without one is reported, as a bad line is); lines without `actor` act as the
    signed-in user. Only importers, admins and coordinators may import. An importer's or an
    admin's line may name another actor, whose act it records: the event keeps both, the actor
    and the signed-in user as `recorded_by` (never an admin or an overseer as the actor: that
    line is refused with its reason). Lines are split at `\n` only; a line too long, not UTF-8,
    nested too deep or not JSON is reported with its number and the others are imported. A
    line may name bureaus by name (full, English, short or former); a name that means none is
    refused with the closest registered names."""
    permit(actor, "import")
    lines = read_commands(split_lines(await request.body()), default_actor=actor, names=names)
    return await import_commands(bus, _as_actor(lines, actor))


def _as_actor(lines, actor: Actor):
    """Each line as the signed-in user enters it (banli.domain.commands.entered_by): where the
    permission table lets them name others' acts (`record:for_others`), its actor stays and
    they are its `recorded_by`; else it acts as the signed-in user. A `recorded_by` a line
    carries is never taken."""
    names_others = reach(actor, "record:for_others") is not None
    for number, item in lines:
        if not isinstance(item, LineProblem):
            if not names_others and item.actor != actor:
                item = item.model_copy(update={"actor": actor})
            item = entered_by(item, actor)
        yield number, item


# Pipelining keeps order within a stream only (the bus sends one stream's commands in order), so
# a command that reads another stream through the directory is sent only once the commands on
# that stream sent before it are answered:
# - a merge reads its target's status: it waits for the target's commands;
# - an assignment reads the registry of bureaus: it waits for the registrations of the bureaus
#   it names;
# - a submit reads the natural keys: when an earlier submit of the same import claimed its key
#   under another proposal, it waits for that proposal's commands, so that the later one is
#   refused as a duplicate whichever partitions the two land on;
# - a submit and a link of filers read the filer registry: they wait for the registrations of
#   the filers they name by id, and a submit for those of the filers it names by name (it links
#   the one registered filer of that name).
# A command that waits holds back the later commands of its own stream only (they are sent after
# it); the others go on, and the window stays full. It waits for those commands to be decided,
# not only answered within the bus's timeout: a command whose worker died is decided by its
# partition's next owner once the group has moved the partition (after the session timeout,
# longer than the bus's), and until then what it would write is not in the log to be read.
DECISION_WAIT_S = 300
class Ordering:
    """What one import's next command has to wait for."""

    def __init__(self) -> None:
        self.claimed: dict[str, str] = {}  # natural key -> the stream of its first submit
        self.registered: dict[str, set[str]] = {}  # a filer's name -> their registrations' streams

    def reads(self, command) -> set[str]:
        """The other streams whose commands sent so far `command` waits for; notes what it
        claims and whom it registers."""
        match command.type:
            case "register_filer":
                self.registered.setdefault(command.name, set()).add(command.stream)
                found = set()
            case "submit":
                first = self.claimed.setdefault(command.natural_key, command.stream)
                found = {first}
                for filer in command.filers:
                    found |= ({filer_stream(filer.id)} if filer.id
                              else self.registered.get(filer.name, set()))
            case "link_filers":
                found = {filer_stream(link.id) for link in command.filers}
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
    flight (or waiting for what they read: see Ordering), a place taken as soon as any answer
    comes back (answers come back in the order each handling worker decides, not the file's)."""
    counts = {"accepted": 0, "already_decided": 0, "pending": 0}
    problems: list[dict[str, Any]] = []
    window = asyncio.Semaphore(getattr(bus, "window", 1))
    in_flight: dict[str, set[asyncio.Task]] = {}  # by stream: sent, or waiting to be
    holding: dict[str, asyncio.Future] = {}  # by stream: its last command waiting to be sent

    def settle(number: int, outcome) -> None:
        if outcome is None:
            counts["pending"] += 1
        elif outcome.rejection is not None:
            problems.append({"line": number, "code": outcome.rejection.code,
                             "reason": outcome.rejection.message,
                             "reason_en": outcome.rejection.message_en})
        else:
            counts["already_decided" if outcome.replayed else "accepted"] += 1

    async def decided(command) -> None:
        """Wait (up to DECISION_WAIT_S) until a command not answered in time is decided."""
        clock = asyncio.get_running_loop().time
        deadline = clock() + DECISION_WAIT_S
        while (await bus.outcome(sender_of(command), command.command_id) is None
               and clock() < deadline):
            await asyncio.sleep(0.2)

    async def send(number: int, item, after: list, sent: asyncio.Future | None) -> tuple:
        """Send once what it waits for is decided (`sent` says when it is handed to the bus);
        gives the command and its outcome (None: not answered within the bus's timeout)."""
        try:
            if after:
                for waited in await asyncio.gather(*after):
                    if waited is not None and waited[1] is None:
                        await decided(waited[0])
            answer = asyncio.ensure_future(bus.send(item))
            if sent is not None:
                await asyncio.sleep(0)  # the bus hands it to the producer: its stream may go on
            if sent is not None:
                sent.set_result(None)
            outcome = await answer
            settle(number, outcome)
            return item, outcome
        finally:
            if sent is not None and not sent.done():  # it failed: the import fails with it
                sent.set_result(None)
            window.release()

    def landed(stream: str) -> Callable[[asyncio.Task], None]:
        def forget(task: asyncio.Task) -> None:
            tasks = in_flight[stream]
            tasks.discard(task)
            if not tasks:
                del in_flight[stream]
        return forget

    ordering = Ordering()
    loop = asyncio.get_running_loop()
    try:
        for number, item in lines:
            if isinstance(item, LineProblem):
                problems.append({"line": number, "code": item.code, "reason": item.reason,
                                 "reason_en": item.reason_en})
                continue
            after: list = [t for stream in ordering.reads(item) for t in in_flight.get(stream, ())]
            if (held := holding.get(item.stream)) is not None and not held.done():
                after.append(held)
            sent = None
            if after:
                sent = holding[item.stream] = loop.create_future()
            await window.acquire()
            task = asyncio.ensure_future(send(number, item, after, sent))
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
