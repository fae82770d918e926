"""The blob store port: files people attach (reply letters), kept by content.

A blob is named by the SHA-256 of its bytes, so storing the same bytes twice keeps one copy and
an event that names a digest names exactly those bytes. Events carry the digest; the bytes live
here (ARCHITECTURE.md, "Files people attach"). Upload first, then the command that references
it; what no event references is swept later, never the other way round (banli.blobs.sweep).

`BlobStore` is the port; its adapters are `files.DirBlobStore` (a directory: the data dir in the
embedded mode, a volume the distributed services share) and `s3.S3BlobStore` (an S3-compatible
bucket, through boto3). One contract suite holds both to it
(tests/integration/test_blob_contract.py). The composition roots choose one by the settings
(apps.blobs.blob_store)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO, ContextManager, Iterator, Protocol


CHUNK = 1 << 16


class BlobMissing(LookupError):
    """The store holds no blob of that digest."""


class DigestMismatch(ValueError):
    """The bytes given are not those the digest names: nothing was stored."""


@dataclass(frozen=True)
class BlobInfo:
    """A stored blob: its digest, its size in bytes and when it was last stored or freshened
    (seconds since the epoch: what the sweep's grace period counts from)."""

    sha256: str
    size: int
    modified: float


class BlobStore(Protocol):
    """Bytes by their SHA-256 (64 lower-case hex digits). Every method may be called from any
    thread."""

    def put(self, source: BinaryIO, sha256: str) -> None:
        """Store the bytes of the seekable file `source` (read from its start) under `sha256`,
        durably before returning. They must hash to `sha256` (DigestMismatch, and nothing
        stored, when they do not). Storing bytes already there keeps them and freshens them."""
        ...

    def freshen(self, sha256: str) -> bool:
        """Mark the blob as just used, so that a sweep's grace period starts again (a command
        about to reference it); False when there is no such blob."""
        ...

    def stat(self, sha256: str) -> BlobInfo | None:
        """The blob's size and age, or None when there is no such blob."""
        ...

    def open(self, sha256: str) -> ContextManager[BinaryIO]:
        """The blob's bytes, to read from the start (BlobMissing when there is no such blob)."""
        ...

    def blobs(self) -> Iterator[BlobInfo]:
        """Every stored blob, in no particular order."""
        ...

    def delete(self, sha256: str) -> None:
        """Remove the blob (nothing happens when there is none)."""
        ...

    def remove_partial(self, before: float) -> int:
        """Remove what writes cut short (a crash mid-upload) left before `before` (seconds since
        the epoch); how many. Never a stored blob."""
        ...


def digest_of(source: BinaryIO) -> tuple[str, int]:
    """The SHA-256 (hex) and size of a seekable file's bytes, read from its start."""
    source.seek(0)
    found, size = hashlib.sha256(), 0
    while chunk := source.read(CHUNK):
        found.update(chunk)
        size += len(chunk)
    return found.hexdigest(), size


def is_digest(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdef" for c in text)
