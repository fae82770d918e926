"""The sweep: blobs no event references are removed once they are older than a grace period;
every blob an event references is kept, whatever its age.

Upload first, then the command that references it (banli.blobs.letters): between the two a
letter is referenced by nothing yet, and a crash there loses nothing because the grace period
(BANLI_LETTERS_GRACE_HOURS, default a week) keeps it for the command to come. Like git's
`gc --prune=<date>`, which keeps loose objects younger than the expiry and freshens an object
written again, the blob's time is the last time it was stored or named by a command (the edge
freshens it before sending the command: banli.blobs.letters.Letters.refusal).

Order matters: the blobs are listed first, then the log is read, then each candidate is looked
at again just before it goes. A command accepted after the log was read had its letter
freshened before it was sent, so the second look finds it young and keeps it. What is left is
the moment between that second look and the delete."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable, Iterable

from . import BlobStore


@dataclass
class Swept:
    """What a sweep did: blobs kept because events reference them, kept because they are
    younger than the grace period, removed (their digests), and partial writes removed."""

    referenced: int = 0
    young: int = 0
    removed: list[str] = field(default_factory=list)
    partial: int = 0


def letters_referenced(texts: Iterable[str | bytes]) -> set[str]:
    """The digests events reference, read from the events' JSON as the log holds it: any event
    with a `letter` naming a `sha256` (a reply's letter). JSON that does not decode references
    nothing (the log's readers leave such a record out too)."""
    found: set[str] = set()
    for text in texts:
        if not (b'"letter"' in text if isinstance(text, bytes) else '"letter"' in text):
            continue
        try:
            letter = json.loads(text).get("letter")
        except (ValueError, AttributeError):
            continue
        if isinstance(letter, dict) and isinstance(letter.get("sha256"), str):
            found.add(letter["sha256"])
    return found


def sweep(store: BlobStore, referenced: Callable[[], set[str]], grace_s: float, now: float,
          dry_run: bool = False) -> Swept:
    """Remove the blobs older than `grace_s` seconds at `now` that no event references
    (`referenced()` reads the log: called after the blobs are listed), and partial writes older
    than that. With `dry_run`, say what would go and remove nothing."""
    cutoff = now - grace_s
    result = Swept()
    old = []
    for blob in store.blobs():
        if blob.modified < cutoff:
            old.append(blob.sha256)
        else:
            result.young += 1
    keep = referenced()
    for sha256 in old:
        if sha256 in keep:
            result.referenced += 1
            continue
        info = store.stat(sha256)
        if info is None:  # gone meanwhile
            continue
        if info.modified >= cutoff:  # named by a command since it was listed
            result.young += 1
            continue
        if not dry_run:
            store.delete(sha256)
        result.removed.append(sha256)
    if not dry_run:
        result.partial = store.remove_partial(cutoff)
    return result
