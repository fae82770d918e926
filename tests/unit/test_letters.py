"""Reply letters (答复函) in the kernel and at the edge: a reply carries its letter into its
event; the disclosure decision makes a letter public; an upload's type is read from its bytes,
within bounds; what events reference is found for the sweep."""
from __future__ import annotations

import io
import json
import struct
import zipfile
import zlib

import pytest
from pydantic import ValidationError

from banli.blobs.letters import (DOCX, JPEG, PDF, PNG, LetterRefused, Letters, Upload,
                                 media_type_of, type_of_head)
from banli.blobs.sweep import letters_referenced
from banli.domain.letters import letter_on_record
from banli.domain.registry import parse_command
from banli.domain.types import Letter

from .scenario import P, _by, assign, bureaus, clerk, decide_disclosure, event, given, reopen, \
    record_feedback, reply, submit

ASSIGNED = (*bureaus, submit(), assign(co=["sh-hrss"], at="2020-02-20"))


def letter(sha: str = "ab", name: str = "答复函.pdf", media_type: str = PDF,
           size: int = 1234) -> dict:
    return {"sha256": sha * (64 // len(sha)), "name": name, "media_type": media_type,
            "size": size}


# --- the kernel --------------------------------------------------------------------------------
def test_a_reply_carries_its_letter_into_the_event():
    [issued] = given(*ASSIGNED).when(reply("sh-ipa", letter=letter(), actor=clerk("sh-ipa"))
                                     ).then_events(event("ReplyIssued", letter=letter()))
    assert issued.letter == Letter(**letter())


def test_an_approval_issues_the_reply_with_the_letter_it_carries():
    draft = _by("draft_reply", "sh-ipa", result="planned", summary="草稿")
    approve = _by("approve_reply", "sh-ipa", signed_by="局长", letter=letter("cd"))
    given(*ASSIGNED, draft).when(approve).then_events(
        event("ReplyApproved", signed_by="局长"),
        event("ReplyIssued", result="planned", letter=letter("cd")))


def test_a_reply_without_a_letter_has_none():
    given(*ASSIGNED).when(reply("sh-ipa")).then_events(event("ReplyIssued", letter=None))


@pytest.mark.parametrize("bad", [
    {"sha256": "AB" * 32}, {"sha256": "ab" * 31}, {"sha256": "zz" * 32},
    {"name": ""}, {"name": "../../etc/passwd"}, {"name": "a\\b.pdf"}, {"name": "x\n.pdf"},
    {"name": "x" * 256}, {"media_type": "text/html"}, {"size": 0}, {"size": -1},
    {"extra": 1},
])
def test_a_letter_is_a_digest_a_plain_name_a_letter_type_and_a_size(bad):
    with pytest.raises(ValidationError):
        parse_command({"type": "reply", "proposal": P, "bureau": "sh-ipa", "result": "solved",
                       "letter": {**letter(), **bad}})


def _events(*commands):
    scenario = given(*ASSIGNED, *commands)
    return scenario.streams[P]


def test_a_letter_is_on_record_only_through_a_reply_of_the_proposal():
    events = _events(reply("sh-ipa", letter=letter()))
    found = letter_on_record(events, "ab" * 32)
    assert found is not None and found.letter == Letter(**letter())
    assert (found.bureaus, found.public) == (frozenset({"sh-ipa"}), False)
    assert letter_on_record(events, "cd" * 32) is None
    assert letter_on_record(_events(reply("sh-ipa")), "ab" * 32) is None


@pytest.mark.parametrize("choice, public", [("full", True), ("summary", False),
                                            ("withheld", False), ("exempt", False)])
def test_a_letter_is_public_once_its_reply_is_disclosed_in_full(choice, public):
    events = _events(reply("sh-ipa", letter=letter()), decide_disclosure("sh-ipa", choice))
    assert letter_on_record(events, "ab" * 32).public is public


def test_the_last_decision_about_a_reply_governs_its_letter():
    events = _events(reply("sh-ipa", letter=letter()), decide_disclosure("sh-ipa", "full"),
                     decide_disclosure("sh-ipa", "withheld"))
    assert letter_on_record(events, "ab" * 32).public is False


def test_a_later_reply_of_the_bureau_does_not_take_its_disclosure_from_an_earlier_one():
    first, second = "ab" * 32, "cd" * 32
    events = _events(reply("sh-ipa", letter=letter("ab")), decide_disclosure("sh-ipa", "full"),
                     record_feedback("sh-ipa", "dissatisfied"), reopen("sh-ipa"),
                     reply("sh-ipa", letter=letter("cd")))
    assert letter_on_record(events, first).public is True   # published in full: stays so
    assert letter_on_record(events, second).public is False  # not decided yet
    events = _events(reply("sh-ipa", letter=letter("ab")), record_feedback("sh-ipa", "dissatisfied"),
                     reopen("sh-ipa"), reply("sh-ipa", letter=letter("cd")),
                     decide_disclosure("sh-ipa", "full"))
    assert (letter_on_record(events, first).public, letter_on_record(events, second).public) \
        == (False, True)


# --- the type from the bytes -------------------------------------------------------------------
def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(
            ">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b""))


JPEG_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
PDF_BYTES = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def docx(parts: dict[str, bytes] | None = None) -> bytes:
    """A real Word document (python-docx), or a zip (deflated) of the given parts."""
    out = io.BytesIO()
    if parts is not None:
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
            for name, data in parts.items():
                archive.writestr(name, data)
        return out.getvalue()
    import docx as python_docx

    document = python_docx.Document()
    document.add_paragraph("关于市政协十三届四次会议第0001号提案的答复")
    document.save(out)
    return out.getvalue()


TYPES, DOCUMENT = "[Content_Types].xml", "word/document.xml"
CT_DOCX = (b'<Types><Override PartName="/word/document.xml" ContentType="application/'
           b'vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>')
CT_DOCM = (b'<Types><Override PartName="/word/document.xml" ContentType="application/'
           b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>')


def kind(data: bytes):
    return media_type_of(io.BytesIO(data))


def test_each_letter_type_is_known_by_its_bytes():
    assert (kind(PDF_BYTES), kind(png()), kind(JPEG_BYTES), kind(docx())) == (
        PDF, PNG, JPEG, DOCX)


@pytest.mark.parametrize("data", [
    b"<html><script>alert(1)</script></html>",       # a page, whatever it is called
    b"GIF89a\x01\x00\x01\x00",                         # an image of another type
    b" %PDF-1.7",                                      # not at the start
    b"\x89PNG\r\n\x1a\n" + b"\x00" * 8,                # a PNG signature without its header
    b"PK\x03\x04" + b"\x00" * 40,                      # a broken zip
    docx({DOCUMENT: b"<w/>"}),                         # a zip without content types
    docx({TYPES: CT_DOCX}),                            # content types, no document
    docx({TYPES: CT_DOCM, DOCUMENT: b"<w/>"}),         # a macro-enabled document
    b"<html></html>" + docx(),                         # a page with a document behind it
])
def test_anything_else_is_not_a_letter(data):
    assert kind(data) is None


def test_a_zip_of_a_docx_with_a_huge_content_types_part_is_not_read_whole():
    assert kind(docx({TYPES: CT_DOCX, DOCUMENT: b"<w/>"})) == DOCX  # the least a DOCX is
    bomb = docx({TYPES: CT_DOCX + b" " * (2 << 20), DOCUMENT: b"<w/>"})
    assert len(bomb) < 100_000  # compressed: small on the wire, large inside
    assert kind(bomb) is None


def test_a_docx_of_too_many_entries_is_refused_from_its_directory():
    parts = {f"word/media/{i}.png": b"" for i in range(2100)}
    assert kind(docx({TYPES: CT_DOCX, DOCUMENT: b"<w/>", **parts})) is None


def test_the_head_names_the_type_the_edge_checks():
    assert [type_of_head(d[:16]) for d in (PDF_BYTES, png(), JPEG_BYTES, docx())] == [
        PDF, PNG, JPEG, DOCX]
    assert type_of_head(b"<html>") is None


# --- uploads -----------------------------------------------------------------------------------
def test_an_upload_is_counted_as_it_streams_and_refused_past_the_limit():
    upload = Upload(limit=10)
    upload.write(b"12345")
    upload.write(b"67890")
    with pytest.raises(LetterRefused) as refused:
        upload.write(b"1")
    assert (refused.value.status, refused.value.code, refused.value.details) == (
        413, "letter_too_large", {"limit": 10})
    assert "上限" in refused.value.message and "limit" in refused.value.message_en


def test_a_declared_size_over_the_limit_is_refused_before_any_byte():
    with pytest.raises(LetterRefused) as refused:
        Letters(store=None, max_bytes=100).upload(declared_size=101)  # type: ignore[arg-type]
    assert refused.value.status == 413


def test_empty_and_wrong_type_are_refused_before_the_store_is_touched():
    letters = Letters(store=None, max_bytes=100)  # type: ignore[arg-type]  # never reached
    for data, status, code in ((b"", 422, "empty_letter"), (b"<html>", 415, "letter_type")):
        upload = letters.upload()
        upload.write(data)
        with pytest.raises(LetterRefused) as refused:
            letters.keep(upload)
        assert (refused.value.status, refused.value.code) == (status, code)


# --- references --------------------------------------------------------------------------------
def test_the_references_are_the_letters_events_name():
    with_letter = _events(reply("sh-ipa", letter=letter()))
    texts = [e.model_dump_json() for e in with_letter]
    assert letters_referenced(texts) == {"ab" * 32}
    assert letters_referenced(t.encode() for t in texts) == {"ab" * 32}
    assert letters_referenced([json.dumps({"type": "ReplyIssued", "letter": None}), "{not json",
                               '"letter"', json.dumps({"letter": {"sha256": 5}})]) == set()
