"""The directory decisions read beyond their own stream (registered bureaus, natural keys,
proposals' status): what each event sets in it. `directory_entries` is the one mapping from
events to the directory; every directory (the reference's in memory, the embedded store's
tables, the Kafka worker's local cache) and every snapshot's header take it from here. Pure."""
from __future__ import annotations

from typing import Iterable, Literal, NamedTuple

from . import commands as c
from . import events as e

Status = Literal["open", "withdrawn", "merged"]


class Registered(NamedTuple):
    """A bureau is registered (again: its names are the latest registration's)."""

    bureau: str
    name: str
    name_en: str


class Keyed(NamedTuple):
    """A natural key (level, kind, year, number) belongs to a proposal: the first to take it."""

    natural_key: str
    proposal_id: str


class Stated(NamedTuple):
    """A proposal's status: open once submitted; withdrawn or merged for good."""

    proposal_id: str
    status: Status


Entry = Registered | Keyed | Stated


def directory_entries(event: e.Event) -> tuple[Entry, ...]:
    """What one event sets in the directory (nothing, for most events)."""
    match event:
        case e.BureauRegistered():
            return (Registered(event.bureau, event.name, event.name_en),)
        case e.ProposalSubmitted():
            key = c.natural_key(event.level, event.kind, event.year, event.number)
            return Keyed(key, event.proposal_id), Stated(event.proposal_id, "open")
        case e.ProposalWithdrawn():
            return (Stated(event.proposal_id, "withdrawn"),)
        case e.ProposalMerged():
            return (Stated(event.proposal_id, "merged"),)
    return ()


def as_pairs(entries: Iterable[Entry]) -> dict[str, str]:
    """Entries as the key-value directories keep them (the Kafka worker's local cache, a
    snapshot's header): `bureau:<id>` its name, `key:<natural key>` its proposal,
    `status:<proposal>` its status."""
    pairs: dict[str, str] = {}
    for entry in entries:
        match entry:
            case Registered(bureau, name, _):
                pairs[f"bureau:{bureau}"] = name
            case Keyed(natural_key, proposal_id):
                pairs[f"key:{natural_key}"] = proposal_id
            case Stated(proposal_id, status):
                pairs[f"status:{proposal_id}"] = status
    return pairs
