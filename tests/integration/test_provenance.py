"""Every record keeps its true sender: an import line naming a clerk records the clerk's act and
the importer who entered it (over HTTP and in `banli import`), a line naming an admin or an
overseer is refused on its own with its reason, the body of a command never says who entered
it, and the reports count what the importer brought in as imported, not as the bureau's own."""
from __future__ import annotations

import json
import re
from datetime import date
from io import BytesIO

import openpyxl

from apps.cli import main
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope
from banli.eventlog.sqlite import SqliteEventStore
from banli.settings import Settings

HAN = re.compile(r"[\u4e00-\u9fff]")
P = "2020-cppcc_proposal-8"
CLERK = {"user": "wang@sh-ipa", "bureau": "sh-ipa", "role": "clerk"}
IMPORTER = {"user": "test-importer", "bureau": None, "role": "importer"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def at(day: str) -> str:
    return f"{day}T10:00:00+08:00"


def lines(*commands: dict) -> bytes:
    return "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in commands).encode()


HISTORY = [
    {"type": "register_bureau", "bureau": "sh-ipa", "name": "上海市知识产权局", "at": at("2020-01-02")},
    {"type": "submit", "kind": "cppcc_proposal", "year": 2020, "number": "8",
     "title": "关于知识产权质押融资的提案", "at": at("2020-01-10")},
    {"type": "assign", "proposal": P, "lead": ["sh-ipa"], "at": at("2020-02-01")},
    # the clerk's acts, as the old system kept them; the importer brings them in
    {"type": "reply", "proposal": P, "bureau": "sh-ipa", "result": "solved",
     "at": at("2020-04-01"), "actor": CLERK, "command_id": "old-reply-8"},
    {"type": "record_feedback", "proposal": P, "bureau": "sh-ipa", "satisfaction": "satisfied",
     "at": at("2020-05-01"), "actor": CLERK, "command_id": "old-feedback-8"},
]


def expect(response, status: int) -> dict:
    assert response.status_code == status, f"{response.status_code}: {response.text}"
    return response.json()


def history(client, proposal: str = P) -> list[dict]:
    return expect(client.get(f"/api/proposals/{proposal}/history"), 200)["events"]


def test_an_import_naming_a_clerk_records_the_clerk_and_the_importer(server):
    importer = server.client("importer")
    result = expect(importer.post("/api/import", content=lines(*HISTORY), headers=NDJSON), 200)
    assert (result["accepted"], result["problems"]) == (len(HISTORY), [])
    events = history(server.client("admin"))
    submitted, _, replied, feedback = events
    assert replied["actor"] == feedback["actor"] == CLERK
    assert replied["recorded_by"] == feedback["recorded_by"] == IMPORTER
    assert "recorded_by" not in replied["data"]
    # a line without an actor is the importer's own act: nobody else entered it
    assert submitted["actor"] == IMPORTER and submitted["recorded_by"] is None
    # the command is the importer's: its outcome is theirs to read, not the clerk's
    expect(importer.get("/api/commands/old-reply-8"), 200)
    assert server.client("clerk", "sh-ipa").get("/api/commands/old-reply-8").status_code == 404
    # the clerk sees the record of its bureau's act, not the importer's command id
    seen = {e["type"]: e for e in history(server.client("clerk", "sh-ipa"))}
    assert seen["ReplyIssued"]["recorded_by"] == IMPORTER
    assert seen["ReplyIssued"]["command_id"] is None
    # importing the file again decides nothing twice
    again = expect(importer.post("/api/import", content=lines(*HISTORY), headers=NDJSON), 200)
    assert (again["accepted"], again["already_decided"]) == (0, len(HISTORY))

    assert server.system.settle(30)
    report = server.system.reporting.report(
        Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20)),
        PROFILES["default"])
    assert report.entries is not None
    assert (report.entries.records, report.entries.imported) == (2, 2)
    # the bureau did not type the satisfaction in: the importer did
    assert report.feedback_recorders == {"filer": 0, "office": 1, "bureau": 0}
    assert report.feedback_by_self == 0
    listed = expect(server.client("admin").get("/api/entries", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20", "which": "imported"}), 200)
    assert {e["type"]: (e["actor"]["user"], e["recorded_by"]) for e in listed["items"]} == {
        "ReplyIssued": (CLERK["user"], {"user": "test-importer", "role": "importer"}),
        "FeedbackRecorded": (CLERK["user"], {"user": "test-importer", "role": "importer"})}
    # and its download says whose act each was and who typed it in
    sheet = server.client("admin").get("/api/entries", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20", "which": "imported",
        "format": "xlsx"})
    assert sheet.status_code == 200
    rows = list(openpyxl.load_workbook(BytesIO(sheet.content)).worksheets[-1].values)
    header = rows.index(next(row for row in rows if "录入人" in row))
    acted, entered = rows[header].index("操作人"), rows[header].index("录入人")
    assert {(row[acted], row[entered]) for row in rows[header + 1:] if row[acted]} == {
        (CLERK["user"], "test-importer")}


def test_the_clerks_own_records_are_the_bureaus_own(server):
    """The same acts typed in by the clerk: no recorder, the bureau's own entries."""
    importer = server.client("importer")
    expect(importer.post("/api/import", content=lines(*HISTORY[:3]), headers=NDJSON), 200)
    clerk = server.client("clerk", "sh-ipa")
    for path, body in ((f"/api/proposals/{P}/reply", {"bureau": "sh-ipa", "result": "solved",
                                                       "at": at("2020-04-01")}),
                       (f"/api/proposals/{P}/feedback", {"bureau": "sh-ipa",
                                                          "satisfaction": "satisfied",
                                                          "at": at("2020-05-01")})):
        expect(clerk.post(path, json=body), 201)
    replied = history(server.client("admin"))[2]
    assert replied["actor"]["user"] == "test-clerk" and replied["recorded_by"] is None
    assert server.system.settle(30)
    report = server.system.reporting.report(
        Scope(bureau="sh-ipa", years=(2020, 2020), as_of=date(2020, 11, 20)),
        PROFILES["default"])
    assert (report.entries.records, report.entries.imported) == (2, 0)
    assert report.feedback_recorders == {"filer": 0, "office": 0, "bureau": 1}
    assert report.feedback_by_self == 1


def test_an_import_line_naming_an_admin_or_an_overseer_is_refused(server):
    importer = server.client("importer")
    expect(importer.post("/api/import", content=lines(*HISTORY[:3]), headers=NDJSON), 200)
    claims = [
        {"type": "supervise", "proposal": P, "note": "督办", "at": at("2020-03-01"),
         "actor": {"user": "root", "role": "admin"}},
        {"type": "supervise", "proposal": P, "note": "督办", "at": at("2020-03-02"),
         "actor": {"user": "watcher", "role": "overseer"}},
        {"type": "supervise", "proposal": P, "note": "督办", "at": at("2020-03-03")},
    ]
    result = expect(importer.post("/api/import", content=lines(*claims), headers=NDJSON), 200)
    assert result["accepted"] == 1  # the line that names nobody goes on
    refused = {p["line"]: p for p in result["problems"]}
    assert sorted(refused) == [1, 2]
    for line, role in ((1, "admin"), (2, "overseer")):
        assert refused[line]["code"] == "claimed_actor"
        assert HAN.search(refused[line]["reason"]) and role in refused[line]["reason"]
        assert role in refused[line]["reason_en"]
    supervised = [e for e in history(server.client("admin")) if e["type"] == "ProposalSupervised"]
    assert [(e["actor"]["user"], e["recorded_by"]) for e in supervised] == [
        ("test-importer", None)]


def test_only_importers_and_admins_name_other_actors(server):
    """A coordinator's lines act as the coordinator, whatever actor they name (and whatever
    `recorded_by` they carry); an admin's may name a clerk, and say who entered it."""
    expect(server.client("importer").post("/api/import", content=lines(*HISTORY[:3]),
                                          headers=NDJSON), 200)
    forged = {"user": "someone", "role": "importer"}
    contact = {"type": "log_contact", "proposal": P, "bureau": "sh-ipa", "stage": "before",
               "method": "phone", "actor": CLERK, "recorded_by": forged}
    result = expect(server.client("coordinator").post(
        "/api/import", content=lines({**contact, "at": at("2020-03-01")}), headers=NDJSON), 200)
    assert [p["code"] for p in result["problems"]] == ["forbidden"]  # a coordinator's contact
    result = expect(server.client("admin").post(
        "/api/import", content=lines({**contact, "at": at("2020-03-02")}), headers=NDJSON), 200)
    assert (result["accepted"], result["problems"]) == (1, [])
    [logged] = [e for e in history(server.client("admin")) if e["type"] == "ContactLogged"]
    assert logged["actor"] == CLERK
    assert logged["recorded_by"] == {"user": "test-admin", "bureau": None, "role": "admin"}


def test_a_command_body_never_says_who_entered_it(server):
    expect(server.client("importer").post("/api/import", content=lines(*HISTORY[:3]),
                                          headers=NDJSON), 200)
    clerk = server.client("clerk", "sh-ipa")
    forged = {"user": "someone", "role": "importer"}
    answer = expect(clerk.post("/api/commands", json={
        "type": "acknowledge", "proposal": P, "bureau": "sh-ipa", "recorded_by": forged}), 201)
    assert "recorded_by" not in answer["events"][0]
    assert history(server.client("admin"))[-1]["recorded_by"] is None
    # a route's body has no such field at all
    refused = clerk.post(f"/api/proposals/{P}/contacts", json={
        "bureau": "sh-ipa", "stage": "before", "method": "phone", "recorded_by": forged})
    assert refused.status_code == 422
    spec = expect(server.client("admin").get("/openapi.json"), 200)
    bodies = [name for name, schema in spec["components"]["schemas"].items()
              if name.endswith("Body") and "recorded_by" in schema.get("properties", {})]
    assert bodies == []


def test_banli_import_records_the_clerk_and_the_importer(tmp_path, capsys):
    history_file = tmp_path / "history.jsonl"
    claims = {"type": "supervise", "proposal": P, "note": "督办", "at": at("2020-03-01"),
              "actor": {"user": "root", "role": "admin"}}
    history_file.write_bytes(lines(*HISTORY, claims))
    data_dir = tmp_path / "data"
    assert main(["import", str(history_file), "--data-dir", str(data_dir)]) == 0
    out, err = capsys.readouterr()
    assert "imported 5" in out and "not taken 1" in out
    assert "line 6: [claimed_actor]" in err and HAN.search(err)
    log = SqliteEventStore(Settings(data_dir=data_dir).store_path)
    events = {s.event.type: s.event for s in log.read()}
    reply = events["ReplyIssued"]
    assert reply.actor.model_dump() == CLERK
    assert reply.recorded_by is not None
    assert (reply.recorded_by.user, reply.recorded_by.role) == ("importer", "importer")
    assert events["ProposalSubmitted"].recorded_by is None
    # the reference (`banli report --history`) takes the file as `banli import` does
    assert main(["report", "--history", str(history_file), "--bureau", "sh-ipa",
                 "--years", "2020", "--as-of", "2020-11-20", "--format", "json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["entries"]["imported"] == 2
    assert report["feedback_recorders"] == {"filer": 0, "office": 1, "bureau": 0}
    assert main(["report", "--history", str(history_file), "--bureau", "sh-ipa",
                 "--years", "2020", "--as-of", "2020-11-20", "--format", "text"]) == 0
    assert "满意度录入：代表委员本人 0 件，交办单位 1 件，承办单位自行录入 0 件" in (
        capsys.readouterr().out)
