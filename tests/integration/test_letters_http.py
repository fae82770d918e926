"""Reply letters over real HTTP on the embedded system (README, "Reply letters"): upload first,
then the reply naming it; the file's type from its bytes; the limit; who may upload and who may
download (the disclosure decision for everyone else); never shown inline; replay keeps the
references; the sweep keeps what events reference and removes old orphans."""
from __future__ import annotations

import io
import json
import os
import time
from contextlib import redirect_stdout
from urllib.parse import quote

import httpx
import pytest

from banli.blobs import digest_of
from tests.conftest import LiveServer, token_for
from tests.unit.test_letters import JPEG_BYTES, PDF_BYTES, docx, png

P, Q = "2020-cppcc_proposal-7", "2020-cppcc_proposal-8"
LEAD, CO, NONE = "sh-ipa", "sh-hrss", "sh-edu"
LIMIT = 200_000
PDF = PDF_BYTES + b"%" + b"x" * 5000 + b"\n"  # a letter of some size
NAME = "关于第7号提案的答复函（签发稿）.pdf"


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"max_letter_bytes": LIMIT})


def seed(server) -> None:
    admin = server.client("admin")
    for bureau in (LEAD, CO, NONE):
        assert admin.post("/api/bureaus", json={"bureau": bureau, "name": bureau}).status_code == 201
    for number in ("7", "8"):
        assert admin.post("/api/proposals", json={
            "kind": "cppcc_proposal", "year": 2020, "number": number, "title": "提案",
            "at": "2020-02-01T09:00:00+08:00"}).status_code == 201
    for proposal in (P, Q):
        assert server.client("coordinator").post(f"/api/proposals/{proposal}/assign", json={
            "lead": [LEAD], "co": [CO], "at": "2020-02-03T09:00:00+08:00"}).status_code == 201


@pytest.fixture
def site(server):
    seed(server)
    return server


def upload(client: httpx.Client, data: bytes, proposal: str = P, bureau: str = LEAD,
           name: str | None = NAME, content_type: str = "application/octet-stream"
           ) -> httpx.Response:
    params = {"bureau": bureau, **({"name": name} if name is not None else {})}
    return client.post(f"/api/proposals/{proposal}/letters", params=params, content=data,
                       headers={"Content-Type": content_type})


def reply(client: httpx.Client, letter: dict | None, proposal: str = P, **more
          ) -> httpx.Response:
    return client.post(f"/api/proposals/{proposal}/reply", json={
        "bureau": LEAD, "result": "solved", "at": "2020-06-01T10:00:00+08:00",
        **({"letter": letter} if letter is not None else {}), **more})


def download(client: httpx.Client, sha256: str, proposal: str = P) -> httpx.Response:
    return client.get(f"/api/proposals/{proposal}/letters/{sha256}")


def replied_with_letter(site) -> dict:
    clerk = site.client("clerk", LEAD)
    letter = upload(clerk, PDF).json()
    answer = reply(clerk, letter)
    assert answer.status_code == 201, answer.text
    return letter


# --- upload, reply, download -----------------------------------------------------------------
def test_a_letter_is_uploaded_named_by_the_reply_and_downloaded_as_an_attachment(site):
    clerk = site.client("clerk", LEAD)
    sent = upload(clerk, PDF, content_type="text/plain")  # what the sender claims is ignored
    assert sent.status_code == 201, sent.text
    letter = sent.json()
    assert letter == {"sha256": digest_of(io.BytesIO(PDF))[0], "name": NAME,
                      "media_type": "application/pdf", "size": len(PDF)}
    stored = site.system.settings.letters_path / "sha256" / letter["sha256"][:2] / letter["sha256"]
    assert stored.read_bytes() == PDF

    answer = reply(clerk, letter)
    assert answer.status_code == 201, answer.text
    [issued] = answer.json()["events"]
    assert (issued["type"], issued["schema_version"], issued["letter"]) == (
        "ReplyIssued", 3, letter)
    history = clerk.get(f"/api/proposals/{P}/history").json()["events"]
    assert [e["data"]["letter"] for e in history if e["type"] == "ReplyIssued"] == [letter]

    got = download(clerk, letter["sha256"])
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-length"] == str(len(PDF))
    disposition = got.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote(NAME, safe='')}" in disposition
    assert 'filename="letter-' in disposition  # an ASCII fallback for a name that is not
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-security-policy"] == "default-src 'none'; sandbox; frame-ancestors 'none'"
    assert got.headers.get_list("content-security-policy") == [
        got.headers["content-security-policy"]]  # its own policy only, not the page's beside it
    assert "no-store" in got.headers["cache-control"]


