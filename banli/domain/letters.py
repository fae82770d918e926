"""A reply's letter on record, and whether the disclosure decision makes it public (DOMAIN.md,
"Reply letters": whoever may see the reply may download its letter; disclosure governs everyone
else). Pure: read from a proposal's events."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .events import DisclosureDecided, Event, ReplyIssued
from .types import DisclosureChoice, Letter


@dataclass(frozen=True)
class LetterOnRecord:
    """A letter some reply of the proposal carries: the file as the latest such reply names it,
    the lead bureaus whose replies carry it, and whether one of those replies is disclosed in
    full as things stand (then the letter is public to everyone signed in)."""

    letter: Letter
    bureaus: frozenset[str]
    public: bool


@dataclass
class _Reply:
    bureau: str
    letter: Letter | None
    disclosure: DisclosureChoice | None = None


def letter_on_record(events: Iterable[Event], sha256: str) -> LetterOnRecord | None:
    """The letter `sha256` as the proposal's replies carry it (events in `seq` order), or None
    when no reply of the proposal carries it: a file is reached through the proposal whose
    reply names it, never through another. A disclosure decision is about its bureau's latest
    reply (a decision needs a reply); each reply keeps the last decision made about it, so a
    letter published in full stays public after a later reply of the same bureau."""
    replies: list[_Reply] = []
    latest: dict[str, _Reply] = {}
    for event in events:
        if isinstance(event, ReplyIssued):
            latest[event.bureau] = reply = _Reply(event.bureau, event.letter)
            replies.append(reply)
        elif isinstance(event, DisclosureDecided) and event.bureau in latest:
            latest[event.bureau].disclosure = event.disclosure
    carrying = [r for r in replies if r.letter is not None and r.letter.sha256 == sha256]
    if not carrying:
        return None
    letter = carrying[-1].letter
    assert letter is not None
    return LetterOnRecord(letter, frozenset(r.bureau for r in carrying),
                          any(r.disclosure == "full" for r in carrying))
