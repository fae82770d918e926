"""No letter is lost across a crash between the upload and the command that names it: `banli
serve` is SIGKILLed once the upload is answered; after a restart the reply naming the letter
is accepted and the letter downloads, byte for byte."""
from __future__ import annotations

import os

import httpx
import pytest

from tests.conftest import SECRET, free_port, token_for
from tests.e2e.test_crash_restart import banli, kill, wait_healthy
from tests.unit.test_letters import docx

pytestmark = pytest.mark.slow
P = "2020-cppcc_proposal-7"


def client(url: str, role: str, bureau: str | None = None) -> httpx.Client:
    return httpx.Client(base_url=url, timeout=60, headers={
        "Authorization": f"Bearer {token_for(SECRET, role, bureau)}"})


def test_a_letter_uploaded_before_a_crash_is_named_by_the_reply_after_it(tmp_path):
    data, port = tmp_path / "data", free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "BANLI_SECRET": SECRET, "PYTHONUNBUFFERED": "1"}
    args = ("serve", "--data-dir", str(data), "--port", str(port))
    letter_bytes = docx()

    server = banli(*args, env=env)
    try:
        wait_healthy(url, server)
        admin, coordinator = client(url, "admin"), client(url, "coordinator")
        assert admin.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "知识产权局"}
                          ).status_code == 201
        assert admin.post("/api/proposals", json={"kind": "cppcc_proposal", "year": 2020,
                                                  "number": "7", "title": "提案"}).status_code == 201
        assert coordinator.post(f"/api/proposals/{P}/assign", json={"lead": ["sh-ipa"]}
                                ).status_code == 201
        clerk = client(url, "clerk", "sh-ipa")
        uploaded = clerk.post(f"/api/proposals/{P}/letters", params={"bureau": "sh-ipa"},
                              content=letter_bytes)
        assert uploaded.status_code == 201, uploaded.text
        letter = uploaded.json()
    finally:
        kill(server)  # SIGKILL: the upload was answered, the reply not yet sent

    stored = data / "letters" / "sha256" / letter["sha256"][:2] / letter["sha256"]
    assert stored.read_bytes() == letter_bytes
    assert not list((data / "letters" / "partial").iterdir())

    server = banli(*args, env=env)
    try:
        wait_healthy(url, server)
        clerk = client(url, "clerk", "sh-ipa")
        replied = clerk.post(f"/api/proposals/{P}/reply", json={
            "bureau": "sh-ipa", "result": "solved", "letter": letter})
        assert replied.status_code == 201, replied.text
        assert replied.json()["events"][0]["letter"] == letter
        got = client(url, "overseer").get(f"/api/proposals/{P}/letters/{letter['sha256']}")
        assert got.status_code == 200 and got.content == letter_bytes
        assert got.headers["content-disposition"].startswith("attachment;")
    finally:
        kill(server)
