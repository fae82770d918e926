"""GET /api/vocabulary over real HTTP: every command of the registry as a form for the signed-in
user (who fills each field, labels, choices, limits, `may_send`), the dates that user may give,
every event with its words; described by the OpenAPI document; and enough to send a command
from the description alone, within the dates it gives."""
from __future__ import annotations

from datetime import date

import httpx
import pytest

from banli.domain.permissions import STAFF, reach
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.lists import LISTS
from banli.domain.views.rates import ITEM_MEASURES, MEASURES, RATE_MEASURES, RATES
from banli.domain.registry import COMMAND_TYPES, EVENT_TYPES
from banli.domain.types import FILER_KINDS, Actor

P = "2020-cppcc_proposal-9"
TODAY = date(2020, 11, 20)  # the fixed clock's business date (tests/conftest.py)


@pytest.fixture
def settings(settings):
    return settings.model_copy(update={"clerk_backdate_days": 30})  # the default's limit


def _vocabulary(server, role: str, bureau: str | None = None) -> dict:
    answer = server.client(role, bureau, filer="f-1" if role == "filer" else None).get(
        "/api/vocabulary")
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_every_command_is_a_form_for_each_role_with_what_it_may_send(server):
    for role in STAFF:  # a filer reads no vocabulary until the workbench gives filers their rows
        bureau = "sh-ipa" if role == "clerk" else None
        found = _vocabulary(server, role, bureau)
        assert [c["type"] for c in found["commands"]] == list(COMMAND_TYPES)
        actor = Actor(user=f"test-{role}", role=role, bureau=bureau)
        assert {c["type"] for c in found["commands"] if c["may_send"]} == {
            t for t in COMMAND_TYPES if reach(actor, t) is not None}, role
        assert found["today"] == TODAY.isoformat()
        assert found["earliest"] == {"clerk": "2020-10-21", "filer": "2020-11-20"}.get(role), role
        assert {e["type"] for e in found["events"]} == set(EVENT_TYPES)


def test_a_form_says_who_fills_each_field_for_the_signed_in_user(server):
    clerk = {c["type"]: c for c in _vocabulary(server, "clerk", "sh-ipa")["commands"]}
    fields = {f["name"]: f for f in clerk["log_contact"]["fields"]}
    assert clerk["log_contact"]["route"] == "/proposals/{proposal_id}/contacts"
    assert (clerk["log_contact"]["title"], clerk["log_contact"]["title_en"]) == (
        "沟通", "log a contact")
    assert {n: f["source"] for n, f in fields.items()} == {
        "type": "fixed", "proposal": "item", "bureau": "own_bureau", "stage": "user",
        "method": "user", "note": "user", "command_id": "page", "at": "user", "actor": "server",
        "recorded_by": "server"}
    assert fields["bureau"]["default"] == "sh-ipa"
    assert [(c["value"], c["label"], c["label_en"]) for c in fields["stage"]["choices"]] == [
        ("before", "办前", "before handling"), ("during", "办中", "during handling"),
        ("after", "办后", "after the reply")]
    assert fields["stage"]["required"] and not fields["note"]["required"]
    assert fields["note"]["input"] == "long_text" and fields["note"]["max_length"] == 20_000
    coordinator = {c["type"]: c for c in _vocabulary(server, "coordinator")["commands"]}
    sources = {f["name"]: f["source"] for f in coordinator["log_contact"]["fields"]}
    assert sources["bureau"] == "user"
    assert not coordinator["log_contact"]["may_send"] and coordinator["assign"]["may_send"]


def test_events_and_choices_have_their_words(server):
    found = _vocabulary(server, "overseer")
    events = {e["type"]: e for e in found["events"]}
    assert (events["ReplyIssued"]["title"], events["ReplyIssued"]["title_en"]) == (
        "答复", "reply issued")
    fields = {f["name"]: f for f in events["ReplyIssued"]["fields"]}
    assert fields["result"]["choice_set"] == "result" and fields["signed_by"]["label"] == "签发人"
    duties = {f["name"]: f for f in events["ProposalAssigned"]["fields"]}["duties"]
    assert [f["name"] for f in duties["fields"]] == ["bureau", "role", "due"]
    assert not events["ReplyApproved"]["changes_state"]
    assert {f["name"] for f in found["envelope"]} >= {"occurred_at", "recorded_at", "actor"}
    choices = {s["name"]: s["choices"] for s in found["choices"]}
    assert choices["satisfaction"][0] == {"value": "satisfied", "label": "满意",
                                          "label_en": "satisfied"}
    assert {"kind", "level", "role", "result", "disclosure", "channel", "contact_stage",
            "contact_method", "actor_role"} <= set(choices)
    assert [r["name"] for r in found["rates"]] == [rate.name for rate in RATES]


def test_the_openapi_document_describes_the_answer(server):
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    answer = spec["paths"]["/api/vocabulary"]["get"]["responses"]["200"]
    assert answer["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Vocabulary"}
    schemas = spec["components"]["schemas"]
    assert set(schemas["Vocabulary"]["properties"]) == {
        "today", "earliest", "commands", "events", "envelope", "choices", "rates", "measures",
        "lists"}
    field = schemas["FormField"]["properties"]
    assert set(field["input"]["anyOf"][0]["enum"]) >= {
        "text", "long_text", "date", "datetime", "select", "bureau", "bureaus", "boolean",
        "number"}
    assert set(field["source"]["enum"]) == {"user", "fixed", "page", "server", "item",
                                            "own_bureau"}
    assert schemas["CommandEntry"]["properties"]["fields"]["items"] == {
        "$ref": "#/components/schemas/FormField"}


