"""intake's bulk import pipelines commands: what waits for what (services/intake/api.py).

The bus here is a stand-in for Kafka that only records what was in flight when each command
was sent; the order rules under test are ours."""
from __future__ import annotations

import asyncio
import json

from banli.eventlog import Outcome
from banli.history import read_commands
from services.intake.api import import_commands


class RecordingBus:
    window = 8

    def __init__(self) -> None:
        self.in_flight: set[str] = set()
        self.seen: list[tuple[str, set[str]]] = []  # (command id, what was in flight at send)

    async def send(self, command) -> Outcome:
        self.seen.append((command.command_id, set(self.in_flight)))
        self.in_flight.add(command.command_id)
        await asyncio.sleep(0.05)  # long enough that what follows is sent meanwhile
        self.in_flight.discard(command.command_id)
        return Outcome(command.command_id)


def line(**fields) -> str:
    return json.dumps({"at": "2021-01-10T10:00:00+08:00", **fields}, ensure_ascii=False)


def submit(number: str, proposal: str | None = None) -> str:
    return line(type="submit", kind="cppcc_proposal", level="municipal", year=2021,
                number=number, title=f"关于第{number}号的建议",
                **({"proposal": proposal} if proposal else {}))


def run(lines: list[str]) -> tuple[dict, list[tuple[str, set[str]]], list[str]]:
    bus = RecordingBus()
    commands = list(read_commands(lines))
    answer = asyncio.run(import_commands(bus, commands))
    return answer, bus.seen, [cmd.command_id for _, cmd in commands]


def test_registrations_go_on_together_and_what_follows_waits_for_them():
    lines = [line(type="register_bureau", bureau=f"sh-b{i}", name=f"第{i}局") for i in range(4)]
    lines += [submit("21001", proposal="p-1"), submit("21002", proposal="p-2")]
    answer, seen, ids = run(lines)
    at_send = dict(seen)
    assert answer["accepted"] == len(lines)
    assert at_send[ids[3]] == set(ids[:3])  # registrations do not wait for each other ...
    assert at_send[ids[4]] == set()  # ... the next command waits for all of them
    assert at_send[ids[5]] == {ids[4]}


def test_submits_of_different_numbers_are_pipelined_and_a_repeated_number_waits():
    lines = [line(type="register_bureau", bureau="sh-ipa", name="上海市知识产权局"),
             *(submit(str(21000 + i), proposal=f"p-{i}") for i in range(6)),
             submit("21003", proposal="p-again"),  # the number of p-3, under another id
             submit("21010")]
    answer, seen, ids = run(lines)
    assert answer["accepted"] == len(lines) and answer["problems"] == []
    at_send = dict(seen)
    assert at_send[ids[0]] == set()  # the registration waits for nothing before it ...
    assert all(ids[0] not in at_send[i] for i in ids[1:])  # ... and everything waits for it
    assert max(len(at_send[i]) for i in ids[1:7]) >= 3  # distinct numbers: several in flight
    assert at_send[ids[7]] == set()  # the repeated number waits for every earlier command
    assert ids[7] in at_send[ids[8]]  # and what follows it does not wait for it


def test_a_merge_waits_for_everything_before_it_and_everything_after_waits_for_it():
    lines = [submit("21001", proposal="p-1"), submit("21002", proposal="p-2"),
             line(type="merge", proposal="p-2", into="p-1"), submit("21003", proposal="p-3")]
    answer, seen, ids = run(lines)
    at_send = dict(seen)
    assert ids[0] in at_send[ids[1]]
    assert at_send[ids[2]] == set() and ids[2] not in at_send[ids[3]]