@pytest.mark.parametrize("data, media_type, extension", [
    (png(), "image/png", "png"), (JPEG_BYTES, "image/jpeg", "jpg"),
    (docx(), "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx")])
def test_each_letter_type_is_taken_whatever_it_is_called(site, data, media_type, extension):
    clerk = site.client("clerk", LEAD)
    sent = upload(clerk, data, name=None, content_type="application/pdf")
    assert sent.status_code == 201, sent.text
    assert sent.json()["media_type"] == media_type
    assert sent.json()["name"] == f"答复函.{extension}"
    assert reply(clerk, sent.json()).status_code == 201
    got = download(clerk, sent.json()["sha256"])
    assert got.content == data and got.headers["content-type"] == media_type
    assert got.headers["content-disposition"].startswith("attachment;")


def test_an_ascii_name_is_its_own_fallback(site):
    clerk = site.client("clerk", LEAD)
    letter = upload(clerk, PDF, name="reply-7.pdf").json()
    reply(clerk, letter)
    assert 'filename="reply-7.pdf"' in download(clerk, letter["sha256"]).headers[
        "content-disposition"]


def test_the_same_file_uploaded_again_is_the_same_letter(site):
    clerk = site.client("clerk", LEAD)
    first, second = upload(clerk, PDF).json(), upload(clerk, PDF).json()
    assert first == second
    blobs = list((site.system.settings.letters_path / "sha256").glob("*/*"))
    assert len(blobs) == 1


# --- what an upload must be -----------------------------------------------------------------
@pytest.mark.parametrize("data, status, code", [
    (b"<html><script>alert(document.cookie)</script></html>", 415, "letter_type"),
    (b"GIF89a\x01\x00\x01\x00\x00\x00\x00", 415, "letter_type"),
    (b"<html></html>" + docx(), 415, "letter_type"),
    (b"", 422, "empty_letter"),
])
def test_a_file_that_is_no_letter_is_refused_with_a_reason(site, data, status, code):
    refused = upload(site.client("clerk", LEAD), data, name="答复函.pdf",
                     content_type="application/pdf")
    assert refused.status_code == status, refused.text
    detail = refused.json()["detail"]
    assert detail["code"] == code and detail["message"] and detail["message_en"]
    assert not list((site.system.settings.letters_path / "sha256").glob("*/*"))


def test_a_file_over_the_limit_is_refused_declared_or_streamed(site):
    clerk = site.client("clerk", LEAD)
    big = PDF + b"%" * LIMIT
    declared = upload(clerk, big)
    assert declared.status_code == 413
    assert declared.json()["detail"]["code"] == "letter_too_large"
    assert declared.json()["detail"]["limit"] == LIMIT

    def chunks():  # no Content-Length: counted as it streams in
        yield PDF
        for _ in range(40):
            yield b"%" * 10_000

    streamed = clerk.post(f"/api/proposals/{P}/letters", params={"bureau": LEAD},
                          content=chunks())
    assert streamed.status_code == 413
    assert streamed.json()["detail"]["code"] == "letter_too_large"
    at_limit = PDF + b"%" * (LIMIT - len(PDF))
    assert upload(clerk, at_limit).status_code == 201  # the limit itself is allowed
    assert len(list((site.system.settings.letters_path / "sha256").glob("*/*"))) == 1
    assert not list((site.system.settings.letters_path / "partial").iterdir())


