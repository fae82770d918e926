"""The HTTP API's shape over real HTTP (uvicorn): every route listed, every route behind a
token, bad and revoked tokens, the status, and a replay of the projections that changes no
answer. The other parts: test_http_commands.py (commands, ids, imports, concurrency),
test_http_refusals.py (roles, bureaus, malformed and oversized input), test_http_reads.py (a
proposal, its history, assignments, the report).

Data is set up the way a user would: commands posted over HTTP by the role that may give them
(tests/integration/http_world.py). Business time `at` never goes backwards within a proposal;
when it is left out the server uses the injectable clock (2020-11-20T02:00Z in the fixture)."""
from __future__ import annotations

import base64
import json
import time

import jwt

from banli.auth import issue_token, key_id
from banli.domain.registry import REGISTRY
from banli.domain.types import Actor

from tests.integration.http_world import (AFTER_THE_REPORT_COMMANDS, P, REPORT_COMMANDS, accepted,
                                          expect, forbidden, history, unauthorized)


# --- the schema -------------------------------------------------------------------------------
EXPECTED_ROUTES = {
    ("post", "/api/commands"), ("post", "/api/signout"), ("post", "/api/import"),
    ("get", "/api/vocabulary"),
    # one route for each command the registry gives one
    *(("post", f"/api{spec.route}") for spec in REGISTRY if spec.route),
    ("get", "/api/proposals/{proposal_id}"), ("get", "/api/commands/{command_id}"),
    # tested in test_deadlines_api.py
    ("get", "/api/proposals/{proposal_id}/deadlines"), ("get", "/api/deadlines/flips"),
    ("get", "/api/reminders"), ("get", "/api/calendar"), ("post", "/api/admin/calendar"),
    ("delete", "/api/admin/calendar/{year}"),  # and test_calendar_notices.py
    ("get", "/api/report"), ("get", "/api/assignments"),
    ("get", "/api/bureaus/{bureau}/assignments"), ("get", "/api/proposals/{proposal_id}/history"),
    ("get", "/api/bureaus"), ("get", "/api/status"),
    ("post", "/api/admin/replay"), ("get", "/api/admin/replay"),
    # the oversight page's reads: tested in test_oversight_api.py
    ("get", "/api/items"), ("get", "/api/entries"), ("get", "/api/league"), ("get", "/api/dashboard"),
    ("get", "/api/live"), ("get", "/api/me"), ("get", "/api/proposals/awaiting-assignment"),
    # the year-end document: tested in test_documents_http.py
    ("get", "/api/report/document"),
    # routing from history: tested in test_routing_api.py
    ("post", "/api/routing/suggest"), ("get", "/api/proposals/{proposal_id}/suggestions"),
    ("get", "/api/proposals/{proposal_id}/lineage"), ("get", "/api/misrouting"),
    # spreadsheets: tested in test_sheets_http.py
    ("post", "/api/sheets/assignments"), ("post", "/api/sheets/replies"),
    ("get", "/api/sheets/{preview_id}"), ("post", "/api/sheets/{preview_id}/commit"),
    # reply letters: tested in test_letters_http.py
    ("post", "/api/proposals/{proposal_id}/letters"),
    ("get", "/api/proposals/{proposal_id}/letters/{sha256}"),
    # the workbench: tested in test_workbench_http.py
    ("get", "/api/work"), ("get", "/api/desk"), ("get", "/api/search"),
    # filers: tested in test_filers_http.py and test_filer_registry.py
    # the office's review: tested in test_intake_http.py
    ("get", "/api/intake/report"), ("get", "/api/intake/report/document"),
    ("get", "/api/intake/items"), ("get", "/api/intake/queue"),
    ("get", "/api/proposals/{proposal_id}/review-letter"),
    ("get", "/api/my/proposals"), ("get", "/api/filers"), ("post", "/api/sheets/filers"),
}


