"""The OpenAPI describes what the routes answer: every object in a response has its properties
declared (issue 20 §6), save the few that are open by nature, each named here with why. A row
typed `dict[str, Any]` again would publish an object the document says nothing of."""
from __future__ import annotations

from typing import Any

import pytest

from banli.domain.views.duty_row import ITEM_FIELDS
from banli.sheets.preview import Preview, RowResult
from services.reporting.http import schemas as out
from services.reporting.http.sheets_api import PreviewBody, SheetRow
from tests.conftest import SECRET

# Open on purpose: an object whose keys depend on something else, which its description says.
OPEN = {
    "HistoryEvent.data": "an event's own fields: its type's schema in the event registry",
    "Refused.details": "a refusal's details: free-form ids and dates, per rule",
    "Rejection.details": "the same, for a sheet row's refusals",
    "SheetRow.commands[]": "a command as POST /api/commands takes it, per type",
}


def _open_objects(schema: Any, path: str) -> list[str]:
    """Where `schema` has an object with no properties whose values may be anything."""
    found = []
    if isinstance(schema, dict):
        if (schema.get("type") == "object" and "properties" not in schema
                and schema.get("additionalProperties", True) in (True, {})):
            found.append(path)
        for key, value in schema.items():
            step = {"properties": "", "items": "[]", "anyOf": "", "allOf": ""}.get(key, None)
            if key == "properties" and isinstance(value, dict):
                for name, field in value.items():
                    found += _open_objects(field, f"{path}.{name}")
            elif step is not None:
                found += _open_objects(value, path + step)
            elif key in ("additionalProperties", "prefixItems", "oneOf"):
                found += _open_objects(value, path + "{}")
    elif isinstance(schema, list):
        for item in schema:
            found += _open_objects(item, path)
    return found


@pytest.fixture(scope="module")
def openapi(tmp_path_factory, chdb_dsn) -> dict[str, Any]:
    from apps.embedded import EmbeddedSystem, create_app
    from banli.settings import Settings

    # chDB opens one engine per process: the session's (the suite's other tests share it)
    settings = Settings(data_dir=tmp_path_factory.mktemp("openapi"), secret=SECRET,
                        clickhouse_dsn=chdb_dsn, clickhouse_database="openapi_rows")
    return create_app(EmbeddedSystem(settings)).openapi()


def test_every_object_a_route_answers_declares_its_properties(openapi):
    components = openapi["components"]["schemas"]
    loose = [where for name, schema in components.items()
             for where in _open_objects(schema, name.removesuffix("-Output"))]
    for route, item in openapi["paths"].items():
        for method, operation in item.items():
            for code, response in operation.get("responses", {}).items():
                body = response.get("content", {}).get("application/json", {}).get("schema")
                if code.startswith("2") and body is not None:
                    loose += _open_objects(body, f"{method.upper()} {route}")
    assert sorted(set(loose) - set(OPEN)) == [], "objects the OpenAPI does not describe"
    for where in OPEN:  # an open one says why, in its description
        model, field = where.rstrip("[]").split(".")
        described = components[model]["properties"][field].get("description", "")
        assert "open" in described, (where, described)


def test_the_items_behind_a_number_are_the_duty_rows_declaration():
    """One declaration: the items' model follows views.duty_row's ITEM_FIELDS, its types the
    fields' kinds of value."""
    assert list(out.DutyItem.model_fields) == list(ITEM_FIELDS)
    fields = out.ReportItem.model_fields
    assert set(ITEM_FIELDS) <= set(fields)
    assert fields["due"].annotation is out.VALUE_TYPES["day"]


def test_the_previews_answer_has_the_previews_fields():
    assert set(PreviewBody.model_fields) == set(Preview.__annotations__)
    assert set(SheetRow.model_fields) == set(RowResult.__annotations__)


def test_a_key_given_only_where_it_applies_is_not_sent_as_null():
    work = out.WorkItem.model_validate({
        "proposal_id": "p", "kind": "cppcc_proposal", "level": "municipal", "year": 2020,
        "number": "7", "title": "t", "display": "d", "display_en": "d", "key_item": False,
        "bureau": "b", "role": "co", "owed": "sign_off", "due": "2020-05-01",
        "working_days_left": 3, "days_left": 5, "colour": "yellow", "provisional": False,
        "commands": ["sign_off_reply"], "lead": "a"})
    dumped = work.model_dump(mode="json")
    assert dumped["lead"] == "a" and "waiting_for" not in dumped
    assert "extension_requested" not in dumped and dumped["due"] == "2020-05-01"
