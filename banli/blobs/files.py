"""Blobs in a directory: the data dir in the embedded mode, a volume the distributed services
share (docker-compose.yml's `letters`).

    <root>/sha256/<first two hex digits>/<digest>   the blobs (0600)
    <root>/partial/                                  writes under way (a crash may leave one)

A blob is written to a file in `partial/`, flushed to disk (fsync), renamed into place (atomic
on one file system) and its directory flushed too, all before `put` returns: once an upload is
answered its letter survives a crash, and a reader never sees half a file."""
from __future__ import annotations

import hashlib
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Iterator

from . import CHUNK, BlobInfo, BlobMissing, DigestMismatch, is_digest


class DirBlobStore:
    def __init__(self, root: Path):
        self.root = Path(root)
        self.blob_dir = self.root / "sha256"
        self.partial_dir = self.root / "partial"
        for directory in (self.root, self.blob_dir, self.partial_dir):
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)

    def path(self, sha256: str) -> Path:
        if not is_digest(sha256):  # never a path built from anything but a digest
            raise ValueError(f"not a SHA-256 digest: {sha256!r}")
        return self.blob_dir / sha256[:2] / sha256

    def put(self, source: BinaryIO, sha256: str) -> None:
        target = self.path(sha256)
        fd, name = tempfile.mkstemp(dir=self.partial_dir, prefix=f"{sha256[:12]}.")
        try:
            found = hashlib.sha256()
            with os.fdopen(fd, "wb") as out:
                source.seek(0)
                while chunk := source.read(CHUNK):
                    found.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            if found.hexdigest() != sha256:
                raise DigestMismatch(f"the bytes hash to {found.hexdigest()}, not {sha256}")
            if not target.parent.is_dir():
                target.parent.mkdir(mode=0o700, exist_ok=True)
                _sync_dir(self.blob_dir)
            os.replace(name, target)  # a new file: its time is now (the sweep counts from it)
            _sync_dir(target.parent)
        except BaseException:
            Path(name).unlink(missing_ok=True)
            raise

    def freshen(self, sha256: str) -> bool:
        try:
            os.utime(self.path(sha256))
            return True
        except FileNotFoundError:
            return False

    def stat(self, sha256: str) -> BlobInfo | None:
        try:
            found = os.stat(self.path(sha256))
        except FileNotFoundError:
            return None
        return BlobInfo(sha256, found.st_size, found.st_mtime)

    @contextmanager
    def open(self, sha256: str) -> Iterator[BinaryIO]:
        try:
            file = self.path(sha256).open("rb")
        except FileNotFoundError:
            raise BlobMissing(sha256) from None
        with file:
            yield file

    def blobs(self) -> Iterator[BlobInfo]:
        for entry in self.blob_dir.glob("??/*"):
            if is_digest(entry.name) and entry.parent.name == entry.name[:2]:
                try:
                    found = entry.stat()
                except FileNotFoundError:  # deleted meanwhile
                    continue
                yield BlobInfo(entry.name, found.st_size, found.st_mtime)

    def delete(self, sha256: str) -> None:
        self.path(sha256).unlink(missing_ok=True)

    def remove_partial(self, before: float) -> int:
        removed = 0
        for entry in self.partial_dir.iterdir():
            try:
                if entry.stat().st_mtime < before:
                    entry.unlink()
                    removed += 1
            except FileNotFoundError:
                continue
        return removed


def _sync_dir(directory: Path) -> None:
    """Flush a directory's entries to disk (a rename is durable once its directory is)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
