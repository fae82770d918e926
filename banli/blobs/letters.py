"""Reply letters (答复函) as files: what an upload must be, and what a command naming one must
name (DOMAIN.md, "Reply letters").

- An upload is counted against the size limit as it streams in (never all in memory), hashed,
  and its type read from its bytes, never from its name or the Content-Type it was sent with:
  PDF, Word (DOCX: a zip holding word/document.xml, its directory read within bounds and
  nothing decompressed but its content-types part), PNG or JPEG. Only then is it stored.
- A command naming a letter (`reply`, `approve_reply`: any command with a `letter`) is checked
  by the edge that takes it, before it is sent (the kernel does no I/O): the store must hold
  those bytes, of that size and type. The check freshens the blob, so that a sweep running
  meanwhile keeps it (banli.blobs.sweep)."""
from __future__ import annotations

import hashlib
import tempfile
import zipfile
from dataclasses import dataclass
from typing import BinaryIO

from ..domain.commands import Command, fingerprint, sender_of
from ..domain.rejections import Rejection
from ..domain.types import Letter, LetterType
from ..eventlog import Outcome
from . import BlobStore

PDF: LetterType = "application/pdf"
PNG: LetterType = "image/png"
JPEG: LetterType = "image/jpeg"
DOCX: LetterType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
EXTENSIONS: dict[LetterType, str] = {PDF: "pdf", PNG: "png", JPEG: "jpg", DOCX: "docx"}

# A DOCX's bounds: how many zip entries, and how large its content-types part may be (a real
# letter has a few dozen entries and a part of a few KB).
MAX_ZIP_ENTRIES = 2000
MAX_CONTENT_TYPES = 1 << 20
_DOCX_MAIN = b"application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
SPOOL_BYTES = 1 << 20  # an upload is kept in memory up to this size, then in a temporary file


class LetterRefused(Exception):
    """An upload that is not a letter Banli keeps: its HTTP status, a stable code, and why, in
    Chinese and English."""

    def __init__(self, status: int, code: str, message: str, message_en: str, **details):
        super().__init__(message_en)
        self.status, self.code, self.message, self.message_en = status, code, message, message_en
        self.details = details


def too_large(limit: int) -> LetterRefused:
    return LetterRefused(413, "letter_too_large",
                         f"答复函文件超过大小上限（{_size(limit)}）",
                         f"the letter is larger than the limit ({_size(limit, 'en')})",
                         limit=limit)


def _size(count: int, lang: str = "zh") -> str:
    if count >= 1 << 20 and count % (1 << 20) == 0:
        return f"{count >> 20} MiB"
    return f"{count} 字节" if lang == "zh" else f"{count} bytes"


EMPTY = ("empty_letter", "答复函文件为空", "the letter's file is empty")
NOT_A_LETTER = ("letter_type",
                "答复函须为 PDF、Word（DOCX）或图片（PNG、JPEG）文件；此文件都不是（按文件内容判断，"
                "与文件名和声明的类型无关）",
                "a letter is a PDF, a Word document (DOCX) or an image (PNG, JPEG); this file is "
                "none of them (judged by its content, not by its name or declared type)")


def media_type_of(file: BinaryIO) -> LetterType | None:
    """The letter type of a seekable file's bytes, or None when it is none of them."""
    file.seek(0)
    head = file.read(16)
    found = type_of_head(head)
    if found == DOCX and not _is_docx(file):
        return None
    return found


def type_of_head(head: bytes) -> LetterType | None:
    """The type a file's first 16 bytes announce: its signature (a zip is taken for a DOCX;
    media_type_of looks inside it)."""
    if head.startswith(b"%PDF-"):
        return PDF
    if head.startswith(b"\x89PNG\r\n\x1a\n") and head[12:16] == b"IHDR":
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"PK\x03\x04"):
        return DOCX
    return None


def _is_docx(file: BinaryIO) -> bool:
    """A zip (from its first byte: nothing in front of it) whose directory lists
    word/document.xml and whose content types declare a Word document's main part (not a
    template's or a macro-enabled one's); within bounds."""
    try:
        with zipfile.ZipFile(file) as archive:
            entries = archive.infolist()
            if len(entries) > MAX_ZIP_ENTRIES:
                return False
            names = {entry.filename: entry for entry in entries}
            types = names.get("[Content_Types].xml")
            if "word/document.xml" not in names or types is None \
                    or types.file_size > MAX_CONTENT_TYPES:
                return False
            with archive.open(types) as part:
                declared = part.read(MAX_CONTENT_TYPES + 1)
            return len(declared) <= MAX_CONTENT_TYPES and _DOCX_MAIN in declared
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, RuntimeError,
            NotImplementedError, EOFError):
        return False  # broken, encrypted, or compressed in a way zipfile does not read


