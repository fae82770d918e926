"""Envelopes: each event's identity and order, given to the events a decider builds."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from hashlib import sha1
from typing import TypedDict

from . import commands as c
from .events import Event
from .proposal import Context
from .rejections import Rejection
from .types import Actor

EVENT_ID_NAMESPACE = uuid.UUID("5d4e4375-31ce-4a05-8b1a-000000002020")

# What a decider returns: the command's events, or why not.
Decision = list[Event] | Rejection


class EnvelopeFields(TypedDict):
    event_id: str
    proposal_id: str
    seq: int
    occurred_at: datetime
    recorded_at: datetime
    actor: Actor
    recorded_by: Actor | None
    command_id: str


@dataclass
class Envelopes:
    """The envelopes of a command's events, one after another: ids derived from the command's
    sender and id and the event's index, seq after the stream's version, the command's business
    time, the context's record time, the command's actor and who entered it for them
    (`recorded_by`). `ReplyIssued(**env.next(), bureau=...)`."""

    command: c.Command
    ctx: Context
    version: int
    issued: int = 0
    sender: str = ""  # whose command id it is (set from the command)

    def __post_init__(self) -> None:
        self.sender = c.sender_of(self.command)

    def next(self) -> EnvelopeFields:
        index, self.issued = self.issued, self.issued + 1
        command = self.command
        assert command.command_id is not None and command.at is not None
        assert command.actor is not None
        return EnvelopeFields(
            event_id=event_id(self.sender, command.command_id, index),
            proposal_id=command.stream,
            seq=self.version + index + 1, occurred_at=command.at,
            recorded_at=self.ctx.recorded_at, actor=command.actor,
            recorded_by=command.recorded_by, command_id=command.command_id)


_NAMESPACE_BYTES = EVENT_ID_NAMESPACE.bytes


def event_id(sender: str, command_id: str, index: int) -> str:
    """The id of the `index`-th event of `sender`'s command `command_id`:
    `str(uuid5(EVENT_ID_NAMESPACE, "<len(sender)>:<sender><command>/<i>"))`, computed as uuid5
    does (SHA-1 of namespace and name, version and variant bits set) without building UUID
    objects, which cost as much again as the hash: one id is made per event. The sender is in
    it because command ids are scoped to their sender: two senders' commands under one id are
    two commands, with events of their own (its length first, so that no sender and id run
    into another pair's). Events recorded before the sender was part of it keep the ids they
    were given then (from the command id and the index alone)."""
    return _uuid5(f"{len(sender)}:{sender}{command_id}/{index}")


def unscoped_event_id(command_id: str, index: int) -> str:
    """The id the `index`-th event of command `command_id` was given before command ids were
    scoped to their sender (`str(uuid5(EVENT_ID_NAMESPACE, "<command>/<i>"))`): an event under
    it was recorded by the code of then."""
    return _uuid5(f"{command_id}/{index}")


def event_sender(event: Event) -> str:
    """Whose command an event comes from: its sender as `commands.sender_of` names the sender of
    the command (the envelope gives the event the command's actor and `recorded_by`: the one
    who entered it is the sender)."""
    return c.actor_key(event.recorded_by or event.actor)


def _uuid5(name: str) -> str:
    digest = bytearray(sha1(_NAMESPACE_BYTES + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # the RFC 4122 variant
    h = digest.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
