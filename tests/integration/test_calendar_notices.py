"""Holiday notices over HTTP and through a running server, as an admin loads them the day they
are published and takes one back: a file nested too deep or naming no year is a clear 422, a
published year is replaced only where the admin names it, and `DELETE /api/admin/calendar/Y`
(and `banli calendar unload Y` beside a running server) takes a loaded notice back, saying
what that changes."""
from __future__ import annotations

import json
import os
from datetime import date

from apps.cli import main
from apps.local import SERVER_FILE
from tests.conftest import ROOT, SECRET
from tests.integration.http_world import expect
from tests.unit.test_workdays import published_2020

NOTICE_2027 = json.loads((ROOT / "deploy/calendar/notice-2027.example.json").read_text(
    encoding="utf-8"))


def bad_notice(response, problem: str) -> list[str]:
    detail = expect(response, 422)["detail"]
    assert detail["code"] == "bad_notice" and detail["message"] and detail["message_en"]
    assert any(problem in p for p in detail["problems"]), detail["problems"]
    return detail["problems"]


def test_notices_are_loaded_and_taken_back_over_http(server):
    admin, calendar = server.client("admin"), server.system.calendars
    as_json = {"Content-Type": "application/json"}
    refused = admin.post("/api/admin/calendar", content=b"[" * 50_000 + b"]" * 50_000,
                         headers=as_json)
    assert refused.status_code == 422, refused.text  # nested too deep: no 500
    expect(admin.post("/api/admin/calendar", content=b'{"year": ' + b"9" * 5000 + b"}",
                      headers=as_json), 422)
    bad_notice(admin.post("/api/admin/calendar", json=[]), "no year")
    every = [{"year": y, "holidays": [f"{y}-01-01"]} for y in range(1950, 2101)]
    assert len(bad_notice(admin.post("/api/admin/calendar", json=every), "replace")) >= 23
    corrected = json.loads(published_2020("2020-07-06"))
    bad_notice(admin.post("/api/admin/calendar", json=corrected), "2020")
    assert calendar.loaded() == []

    loaded = expect(admin.post("/api/admin/calendar", json=corrected,
                               params={"replace": 2020}), 200)
    assert loaded["loaded"] == [2020] and "notices 2020" in loaded["calendar"]
    assert not calendar.current().is_working_day(date(2020, 7, 6))
    expect(admin.post("/api/admin/calendar", json=NOTICE_2027), 200)
    for other in (server.client("coordinator"), server.client("clerk", "sh-ipa")):
        assert expect(other.delete("/api/admin/calendar/2020"), 403)["detail"]["code"] == (
            "forbidden")
    taken = expect(admin.delete("/api/admin/calendar/2020"), 200)
    assert taken["unloaded"] == [2020] and taken["source"].startswith("chinese-calendar")
    assert "notices 2020" in taken["calendar_before"] and "2020" not in taken["calendar"]
    assert calendar.current().is_working_day(date(2020, 7, 6))
    assert [t.year for t in calendar.loaded()] == [2027]
    assert expect(admin.delete("/api/admin/calendar/2020"), 404)["detail"]["code"] == "no_notice"
    expect(admin.delete("/api/admin/calendar/1900"), 422)


def test_a_configured_notice_is_taken_out_where_it_is_configured(tmp_path, settings, clock):
    from apps.embedded import EmbeddedSystem, create_app
    from tests.conftest import LiveServer, token_for

    import httpx

    configured = tmp_path / "2027.json"
    configured.write_text(json.dumps(NOTICE_2027), encoding="utf-8")
    system = EmbeddedSystem(settings.model_copy(update={"calendar_notices": str(configured)}),
                            clock=clock).start()
    try:
        with LiveServer(create_app(system)) as live:
            answer = httpx.delete(f"{live.url}/api/admin/calendar/2027", headers={
                "Authorization": f"Bearer {token_for(SECRET, 'admin')}"})
            assert answer.status_code == 409, answer.text
            assert answer.json()["detail"]["code"] == "configured_notice"
            assert [t.year for t in system.calendars.loaded()] == [2027]
    finally:
        system.stop()
        system.reporting.drop()


def test_the_command_line_loads_and_takes_back_through_the_running_server(
        server, tmp_path, capsys, monkeypatch):
    """`banli calendar load|unload` beside a `banli serve` on the same data dir (its
    server.json names it) go through its API: taken at once, with what changed."""
    monkeypatch.setenv("BANLI_SECRET", SECRET)
    data = server.system.settings.data_dir
    (data / SERVER_FILE).write_text(json.dumps({"url": server.url, "pid": os.getpid()}))
    corrected = tmp_path / "2020.json"
    corrected.write_bytes(published_2020("2020-07-06"))
    common = ["--data-dir", str(data)]
    assert main(["calendar", "load", str(corrected), *common]) == 1
    assert "--replace 2020" in capsys.readouterr().err
    assert main(["calendar", "load", str(corrected), "--replace", "2020", *common]) == 0
    assert f"into {server.url}" in capsys.readouterr().out
    assert not server.system.calendars.current().is_working_day(date(2020, 7, 6))
    assert main(["calendar", "unload", "2020", *common]) == 0
    said = capsys.readouterr().out
    assert f"in {server.url}" in said and "chinese-calendar" in said
    assert server.system.calendars.current().is_working_day(date(2020, 7, 6))
    assert main(["calendar", "unload", "2020", *common]) == 1
    assert "no_notice" in capsys.readouterr().err
