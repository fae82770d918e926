"""Refusals over real HTTP: what a role or a bureau may not do, malformed and oversized bodies,
and the regressions the fuzzing found; nothing refused is recorded."""
from __future__ import annotations

import json
import logging

import pytest

from tests.integration.http_world import P, accepted, expect, forbidden, history, malformed, refused


# --- refusals: roles and bureaus ----------------------------------------------------------------
def test_overseer_supervises_and_changes_nothing_else(world):
    n = world.server.system.log.count()
    for path, body in ((f"/api/proposals/{P}/reply", {"bureau": "sh-ipa", "result": "solved"}),
                       ("/api/bureaus", {"bureau": "new", "name": "新"}),
                       ("/api/commands", {"type": "withdraw", "proposal": P, "reason": "x"}),
                       ("/api/commands", {"type": "reassign", "proposal": P,
                                          "add_co": ["sh-fin"]})):
        body = refused(world.overseer.post(path, json=body), "forbidden")
        assert body["details"]["role"] == "overseer"
    forbidden(world.overseer.post("/api/import", content=b"{}\n",
                                  headers={"Content-Type": "application/x-ndjson"}))
    assert world.server.system.log.count() == n
    [event] = accepted(world.overseer.post(f"/api/proposals/{P}/supervise",
                                           json={"note": "请加快办理", "bureau": "sh-ipa"}),
                       "ProposalSupervised")["events"]
    assert event["actor"]["role"] == "overseer" and world.server.system.log.count() == n + 1