def test_the_other_bodies_keep_their_own_limit(site):
    huge = {"bureau": LEAD, "result": "solved", "summary": "x" * 2_000_000}
    assert site.client("clerk", LEAD).post(f"/api/proposals/{P}/reply",
                                           json=huge).status_code == 413


@pytest.mark.parametrize("params", [
    {"bureau": LEAD, "name": "../../etc/passwd"}, {"bureau": LEAD, "name": "a\r\nb.pdf"},
    {"bureau": LEAD, "name": "x" * 256}, {"bureau": "../x"}, {}])
def test_a_malformed_upload_query_is_refused(site, params):
    refused = site.client("clerk", LEAD).post(f"/api/proposals/{P}/letters", params=params,
                                              content=PDF)
    assert refused.status_code == 422 and refused.json()["detail"]["code"] == "malformed"


# --- who may upload ------------------------------------------------------------------------------
@pytest.mark.parametrize("role, bureau, status", [
    ("clerk", LEAD, 201), ("admin", None, 201), ("importer", None, 201),
    ("clerk", NONE, 403), ("clerk", CO, 403), ("overseer", None, 403),
    ("coordinator", None, 403)])
def test_whoever_may_reply_for_the_bureau_uploads_and_no_one_else(site, role, bureau, status):
    answer = upload(site.client(role, bureau), PDF)
    assert answer.status_code == status, answer.text
    if status == 403:
        assert answer.json()["detail"]["code"] == "forbidden"
        assert not list((site.system.settings.letters_path / "sha256").glob("*/*"))


def test_no_token_or_a_bad_one_uploads_nothing(site):
    assert upload(site.client(None), PDF).status_code == 401
    assert upload(site.client(token="not-a-token"), PDF).status_code == 401
    assert not list((site.system.settings.letters_path / "sha256").glob("*/*"))


def test_a_clerk_uploads_for_its_own_bureau_only(site):
    refused = upload(site.client("clerk", LEAD), PDF, bureau=CO)
    assert refused.status_code == 403


# --- a reply naming a letter ---------------------------------------------------------------------
def test_a_reply_naming_a_letter_not_in_the_store_is_refused_and_taken_once_it_is(site):
    clerk = site.client("clerk", LEAD)
    letter = {"sha256": digest_of(io.BytesIO(PDF))[0], "name": "答复函.pdf",
              "media_type": "application/pdf", "size": len(PDF)}
    before = site.system.log.count()
    refused = reply(clerk, letter, command_id="reply-with-letter")
    assert refused.status_code == 409
    body = refused.json()
    assert (body["accepted"], body["code"]) == (False, "unknown_letter")
    assert "上传" in body["message"] and "upload" in body["message_en"]
    assert site.system.log.count() == before  # nothing recorded
    assert upload(clerk, PDF).json() == {**letter, "name": NAME}
    taken = reply(clerk, letter, command_id="reply-with-letter")  # the same command, again
    assert taken.status_code == 201, taken.text
    assert taken.json()["events"][0]["letter"] == letter


@pytest.mark.parametrize("change", [{"size": 1}, {"media_type": "image/png"}])
def test_a_reply_naming_a_letter_as_it_is_not_is_refused(site, change):
    clerk = site.client("clerk", LEAD)
    letter = upload(clerk, PDF).json()
    refused = reply(clerk, {**letter, **change})
    assert refused.status_code == 409 and refused.json()["code"] == "letter_mismatch"


def test_an_approval_issues_the_reply_with_its_letter(site):
    clerk = site.client("clerk", LEAD)
    assert clerk.post(f"/api/proposals/{P}/reply/draft", json={
        "bureau": LEAD, "result": "planned", "at": "2020-06-01T10:00:00+08:00"}).status_code == 201
    letter = upload(clerk, docx()).json()
    approved = clerk.post(f"/api/proposals/{P}/reply/approve", json={
        "bureau": LEAD, "signed_by": "局长", "letter": letter, "at": "2020-06-02T10:00:00+08:00"})
    assert approved.status_code == 201, approved.text
    assert [e["type"] for e in approved.json()["events"]] == ["ReplyApproved", "ReplyIssued"]
    assert approved.json()["events"][1]["letter"] == letter
    assert download(site.client("overseer"), letter["sha256"]).content == docx_bytes(site, letter)


