"""An open live feed (/api/live) ends with its token: revoked on the command line (`banli token
revoke --token`, `--user`), signed out, or expired, the stream says why (`end`, `bad_token`)
and closes, and nothing recorded after that reaches it. The feed asks again before each batch
and at least every BANLI_LIVE_RECHECK_S (here a fifth of a second, so that no test waits for
the default 30 s)."""
from __future__ import annotations

import time

import jwt
import pytest

from apps.cli import main
from banli.auth import issue_token
from banli.domain.types import Actor
from tests.conftest import SECRET, token_for
from tests.integration.test_oversight_api import IPA_ONLY, Listener

CLERK = Actor(user="li-clerk", role="clerk", bureau="sh-ipa")


@pytest.fixture
def settings(settings, request):
    """The tests' settings, asking again every fifth of a second (or as the test says)."""
    return settings.model_copy(update={"live_recheck_s": getattr(request, "param", 0.2)})


def listening(model, token: str) -> Listener:
    listener = Listener(model.url, token)
    listener.start()
    assert listener.ready.wait(20)
    assert listener.frames[0][0] == "hello"
    return listener


def ended_for(listener: Listener, words: str) -> dict:
    """The stream's last frame, once it has closed: its `end`, saying why."""
    assert listener.closed.wait(20), listener.frames
    kind, body = listener.frames[-1]
    assert kind == "end" and body["code"] == "bad_token", listener.frames
    assert words in body["message_en"] and body["message"], body
    return body


def contact(model, method: str) -> None:
    r = model.client("clerk", "sh-ipa").post("/api/commands", json={
        "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
        "method": method})
    assert r.status_code == 201, r.text


def events_seen(listener: Listener) -> list[dict]:
    return [e for kind, frame in listener.frames if kind == "events" for e in frame["events"]]


def test_revoked_on_the_command_line_the_stream_ends_without_any_event(model, monkeypatch):
    monkeypatch.setenv("BANLI_SECRET", SECRET)
    token = issue_token(SECRET, CLERK, 3600)
    listener = listening(model, token)
    data = ["--data-dir", str(model.system.settings.data_dir)]
    assert main(["token", "revoke", "--token", token, *data]) == 0
    ended_for(listener, "revoked")  # the periodic check: nothing was recorded meanwhile
    assert model.client(token=token).get("/api/me").status_code == 401


@pytest.mark.parametrize("settings", [3600], indirect=True)  # no periodic check meanwhile
def test_what_is_recorded_after_the_revocation_never_reaches_the_stream(model, monkeypatch):
    """The check before each batch ends the stream rather than send it."""
    monkeypatch.setenv("BANLI_SECRET", SECRET)
    token = issue_token(SECRET, CLERK, 3600)
    listener = listening(model, token)
    other = listening(model, token_for(SECRET, "clerk", "sh-ipa", user="still-signed-in"))
    assert main(["token", "revoke", "--user", CLERK.user, "--data-dir",
                 str(model.system.settings.data_dir)]) == 0
    contact(model, "visit")
    assert other.wait_for(lambda frames: any(k == "events" for k, _ in frames))
    ended_for(listener, "revoked")
    assert events_seen(listener) == [] and len(events_seen(other)) == 1
    assert not other.closed.is_set()


def test_signing_out_ends_the_stream(model):
    token = issue_token(SECRET, CLERK, 3600)
    listener = listening(model, token)
    assert model.client(token=token).post("/api/signout").status_code == 200
    ended_for(listener, "revoked")


def test_an_expired_token_ends_the_stream(model):
    token = issue_token(SECRET, CLERK, 8)  # expires within eight seconds
    listener = listening(model, token)  # open while the token holds (its `hello`)
    ended_for(listener, "expired")
    assert time.time() >= jwt.decode(token, options={"verify_signature": False})["exp"]