def test_the_words_of_every_number_list_and_value_a_list_shows(server):
    """The page names numbers, lists' columns and values in the server's words only: every
    number of the report and rate has its words, every list its columns in order (as its
    spreadsheet has them), every value a list shows in words (what is owed, a reminder's
    colour, how a record was entered, a profile) is a choice with its words."""
    found = _vocabulary(server, "overseer")
    measures = {m["name"]: (m["label"], m["label_en"]) for m in found["measures"]}
    assert set(measures) == {*MEASURES, *ITEM_MEASURES, *RATE_MEASURES}
    assert all(zh and en and zh != en for zh, en in measures.values())
    assert measures["adoption"] == ("解决采纳率", "Adoption rate")
    lists = {entry["name"]: entry["columns"] for entry in found["lists"]}
    assert {name: [c["key"] for c in columns] for name, columns in lists.items()} == {
        name: [c.key for c in columns] for name, columns in LISTS.items()}
    choices = {c["name"]: {x["value"]: x["label"] for x in c["choices"]}
               for c in found["choices"]}
    for column in (c for columns in lists.values() for c in columns if c["kind"] == "choice"):
        assert column["choice"] in choices, column
    assert choices["owed"]["re-reply"] == "重新答复"
    assert choices["entry"] == {"late": "逾期补录", "imported": "批量导入", "on_time": "按时录入"}
    assert set(choices["profile"]) == set(PROFILES)


def _body(form: dict, proposal: str, command_id: str, chosen: dict) -> dict:
    """A body built from the form's description alone, as the page builds it: the fields the
    page fills, then what the user chose."""
    body = {"type": form["type"], "command_id": command_id}
    for field in form["fields"]:
        if field["source"] == "item":
            body[field["name"]] = proposal
        elif field["source"] == "own_bureau":
            body[field["name"]] = field["default"]
        elif field["required"] and field["source"] == "user":
            body[field["name"]] = field["choices"][0]["value"] if field["choices"] else "示例"
    return {**body, **chosen}


def test_a_form_filled_as_described_is_sent_within_the_dates_it_gives(server):
    coordinator = server.client("coordinator")
    assert server.client("admin").post("/api/bureaus", json={
        "bureau": "sh-ipa", "name": "上海市知识产权局"}).status_code == 201
    assert coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "9", "title": "关于专利转化的提案",
        "at": "2020-10-01T09:00:00+08:00"}).status_code == 201
    assert coordinator.post(f"/api/proposals/{P}/assign", json={
        "lead": ["sh-ipa"], "at": "2020-10-02T09:00:00+08:00"}).status_code == 201
    clerk = server.client("clerk", "sh-ipa")
    found = clerk.get("/api/vocabulary").json()
    form = next(c for c in found["commands"] if c["type"] == "log_contact")
    earliest = date.fromisoformat(found["earliest"])
    before = _body(form, P, "form-1",
                   {"at": f"{date.fromordinal(earliest.toordinal() - 1)}T09:00:00"})
    refused = clerk.post("/api/commands", json=before)
    assert refused.status_code == 409 and refused.json()["code"] == "backdated_too_far"
    on_time = {"at": f"{earliest}T09:00:00"}
    sent = clerk.post("/api/commands", json=_body(form, P, "form-2", on_time))
    assert sent.status_code == 201, sent.text
    event = sent.json()["events"][0]
    assert (event["type"], event["bureau"], event["stage"]) == ("ContactLogged", "sh-ipa",
                                                                "before")
    again = clerk.post("/api/commands", json=_body(form, P, "form-2", on_time))
    assert again.json()["replayed"]  # the same form's id: one command


def test_a_filer_may_send_their_feedback_and_the_filer_forms_ask_for_names_and_ids(server):
    filer = {c["type"]: c for c in _vocabulary(server, "filer")["commands"]}
    # their rating of a reply, and their proposal resubmitted after the office returned it
    assert [t for t, c in filer.items() if c["may_send"]] == ["record_feedback", "resubmit"]
    feedback = {f["name"]: f for f in filer["record_feedback"]["fields"]}
    assert feedback["bureau"]["source"] == "user"  # the lead whose reply they rate
    coordinator = {c["type"]: c for c in _vocabulary(server, "coordinator")["commands"]}
    filers = {f["name"]: f for f in coordinator["submit"]["fields"]}["filers"]
    assert (filers["input"], filers["item_field"]) == ("texts", "name")  # an id is optional
    links = {f["name"]: f for f in coordinator["link_filers"]["fields"]}["filers"]
    assert (links["input"], links["item_field"], links["min_items"]) == ("texts", "id", 1)
    register = {f["name"]: f for f in coordinator["register_filer"]["fields"]}
    # a person, or a collective (the office's review counts collective proposals)
    assert [c["value"] for c in register["kind"]["choices"]] == list(FILER_KINDS)
    assert register["kind"]["choices"][0] == {"value": "person", "label": "代表委员个人",
                                              "label_en": "a deputy or member"}
    assert coordinator["register_filer"]["route"] == "/filers"
    choices = {s["name"] for s in _vocabulary(server, "filer")["choices"]}
    assert {"filed_status", "duty_progress", "filer_kind"} <= choices
