"""Snapshots of a stream, as `banli.snapshots` carries them (a compacted topic keyed by stream:
Kafka keeps the latest snapshot of each) and the handling worker's local cache keeps them.

A snapshot holds a stream's state at a version; `covers`, an offset of the stream's partition of
`banli.events` such that every event of the stream at or before it is folded in; the commands
whose events the stream holds, by sender and command id (so that a command sent again is
answered from its record, not decided again); and the directory entries the stream's events set
(banli.domain.directory: its natural key and status, a bureau's names, a filer's entries), which
the directory reads without decoding the state. A worker writes one only once the events it
covers are acked and the commands behind them committed.

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
from typing import Any, Mapping, NamedTuple

from ..domain.proposal import Bureau, Proposal, RegisteredFiler

FORMAT_VERSION = 1


@functools.cache
def snapshot_format() -> str:
    schema = json.dumps([Proposal.model_json_schema(), Bureau.model_json_schema(),
                         RegisteredFiler.model_json_schema()], sort_keys=True)
    return f"{FORMAT_VERSION}-{hashlib.sha256(schema.encode()).hexdigest()[:12]}"


class Logged(NamedTuple):
    """A command whose events a stream holds (its sender and id are its key): their positions,
    and what was asked (None for a command taken from the log without it)."""

    positions: tuple[int, ...]
    fingerprint: str | None


CommandKey = tuple[str, str]  # (sender, command id)


@dataclass(frozen=True)
class Snapshot:
    stream: str
    version: int
    covers: int
    state: Proposal | Bureau | RegisteredFiler
    commands: Mapping[CommandKey, Logged]
    directory: Mapping[str, str]  # banli.domain.directory.as_pairs of the events it holds


class Header(NamedTuple):
    """What a snapshot says besides its state."""

    version: int
    covers: int
    directory: dict[str, str]
    commands: dict[CommandKey, Logged]


# What a snapshot's `kind` says its state is.
MODELS: dict[str, type[Proposal | Bureau | RegisteredFiler]] = {
    "proposal": Proposal, "bureau": Bureau, "filer": RegisteredFiler}
KINDS = {model: kind for kind, model in MODELS.items()}


def encode_snapshot(snapshot: Snapshot) -> bytes:
    """One encode of the state (pydantic's own JSON), wrapped."""
    head = json.dumps({
        "format": snapshot_format(), "stream": snapshot.stream, "version": snapshot.version,
        "covers": snapshot.covers, "directory": dict(snapshot.directory),
        "commands": [[sender, cid, list(logged.positions), logged.fingerprint]
                     for (sender, cid), logged in snapshot.commands.items()],
        "kind": KINDS[type(snapshot.state)],
    }, ensure_ascii=False, separators=(",", ":"))
    return f'{head[:-1]},"state":'.encode() + snapshot.state.model_dump_json().encode() + b"}"


def decode_snapshot(raw: bytes | dict[str, Any]) -> Snapshot | None:
    """The snapshot (from its bytes, or as `json.loads` gave them), or None when it is of
    another format or does not decode."""
    try:
        data = json.loads(raw) if isinstance(raw, bytes) else raw
        if data.get("format") != snapshot_format():
            return None
        model = MODELS[data["kind"]]
        state = model.model_validate(data["state"])
        head = read_header(data)
        snapshot = Snapshot(data["stream"], head.version, head.covers, state, head.commands,
                            head.directory)
    except Exception:
        return None
    return snapshot if snapshot.state.version == snapshot.version else None


def read_header(data: dict[str, Any]) -> Header:
    """A snapshot's header (as `json.loads` gave it), whatever its format; raises on garbage.
    Its commands are a list of [sender, id, positions, fingerprint], or (written before ids were
    scoped to their sender) a mapping of id to [positions, sender, fingerprint]."""
    found = data["commands"]
    if isinstance(found, dict):
        commands = {(sender or "", cid): Logged(tuple(positions), fingerprint)
                    for cid, (positions, sender, fingerprint) in found.items()}
    else:
        commands = {(sender, cid): Logged(tuple(positions), fingerprint)
                    for sender, cid, positions, fingerprint in found}
    directory = {str(k): str(v) for k, v in data.get("directory", {}).items()}
    return Header(int(data["version"]), int(data["covers"]), directory, commands)


def header(raw: bytes) -> tuple[int, dict[str, str]]:
    """A snapshot's version and directory entries, whatever its format (raises on garbage)."""
    data = json.loads(raw)
    return int(data["version"]), {str(k): str(v) for k, v in data.get("directory", {}).items()}
