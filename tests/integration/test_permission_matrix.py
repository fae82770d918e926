"""Every operation of the served OpenAPI, with every role (and a clerk of the bureau concerned
and one of another bureau, and no token or a bad one), over real HTTP, each answer held to the
permission table (banli.domain.permissions).

Each route names its row of the table in the OpenAPI (`x-banli-action`: an action, or a command
type); the expectation comes from the table, the answer from the server, so a route that checks
something else than it declares, or forgets to check, fails here. The requests are valid, so
that nothing but the permission decides: where the table allows, a read answers 2xx and a
command is not refused for the sender's role or bureau (the rules may still refuse it, 409 with
their own code); where it does not, a read answers 403 (someone else's command outcome or
spreadsheet preview, a reply letter not yours to see, or a proposal the reader's bureau has no
duty on: 404, as unknown) and a command 409 `forbidden` or `wrong_bureau`, recorded in the log."""
from __future__ import annotations

import json
from typing import Any

from io import BytesIO

import httpx
import openpyxl
import pytest

from banli.domain.commands import actor_key
from banli.domain.permissions import ROLES, allowed, reach
from banli.domain.registry import REGISTRY
from banli.domain.types import Actor
from banli.domain.views.vocabulary import example
from banli.workcalendar import save_notice
from tests.conftest import ROOT, token_for

P = "2020-cppcc_proposal-7"
OWN, OTHER = "sh-ipa", "sh-hrss"  # P is sh-ipa's (lead); sh-hrss has no duty on it
FILER, OTHER_FILER = "d-zhang", "d-wang"  # P is 张伟's; 王芳 filed none of it
P_FILERS = (FILER,)
SEED_COMMAND = "matrix-seed"      # a command the coordinator sent

# A valid body for each command (banli.domain.views.vocabulary.example, from its schema), less what
# its route fills in (the type, the actor, and the path's proposal). Bureau-scoped commands name
# the bureau concerned.
BODIES: dict[str, dict[str, Any]] = {
    spec.type: {k: v for k, v in example(spec.command, proposal=P, bureau=OWN).items()
                if not (k == "proposal" and "{proposal_id}" in (spec.route or ""))}
    for spec in REGISTRY}
BODIES["decide_disclosure"]["disclosure"] = "withheld"  # the seeded reply's letter stays private
QUERY = {"years": "2020", "year": "2020", "as_of": "2020-12-31", "bureau": OWN, "measure": "replied",
         "to": "adopt_planned", "q": "知识产权",
         # whose command is asked for: the coordinator's (command ids are scoped to their sender)
         "sender": actor_key(Actor(user="test-coordinator", role="coordinator"))}
# a route's own values where the shared ones are not its (the office report's measures)
PATH_QUERY: dict[str, dict[str, str]] = {"/api/intake/items": {"measure": "filed"}}
# + the seeded preview; 2027: a loaded notice (seeded, and loaded again by the admin's POST)
PATH = {"proposal_id": P, "bureau": OWN, "command_id": SEED_COMMAND, "year": 2027}
OTHER_BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/commands"): {"type": "supervise", "proposal": P, "note": "督办"},
    ("post", "/api/routing/suggest"): {"title": "知识产权保护"},
    ("post", "/api/admin/calendar"): json.loads(
        (ROOT / "deploy/calendar/notice-2027.example.json").read_text(encoding="utf-8")),
}
PERMISSION_CODES = {"forbidden", "wrong_bureau"}
LETTER = b"%PDF-1.7\n%%EOF\n"  # a reply letter's file (uploaded as the body)
NOT_YOURS_404 = ("read:command", "read:preview", "read:letter")  # refused as unknown, not 403

PRINCIPALS: list[tuple[str, Actor | None]] = [
    *[(role, Actor(user=f"test-{role}", role=role)) for role in ROLES
      if role not in ("clerk", "filer")],
    ("clerk of the bureau", Actor(user="test-clerk", role="clerk", bureau=OWN)),
    ("clerk of another bureau", Actor(user="test-clerk", role="clerk", bureau=OTHER)),
    ("filer of the proposal", Actor(user="test-filer", role="filer", filer=FILER)),
    ("filer of another", Actor(user="test-filer-2", role="filer", filer=OTHER_FILER)),
    ("no token", None),
    ("a bad token", None),
]


def _sheet(*rows: list[str]) -> bytes:
    book = openpyxl.Workbook()
    for row in rows or (["提案号", "案由", "主办单位", "办理结果"],
                        ["8", "关于数据开放的提案", "上海市知识产权局", "A"]):
        book.active.append(row)
    out = BytesIO()
    book.save(out)
    return out.getvalue()


FILER_SHEET = (["姓名", "界别", "届次", "账号"], ["周九", "教育界别", "十四届", "zhoujiu"])


