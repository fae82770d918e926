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
    window = 64

    def __init__(self, slow: dict[str, float]) -> None:
        self.slow = slow  # command ids whose answer takes long: how long
        self.in_flight: set[str] = set()
        self.seen: list[tuple[str, set[str]]] = []  # (command id, what was in flight at send)

    async def send(self, command) -> Outcome:
        self.seen.append((command.command_id, set(self.in_flight)))
        self.in_flight.add(command.command_id)
        await asyncio.sleep(self.slow.get(command.command_id, 0.02))
        self.in_flight.discard(command.command_id)
        return Outcome(command.command_id)


def line(**fields) -> str:
    return json.dumps({"at": "2021-01-10T10:00:00+08:00", **fields}, ensure_ascii=False)


def submit(number: str, proposal: str | None = None, **more) -> str:
    return line(type="submit", kind="cppcc_proposal", level="municipal", year=2021,
                number=number, title=f"关于第{number}号的建议",
                **({"proposal": proposal} if proposal else {}), **more)


def run(lines: list[str], waited: int, other: int
        ) -> tuple[dict, dict[str, set[str]], list[str]]:
    """Import the lines; the answers to two of them (numbered from 0) take long: `waited`'s
    long, `other`'s longer still."""
    commands = list(read_commands(lines))
    ids = [cmd.command_id for _, cmd in commands]
    bus = RecordingBus({ids[waited]: 0.2, ids[other]: 0.8})
    answer = asyncio.run(import_commands(bus, commands))
    return answer, dict(bus.seen), ids


def test_an_assignment_waits_for_the_registrations_of_its_bureaus_only():
    lines = [line(type="register_bureau", bureau=f"sh-b{i}", name=f"第{i}局") for i in range(3)]
    lines += [submit("21001", proposal="p-1"), submit("21002", proposal="p-2"),
              line(type="assign", proposal="p-1", lead=["sh-b1"]),
              line(type="assign", proposal="p-2", lead=["sh-b0"], co=["sh-b2"])]
    answer, at_send, ids = run(lines, waited=0, other=3)
    assert answer["accepted"] == len(lines)
    assert at_send[ids[2]] >= {ids[0], ids[1]}  # registrations do not wait for each other,
    assert at_send[ids[3]] >= {ids[0]}  # nor does a submit wait for them
    assert ids[1] not in at_send[ids[5]] and ids[0] in at_send[ids[5]]  # only for its bureau's
    assert ids[0] not in at_send[ids[6]] and ids[2] not in at_send[ids[6]]
    assert ids[3] in at_send[ids[6]]  # another proposal's commands do not hold it back


def test_submits_of_different_numbers_are_pipelined_and_a_repeated_number_waits():
    lines = [*(submit(str(21000 + i), proposal=f"p-{i}") for i in range(6)),
             submit("21003", proposal="p-again"),  # the number of p-3, under another id
             submit("21010")]
    answer, at_send, ids = run(lines, waited=3, other=5)
    assert answer["accepted"] == len(lines) and answer["problems"] == []
    assert max(len(at_send[i]) for i in ids[:6]) >= 3  # distinct numbers: several in flight
    assert ids[3] not in at_send[ids[6]]  # the repeated number waits for p-3's submit ...
    assert ids[5] in at_send[ids[6]]  # ... and for nothing else
    assert ids[3] in at_send[ids[7]]  # what follows it is not held back


def test_a_merge_waits_for_its_targets_commands_and_holds_back_its_own_streams_only():
    lines = [submit("21001", proposal="p-1"), submit("21002", proposal="p-2"),
             submit("21003", proposal="p-3"),
             line(type="merge", proposal="p-2", into="p-1"), submit("21004", proposal="p-4"),
             line(type="supervise", proposal="p-2", note="督办")]
    answer, at_send, ids = run(lines, waited=0, other=2)
    assert answer["accepted"] == len(lines)
    assert ids[0] not in at_send[ids[3]]  # the target's submit is answered first
    assert ids[2] in at_send[ids[3]]  # another proposal's is not waited for
    assert ids[0] in at_send[ids[4]]  # what follows the merge is sent meanwhile ...
    order = list(at_send)
    assert order.index(ids[3]) < order.index(ids[5])  # ... but its own stream after it



def test_submits_and_links_wait_for_the_registrations_of_the_filers_they_name():
    """A submit links the one registered filer of a name, or the filer it names by id, and a
    link of filers names them by id: each waits for those registrations (the demo's history
    over Kafka refused links as `unknown_filer` before), and for no other filer's."""
    lines = [line(type="register_filer", filer="f-0", name="张伟", affiliation="浦东"),
             line(type="register_filer", filer="f-1", name="王芳", affiliation="科技界"),
             submit("21001", proposal="p-1", filers=[{"name": "张伟"}], affiliation="浦东"),
             submit("21002", proposal="p-2", filers=[{"name": "王芳", "id": "f-1"}]),
             submit("21003", proposal="p-3", filers=[{"name": "张伟"}]),
             line(type="link_filers", proposal="p-3", filers=[{"id": "f-0"}])]
    answer, at_send, ids = run(lines, waited=0, other=1)
    assert answer["accepted"] == len(lines)
    # 张伟's submit waits for 张伟's registration (0.2 s), not for 王芳's (0.8 s) ...
    assert ids[0] not in at_send[ids[2]] and ids[1] in at_send[ids[2]]
    assert ids[1] not in at_send[ids[3]]  # ... the one naming f-1 for f-1's,
    assert ids[1] in at_send[ids[4]] and ids[1] in at_send[ids[5]]  # and no other
    assert ids[0] not in at_send[ids[5]]  # the link waits for f-0's

class FailoverBus:
    """A bus whose answer to one command does not come within its timeout (its worker died):
    `send` gives None, and the command is decided later, when its partition's next owner gets
    to it (`outcome` finds it then)."""

    window = 64

    def __init__(self, late: str) -> None:
        self.late = late
        self.decided: set[str] = set()
        self.sent_after: dict[str, set[str]] = {}  # command id -> the commands decided by then

    async def send(self, command) -> Outcome | None:
        self.sent_after[command.command_id] = set(self.decided)
        if command.command_id == self.late:
            asyncio.get_running_loop().call_later(0.5, self.decided.add, command.command_id)
            return None  # the bus's timeout: a 202
        self.decided.add(command.command_id)
        return Outcome(command.command_id)

    async def outcome(self, sender: str, command_id: str) -> Outcome | None:
        return Outcome(command_id) if command_id in self.decided else None


def test_a_merge_waits_until_its_target_is_decided_even_past_the_bus_timeout():
    """The target's submit is not answered in time (its worker was killed): the merge is sent
    only once the submit is decided, or it would read a target that is not in the log yet."""
    lines = [submit("21001", proposal="p-1"), submit("21002", proposal="p-2"),
             line(type="merge", proposal="p-2", into="p-1")]
    commands = list(read_commands(lines))
    ids = [cmd.command_id for _, cmd in commands]
    bus = FailoverBus(late=ids[0])
    answer = asyncio.run(import_commands(bus, commands))
    assert answer["pending"] == 1 and answer["accepted"] == 2
    assert ids[0] in bus.sent_after[ids[2]]
