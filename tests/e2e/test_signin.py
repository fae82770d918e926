"""People sign in through the identity provider: a real Keycloak (its distribution from Maven
Central, realm `banli` from deploy/keycloak), the authorization code flow with PKCE, the IdP's
claims mapped to Banli's user, role and bureau, Banli's own token afterwards, sign-out that
revokes it and ends the IdP's session. In Chromium as a person does it, and over HTTP for the
refusals."""
from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

import httpx
import pytest

from banli.demo.model import MODEL_FILE
from apps.embedded import EmbeddedSystem, create_app
from apps.local import import_commands
from banli.settings import Settings
from banli.web.signin import SignInRefused, actor_from_claims
from tests.conftest import LiveServer
from tests.e2e.test_oversight_page import Page, browser, until  # noqa: F401  (a fixture)

pytestmark = [pytest.mark.slow, pytest.mark.keycloak]


@pytest.fixture
def signed(settings, clock, keycloak):
    """The embedded system with the model history, its page signing people in at Keycloak."""
    oidc = settings.model_copy(update={"oidc_issuer": keycloak.issuer,
                                       "oidc_client_id": keycloak.client_id,
                                       "oidc_client_secret": keycloak.client_secret})
    system = EmbeddedSystem(oidc, clock=clock).start()
    with MODEL_FILE.open("rb") as lines:
        import_commands(system.handle, (line.rstrip(b"\n") for line in lines))
    assert system.settle(30)
    try:
        with LiveServer(create_app(system)) as live:
            live.system = system
            yield live
    finally:
        system.stop()
        system.reporting.drop()


@pytest.mark.browser
def test_a_clerk_signs_in_at_the_idp_and_sees_only_its_bureau(browser, signed):  # noqa: F811
    tab = Page(browser, signed, "years=2020&as_of=2020-11-20")
    page = tab.page
    page.wait_for_selector("#signin-idp", state="visible")
    page.click("#signin-idp")
    page.wait_for_selector("#kc-form-login")  # Keycloak's own page
    assert urlsplit(page.url).path.startswith("/realms/banli/")
    page.fill("#username", "wang")
    page.fill("#password", "wang-pass")
    page.click("#kc-login")
    page.wait_for_selector("#kpis .kpi")
    assert "#token" not in page.url  # taken from the fragment and dropped from the address
    assert page.inner_text("#who") == "wang · clerk · sh-ipa"
    assert page.locator("#f-bureau").is_disabled()
    assert page.eval_on_selector("#f-bureau", "s => [...s.options].map(o => o.value)") == [
        "sh-ipa"]
    until(page, "document.querySelector('[data-kpi=duties] .value').innerText.trim()"
                           " === '29'")
    league = page.locator("#league tr[data-bureau]")
    assert league.count() == 1 and league.first.get_attribute("data-bureau") == "sh-ipa"
    tab.shot("signin-clerk")
    token = page.evaluate("sessionStorage.getItem('banli.token')")
    me = httpx.get(f"{signed.url}/api/me", headers={"Authorization": f"Bearer {token}"}).json()
    assert (me["user"], me["role"], me["bureau"]) == ("wang", "clerk", "sh-ipa")
    other = httpx.get(f"{signed.url}/api/report", headers={"Authorization": f"Bearer {token}"},
                      params={"bureau": "sh-hrss", "years": "2020", "as_of": "2020-11-20"})
    assert other.status_code == 403

    # sign-out: the token is revoked, the IdP's session ended, and the page asks to sign in
    page.click("#signout")
    page.wait_for_selector("#signin", state="visible")
    assert urlsplit(page.url).path == "/app/"
    assert httpx.get(f"{signed.url}/api/me",
                     headers={"Authorization": f"Bearer {token}"}).status_code == 401
    page.click("#signin-idp")
    page.wait_for_selector("#kc-form-login")  # signed out at the IdP too: it asks again
    tab.close()


def _sign_in_over_http(signed, username: str, next: str = "/app/") -> httpx.Response:
    """The browser's way through the code flow, with httpx: Banli → Keycloak's form → Banli."""
    with httpx.Client(timeout=30) as browser_:
        to_idp = browser_.get(f"{signed.url}/auth/login", params={"next": next})
        assert to_idp.status_code == 302
        query = dict(p.split("=", 1) for p in urlsplit(to_idp.headers["location"]).query.split("&"))
        assert query["code_challenge_method"] == "S256" and query["code_challenge"]
        form_page = browser_.get(to_idp.headers["location"])
        form = re.search(r'<form\b[^>]*\bid="kc-form-login"[^>]*>', form_page.text)
        action = html.unescape(re.search(r'\baction="([^"]+)"', form.group(0)).group(1))
        cookie = "; ".join(f"{c.name}={c.value}" for c in browser_.cookies.jar
                           if c.domain.startswith("127.0.0.1") and "KEYCLOAK" in c.name.upper()
                           or c.name.startswith(("AUTH_SESSION", "KC_")))
        back = browser_.post(action, data={"username": username,
                                           "password": f"{username}-pass"},
                             headers={"Cookie": cookie})
        assert back.status_code == 302, back.text
        return browser_.get(back.headers["location"])