def _seed(server) -> None:
    admin = server.client("admin")
    for bureau, name in ((OWN, "上海市知识产权局"), (OTHER, "上海市人力资源和社会保障局")):
        assert admin.post("/api/bureaus", json={"bureau": bureau, "name": name}).status_code == 201
    for filer, name in ((FILER, "张伟"), (OTHER_FILER, "王芳")):
        assert admin.post("/api/filers", json={"filer": filer, "name": name,
                                               "affiliation": "经济界别"}).status_code == 201
    assert admin.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "7", "title": "关于知识产权保护的提案",
        "filers": [{"name": "张伟"}], "affiliation": "经济界别",
        "at": "2020-02-01T09:00:00+08:00"}).status_code == 201
    assert server.client("coordinator").post(f"/api/proposals/{P}/assign", json={
        "lead": [OWN], "at": "2020-02-03T09:00:00+08:00",
        "command_id": SEED_COMMAND}).status_code == 201
    preview = server.client("coordinator").post(  # a preview the coordinator uploaded
        "/api/sheets/assignments", content=_sheet(), params={"year": 2020},
        headers={"Content-Type": "application/octet-stream"})
    assert preview.status_code == 200, preview.text
    PATH["preview_id"] = preview.json()["preview_id"]
    clerk = server.client("clerk", OWN)  # P's reply, with its letter
    letter = clerk.post(f"/api/proposals/{P}/letters", params={"bureau": OWN}, content=LETTER)
    assert letter.status_code == 201, letter.text
    assert clerk.post(f"/api/proposals/{P}/reply", json={
        "bureau": OWN, "result": "solved", "letter": letter.json(),
        "at": "2020-02-10T09:00:00+08:00"}).status_code == 201
    PATH["sha256"] = letter.json()["sha256"]
    save_notice(server.system.calendars.directory,  # for the admin to take back
                (ROOT / "deploy/calendar/notice-2027.example.json").read_bytes())


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, ops in spec["paths"].items()
            for method, op in ops.items()]


def _request(method: str, path: str, op: dict) -> dict[str, Any]:
    """A valid request for the operation: its path, required query (and `bureau`), body."""
    url = path.format(**{k: v for k, v in PATH.items() if "{" + k + "}" in path})
    values = {**QUERY, **PATH_QUERY.get(path, {})}
    params = {p["name"]: values[p["name"]] for p in op.get("parameters", [])
              if p["in"] == "query" and (p.get("required")
                                         or p["name"] in ("bureau", "to", "sender"))}
    request: dict[str, Any] = {"method": method.upper(), "url": url, "params": params}
    if (method, path) in OTHER_BODIES:
        request["json"] = OTHER_BODIES[(method, path)]
    elif path.startswith("/api/sheets/") and method == "post" and "{" not in path:
        request["content"] = _sheet(*FILER_SHEET) if path.endswith("/filers") else _sheet()
        request["headers"] = {"Content-Type": "application/octet-stream"}
    elif path.endswith("/letters") and method == "post":
        request["content"] = LETTER
        request["headers"] = {"Content-Type": "application/octet-stream"}
    elif path == "/api/import":
        request["content"] = json.dumps({"type": "supervise", "proposal": P, "note": "导入督办",
                                         "at": "2020-03-01T09:00:00+08:00"}).encode()
        request["headers"] = {"Content-Type": "application/x-ndjson"}
    elif "requestBody" in op:
        command = op["x-banli-action"]
        assert command in BODIES, f"{method} {path}: give the matrix a body for {command}"
        request["json"] = BODIES[command]
    return request


def _command_type(path: str, op: dict) -> str:
    return OTHER_BODIES[("post", path)]["type"] if path == "/api/commands" else op["x-banli-action"]


def _expectation(actor: Actor | None, path: str, op: dict) -> str:
    """What the table says: `unauthenticated`, `allowed`, `refused`, or `unknown` (a read of a
    proposal by a role reaching its own bureau's, whose bureau has no duty on it, or the
    proposals it filed, not this one: the proposal is as unknown to it as one that does not
    exist; a command on it likewise, refused `unknown_proposal`)."""
    if actor is None:
        return "unauthenticated"
    action = op["x-banli-action"]
    if action in ("read:command", "read:preview"):  # what the coordinator sent or uploaded
        sender = actor_key(Actor(user="test-coordinator", role="coordinator"))
        return "allowed" if allowed(actor, action, sender=sender) else "refused"
    kind = _command_type(path, op) if action in BODIES or path == "/api/commands" else action
    if reach(actor, kind) == "filed":  # on P, the proposals it filed; elsewhere its own list
        if "{proposal_id}" not in path and path != "/api/commands":
            return "allowed"
        return "allowed" if allowed(actor, kind, filers=P_FILERS) else "unknown"
    if ("{proposal_id}" in path and action == "read:proposal" and reach(actor, action) == "own"
            and not allowed(actor, action, OWN)):
        return "unknown"
    if "{proposal_id}" in path or "bureau" in str(op.get("parameters")) or action in BODIES \
            or path == "/api/commands":
        concerned = OWN  # P is sh-ipa's; bureau parameters and bodies name sh-ipa
    else:  # the actor's own bureau's, where it reaches its own only (banli.web.deps.own_bureau)
        concerned = actor.bureau
    return "allowed" if allowed(actor, kind, concerned) else "refused"