def docx_bytes(site, letter) -> bytes:
    return (site.system.settings.letters_path / "sha256" / letter["sha256"][:2]
            / letter["sha256"]).read_bytes()


def test_any_command_route_and_an_import_check_the_letter_too(site):
    admin = site.client("admin")
    letter = {"sha256": "ab" * 32, "name": "答复函.pdf", "media_type": "application/pdf",
              "size": 10}
    refused = admin.post("/api/commands", json={"type": "reply", "proposal": P, "bureau": LEAD,
                                                "result": "solved", "letter": letter})
    assert refused.status_code == 409 and refused.json()["code"] == "unknown_letter"
    line = json.dumps({"type": "reply", "proposal": Q, "bureau": LEAD, "result": "solved",
                       "letter": letter, "at": "2020-06-01T10:00:00+08:00"})
    imported = site.client("importer").post("/api/import", content=line.encode(),
                                            headers={"Content-Type": "application/x-ndjson"})
    assert imported.status_code == 200
    assert imported.json()["accepted"] == 0
    assert [p["code"] for p in imported.json()["problems"]] == ["unknown_letter"]


# --- who may download ----------------------------------------------------------------------------
@pytest.mark.parametrize("role, bureau, status", [
    ("clerk", LEAD, 200), ("clerk", CO, 200), ("overseer", None, 200),
    ("coordinator", None, 200), ("admin", None, 200),
    ("clerk", NONE, 404), ("importer", None, 404)])
def test_whoever_may_see_the_reply_downloads_its_letter_and_no_one_else(site, role, bureau,
                                                                       status):
    letter = replied_with_letter(site)
    got = download(site.client(role, bureau), letter["sha256"])
    assert got.status_code == status
    if status == 404:
        assert got.json()["detail"]["code"] == "unknown_letter" and PDF not in got.content


def test_the_disclosure_decision_governs_everyone_else(site):
    letter = replied_with_letter(site)
    outsider, importer = site.client("clerk", NONE), site.client("importer")
    clerk = site.client("clerk", LEAD)

    def decide(choice: str, day: int) -> None:
        assert clerk.post(f"/api/proposals/{P}/disclosure", json={
            "bureau": LEAD, "disclosure": choice,
            "at": f"2020-06-{day:02d}T10:00:00+08:00"}).status_code == 201

    decide("summary", 2)
    assert download(outsider, letter["sha256"]).status_code == 404
    decide("full", 3)
    assert download(outsider, letter["sha256"]).content == PDF
    assert download(importer, letter["sha256"]).content == PDF
    decide("withheld", 4)
    assert download(outsider, letter["sha256"]).status_code == 404
    assert download(site.client(None), letter["sha256"]).status_code == 401


def test_unknown_and_not_yours_are_the_same_404(site):
    letter = replied_with_letter(site)
    outsider, overseer = site.client("clerk", NONE), site.client("overseer")
    unknown = download(outsider, "cd" * 32)
    not_yours = download(outsider, letter["sha256"])
    assert unknown.status_code == not_yours.status_code == 404
    assert unknown.json() == not_yours.json()
    # a letter is reached through the proposal whose reply names it, never another
    assert download(overseer, letter["sha256"], proposal=Q).json() == unknown.json()
    assert download(overseer, letter["sha256"], proposal="2020-nothing-1").json() == unknown.json()
    # an upload no reply names is nobody's to download
    orphan = upload(site.client("clerk", LEAD), PDF + b"% orphan\n").json()
    assert download(overseer, orphan["sha256"]).json() == unknown.json()
    assert download(overseer, "not-a-digest").status_code == 422


def test_a_letter_whose_file_is_gone_says_so_to_whoever_may_see_it(site):
    letter = replied_with_letter(site)
    site.system.letters.store.delete(letter["sha256"])
    got = download(site.client("overseer"), letter["sha256"])
    assert got.status_code == 404 and got.json()["detail"]["code"] == "letter_missing"
    assert download(site.client("clerk", NONE), letter["sha256"]).json()["detail"]["code"] == \
        "unknown_letter"


