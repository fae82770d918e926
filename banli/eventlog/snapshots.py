"""Snapshots of a stream, as `banli.snapshots` carries them (a compacted topic keyed by stream:
Kafka keeps the latest snapshot of each) and the handling worker's local cache keeps them.

A snapshot holds a stream's state at a version; `covers`, an offset of the stream's partition of
`banli.events` such that every event of the stream at or before it is folded in; the commands
whose events the stream holds (so that a command sent again is answered from its record, not
decided again); and the directory entries the stream sets (its natural key and status, or a
bureau's name, a filer's entries), which the directory reads without decoding the state. A worker writes one only
once the events it covers are acked and the commands behind them committed.

`format` names the state's schema: FORMAT_VERSION, bumped by hand when what `evolve` computes
changes, and a fingerprint of the state models' JSON schema, so that a change of their fields
never passes unnoticed. A snapshot of another format, or one that does not decode, is ignored:
the stream is folded from its events instead. The directory entries do not depend on it.
"""
from __future__ import annotations

import functools
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Mapping, NamedTuple

from ..domain import commands as c
from ..domain.proposal import Bureau, Proposal, RegisteredFiler, State

FORMAT_VERSION = 1


@functools.cache
def snapshot_format() -> str:
    schema = json.dumps([Proposal.model_json_schema(), Bureau.model_json_schema(),
                         RegisteredFiler.model_json_schema()], sort_keys=True)
    return f"{FORMAT_VERSION}-{hashlib.sha256(schema.encode()).hexdigest()[:12]}"


class Logged(NamedTuple):
    """A command whose events a stream holds: their positions, whose command id it is, and what
    was asked (None for a command taken from the log without it)."""

    positions: tuple[int, ...]
    sender: str | None
    fingerprint: str | None


@dataclass(frozen=True)
class Snapshot:
    stream: str
    version: int
    covers: int
    state: Proposal | Bureau | RegisteredFiler
    commands: Mapping[str, Logged]


def directory_of(state: State) -> dict[str, str]:
    """The directory entries a stream's state sets (banli.eventlog.kafka_log.directory_entries
    gives the same from its events)."""
    match state:
        case RegisteredFiler():
            return filer_entries(state.id, state.name, state.affiliation, state.account)
        case Proposal():
            key = c.natural_key(state.level, state.kind, state.year, state.number)
            return {f"key:{key}": state.id, f"status:{state.id}": state.status}
        case Bureau():
            found = {f"bureau:{state.id}": state.name, f"bureau_en:{state.id}": state.name_en}
            if state.merged_into is not None and state.merged_at is not None:
                found.update(merged_entries(state.id, state.merged_into, state.merged_at))
            return found
    return {}


def merged_entries(bureau: str, into: str, at: datetime) -> dict[str, str]:
    """A merged bureau's directory entry: its successor and the merger's business time."""
    return {f"merged:{bureau}": json.dumps([into, at.isoformat()])}


def merged_of(value: str | None) -> tuple[str, datetime] | None:
    """The successor and time a `merged:` entry holds (merged_entries), or None."""
    if value is None:
        return None
    into, at = json.loads(value)
    return str(into), datetime.fromisoformat(at)


def filer_entries(filer: str, name: str, affiliation: str, account: str) -> dict[str, str]:
    """A registered filer's directory entries: its name by its id, its id under its name and
    affiliation (filers_named reads them by that prefix), its id by its account."""
    found = {f"filer:{filer}": name, f"{named_prefix(name, affiliation)}{filer}": filer}
    if account:
        found[f"account:{account}"] = filer
    return found


def named_prefix(name: str, affiliation: str) -> str:
    """The prefix of the entries of the filers registered under a name and an affiliation
    (JSON: no name or affiliation can run into the other)."""
    return f"filer_name:{json.dumps([name, affiliation], ensure_ascii=False)}:"


# What a snapshot's `kind` says its state is.
MODELS: dict[str, type[Proposal | Bureau | RegisteredFiler]] = {
    "proposal": Proposal, "bureau": Bureau, "filer": RegisteredFiler}
KINDS = {model: kind for kind, model in MODELS.items()}


def encode_snapshot(snapshot: Snapshot) -> bytes:
    """One encode of the state (pydantic's own JSON), wrapped."""
    head = json.dumps({
        "format": snapshot_format(), "stream": snapshot.stream, "version": snapshot.version,
        "covers": snapshot.covers, "directory": directory_of(snapshot.state),
        "commands": {cid: [list(logged.positions), logged.sender, logged.fingerprint]
                     for cid, logged in snapshot.commands.items()},
        "kind": KINDS[type(snapshot.state)],
    }, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"state":'.encode() + snapshot.state.model_dump_json().encode() + b"}"


def decode_snapshot(raw: bytes) -> Snapshot | None:
    """The snapshot, or None when it is of another format or does not decode."""
    try:
        data = json.loads(raw)
        if data.get("format") != snapshot_format():
            return None
        model = MODELS[data["kind"]]
        state = model.model_validate(data["state"])
        commands = {cid: Logged(tuple(positions), sender, fingerprint)
                    for cid, (positions, sender, fingerprint) in data["commands"].items()}
        snapshot = Snapshot(data["stream"], int(data["version"]), int(data["covers"]), state,
                            commands)
    except Exception:
        return None
    return snapshot if snapshot.state.version == snapshot.version else None


def header(raw: bytes) -> tuple[int, dict[str, str]]:
    """A snapshot's version and directory entries, whatever its format (raises on garbage)."""
    data = json.loads(raw)
    return int(data["version"]), {str(k): str(v) for k, v in data.get("directory", {}).items()}