class Upload:
    """An upload's bytes as they stream in: counted against the limit as each chunk comes
    (LetterRefused 413 past it), hashed, kept in a spooled temporary file."""

    def __init__(self, limit: int):
        self.limit, self.size = limit, 0
        self.digest = hashlib.sha256()
        self.file: BinaryIO = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # type: ignore[assignment]  # a file in all but name

    def write(self, chunk: bytes) -> None:
        self.size += len(chunk)
        if self.size > self.limit:
            raise too_large(self.limit)
        self.digest.update(chunk)
        self.file.write(chunk)

    def close(self) -> None:
        self.file.close()


@dataclass
class Letters:
    """Reply letters over a blob store: uploads taken in, commands naming them checked."""

    store: BlobStore
    max_bytes: int

    def upload(self, declared_size: int | None = None) -> Upload:
        """A new upload; refused at once when its declared size is over the limit."""
        if declared_size is not None and declared_size > self.max_bytes:
            raise too_large(self.max_bytes)
        return Upload(self.max_bytes)

    def keep(self, upload: Upload, name: str | None = None) -> Letter:
        """Store a complete upload, once it is a letter, durably; the letter a command names.
        Refused (LetterRefused) when empty or of no letter type. `name` is what people called
        the file (default 答复函 with the type's extension)."""
        if upload.size == 0:
            raise LetterRefused(422, *EMPTY)
        media_type = media_type_of(upload.file)
        if media_type is None:
            raise LetterRefused(415, *NOT_A_LETTER)
        sha256 = upload.digest.hexdigest()
        self.store.put(upload.file, sha256)
        return Letter(sha256=sha256, name=name or f"答复函.{EXTENSIONS[media_type]}",
                      media_type=media_type, size=upload.size)

    def refusal(self, command: Command) -> Rejection | None:
        """Why the edge refuses a command naming a letter, or None (a command naming none, or
        one the store holds as named). Freshens the letter's blob."""
        letter: Letter | None = command.__dict__.get("letter")
        if letter is None:
            return None
        if not self.store.freshen(letter.sha256) or (info := self.store.stat(letter.sha256)) \
                is None:
            return Rejection(
                code="unknown_letter", details={"sha256": letter.sha256, "name": letter.name},
                message=f"答复函“{letter.name}”（{letter.sha256[:12]}…）不在文件库中：请先上传答复函，"
                        f"再用上传返回的 sha256 提交答复",
                message_en=f"the letter {letter.name!r} ({letter.sha256[:12]}…) is not in the "
                           f"store: upload it first, then send the reply with the sha256 the "
                           f"upload answered",
                hint="请先上传答复函文件，再提交答复", hint_en="upload the letter, then send the reply")
        with self.store.open(letter.sha256) as file:
            stored_type = type_of_head(file.read(16))
        if (info.size, stored_type) != (letter.size, letter.media_type):
            return Rejection(
                code="letter_mismatch",
                details={"sha256": letter.sha256, "size": info.size, "media_type": stored_type},
                message=f"答复函“{letter.name}”的大小或类型与上传的文件不符（上传的文件为 "
                        f"{stored_type}，{info.size} 字节）",
                message_en=f"the letter {letter.name!r} does not match the uploaded file in "
                           f"size or type (the file is {stored_type}, {info.size} bytes)",
                hint="请重新上传答复函，并使用上传返回的文件信息提交",
                hint_en="upload the letter again and send what the upload answered")
        return None

    def outcome(self, command: Command) -> Outcome | None:
        """The edge's answer to a command naming a letter the store does not hold as named: a
        refusal like the rules' own, though nothing was decided or recorded (sent again once
        the letter is uploaded, the same command is taken); None for any other command."""
        refusal = self.refusal(command)
        if refusal is None:
            return None
        return Outcome(command.command_id or "", rejection=refusal, sender=sender_of(command),
                       fingerprint=fingerprint(command))
