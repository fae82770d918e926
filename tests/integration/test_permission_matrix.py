"""Every operation of the served OpenAPI, with every role (and a clerk of the bureau concerned
and one of another bureau, and no token or a bad one), over real HTTP, each answer held to the
permission table (banli.domain.permissions).

Each route names its row of the table in the OpenAPI (`x-banli-action`: an action, or a command
type); the expectation comes from the table, the answer from the server, so a route that checks
something else than it declares, or forgets to check, fails here. The requests are valid, so
that nothing but the permission decides: where the table allows, a read answers 2xx and a
command is not refused for the sender's role or bureau (the rules may still refuse it, 409 with
their own code); where it does not, a read answers 403 (someone else's command outcome or
spreadsheet preview: 404, as unknown) and a command 409 `forbidden` or `wrong_bureau`, recorded in the log."""
from __future__ import annotations

import json
from typing import Any

from io import BytesIO

import httpx
import openpyxl

from banli.domain.commands import actor_key
from banli.domain.permissions import ROLES, allowed
from banli.domain.types import Actor
from tests.conftest import ROOT, token_for

P = "2020-cppcc_proposal-7"
OWN, OTHER = "sh-ipa", "sh-hrss"  # P is sh-ipa's (lead); sh-hrss has no duty on it
SEED_COMMAND = "matrix-seed"      # a command the coordinator sent

# A valid body for each command route (the route fills in the type, the actor and the path's
# proposal). Bureau-scoped commands name the bureau concerned.
BODIES: dict[str, dict[str, Any]] = {
    "register_bureau": {"bureau": "sh-new", "name": "新局"},
    "submit": {"kind": "npc_suggestion", "year": 2020, "number": "99", "title": "新建议"},
    "assign": {"lead": [OWN]},
    "acknowledge": {"bureau": OWN},
    "return": {"bureau": OWN, "reason": "不属于本单位职责"},
    "log_contact": {"bureau": OWN, "stage": "before", "method": "phone"},
    "submit_opinion": {"bureau": OWN},
    "reply": {"bureau": OWN, "result": "solved"},
    "decide_disclosure": {"bureau": OWN, "disclosure": "full"},
    "record_feedback": {"bureau": OWN, "satisfaction": "satisfied"},
    "reopen": {"bureau": OWN, "reason": "再办", "reply_due": "2020-12-31"},
    "revise_result": {"bureau": OWN, "result": "planned"},
    "extend_deadline": {"bureau": OWN, "reply_due": "2020-12-31", "reason": "情况复杂"},
    "supervise": {"note": "请加快办理"},
    "draft_reply": {"bureau": OWN, "result": "solved"},
    "sign_off_reply": {"bureau": OWN, "lead": OWN},
    "regrade_reply": {"bureau": OWN, "result": "planned", "reason": "重新评定"},
    "approve_reply": {"bureau": OWN, "signed_by": "局长"},
}
QUERY = {"years": "2020", "year": "2020", "as_of": "2020-12-31", "bureau": OWN, "measure": "replied",
         "to": "adopt_planned",
         # whose command is asked for: the coordinator's (command ids are scoped to their sender)
         "sender": actor_key(Actor(user="test-coordinator", role="coordinator"))}
PATH = {"proposal_id": P, "bureau": OWN, "command_id": SEED_COMMAND}  # + the seeded preview
OTHER_BODIES: dict[tuple[str, str], Any] = {
    ("post", "/api/commands"): {"type": "supervise", "proposal": P, "note": "督办"},
    ("post", "/api/routing/suggest"): {"title": "知识产权保护"},
    ("post", "/api/admin/calendar"): json.loads(
        (ROOT / "deploy/calendar/notice-2027.example.json").read_text(encoding="utf-8")),
}
PERMISSION_CODES = {"forbidden", "wrong_bureau"}

PRINCIPALS: list[tuple[str, Actor | None]] = [
    *[(role, Actor(user=f"test-{role}", role=role)) for role in ROLES if role != "clerk"],
    ("clerk of the bureau", Actor(user="test-clerk", role="clerk", bureau=OWN)),
    ("clerk of another bureau", Actor(user="test-clerk", role="clerk", bureau=OTHER)),
    ("no token", None),
    ("a bad token", None),
]


