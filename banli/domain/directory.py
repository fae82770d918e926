"""The directory decisions read beyond their own stream (registered bureaus and their names,
the filer registry, natural keys, proposals' status): what each event sets in it.
`directory_entries` is the one mapping from events to the directory; every directory (the
reference's in memory, the embedded store's tables, the Kafka worker's local cache) and every
snapshot's header take it from here. Pure."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Iterable, Literal, NamedTuple

from . import commands as c
from . import events as e

Status = Literal["open", "withdrawn", "merged", "not_filed"]


class Registered(NamedTuple):
    """A bureau is registered (again: its names are the latest registration's)."""

    bureau: str
    name: str
    name_en: str


class Enrolled(NamedTuple):
    """A filer is entered in the filer registry (once: a filer's stream is registered once)."""

    filer: str
    name: str
    affiliation: str
    term: str
    account: str  # "" when the filer has no account


class Keyed(NamedTuple):
    """A natural key (level, kind, year, number) belongs to a proposal: the first to take it."""

    natural_key: str
    proposal_id: str


class Merged(NamedTuple):
    """A bureau merged into its successor (机构改革), from a business time on."""

    bureau: str
    into: str
    at: datetime


class Stated(NamedTuple):
    """A proposal's status: open once submitted; withdrawn, merged or not filed (the office's
    review declined it, 不立案) for good."""

    proposal_id: str
    status: Status


Entry = Registered | Enrolled | Keyed | Stated | Merged

# The events that set anything in the directory (those `directory_entries` maps): a reader of
# the raw log (the Kafka worker's follower) decodes only these.
SETS_DIRECTORY: tuple[type[e.Event], ...] = (
    e.BureauRegistered, e.BureauRenamed, e.BureauMerged, e.FilerRegistered, e.ProposalSubmitted,
    e.ProposalWithdrawn, e.ProposalMerged, e.FilingDeclined)


def directory_entries(event: e.Event) -> tuple[Entry, ...]:
    """What one event sets in the directory (nothing, for most events)."""
    match event:
        case e.BureauRegistered() | e.BureauRenamed():
            return (Registered(event.bureau, event.name, event.name_en),)
        case e.BureauMerged():
            return (Merged(event.bureau, event.into, event.occurred_at),)
        case e.FilerRegistered():
            return (Enrolled(event.filer, event.name, event.affiliation, event.term,
                             event.account),)
        case e.ProposalSubmitted():
            key = c.natural_key(event.level, event.kind, event.year, event.number)
            return Keyed(key, event.proposal_id), Stated(event.proposal_id, "open")
        case e.ProposalWithdrawn():
            return (Stated(event.proposal_id, "withdrawn"),)
        case e.ProposalMerged():
            return (Stated(event.proposal_id, "merged"),)
        case e.FilingDeclined():
            return (Stated(event.proposal_id, "not_filed"),)
    return ()


MERGED = "merged:"  # the prefix of a merged bureau's pair (as_pairs)
FILER_NAME = "filer_name:"  # the prefix of the pairs of the filers by name (named_prefix)


def as_pairs(entries: Iterable[Entry]) -> dict[str, str]:
    """Entries as the key-value directories keep them (the Kafka worker's local cache, a
    snapshot's header): `bureau:<id>` its name and `bureau_en:<id>` its English name;
    `filer:<id>` a filer's name, `<named_prefix(name, affiliation)><id>` its id (read by that
    prefix) and `account:<account>` its id; `key:<natural key>` its proposal;
    `status:<proposal>` its status; `merged:<bureau>` its successor and the merger's time."""
    pairs: dict[str, str] = {}
    for entry in entries:
        match entry:
            case Registered(bureau, name, name_en):
                pairs[f"bureau:{bureau}"] = name
                pairs[f"bureau_en:{bureau}"] = name_en
            case Enrolled(filer, name, affiliation, _, account):
                pairs[f"filer:{filer}"] = name
                pairs[f"{named_prefix(name, affiliation)}{filer}"] = filer
                if account:
                    pairs[f"account:{account}"] = filer
            case Keyed(natural_key, proposal_id):
                pairs[f"key:{natural_key}"] = proposal_id
            case Stated(proposal_id, status):
                pairs[f"status:{proposal_id}"] = status
            case Merged(bureau, into, at):
                pairs[f"{MERGED}{bureau}"] = json.dumps([into, at.isoformat()])
    return pairs


def merged_of(value: str | None) -> tuple[str, datetime] | None:
    """The successor and business time a `merged:` pair holds (as_pairs), or None."""
    if value is None:
        return None
    into, at = json.loads(value)
    return str(into), datetime.fromisoformat(at)


def named_prefix(name: str, affiliation: str) -> str:
    """The prefix of the pairs of the filers registered under a name and an affiliation
    (JSON: no name or affiliation can run into the other)."""
    return f"{FILER_NAME}{json.dumps([name, affiliation], ensure_ascii=False)}:"
