"""What goes wrong at the identity provider's end of a sign-in is answered with the sign-in
page's refusal, never a 500: an id_token that does not verify (a wrong nonce, issuer or
audience, expired, signed with another key) is 400, an IdP whose token endpoint fails or that
cannot be reached is 502, and no Banli token is handed out.

The real Keycloak (tests/e2e/test_signin.py) signs people in; it cannot be made to sign a bad
id_token. The IdP here is a small one of our own, speaking OpenID Connect's code flow over real
HTTP, which answers each sign-in as the test says: a mock around our own logic (Banli's
callback) only. Its good answer is taken, so that each refusal is for the flaw it was given."""
from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from joserfc import jwt
from joserfc.jwk import RSAKey

from banli.auth import Authority, AuthError
from banli.settings import Settings
from banli.web.app import build_app
from banli.web.deps import Ports
from tests.conftest import SECRET, LiveServer, free_port

CLIENT_ID = "banli-web"


class FakeIdP:
    """An OpenID provider of the code flow: discovery, authorize (straight back with a code),
    token (an id_token made as `self.answer` says) and its keys."""

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "idp-1"})
        self.other_key = RSAKey.generate_key(2048, parameters={"kid": "idp-1"})  # same kid
        self.answer = "good"
        self.nonces: dict[str, str] = {}
        self.url = ""
        self.app = FastAPI()
        self.app.get("/.well-known/openid-configuration")(self.discovery)
        self.app.get("/authorize")(self.authorize)
        self.app.post("/token")(self.token)
        self.app.get("/jwks")(self.jwks)

    async def discovery(self) -> dict[str, Any]:
        return {"issuer": self.url, "authorization_endpoint": f"{self.url}/authorize",
                "token_endpoint": f"{self.url}/token", "jwks_uri": f"{self.url}/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"]}

    async def authorize(self, redirect_uri: str, state: str, nonce: str, client_id: str):
        assert client_id == CLIENT_ID
        code = secrets.token_urlsafe(8)
        self.nonces[code] = nonce
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}",
                                status_code=302)

    async def jwks(self) -> dict[str, Any]:
        return {"keys": [self.key.as_dict(private=False)]}

    async def token(self, request: Request):
        code = parse_qs((await request.body()).decode())["code"][0]  # a form, as RFC 6749 says
        if self.answer == "fails":
            return PlainTextResponse("<html>502 Bad Gateway</html>", status_code=500)
        if self.answer == "refuses":
            return JSONResponse({"error": "invalid_grant"}, status_code=400)
        if self.answer == "not json":
            return PlainTextResponse("maintenance", status_code=200)
        now = int(time.time())
        claims = {"iss": self.url, "sub": "u-1", "aud": CLIENT_ID, "iat": now, "exp": now + 300,
                  "nonce": self.nonces.pop(code), "preferred_username": "zhao",
                  "banli_role": "overseer"}
        claims.update({
            "wrong nonce": {"nonce": "not-the-one-sent"},
            "wrong issuer": {"iss": "https://elsewhere.example/realms/banli"},
            "wrong audience": {"aud": "another-client"},
            "expired": {"iat": now - 3600, "exp": now - 1800},
        }.get(self.answer, {}))
        key = self.other_key if self.answer == "wrong key" else self.key
        id_token = jwt.encode({"alg": "RS256", "kid": "idp-1"}, claims, key)
        return {"access_token": "at-" + secrets.token_urlsafe(8), "token_type": "Bearer",
                "expires_in": 300, "id_token": id_token}


@pytest.fixture(scope="module")
def idp():
    fake = FakeIdP()
    with LiveServer(fake.app) as live:
        fake.url = live.url
        yield fake


def banli_signing_in_at(issuer: str, tmp_path) -> LiveServer:
    """Banli's sign-in routes (build_app with signin), over the IdP at `issuer`."""
    settings = Settings(data_dir=tmp_path, secret=SECRET, oidc_issuer=issuer,
                        oidc_client_id=CLIENT_ID, oidc_client_secret="s3cret")
    return LiveServer(build_app("Banli", [], Ports(authority=Authority(tmp_path, SECRET)),
                                settings, signin=True))


def sign_in(banli: str) -> httpx.Response:
    """A browser's way through: Banli → the IdP → Banli's callback (its answer)."""
    with httpx.Client(timeout=30) as browser:
        to_idp = browser.get(f"{banli}/auth/login")
        assert to_idp.status_code == 302, to_idp.text
        back = browser.get(to_idp.headers["location"])
        assert back.status_code == 302, back.text
        return browser.get(back.headers["location"])


def refused(answer: httpx.Response, status: int, said: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("text/html")
    assert "未能登录" in answer.text and said in answer.text, answer.text
    assert "token=" not in answer.headers.get("location", "") + answer.text
    assert "Traceback" not in answer.text


def test_a_good_answer_signs_in(idp, tmp_path):
    idp.answer = "good"
    with banli_signing_in_at(idp.url, tmp_path) as banli:
        answer = sign_in(banli.url)
    assert answer.status_code == 303 and "/app/#token=" in answer.headers["location"]
    token = answer.headers["location"].split("#token=")[1]
    assert Authority(tmp_path, SECRET).verify(token)[0].user == "zhao"


@pytest.mark.parametrize("flaw", ["wrong nonce", "wrong issuer", "wrong audience", "expired",
                                  "wrong key"])
def test_an_id_token_that_does_not_verify_is_refused(idp, tmp_path, flaw):
    idp.answer = flaw
    with banli_signing_in_at(idp.url, tmp_path) as banli:
        refused(sign_in(banli.url), 400, "does not verify")


@pytest.mark.parametrize("failure, status, said", [
    ("fails", 502, "not answering as it should"),      # 500 from the token endpoint
    ("not json", 502, "not answering as it should"),
    ("refuses", 400, "did not complete: invalid_grant"),  # an OAuth error
])
def test_a_token_endpoint_that_fails_is_refused(idp, tmp_path, failure, status, said):
    idp.answer = failure
    with banli_signing_in_at(idp.url, tmp_path) as banli:
        refused(sign_in(banli.url), status, said)


def test_an_idp_that_cannot_be_reached_is_refused(tmp_path):
    nowhere = f"http://127.0.0.1:{free_port()}/realms/banli"  # nothing listens there
    with banli_signing_in_at(nowhere, tmp_path) as banli:
        refused(httpx.get(f"{banli.url}/auth/login", timeout=30), 502, "not answering")


def test_signing_out_while_the_idp_is_away_still_signs_out(tmp_path):
    from banli.domain.types import Actor

    nowhere = f"http://127.0.0.1:{free_port()}/realms/banli"
    token = Authority(tmp_path, SECRET).issue(Actor(user="zhao", role="overseer"), 3600)
    with banli_signing_in_at(nowhere, tmp_path) as banli:
        answer = httpx.post(f"{banli.url}/api/signout", timeout=30,
                            headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"signed_out": True, "user": "zhao", "end_session": None}
    with pytest.raises(AuthError, match="revoked"):
        Authority(tmp_path, SECRET).verify(token)