def _sheet() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["提案号", "案由", "主办单位", "办理结果"])
    book.active.append(["8", "关于数据开放的提案", "上海市知识产权局", "A"])
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def _seed(server) -> None:
    admin = server.client("admin")
    for bureau, name in ((OWN, "上海市知识产权局"), (OTHER, "上海市人力资源和社会保障局")):
        assert admin.post("/api/bureaus", json={"bureau": bureau, "name": name}).status_code == 201
    assert admin.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "7", "title": "关于知识产权保护的提案",
        "at": "2020-02-01T09:00:00+08:00"}).status_code == 201
    assert server.client("coordinator").post(f"/api/proposals/{P}/assign", json={
        "lead": [OWN], "at": "2020-02-03T09:00:00+08:00",
        "command_id": SEED_COMMAND}).status_code == 201
    preview = server.client("coordinator").post(  # a preview the coordinator uploaded
        "/api/sheets/assignments", content=_sheet(), params={"year": 2020},
        headers={"Content-Type": "application/octet-stream"})
    assert preview.status_code == 200, preview.text
    PATH["preview_id"] = preview.json()["preview_id"]


def _operations(spec: dict) -> list[tuple[str, str, dict]]:
    return [(method, path, op) for path, ops in spec["paths"].items()
            for method, op in ops.items()]


def _request(method: str, path: str, op: dict) -> dict[str, Any]:
    """A valid request for the operation: its path, required query (and `bureau`), body."""
    url = path.format(**{k: v for k, v in PATH.items() if "{" + k + "}" in path})
    params = {p["name"]: QUERY[p["name"]] for p in op.get("parameters", [])
              if p["in"] == "query" and (p.get("required")
                                         or p["name"] in ("bureau", "to", "sender"))}
    request: dict[str, Any] = {"method": method.upper(), "url": url, "params": params}
    if (method, path) in OTHER_BODIES:
        request["json"] = OTHER_BODIES[(method, path)]
    elif path.startswith("/api/sheets/") and method == "post" and "{" not in path:
        request["content"] = _sheet()
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
    """What the table says: `unauthenticated`, `allowed` or `refused`."""
    if actor is None:
        return "unauthenticated"
    action = op["x-banli-action"]
    if action in ("read:command", "read:preview"):  # what the coordinator sent or uploaded
        sender = actor_key(Actor(user="test-coordinator", role="coordinator"))
        return "allowed" if allowed(actor, action, sender=sender) else "refused"
    if "{proposal_id}" in path or "bureau" in str(op.get("parameters")) or action in BODIES \
            or path == "/api/commands":
        concerned = OWN  # P is sh-ipa's; bureau parameters and bodies name sh-ipa
    else:  # the actor's own bureau's, where it reaches its own only (banli.web.deps.own_bureau)
        concerned = actor.bureau
    kind = _command_type(path, op) if action in BODIES or path == "/api/commands" else action
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
                      server.client(actor.role, actor.bureau))
            status, body = _call(client, request)
            expected = _expectation(actor, path, op)
            checked += 1
            is_command = op["x-banli-action"] in BODIES or path == "/api/commands"
            code = (body or {}).get("code") if isinstance(body, dict) else None
            if expected == "unauthenticated":
                ok = status == 401
            elif is_command:
                ok = (status in (201, 202) or (status == 409 and code not in PERMISSION_CODES)
                      ) if expected == "allowed" else (status == 409 and code in PERMISSION_CODES)
            elif op["x-banli-action"] in ("read:command", "read:preview"):
                ok = status == (200 if expected == "allowed" else 404)
            else:
                ok = 200 <= status < 300 if expected == "allowed" else status == 403
            if not ok:
                wrong.append(f"{method.upper()} {path} as {name}: the table says {expected}, "
                             f"the server answered {status} {body!r:.200}")
    assert not wrong, "\n".join(wrong)
    assert checked == (len(operations) - 1) * len(PRINCIPALS)


def test_everyone_signed_in_may_sign_out_and_no_one_else(server):
    for name, actor in PRINCIPALS:
        if actor is None:
            continue
        token = token_for(server.system.settings.secret, actor.role, actor.bureau)
        client = server.client(token=token)
        assert client.post("/api/signout").status_code == 200, name
        assert client.get("/api/me").status_code == 401, name  # revoked
    assert server.client(None).post("/api/signout").status_code == 401
    assert server.client(token="not-a-token").post("/api/signout").status_code == 401
