"""Smoke tests: the real Keycloak (deploy/keycloak) serves the banli realm as Banli expects it.

Tokens are decoded without verifying their signature (no JWT library in the test deps); the
header's key id is checked against the realm's JWKS instead.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import secrets
import socket
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

pytestmark = [pytest.mark.slow, pytest.mark.keycloak]

USERS = {  # username: (bureau, banli_role) as banli-realm.json gives them
    "wang": ("sh-ipa", "clerk"),
    "li": ("sh-hrss", "clerk"),
    "zhao": (None, "overseer"),
    "chen": (None, "coordinator"),
    "qian": (None, "admin"),
    "zhou": (None, "importer"),
    "zhangwei": (None, "filer"),
    "wangfang": (None, "filer"),
    "sun": (None, None),
}
FILERS = {"zhangwei": "filer-00", "wangfang": "filer-01"}  # their banli_filer claim


def _jwt_part(token: str, index: int) -> dict:
    part = token.split(".")[index]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def _claims(token: str) -> dict:
    return _jwt_part(token, 1)


def _random_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def oidc(keycloak) -> dict:
    with httpx.Client(timeout=30) as c:
        r = c.get(keycloak.discovery_url)
    r.raise_for_status()
    return r.json()


def _password_grant(keycloak, oidc, username: str, password: str | None = None) -> dict:
    r = httpx.post(
        oidc["token_endpoint"],
        data={
            "grant_type": "password",
            "client_id": keycloak.client_id,
            "client_secret": keycloak.client_secret,
            "username": username,
            "password": password if password is not None else f"{username}-pass",
            "scope": "openid",
        },
        timeout=30,
    )
    return r


def _auth_url(keycloak, oidc, redirect_uri: str, challenge: str | None, state: str) -> httpx.URL:
    params = {
        "client_id": keycloak.client_id,
        "response_type": "code",
        "scope": "openid",
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": secrets.token_urlsafe(8),
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return httpx.URL(oidc["authorization_endpoint"], params=params)


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.rstrip(b"=").decode()


def test_discovery(keycloak, oidc):
    assert oidc["issuer"] == keycloak.issuer
    assert "S256" in oidc["code_challenge_methods_supported"]
    assert "authorization_code" in oidc["grant_types_supported"]
    assert oidc["authorization_endpoint"].startswith(keycloak.issuer + "/")
    assert oidc["end_session_endpoint"].startswith(keycloak.issuer + "/")


@pytest.mark.parametrize("username", sorted(USERS))
def test_password_grant_claims(keycloak, oidc, username):
    bureau, role = USERS[username]
    r = _password_grant(keycloak, oidc, username)
    assert r.status_code == 200, r.text
    tokens = r.json()
    assert 0 < tokens["expires_in"] <= 300  # access token lifespan: 5 minutes
    id_claims = _claims(tokens["id_token"])
    assert id_claims["iss"] == keycloak.issuer
    assert id_claims["aud"] == keycloak.client_id
    assert id_claims["preferred_username"] == username
    assert id_claims.get("bureau") == bureau
    assert id_claims.get("banli_role") == role
    assert id_claims.get("banli_filer") == FILERS.get(username)
    if role is None:
        assert "banli_role" not in id_claims  # sun: nothing for Banli to map, refused there

    kids = {k["kid"] for k in httpx.get(oidc["jwks_uri"], timeout=30).json()["keys"]}
    assert _jwt_part(tokens["id_token"], 0)["kid"] in kids

    info = httpx.get(
        oidc["userinfo_endpoint"],
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
        timeout=30,
    )
    assert info.status_code == 200, info.text
    userinfo = info.json()
    assert userinfo["preferred_username"] == username
    assert userinfo.get("bureau") == bureau
    assert userinfo.get("banli_role") == role


def test_the_sign_in_page_is_in_chinese_with_english_offered(keycloak, oidc):
    redirect_uri = f"http://127.0.0.1:{_random_port()}/auth/callback"
    page = httpx.get(_auth_url(keycloak, oidc, redirect_uri, _pkce()[1], "s"), timeout=30)
    assert page.status_code == 200, page.text
    assert 'lang="zh-CN"' in page.text and "登录" in page.text and "密码" in page.text
    assert "English" in page.text  # the language menu offers it
    english = httpx.get(_auth_url(keycloak, oidc, redirect_uri, _pkce()[1], "s").copy_add_param(
        "ui_locales", "en"), timeout=30)
    assert 'lang="en"' in english.text and "Sign in" in english.text


def test_wrong_password_refused(keycloak, oidc):
    r = _password_grant(keycloak, oidc, "wang", "not-wang-pass")
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]"])
def test_loopback_redirect_uri_on_any_port_accepted(keycloak, oidc, host):
    # Registered as http://<loopback>/auth/callback; Keycloak ignores the port of a loopback
    # redirect URI (RFC 8252, 7.3), so Banli may listen on any free port.
    redirect_uri = f"http://{host}:{_random_port()}/auth/callback"
    r = httpx.get(_auth_url(keycloak, oidc, redirect_uri, _pkce()[1], "s"), timeout=30)
    assert r.status_code == 200, r.text
    assert 'id="kc-form-login"' in r.text
    assert "无效的参数" not in r.text  # Invalid parameter (the realm speaks Chinese first)


@pytest.mark.parametrize(
    "redirect_uri",
    [
        "http://banli.example:{port}/auth/callback",  # another host
        "http://127.0.0.2:{port}/auth/callback",  # loopback, but not a registered literal
        "https://127.0.0.1:{port}/auth/callback",  # another scheme
        "http://127.0.0.1:{port}/auth/elsewhere",  # another path
        "http://127.0.0.1:{port}/auth/callback?next=/",  # extra query
    ],
)
def test_other_redirect_uri_refused(keycloak, oidc, redirect_uri):
    redirect_uri = redirect_uri.format(port=_random_port())
    r = httpx.get(_auth_url(keycloak, oidc, redirect_uri, _pkce()[1], "s"), timeout=30)
    assert r.status_code == 400
    assert "无效的参数 : redirect_uri" in r.text  # Invalid parameter: redirect_uri
    assert 'id="kc-form-login"' not in r.text


def test_pkce_required(keycloak, oidc):
    redirect_uri = f"http://127.0.0.1:{_random_port()}/auth/callback"
    r = httpx.get(_auth_url(keycloak, oidc, redirect_uri, None, "s"), timeout=30)
    assert r.status_code == 302
    query = parse_qs(urlsplit(r.headers["location"]).query)
    assert query["error"] == ["invalid_request"]
    assert "code_challenge" in query["error_description"][0]


def _login(keycloak, oidc, username: str) -> tuple[str, str, str]:
    """The browser's way in, with PKCE: the login form, then the code at the loopback callback.
    Returns (code, redirect_uri, verifier)."""
    redirect_uri = f"http://127.0.0.1:{_random_port()}/auth/callback"
    verifier, challenge = _pkce()
    state = secrets.token_urlsafe(8)
    with httpx.Client(timeout=30) as browser:
        page = browser.get(_auth_url(keycloak, oidc, redirect_uri, challenge, state))
        assert page.status_code == 200, page.text
        form = re.search(r'<form\b[^>]*\bid="kc-form-login"[^>]*>', page.text)
        assert form, page.text
        action = html.unescape(re.search(r'\baction="([^"]+)"', form.group(0)).group(1))
        # Keycloak marks its cookies Secure even over http (browsers keep Secure cookies for
        # loopback origins); http.cookiejar sends them only over https, so send them by hand.
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser.cookies.jar)
        done = browser.post(
            action,
            data={"username": username, "password": f"{username}-pass", "credentialId": ""},
            headers={"Cookie": cookie},
        )
    # Straight back to Banli: no required action (profile update, e-mail check) in between.
    assert done.status_code == 302, done.text
    location = done.headers["location"]
    assert location.startswith(redirect_uri + "?"), location
    query = parse_qs(urlsplit(location).query)
    assert query["state"] == [state]
    assert query["iss"] == [keycloak.issuer]
    return query["code"][0], redirect_uri, verifier


def _exchange(keycloak, oidc, code: str, redirect_uri: str, verifier: str) -> httpx.Response:
    return httpx.post(
        oidc["token_endpoint"],
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": redirect_uri,
            "code_verifier": verifier,
        },
        auth=(keycloak.client_id, keycloak.client_secret),
        timeout=30,
    )


def test_code_flow_with_pkce(keycloak, oidc):
    code, redirect_uri, verifier = _login(keycloak, oidc, "li")
    r = _exchange(keycloak, oidc, code, redirect_uri, verifier)
    assert r.status_code == 200, r.text
    claims = _claims(r.json()["id_token"])
    assert (claims["preferred_username"], claims["bureau"], claims["banli_role"]) == (
        "li", "sh-hrss", "clerk")
    again = _exchange(keycloak, oidc, code, redirect_uri, verifier)  # a code is good once
    assert again.status_code == 400
    assert again.json()["error"] == "invalid_grant"


def test_code_needs_its_verifier(keycloak, oidc):
    code, redirect_uri, _ = _login(keycloak, oidc, "zhao")
    r = _exchange(keycloak, oidc, code, redirect_uri, _pkce()[0])
    assert r.status_code == 400
    assert r.json()["error"] == "invalid_grant"


@pytest.mark.parametrize("host, accepted", [("127.0.0.1", True), ("banli.example", False)])
def test_post_logout_redirect(keycloak, oidc, host, accepted):
    # Registered as http://<loopback>/*: any path, any port on a loopback host.
    id_token = _password_grant(keycloak, oidc, "chen").json()["id_token"]
    target = f"http://{host}:{_random_port()}/"
    r = httpx.get(
        oidc["end_session_endpoint"],
        params={"id_token_hint": id_token, "post_logout_redirect_uri": target, "state": "bye"},
        timeout=30,
    )
    if accepted:
        assert r.status_code == 302, r.text
        assert r.headers["location"] == f"{target}?state=bye"
    else:
        assert r.status_code == 400
        assert "无效的跳转链接" in r.text  # Invalid redirect uri