def _call(client: httpx.Client, request: dict[str, Any]) -> tuple[int, Any]:
    with client.stream(**request) as response:  # /api/live streams: the status is enough
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, None
        response.read()
        body = response.json() if response.headers.get("content-type", "").startswith(
            "application/json") else None
        return response.status_code, body


def test_every_operation_answers_every_role_as_the_table_says(server):
    _seed(server)
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    operations = _operations(spec)
    assert len(operations) >= 45
    undeclared = [f"{m} {p}" for m, p, op in operations if "x-banli-action" not in op]
    assert not undeclared, f"routes without their row of the permission table: {undeclared}"
    wrong: list[str] = []
    checked = 0
    for method, path, op in operations:
        if path == "/api/signout":
            continue  # revokes the token it is sent with: below, with tokens of its own
        request = _request(method, path, op)
        for name, actor in PRINCIPALS:
            client = (server.client(token="not-a-token") if name == "a bad token" else
                      server.client(None) if actor is None else
                      server.client(actor.role, actor.bureau, filer=actor.filer))
            status, body = _call(client, request)
            expected = _expectation(actor, path, op)
            checked += 1
            is_command = op["x-banli-action"] in BODIES or path == "/api/commands"
            code = (body or {}).get("code") if isinstance(body, dict) else None
            if expected == "unauthenticated":
                ok = status == 401
            elif is_command and expected == "unknown":
                ok = status == 409 and code == "unknown_proposal"
            elif is_command:
                ok = (status in (201, 202) or (status == 409 and code not in PERMISSION_CODES)
                      ) if expected == "allowed" else (status == 409 and code in PERMISSION_CODES)
            elif op["x-banli-action"] in NOT_YOURS_404:
                ok = status == (200 if expected == "allowed" else 404)
            elif expected == "unknown":
                ok = status == 404 and code is None and body["detail"]["code"] == (
                    "unknown_proposal")
            else:
                ok = 200 <= status < 300 if expected == "allowed" else status == 403
            if not ok:
                wrong.append(f"{method.upper()} {path} as {name}: the table says {expected}, "
                             f"the server answered {status} {body!r:.200}")
    assert not wrong, "\n".join(wrong)
    assert checked == (len(operations) - 1) * len(PRINCIPALS)


UNKNOWN = "2020-cppcc_proposal-424242"  # never submitted


def _alike(body: Any, proposal: str) -> Any:
    """An answer with the proposal's id and the command's own id taken out."""
    text = json.dumps(body, ensure_ascii=False).replace(proposal, "{id}")
    plain = json.loads(text)
    if isinstance(plain, dict):
        plain.pop("command_id", None)
    return plain


@pytest.mark.parametrize("who", ["clerk of another bureau", "filer of another"])
def test_another_bureaus_proposal_answers_as_one_that_does_not_exist(server, who):
    """Every route taking a proposal id answers a clerk of a bureau without a duty on P, or a
    filer who did not file it, exactly as it answers an id never used: the same status and
    body, the ids aside. Nothing tells another bureau's (or filer's) proposals from ids no one
    submitted (not a 403, not a rule naming its duties, its status or its submission date)."""
    _seed(server)
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    routes = [(m, p, op) for m, p, op in _operations(spec) if "{proposal_id}" in p]
    assert len(routes) >= 20
    actor = dict(PRINCIPALS)[who]
    assert actor is not None
    clerk = server.client(actor.role, actor.bureau, filer=actor.filer)
    differ: list[str] = []
    for method, path, op in routes:
        answers = []
        for proposal in (P, UNKNOWN):
            request = _request(method, path, op)
            request["url"] = path.replace("{proposal_id}", proposal)
            if "json" in request:  # its own bureau's record, dated before P's submission
                body = json.loads(json.dumps(request["json"]).replace(OWN, OTHER))
                request["json"] = {**body, "at": "2020-01-15T09:00:00+08:00"}
            status, body = _call(clerk, request)
            answers.append((status, _alike(body, proposal)))
        if answers[0] != answers[1] or answers[0][0] < 400:
            differ.append(f"{method.upper()} {path}: {answers[0]} but {answers[1]}")
    assert not differ, "\n".join(differ)


def test_everyone_signed_in_may_sign_out_and_no_one_else(server):
    for name, actor in PRINCIPALS:
        if actor is None:
            continue
        token = token_for(server.system.settings.secret, actor.role, actor.bureau,
                          user=actor.user, filer=actor.filer)
        client = server.client(token=token)
        assert client.post("/api/signout").status_code == 200, name
        assert client.get("/api/me").status_code == 401, name  # revoked
    assert server.client(None).post("/api/signout").status_code == 401
    assert server.client(token="not-a-token").post("/api/signout").status_code == 401
