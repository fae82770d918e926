"""Schemathesis over the app's own OpenAPI, fetched from the embedded app served over real HTTP
by uvicorn, with every one of its checks: no 5xx; every status, content type, header and body
as the OpenAPI documents them; schema-violating requests refused; the Allow header; auth not
ignored; and nothing accepted stops the projections.

Two checks are adapted, each for what a schema cannot say:
- schema-valid requests must be taken (`positive_data_acceptance`), or refused for the reasons
  JSON Schema cannot express, each with its own documented code (exactly one of `bureau` and
  `all`, a range's order, a notice's days, an empty routing query, fields that do not fit
  together, `inconsistent`, a file that is no spreadsheet or no reply letter): never as `malformed`,
  which would mean the schema promised what the validation refuses;
- `/api/import` takes a JSON Lines body: any text, so no body violates its schema; a line that
  is not a command is reported with its number (test_hostile_input.py).

The schema comes from the live server (`schemathesis.pytest.from_fixture`), so the fuzzed
operations are exactly the served ones, whatever routers the composition root includes; each
operation runs as a subtest, signed in as an admin, with bounded examples."""
from __future__ import annotations

import pytest

schemathesis = pytest.importorskip("schemathesis", minversion="4.0")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    negative_data_rejection, positive_data_acceptance)

from banli.auth import issue_token  # noqa: E402
from banli.domain.types import Actor  # noqa: E402

def _reach_the_report(case) -> None:
    """`/api/report` wants exactly one of `bureau` and `all=true`, which a schema cannot say:
    without this nearly every generated report request stops at that check (422)."""
    if case.path in ("/api/report", "/api/report/document") and isinstance(case.query, dict):
        if case.query.get("bureau") is not None:
            case.query.pop("all", None)
        else:
            case.query["all"] = "true"


@schemathesis.serializer("application/x-ndjson")
def _ndjson(ctx, value):
    """`/api/import` takes a JSON Lines body: send the generated text as it is."""
    if isinstance(value, bytes):
        return value
    return str(value).encode("utf-8", "surrogatepass")


def _seed(client) -> None:
    """A little state, so that fuzzed commands meet bureaus and an assigned proposal."""
    for bureau, name in (("sh-ipa", "上海市知识产权局"), ("sh-edu", "上海市教育委员会")):
        assert client.post("/api/bureaus", json={"bureau": bureau, "name": name}).status_code == 201
    assert client.post("/api/proposals", json={
        "proposal": "p1", "kind": "cppcc_proposal", "year": 2020, "number": "1",
        "title": "提案", "at": "2020-02-01T09:00:00+08:00"}).status_code == 201
    assert client.post("/api/proposals/p1/assign", json={
        "lead": ["sh-ipa"], "co": ["sh-edu"], "at": "2020-02-02T09:00:00+08:00"}).status_code == 201


@pytest.fixture
def target(server):
    """The live server, seeded; its URL, an admin's bearer token and the system. Afterwards the
    projections must have caught up with everything the fuzzing got accepted."""
    _seed(server.client("admin"))
    token = issue_token(server.system.settings.secret, Actor(user="fuzzer", role="admin"), 3600)
    yield server.url, {"Authorization": f"Bearer {token}"}, server.system
    assert server.system.settle(30), server.system.status()
    status = server.system.status()
    assert status["projector_error"] is None and status["lag"] == 0, status


@pytest.fixture
def api_schema(request, target):
    base_url = target[0]
    # schemathesis 4.32's lazy loader reads and renames `node._nodeid`, which pytest 9.2 no
    # longer has (it keeps `_id`): give it one.
    if not hasattr(request.node, "_nodeid"):
        request.node._nodeid = request.node.nodeid
    schema = schemathesis.openapi.from_url(f"{base_url}/openapi.json", timeout=30)
    assert len(schema) >= 15  # the operations: every route of the API
    return schema


# Refusals of schema-valid requests for what the schema cannot say, by their codes.
SEMANTIC_CODES = {"bad_scope", "bad_years", "bad_term", "bad_flips", "bad_notice",
                  "nothing_to_route", "inconsistent",
                  # an area the years do not have (their areas are configuration: BANLI_AREAS)
                  "bad_measure",
                  # an upload that is no spreadsheet Banli can read (banli.sheets.SheetError)
                  "empty_sheet", "unreadable", "no_sheet", "no_header", "missing_columns",
                  "bad_mapping", "bad_option",
                  # an upload that is no reply letter, by its content (banli.blobs.letters)
                  "empty_letter", "letter_type"}


@schemathesis.check
def valid_data_taken_or_refused_for_a_stated_reason(ctx, response, case):
    """`positive_data_acceptance`, save the refusals the schema cannot express."""
    if case.meta is None or not case.meta.generation.mode.is_positive:
        return None
    if response.status_code in (415, 422):
        code = (response.json().get("detail") or {}).get("code")
        if code in SEMANTIC_CODES:
            return None
        raise AssertionError(f"schema-valid data refused as {code!r}: {response.text[:300]}")
    return positive_data_acceptance(ctx, response, case)


# The live feed is an endless event stream (tested in test_oversight_api.py), not a request with
# an answer.
schema = schemathesis.pytest.from_fixture("api_schema").exclude(path="/api/live")
BROKEN_BY: list[str] = []


@pytest.mark.slow
@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_operation_answers_5xx(case, target):
    base_url, headers, system = target
    _reach_the_report(case)
    excluded = [positive_data_acceptance]
    if case.path == "/api/import":
        excluded.append(negative_data_rejection)
    case.call_and_validate(base_url=base_url, headers=headers, timeout=30,
                           excluded_checks=excluded,
                           additional_checks=[valid_data_taken_or_refused_for_a_stated_reason])
    if system.projector.error is not None and not BROKEN_BY:
        BROKEN_BY.append(case.as_curl_command(headers))  # the first (Hypothesis then shrinks)
    assert system.projector.error is None, (
        f"the projector stopped: {system.projector.error!r}; first seen after\n{BROKEN_BY[0]}")