def test_openapi_lists_every_route(server):
    schema = expect(server.client(None).get("/openapi.json"), 200)
    listed = {(method, path) for path, ops in schema["paths"].items() for method in ops}
    assert EXPECTED_ROUTES - listed == set(), "routes gone from the API"
    assert listed - EXPECTED_ROUTES == set(), "a new route: give it tests here"
    assert "HTTPBearer" in schema["components"]["securitySchemes"]


def test_healthz_needs_no_token(server):
    assert expect(server.client(None).get("/healthz"), 200) == {"status": "ok"}


# --- authentication -----------------------------------------------------------------------------
def _each_route(proposal: str = P) -> list[tuple[str, str]]:
    """Every route of the schema with its path parameters filled in."""
    return [(method, path.replace("{proposal_id}", proposal).replace("{command_id}", "c-1")
             .replace("{bureau}", "sh-ipa").replace("{sha256}", "ab" * 32)
             .replace("{year}", "2027"))
            for method, path in sorted(EXPECTED_ROUTES)]


def _forge(secret: str, claims: dict, **header) -> str:
    """A JWT with these claims, signed with `secret` under the kid BANLI_SECRET's key has."""
    return jwt.encode(claims, secret, algorithm="HS256",
                      headers={"kid": key_id(server_secret()), **header})


def server_secret() -> str:
    from tests.conftest import SECRET
    return SECRET


def test_every_route_needs_a_token(server):
    anonymous = server.client(None)
    for method, path in _each_route():
        r = anonymous.request(method, path, json={} if method == "post" else None)
        assert r.status_code == 401, (method, path, r.text)
        unauthorized(r, "unauthenticated")
    assert server.system.log.count() == 0


def test_bad_tokens_are_401(server):
    system = server.system
    secret = system.settings.secret
    admin = Actor(user="eve", role="admin")
    valid = issue_token(secret, Actor(user="eve", role="overseer"), 3600)
    header, body, signature = valid.split(".")
    claims = jwt.decode(valid, options={"verify_signature": False})
    tampered = base64.urlsafe_b64encode(json.dumps(
        {**claims, "role": "admin"}, separators=(",", ":")).encode()).rstrip(b"=").decode()
    now = int(time.time())
    good = {"iss": "banli", "sub": "eve", "role": "admin", "iat": now, "exp": now + 3600,
            "jti": "j-1"}
    bad = {
        "garbage": "garbage",
        "empty signature": f"{header}.{body}.",
        "forged signature": _forge("another-Secret-0123456789-abcdefghijKLMNOP", good),
        "flipped signature": f"{header}.{body}.{signature[:-2]}"
                             f"{'AA' if signature[-2:] != 'AA' else 'BB'}",
        "claims changed, signature kept": f"{header}.{tampered}.{signature}",
        "expired": issue_token(secret, admin, 60, now=time.time() - 3600),
        "not base64": "@@@@.!!!!.####",
        "alg none": jwt.encode(good, None, algorithm="none", headers={"kid": key_id(secret)}),
        "unknown key": issue_token("unknown-Secret-0123456789-abcdefghijKLMNOP", admin, 3600),
        "claims without a role": _forge(secret, {k: v for k, v in good.items() if k != "role"}),
        "unknown role": _forge(secret, {**good, "role": "root"}),
        "a clerk of no bureau": _forge(secret, {**good, "role": "clerk"}),
        "no jti": _forge(secret, {k: v for k, v in good.items() if k != "jti"}),
        "another issuer": _forge(secret, {**good, "iss": "elsewhere"}),
        "issued in the future": _forge(secret, {**good, "iat": now + 3600, "exp": now + 7200}),
        "longer than allowed": _forge(secret, {**good, "exp": now + 91 * 86400}),
    }
    for label, token in bad.items():
        for method, path in (("get", "/api/bureaus"), ("post", "/api/commands")):
            r = server.client(token=token).request(
                method, path, json={"type": "register_bureau", "bureau": "x", "name": "x"}
                if method == "post" else None)
            assert r.status_code == 401, (label, r.text)
            unauthorized(r, "bad_token")
    assert expect(server.client(token=valid).get("/api/bureaus"), 200) == {"bureaus": {}}
    r = server.client(None).get("/api/bureaus", headers={"Authorization": "Basic dTpw"})
    unauthorized(r, "unauthenticated")
    assert server.system.log.count() == 0


