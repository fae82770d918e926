"""Reply letters on the distributed deployment: intake, handling and reporting as processes over
a real Kafka broker, sharing one letters' store (a directory, as docker-compose.yml's shared
volume; or an S3 bucket on a real S3-compatible server). A letter uploaded through handling is
named by a reply, its event in banli.events carries it, it downloads through reporting; intake
refuses a reply naming a letter the store does not hold; `banli letters sweep --kafka` keeps the
letter the log references and removes an orphan."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT
from tests.e2e.stack import Stack
from tests.e2e.test_distributed import read_topic
from tests.unit.test_letters import PDF_BYTES, png

pytestmark = [pytest.mark.kafka, pytest.mark.slow]
P = "2020-cppcc_proposal-7"


@pytest.fixture(params=["shared directory", pytest.param("s3", marks=pytest.mark.s3)])
def letters_env(request, tmp_path) -> dict[str, str]:
    if request.param == "shared directory":
        return {"BANLI_LETTERS_DIR": str(tmp_path / "shared-letters")}
    server = request.getfixturevalue("s3_server")
    return {"BANLI_LETTERS_S3_BUCKET": server.new_bucket(),
            "BANLI_LETTERS_S3_ENDPOINT": server.endpoint, "BANLI_LETTERS_S3_REGION": "us-east-1",
            "BANLI_LETTERS_S3_ACCESS_KEY": server.access_key,
            "BANLI_LETTERS_S3_SECRET_KEY": server.secret_key}


def test_a_reply_with_its_letter_over_kafka(kafka_broker, tmp_path, letters_env):
    stack = Stack(kafka_broker.bootstrap, tmp_path)
    stack.env.update(letters_env)
    try:
        reporting, handling, intake = (stack.start(n) for n in ("reporting", "handling", "intake"))
        for service in (reporting, handling, intake):
            service.wait_healthy()
        admin = stack.client(intake, "admin")
        assert admin.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "知识产权局"}
                          ).status_code == 201
        assert admin.post("/api/proposals", json={"kind": "cppcc_proposal", "year": 2020,
                                                  "number": "7", "title": "提案"}).status_code == 201
        assert admin.post(f"/api/proposals/{P}/assign", json={"lead": ["sh-ipa"]}
                          ).status_code == 201

        clerk = stack.client(handling, "clerk", "sh-ipa")
        uploaded = clerk.post(f"/api/proposals/{P}/letters", params={"bureau": "sh-ipa"},
                              content=PDF_BYTES)
        assert uploaded.status_code == 201, uploaded.text
        letter = uploaded.json()

        unknown = {**letter, "sha256": "ab" * 32}
        refused = stack.client(intake, "admin").post("/api/commands", json={
            "type": "reply", "proposal": P, "bureau": "sh-ipa", "result": "solved",
            "letter": unknown})
        assert refused.status_code == 409 and refused.json()["code"] == "unknown_letter"

        replied = clerk.post(f"/api/proposals/{P}/reply", json={
            "bureau": "sh-ipa", "result": "solved", "letter": letter})
        assert replied.status_code == 201, replied.text
        assert replied.json()["events"][0]["letter"] == letter

        issued = [json.loads(r.value) for r in read_topic(kafka_broker.bootstrap,
                                                          f"{stack.env['BANLI_TOPIC_PREFIX']}"
                                                          f"banli.events")]
        assert [e["letter"] for e in issued if e["type"] == "ReplyIssued"] == [letter]

        overseer = stack.client(reporting, "overseer")
        deadline = time.monotonic() + 120
        while (got := overseer.get(f"/api/proposals/{P}/letters/{letter['sha256']}")
               ).status_code == 404:  # until reporting has projected the reply
            assert got.json()["detail"]["code"] == "unknown_letter"
            assert time.monotonic() < deadline, "the reply never reached reporting"
            time.sleep(0.2)
        assert got.status_code == 200 and got.content == PDF_BYTES
        assert got.headers["content-type"] == "application/pdf"
        assert got.headers["content-disposition"].startswith("attachment;")
        outsider = stack.client(reporting, "clerk", "sh-edu")
        assert outsider.get(f"/api/proposals/{P}/letters/{letter['sha256']}").status_code == 404

        # an orphan, uploaded through reporting (it takes the page's commands), then swept
        orphan = stack.client(reporting, "clerk", "sh-ipa").post(
            f"/api/proposals/{P}/letters", params={"bureau": "sh-ipa"}, content=png()).json()
        swept = subprocess.run(
            [sys.executable, "-m", "apps.cli", "letters", "sweep", "--kafka", "--grace-hours",
             "0", "--data-dir", str(tmp_path / "sweeper")], env=stack.env, cwd=ROOT,
            capture_output=True, text=True, timeout=300)
        assert swept.returncode == 0, swept.stderr
        assert f"  {orphan['sha256']}" in swept.stdout
        assert letter["sha256"] not in swept.stdout
        assert overseer.get(f"/api/proposals/{P}/letters/{letter['sha256']}").content == PDF_BYTES
        assert clerk.post(f"/api/proposals/{P}/contacts", json={
            "bureau": "sh-ipa", "stage": "after", "method": "phone"}).status_code == 201
    finally:
        stack.stop()
