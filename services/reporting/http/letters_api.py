"""Downloading a reply's letter (答复函): `GET /api/proposals/{id}/letters/{sha256}`.

A letter is reached through the proposal whose reply names it (the history the projections
keep), never by its digest alone. Whoever may read the proposal's replies may download it;
anyone else signed in only once such a reply is disclosed in full (banli.domain.letters); to
everyone else, and for a letter no reply of the proposal names, the same 404. It is always an
attachment, with the media type read from its bytes at upload, nosniff and a sandboxing policy:
never shown inline as a page of this site."""
from __future__ import annotations

from contextlib import ExitStack
from typing import Annotated, Iterator, get_args
from urllib.parse import quote

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool

from banli.blobs import CHUNK, BlobMissing
from banli.blobs.letters import EXTENSIONS
from banli.domain.registry import load_event
from banli.domain.letters import letter_on_record
from banli.domain.permissions import knows, reach
from banli.domain.proposal import Proposal, State, fold
from banli.domain.types import Actor, Letter, LetterType
from banli.web.deps import CurrentActor, LetterFiles, ProposalPath
from banli.web.schemas import READ, action, errors

from .deps import Reporting

router = APIRouter(prefix="/api", tags=["letters"], responses=READ)

Sha256Path = Annotated[str, Path(pattern=r"^[0-9a-f]{64}$", description="the letter's SHA-256")]

# A download is a file to save, never a page: no scripts, no plugins, no framing, no sniffing.
DOWNLOAD_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'"


def _unknown() -> HTTPException:
    return HTTPException(404, detail={
        "code": "unknown_letter", "message": "没有这份答复函，或无权查看",
        "message_en": "no such letter on this proposal, or not yours to see"})


@router.get(
    "/proposals/{proposal_id}/letters/{sha256}", response_class=StreamingResponse,
    summary="Download a reply's signed letter (答复函), as an attachment",
    openapi_extra=action("read:letter"),
    responses={200: {"description": "the letter's file (Content-Disposition: attachment)",
                     "content": {media: {"schema": {"type": "string", "format": "binary"}}
                                 for media in get_args(LetterType)}},
               **errors(404, 503, e404="no reply of this proposal names this letter, or you may "
                                       "not see it (`unknown_letter`, alike); its file is not "
                                       "in the store (`letter_missing`)")})
async def download_letter(proposal_id: ProposalPath, sha256: Sha256Path, actor: CurrentActor,
                          reporting: Reporting, letters: LetterFiles) -> StreamingResponse:
    """For oversight roles, the clerks of the bureaus with a duty on the proposal, its filers,
    and everyone signed in once a reply naming the letter is disclosed in full (`full`); 404
    alike for everyone else and for a letter no reply of this proposal names."""
    rows = await run_in_threadpool(reporting.history, proposal_id)
    events = [load_event(row["data"]) for row in rows]
    found = letter_on_record(events, sha256) if rows else None
    if found is None or not (found.public or _reads_replies(actor, fold(events))):
        raise _unknown()
    stack = ExitStack()
    try:
        file = await run_in_threadpool(stack.enter_context, letters.store.open(sha256))
    except BlobMissing:
        raise HTTPException(404, detail={
            "code": "letter_missing", "message": "答复函文件不在文件库中，请联系系统管理员",
            "message_en": "the letter's file is not in the store: tell the administrator"}
                            ) from None

    def chunks() -> Iterator[bytes]:
        with stack:
            while chunk := file.read(CHUNK):
                yield chunk

    return StreamingResponse(chunks(), media_type=found.letter.media_type,
                             headers=download_headers(found.letter))


def _reads_replies(actor: Actor, state: State) -> bool:
    """Whether the permission table (`read:letter`) lets `actor` read this proposal's replies,
    and so their letters: oversight reaches every proposal, a clerk those its bureau has had a
    duty on, a filer those they filed (banli.domain.permissions.knows)."""
    return (reach(actor, "read:letter") is not None and isinstance(state, Proposal)
            and knows(actor, "read:letter", state))


def download_headers(letter: Letter) -> dict[str, str]:
    """An attachment named as people named the file (RFC 6266, the name in UTF-8 by RFC 5987,
    with an ASCII fallback for old clients), not to be sniffed, framed or run, nor cached."""
    fallback = letter.name if letter.name.isascii() and '"' not in letter.name else \
        f"letter-{letter.sha256[:12]}.{EXTENSIONS[letter.media_type]}"
    return {"Content-Disposition": f'attachment; filename="{fallback}"; '
                                   f"filename*=UTF-8''{quote(letter.name, safe='')}",
            "Content-Length": str(letter.size),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": DOWNLOAD_CSP,
            "Cache-Control": "private, no-store"}