# --- replay and the sweep -------------------------------------------------------------------
def test_replay_keeps_the_references(site):
    letter = replied_with_letter(site)
    admin = site.client("admin")
    assert admin.post("/api/admin/replay").status_code == 202
    deadline = time.monotonic() + 120
    while (state := admin.get("/api/admin/replay").json())["state"] not in ("done", "failed"):
        assert time.monotonic() < deadline, state
        time.sleep(0.1)
    assert state["state"] == "done", state
    history = admin.get(f"/api/proposals/{P}/history").json()["events"]
    assert [e["data"]["letter"] for e in history if e["type"] == "ReplyIssued"] == [letter]
    assert download(site.client("clerk", LEAD), letter["sha256"]).content == PDF


def test_the_sweep_keeps_referenced_letters_and_removes_an_old_orphan(site):
    from apps.local import letters_sweep

    referenced = replied_with_letter(site)
    clerk = site.client("clerk", LEAD)
    old_orphan = upload(clerk, PDF + b"% old orphan\n").json()["sha256"]
    young_orphan = upload(clerk, PDF + b"% young orphan\n").json()["sha256"]
    store = site.system.letters.store
    ten_days_ago = time.time() - 10 * 86400
    for sha in (referenced["sha256"], old_orphan):
        os.utime(store.path(sha), (ten_days_ago, ten_days_ago))

    out = io.StringIO()
    with redirect_stdout(out):  # beside the running server, as an operator would run it
        assert letters_sweep(site.system.settings) == 0
    assert f"  {old_orphan}" in out.getvalue()
    assert store.stat(old_orphan) is None
    assert store.stat(young_orphan) is not None
    assert download(clerk, referenced["sha256"]).content == PDF


def test_the_sweep_refuses_to_run_without_the_log(tmp_path, settings):
    from apps.local import letters_sweep
    from banli.blobs.files import DirBlobStore

    bare = settings.model_copy(update={"data_dir": tmp_path / "elsewhere"})
    store = DirBlobStore(bare.letters_path)
    store.put(io.BytesIO(PDF), digest_of(io.BytesIO(PDF))[0])
    os.utime(store.path(digest_of(io.BytesIO(PDF))[0]), (0, 0))
    assert letters_sweep(bare) == 2
    assert len(list(store.blobs())) == 1


# --- the embedded system with its letters in S3 --------------------------------------------------
@pytest.mark.s3
def test_the_embedded_system_keeps_its_letters_in_s3(settings, clock, s3_server):
    from apps.embedded import EmbeddedSystem, create_app

    s3 = settings.model_copy(update={
        "letters_s3_bucket": s3_server.new_bucket(), "letters_s3_endpoint": s3_server.endpoint,
        "letters_s3_region": "us-east-1", "letters_s3_access_key": s3_server.access_key,
        "letters_s3_secret_key": s3_server.secret_key})
    system = EmbeddedSystem(s3, clock=clock).start()
    try:
        with LiveServer(create_app(system)) as live:
            def client(role: str, bureau: str | None = None) -> httpx.Client:
                return httpx.Client(base_url=live.url, timeout=60, headers={
                    "Authorization": f"Bearer {token_for(s3.secret, role, bureau)}"})

            live.client = client  # what seed() needs
            seed(live)
            clerk = client("clerk", LEAD)
            letter = upload(clerk, PDF).json()
            assert not s3.letters_path.exists()  # nothing on disk: the bucket holds it
            listed = s3_server.client().list_objects_v2(Bucket=s3.letters_s3_bucket)
            assert [o["Key"] for o in listed["Contents"]] == [f"letters/{letter['sha256']}"]
            assert reply(clerk, letter).status_code == 201
            assert download(client("overseer"), letter["sha256"]).content == PDF
            unknown = {**letter, "sha256": "ef" * 32}
            assert reply(clerk, unknown, proposal=Q).json()["code"] == "unknown_letter"
    finally:
        system.stop()
        system.reporting.drop()