def test_revoked_tokens_are_401(server):
    authority = server.system.authority
    one, other = (issue_token(server.system.settings.secret, Actor(user=u, role="overseer"),
                              3600) for u in ("revoked-one", "revoked-user"))
    later_of_user = issue_token(server.system.settings.secret,
                                Actor(user="revoked-user", role="overseer"), 3600,
                                now=time.time() + 5)
    for token in (one, other, later_of_user):
        expect(server.client(token=token).get("/api/bureaus"), 200)
    authority.revoke(one)  # by its jti, as sign-out does
    authority.revoke_user("revoked-user")
    for token in (one, other):
        unauthorized(server.client(token=token).get("/api/bureaus"), "bad_token")
    # issued after the user's revocation (a new sign-in) it works again
    expect(server.client(token=later_of_user).get("/api/bureaus"), 200)


# --- status ---------------------------------------------------------------------------------------
def test_status(world):
    expect(world.admin.get("/api/bureaus"), 200)  # reads settle the projections
    for client in (world.admin, world.overseer, world.coordinator):
        status = expect(client.get("/api/status"), 200)  # how fresh the numbers are
        assert status == {"log_head": status["log_head"], "log_events": 5,
                          "projected_position": status["log_head"], "projected_events": 5,
                          "lag": 0, "projector_error": None}
    for client in (world.ipa, world.server.client("importer")):  # not every role's
        assert expect(client.get("/api/status"), 403)["detail"]["code"] == "forbidden"


# --- replaying the projections ------------------------------------------------------------------
def test_replay_rebuilds_the_projections_and_changes_no_answer(server, clock):
    clock.now = AFTER_THE_REPORT_COMMANDS
    importer = server.client("importer")
    for command in REPORT_COMMANDS:
        accepted(importer.post("/api/commands", json=command))
    admin, overseer = server.client("admin"), server.client("overseer")
    params = {"all": "true", "years": "2019-2020", "as_of": "2020-11-20"}
    before = expect(overseer.get("/api/report", params=params), 200)
    history_before = history(server, "2020-cppcc_proposal-2")
    assert expect(admin.get("/api/admin/replay"), 200)["state"] == "idle"

    for role, bureau in (("coordinator", None), ("overseer", None), ("importer", None),
                         ("clerk", "sh-ipa")):  # operations are an admin's
        forbidden(server.client(role, bureau).post("/api/admin/replay"))
        forbidden(server.client(role, bureau).get("/api/admin/replay"))

    started = expect(admin.post("/api/admin/replay"), 202)
    assert started["state"] in ("starting", "running", "swapping", "done")
    again = admin.post("/api/admin/replay")
    if again.status_code == 409:  # unless the first one was already done
        assert again.json()["detail"]["code"] == "replay_running"
    deadline = time.monotonic() + 60
    while (progress := expect(admin.get("/api/admin/replay"), 200))["state"] not in (
            "done", "failed"):
        assert time.monotonic() < deadline, progress
        time.sleep(0.1)
    assert progress["state"] == "done" and progress["error"] is None, progress
    assert progress["read"] == progress["total"] == server.system.log.count()

    assert expect(overseer.get("/api/report", params=params), 200) == before
    assert history(server, "2020-cppcc_proposal-2") == history_before
    accepted(admin.post("/api/bureaus", json={"bureau": "after-replay", "name": "重建后"}))
    assert "after-replay" in expect(admin.get("/api/bureaus"), 200)["bureaus"]
    status = expect(admin.get("/api/status"), 200)
    assert status["projector_error"] is None and status["lag"] == 0, status