def test_claims_that_make_no_banli_user_are_refused(signed):
    answer = _sign_in_over_http(signed, "sun")  # no banli_role at the IdP
    assert answer.status_code == 403
    assert "尚未分配" in answer.text and "no Banli role" in answer.text
    assert "token=" not in answer.headers.get("location", "")
    ok = _sign_in_over_http(signed, "zhao", next="/app/?years=2019")
    assert ok.status_code == 303 and ok.headers["location"].startswith(
        f"{signed.url}/app/?years=2019#token=")
    for elsewhere in ("https://evil.example/app/", "//evil.example/app/", "/docs"):
        sent = _sign_in_over_http(signed, "zhao", next=elsewhere)
        assert sent.headers["location"].startswith(f"{signed.url}/app/#token="), elsewhere


def test_the_claims_are_mapped_by_settings():
    settings = Settings(oidc_role_map='{"gov-clerk": "clerk", "gov-audit": "overseer"}',
                        oidc_role_claim="roles", oidc_bureau_claim="org",
                        oidc_user_claim="email")
    actor = actor_from_claims({"email": "w@example.gov.cn", "roles": ["staff", "gov-clerk"],
                               "org": "sh-ipa"}, settings)
    assert (actor.user, actor.role, actor.bureau) == ("w@example.gov.cn", "clerk", "sh-ipa")
    assert actor_from_claims({"email": "z", "roles": "gov-audit"}, settings).role == "overseer"
    for claims in ({"email": "x", "roles": ["clerk"]},          # unmapped: not taken as is
                   {"email": "x", "roles": ["gov-clerk"]},      # a clerk without a bureau
                   {"roles": ["gov-audit"]},                    # no user
                   {"email": "x", "roles": ["gov-clerk"], "org": "../../etc"}):  # not a bureau id
        with pytest.raises(SignInRefused):
            actor_from_claims(claims, settings)
    plain = Settings()
    assert actor_from_claims({"preferred_username": "chen", "banli_role": "coordinator"},
                             plain).role == "coordinator"
    with pytest.raises(SignInRefused):
        actor_from_claims({"preferred_username": "chen", "banli_role": "root"}, plain)


def _commands(system, *lines: dict) -> None:
    from banli.domain.registry import parse_command

    for i, line in enumerate(lines):
        outcome = system.handle(parse_command({"command_id": f"filers-{i}",
                                               "actor": {"user": "i", "role": "importer"},
                                               **line}))
        assert outcome.rejection is None, outcome.rejection
    assert system.settle(30)


def test_a_filer_signs_in_at_the_idp_and_reads_only_their_proposals(signed):
    """The realm's deputy (zhangwei) and CPPCC member (wangfang) sign in through Keycloak; its
    `banli_filer` claim names each in the filer registry, and each reads the proposals they
    filed and nothing else."""
    at = "2020-03-01T09:00:00+08:00"
    _commands(signed.system,
              {"type": "register_filer", "filer": "filer-00", "name": "张伟", "at": at,
               "affiliation": "浦东新区代表团", "account": "zhangwei"},
              {"type": "register_filer", "filer": "filer-01", "name": "王芳", "at": at,
               "affiliation": "科技界别", "account": "wangfang"},
              {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "501",
               "title": "关于完善社区养老服务的建议", "filers": [{"name": "张伟"}],
               "affiliation": "浦东新区代表团", "at": at},
              {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "502",
               "title": "关于推进科技成果转化的提案", "filers": [{"name": "王芳"}],
               "affiliation": "科技界别", "at": at},
              {"type": "assign", "proposal": "2020-npc_suggestion-501", "lead": ["sh-ipa"],
               "at": "2020-03-02T09:00:00+08:00"})
    for username, filer, mine, theirs in (
            ("zhangwei", "filer-00", "2020-npc_suggestion-501", "2020-cppcc_proposal-502"),
            ("wangfang", "filer-01", "2020-cppcc_proposal-502", "2020-npc_suggestion-501")):
        back = _sign_in_over_http(signed, username)
        assert back.status_code == 303, back.text
        token = back.headers["location"].split("#token=", 1)[1]
        with httpx.Client(base_url=signed.url, timeout=30,
                          headers={"Authorization": f"Bearer {token}"}) as client:
            me = client.get("/api/me").json()
            assert (me["user"], me["role"], me["filer"], me["bureau"]) == (
                username, "filer", filer, None)
            listed = client.get("/api/my/proposals").json()
            assert [i["proposal_id"] for i in listed["items"]] == [mine], username
            assert client.get(f"/api/proposals/{mine}/history").status_code == 200
            assert client.get(f"/api/proposals/{theirs}/history").status_code == 404
            assert client.get(f"/api/proposals/{theirs}").status_code == 404
            assert client.get("/api/report", params={"all": "true", "years": "2020",
                                                     "as_of": "2020-11-20"}).status_code == 403
