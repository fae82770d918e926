"""Reply letters over HTTP, where commands are taken: the upload route, and the command bus that
checks the letters commands name before sending them (README, "Reply letters").

Upload first (`POST /api/proposals/{id}/letters?bureau=B`, the file as the body: its answer is
the `letter` to put in the reply), then the command naming it (`reply`, `approve_reply`).
Downloads are the reporting service's (services/reporting/http/letters_api.py): they read the
proposal's history."""
from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from ..blobs.letters import LetterRefused, Letters
from ..domain.commands import Command
from ..domain.types import FILE_NAME_PATTERN, Letter
from ..eventlog import Outcome
from .deps import CommandBus, CurrentActor, LetterFiles, ProposalPath, permit
from .schemas import ErrorBody, action, errors

router = APIRouter(prefix="/api", tags=["letters"])

# The upload's path: its route counts the body against the letters' own limit as it streams in
# (banli.web.app's BodyLimit leaves it to the route).
UPLOAD_PATH = re.compile(r"/api/proposals/[^/]+/letters")
BUREAU_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"  # banli.domain.types.BureauId's

_UPLOAD_ERRORS: dict[int | str, dict[str, Any]] = {
    **errors(401, 403, 413, 422, 503,
             e413="the file is over the letters' size limit (`letter_too_large`, with `limit`)",
             e422="an empty file (`empty_letter`), or a malformed query (`malformed`)"),
    415: {"model": ErrorBody, "description": "the file is no PDF, DOCX, PNG or JPEG, judged by "
                                             "its content (`letter_type`)"},
}


@router.post(
    "/proposals/{proposal_id}/letters", status_code=201, response_model=Letter,
    responses=_UPLOAD_ERRORS,
    summary="Upload a reply's signed letter (答复函): the file as the body; the answer is the "
            "`letter` a `reply` or `approve_reply` then names",
    openapi_extra={**action("write:letter"), "requestBody": {"required": True, "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def upload_letter(proposal_id: ProposalPath, request: Request, actor: CurrentActor,
                        letters: LetterFiles,
                        bureau: Annotated[str, Query(pattern=BUREAU_PATTERN, description=(
                            "the lead bureau whose reply the letter is (a clerk: its own)"))],
                        name: Annotated[str | None, Query(
                            min_length=1, max_length=255, pattern=FILE_NAME_PATTERN,
                            description="the file's name as people see it (default 答复函.pdf "
                                        "etc.)")] = None) -> Letter:
    """For whoever may reply for `bureau` (the permission table's `write:letter`: the rows of
    `reply` and `approve_reply`). The body may be sent with any Content-Type: the type is read
    from the bytes (PDF, DOCX, PNG, JPEG). It is counted against BANLI_MAX_LETTER_BYTES as it
    streams in, and stored by its SHA-256, durably, before this answers. Uploading the same
    file again answers the same digest. A file no reply names is removed by `banli letters
    sweep` after the grace period."""
    permit(actor, "write:letter", bureau)
    declared = request.headers.get("content-length", "")
    try:
        upload = letters.upload(int(declared) if declared.isdigit() else None)
        try:
            async for chunk in request.stream():
                upload.write(chunk)
            return await run_in_threadpool(letters.keep, upload, name)
        finally:
            upload.close()
    except LetterRefused as refused:
        raise HTTPException(refused.status, detail={
            "code": refused.code, "message": refused.message, "message_en": refused.message_en,
            **refused.details}) from None


class LetterCheckingBus:
    """A command bus that refuses, before sending it, a command naming a letter the store does
    not hold as named (banli.blobs.letters.Letters.outcome): answered 409 like the rules' own
    refusals (`unknown_letter`, `letter_mismatch`), and per line in an import. Every other
    command goes straight through."""

    def __init__(self, bus: CommandBus, letters: Letters):
        self.bus, self.letters = bus, letters
        self.window = getattr(bus, "window", 1)  # imports pipeline as the bus allows

    async def send(self, command: Command) -> Outcome | None:
        if command.__dict__.get("letter") is not None:
            refused = await run_in_threadpool(self.letters.outcome, command)
            if refused is not None:
                return refused
        return await self.bus.send(command)

    async def outcome(self, sender: str, command_id: str) -> Outcome | None:
        return await self.bus.outcome(sender, command_id)