def test_roles_may_change_only_what_authorize_allows(world):
    refused(world.ipa.post("/api/proposals", json={
        "kind": "npc_suggestion", "year": 2020, "number": "1", "title": "t"}), "forbidden")
    refused(world.ipa.post("/api/bureaus", json={"bureau": "b", "name": "b"}), "forbidden")
    refused(world.ipa.post(f"/api/proposals/{P}/supervise", json={"note": "x"}), "forbidden")
    refused(world.ipa.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-07-01", "reason": "x"}), "forbidden")
    refused(world.coordinator.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved"}), "forbidden")
    refused(world.coordinator.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-ipa", "stage": "before", "method": "phone"}), "forbidden")
    forbidden(world.ipa.post("/api/import", content=b"{}\n",
                             headers={"Content-Type": "application/x-ndjson"}))


def test_a_clerk_acts_for_its_own_bureau_only(world):
    body = refused(world.fin.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved"}), "wrong_bureau")
    assert body["details"] == {"user": "test-clerk", "own": "sh-fin", "bureau": "sh-ipa"}
    assert "上海市地方金融监督管理局" in body["message"]  # bureaus by their names
    assert "Shanghai IP Administration" in body["message_en"]
    refused(world.edu.post("/api/commands", json={
        "type": "log_contact", "proposal": P, "bureau": "sh-ipa", "stage": "during",
        "method": "phone"}), "wrong_bureau")
    # its own bureau, but without a duty there: the proposal is unknown to it
    refused(world.fin.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-fin", "result": "solved"}), "unknown_proposal")
    refused(world.edu.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-edu", "result": "solved"}), "not_lead")
    refused(world.ipa.post(f"/api/proposals/{P}/opinion", json={"bureau": "sh-ipa"}), "not_co")
    assert len(history(world.server, P)) == 2


def test_rejections_are_stable_bilingual_answers_and_lose_nothing(world):
    before = history(world.server, P)
    r = world.ipa.post(f"/api/proposals/{P}/disclosure", json={
        "bureau": "sh-ipa", "disclosure": "full", "command_id": "disclose-too-early"})
    body = refused(r, "not_replied")
    assert body == {
        "command_id": "disclose-too-early", "accepted": False, "replayed": False,
        "code": "not_replied", "message": "上海市知识产权局 尚未答复 市政协提案 0042",
        "message_en": "Shanghai IP Administration has not replied to municipal CPPCC "
                      "proposal 0042",
        "hint": "请先答复，再办理此项", "hint_en": "reply first, then do this",
        "details": {"bureau": "sh-ipa", "proposal": P}}
    again = refused(world.ipa.post(f"/api/proposals/{P}/disclosure", json={
        "bureau": "sh-ipa", "disclosure": "full", "command_id": "disclose-too-early"}),
        "not_replied")
    assert again["replayed"] is True
    # business time never goes backwards within a proposal
    body = refused(world.ipa.post(f"/api/proposals/{P}/acknowledge", json={
        "bureau": "sh-ipa", "at": "2020-03-01T00:00:00+08:00"}), "out_of_order")
    assert "2020年3月1日" in body["message"] and "2 March 2020" in body["message_en"]
    refused(world.ipa.post("/api/proposals/unknown-1/reply", json={
        "bureau": "sh-ipa", "result": "solved"}), "unknown_proposal")
    accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved"}))
    refused(world.ipa.post(f"/api/proposals/{P}/reply", json={
        "bureau": "sh-ipa", "result": "solved"}), "already_replied")
    refused(world.ipa.post(f"/api/proposals/{P}/reopen", json={
        "bureau": "sh-ipa", "reason": "x", "reply_due": "2021-01-01"}), "not_dissatisfied")
    refused(world.coordinator.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-12-01", "reason": "x"}), "already_replied")
    assert history(world.server, P)[:len(before)] == before
    assert len(history(world.server, P)) == len(before) + 1


def test_extension_rules(world):
    refused(world.coordinator.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-06-01", "reason": "x"}), "extension_not_later")
    body = refused(world.coordinator.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-09-03", "reason": "x"}), "extension_too_long")
    assert body["details"]["limit"] == "2020-09-02"
    accepted(world.coordinator.post(f"/api/proposals/{P}/extend-deadline", json={
        "bureau": "sh-ipa", "reply_due": "2020-09-02", "reason": "x"}))
    state = expect(world.ipa.get(f"/api/proposals/{P}"), 200)
    assert state["assignments"]["sh-ipa"]["due"] == "2020-09-02"


# --- refusals: malformed bodies -----------------------------------------------------------------
MALFORMED = [
    ("unknown command type", "/api/commands", {"type": "frobnicate", "proposal": P}),
    ("no type", "/api/commands", {"proposal": P, "bureau": "sh-ipa"}),
    ("bad enum", "/api/commands", {"type": "reply", "proposal": P, "bureau": "sh-ipa",
                                   "result": "excellent"}),
    ("bad enum (route)", f"/api/proposals/{P}/reply", {"bureau": "sh-ipa", "result": "E"}),
    ("bad contact method", f"/api/proposals/{P}/contacts", {
        "bureau": "sh-ipa", "stage": "before", "method": "pigeon"}),
    ("bad date", f"/api/proposals/{P}/extend-deadline", {
        "bureau": "sh-ipa", "reply_due": "2020-02-30", "reason": "x"}),
    ("bad date (generic)", "/api/commands", {"type": "reopen", "proposal": P, "bureau": "sh-ipa",
                                             "reason": "x", "reply_due": "tomorrow"}),
    ("bad at", f"/api/proposals/{P}/acknowledge", {"bureau": "sh-ipa", "at": "yesterday"}),
    ("extra field (route)", f"/api/proposals/{P}/reply", {"bureau": "sh-ipa",
                                                          "result": "solved", "bogus": 1}),
    ("extra field (generic)", "/api/commands", {"type": "acknowledge", "proposal": P,
                                                "bureau": "sh-ipa", "bogus": 1}),
    ("proposal in a route body", f"/api/proposals/{P}/acknowledge", {"bureau": "sh-ipa",
                                                                     "proposal": P}),
    ("missing required field", f"/api/proposals/{P}/reply", {"bureau": "sh-ipa"}),
    ("missing required (generic)", "/api/commands", {"type": "reply", "proposal": P,
                                                     "bureau": "sh-ipa"}),
    ("missing title", "/api/proposals", {"kind": "npc_suggestion", "year": 2020, "number": "1"}),
    ("year out of range", "/api/proposals", {"kind": "npc_suggestion", "year": 1800,
                                             "number": "1", "title": "t"}),
    ("bad bureau id", "/api/bureaus", {"bureau": "no spaces", "name": "x"}),
    ("bad proposal id", "/api/commands", {"type": "withdraw", "proposal": "../etc",
                                          "reason": "x"}),
    ("empty command_id", f"/api/proposals/{P}/acknowledge", {"bureau": "sh-ipa",
                                                             "command_id": ""}),
    ("array instead of object", "/api/commands", [{"type": "acknowledge"}]),
    ("a string", f"/api/proposals/{P}/reply", "solved"),
    ("wrong type of list", f"/api/proposals/{P}/assign", {"lead": "sh-ipa"}),
]


@pytest.mark.parametrize("path,body", [(p, b) for _, p, b in MALFORMED],
                         ids=[label for label, _, _ in MALFORMED])
def test_malformed_bodies_are_422(world, path, body):
    n = world.server.system.log.count()
    malformed(world.admin.post(path, json=body))
    assert world.server.system.log.count() == n


def test_a_command_whose_fields_do_not_fit_together_is_422_inconsistent(world):
    """Each field is fine, together they are not: a reassignment that changes nothing."""
    n = world.server.system.log.count()
    body = expect(world.admin.post("/api/commands", json={"type": "reassign", "proposal": P}),
                  422)
    assert body["detail"]["code"] == "inconsistent"
    assert "add_lead, add_co or remove" in body["detail"]["errors"][0]["msg"]
    assert world.server.system.log.count() == n


@pytest.mark.parametrize("content,content_type", [
    (b"{not json", "application/json"),
    (b'{"type": "acknowledge", "proposal": ', "application/json"),
    (b"", "application/json"),
    (b"\xff\xfe\x00garbage", "application/json"),
    (b'{"bureau": "sh-ipa"}', "text/plain"),
])
def test_non_json_bodies_are_422(world, content, content_type):
    for path in ("/api/commands", f"/api/proposals/{P}/acknowledge", "/api/proposals"):
        r = world.admin.post(path, content=content, headers={"Content-Type": content_type})
        malformed(r)


def test_malformed_reads_are_422(world):
    base = {"bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}
    for params in ({**base, "as_of": "2020-13-01"}, {**base, "years": "20"},
                   {**base, "kind": "petition"}, {**base, "format": "pdf"},
                   {**base, "recorded_by": "noon"}, {"bureau": "sh-ipa", "years": "2020"},
                   {**base, "all": "maybe"}, {**base, "years": "1900"},
                   {**base, "as_of": "0001-01-01"}, {**base, "bureua": "sh-edu"}):
        malformed(world.admin.get("/api/report", params=params))
    for params, code in (({**base, "years": "2021-2020"}, "bad_years"),
                         ({**base, "profile": "nope"}, "bad_profile"),
                         ({"years": "2020", "as_of": "2020-11-20"}, "bad_scope"),
                         ({**base, "all": "true"}, "bad_scope")):
        body = expect(world.admin.get("/api/report", params=params), 422)
        assert body["detail"]["code"] == code


# --- refusals: oversized bodies -----------------------------------------------------------------
def too_large(response, limit: int) -> None:
    body = expect(response, 413)
    assert response.headers["content-type"] == "application/json"
    assert body["detail"]["code"] == "too_large"
    assert body["detail"]["message"] == "请求体过大"
    assert str(limit) in body["detail"]["message_en"]


def _padded_contact(size: int) -> bytes:
    body = {"bureau": "sh-ipa", "stage": "before", "method": "phone", "note": ""}
    raw = json.dumps(body).encode()
    body["note"] = "x" * (size - len(raw))
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


def _chunks(data: bytes, size: int = 512):
    for i in range(0, len(data), size):
        yield data[i:i + size]


@pytest.mark.parametrize("settings_update", [{"max_body_bytes": 2048,
                                               "max_import_bytes": 4096}])
def test_oversized_bodies_are_413_with_or_without_content_length(world):
    assert world.server.system.settings.max_body_bytes == 2048
    path = f"/api/proposals/{P}/contacts"
    n = world.server.system.log.count()
    # announced with Content-Length
    r = world.ipa.post(path, content=_padded_contact(4000),
                       headers={"Content-Type": "application/json"})
    assert "content-length" in r.request.headers
    too_large(r, 2048)
    # streamed (chunked), without Content-Length
    r = world.ipa.post(path, content=_chunks(_padded_contact(4000)),
                       headers={"Content-Type": "application/json"})
    assert "content-length" not in r.request.headers
    assert r.request.headers["transfer-encoding"] == "chunked"
    too_large(r, 2048)
    # one byte over the limit, on other routes too; the bulk import has a limit of its own
    for p, limit in ((path, 2048), ("/api/commands", 2048), ("/api/proposals", 2048),
                     ("/api/import", 4096)):
        too_large(world.admin.post(p, content=b" " * (limit + 1),
                                   headers={"Content-Type": "application/json"}), limit)
        too_large(world.admin.post(p, content=_chunks(b" " * (limit + 1), 100),
                                   headers={"Content-Type": "application/json"}), limit)
    assert world.server.system.log.count() == n
    lines = b"\n" * 2048 + json.dumps({"type": "acknowledge", "proposal": P, "bureau": "sh-ipa",
                                       "at": world.clock.now.isoformat()}).encode()
    assert 2048 < len(lines) <= 4096
    for content in (lines, _chunks(lines, 300)):
        answer = expect(world.admin.post("/api/import", content=content, headers={
            "Content-Type": "application/x-ndjson"}), 200)
        assert answer["accepted"] + answer["already_decided"] == 1, answer
    # at the limit exactly, both ways, it is taken
    accepted(world.ipa.post(path, content=_padded_contact(2048),
                            headers={"Content-Type": "application/json"}), "ContactLogged")
    accepted(world.ipa.post(path, content=_chunks(_padded_contact(2048)),
                            headers={"Content-Type": "application/json"}), "ContactLogged")
    # and the server keeps serving
    assert len(history(world.server, P)) == 5


def test_default_body_limit_is_enforced(world):
    limit = world.server.system.settings.max_body_bytes
    assert limit == 1_000_000
    too_large(world.ipa.post(f"/api/proposals/{P}/contacts", content=_padded_contact(limit + 1),
                             headers={"Content-Type": "application/json"}), limit)
    accepted(world.ipa.post(f"/api/proposals/{P}/contacts", content=_padded_contact(20_000),
                            headers={"Content-Type": "application/json"}), "ContactLogged")


# --- bugs found by the fuzzing, fixed: kept as regressions ---------------------------------------
@pytest.mark.parametrize("command", [
    {"type": "submit", "kind": "npc_suggestion", "year": 1960, "number": "1", "title": "1960",
     "at": "1960-06-01T09:00:00+08:00"},   # a year the domain allows (year >= 1949)
    {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "2", "title": "t",
     "at": "0070-01-01T00:00:00Z"},
    {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "3", "title": "t",
     "at": "2300-01-01T00:00:00Z"},
    {"type": "reopen", "proposal": P, "bureau": "sh-ipa", "reason": "x",
     "reply_due": "2200-01-01"},
    {"type": "submit", "kind": "npc_suggestion", "year": 2020, "number": "4", "title": "t",
     "at": -5_000_000_000},   # a Unix time (1811) is a valid `at` too
], ids=["at-1960", "at-0070", "at-2300", "due-2200", "at-unix-1811"])
def test_dates_the_projections_cannot_hold_do_not_stop_them(world, command):
    if command["type"] == "reopen":
        accepted(world.ipa.post(f"/api/proposals/{P}/reply", json={
            "bureau": "sh-ipa", "result": "solved"}))
        accepted(world.coordinator.post(f"/api/proposals/{P}/feedback", json={
            "bureau": "sh-ipa", "satisfaction": "dissatisfied"}))
    r = world.admin.post("/api/commands", json=command)
    assert r.status_code in (201, 409, 422), r.text   # refused, or taken and projected
    accepted(world.admin.post("/api/bureaus", json={"bureau": "after", "name": "之后"}))
    system = world.server.system
    system.settle(3)
    status = expect(world.admin.get("/api/status"), 200)
    assert status["projector_error"] is None and status["lag"] == 0, status


def test_a_body_that_is_not_utf8_is_malformed(world):
    r = world.admin.post("/api/commands", content=b'{"type": "withdraw", "proposal": "p", '
                         b'"reason": "\xff"}', headers={"Content-Type": "application/json"})
    malformed(r)


def test_an_audit_time_out_of_range_is_not_a_server_error(world, monkeypatch):
    # uvicorn logs a 500's traceback in its thread after answering; on CPython 3.11 that can
    # race pytest's own traceback formatting (ast.parse is not thread-safe there)
    monkeypatch.setattr(logging.getLogger("uvicorn.error"), "disabled", True)
    r = world.admin.get("/api/report", params={"bureau": "sh-ipa", "years": "2020",
                                               "as_of": "2020-11-20",
                                               "recorded_by": "0999-01-01T00:00:00Z"})
    assert r.status_code in (200, 422), r.text
