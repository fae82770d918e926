"""Hostile input gets a clear answer and loses nothing: a line too deep, too long, not UTF-8 or
not JSON is refused on its own with its line number, and every other line is still imported,
from the CLI (`banli import`, `banli report --history`) and over HTTP alike; no route answers
500 to a malformed id."""
from __future__ import annotations

import json

from apps.cli import main

from tests.integration.http_world import expect

AT = "2020-01-02T09:00:00+08:00"


def command(bureau: str, name: str = "局", **more) -> bytes:
    return json.dumps({"type": "register_bureau", "bureau": bureau, "name": name, "at": AT,
                       **more}, ensure_ascii=False).encode()


HOSTILE = b"\n".join([
    command("a"),
    b"[" * 1000 + b"]" * 1000,                       # 2: nested ~1,000 deep
    command("b", "\u5c40").replace("\u5c40".encode(), b"\xff\xfe"),  # 3: not UTF-8
    command("c", "C\u2028D\x85E"),                    # 4: U+2028 and U+0085 inside a string
    b'{"type": "register_bureau", "bureau": "x", "name": "' + b"y" * (1 << 20) + b'"}',  # 5
    b"{broken",                                       # 6
    b"[1, 2, 3]",                                     # 7: not an object
    command("d", at=1700000000),                      # 8: a number is not a time
    b"",                                              # 9: blank, skipped
    command("e\r".strip()) + b"\r",                   # 10: a CRLF line
    command("f"),                                     # 11
]) + b"\n"
REFUSED = {2: "nested", 3: "UTF-8", 5: "longer", 6: "broken JSON", 7: "JSON object",
           8: "ISO 8601"}


def test_the_cli_imports_every_other_line_and_names_the_bad_ones(tmp_path, capsys,
                                                                  monkeypatch):
    from tests.conftest import SECRET

    monkeypatch.setenv("BANLI_SECRET", SECRET)
    path = tmp_path / "hostile.jsonl"
    path.write_bytes(HOSTILE)
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["import", str(path), *data]) == 0
    out, err = capsys.readouterr()
    assert "imported 4" in out and "not taken 6" in out, out
    for line, words in REFUSED.items():
        assert f"{path}:line {line}:" in err and words in err.split(f"line {line}:")[1].split(
            "\n")[0], (line, err)
    assert main(["report", "--history", str(path), "--all", "--years", "2020",
                 "--as-of", "2020-12-31"]) == 0
    _, err = capsys.readouterr()
    assert sorted(int(row.split(":line ")[1].split(":")[0]) for row in err.splitlines()
                  if ":line " in row) == sorted(REFUSED)


def test_http_import_splits_and_refuses_as_the_cli_does(server):
    importer = server.client("importer")
    answer = expect(importer.post("/api/import", content=HOSTILE,
                                  headers={"Content-Type": "application/x-ndjson"}), 200)
    assert answer["accepted"] == 4
    assert {p["line"]: p["code"] for p in answer["problems"]} == {n: "invalid" for n in REFUSED}
    for problem in answer["problems"]:
        assert REFUSED[problem["line"]] in problem["reason_en"] and problem["reason"], problem
    names = expect(server.client("admin").get("/api/bureaus"), 200)["bureaus"]
    assert sorted(names) == ["a", "c", "e", "f"]
    assert names["c"]["name"] == "C\u2028D\x85E"


# Every other way a line can be hostile: each refused on its own, in Chinese and English, and
# the lines after it still imported (issue 23: one integer of more than 4,300 digits made
# json raise ValueError, not JSONDecodeError, and broke the whole import with a traceback).
LONG = b"9" * 5000


def named(bureau: str, name: bytes) -> bytes:
    """A registration whose name is this JSON text, as it stands."""
    return (b'{"type": "register_bureau", "bureau": "%s", "name": %s, "at": "%s"}'
            % (bureau.encode(), name, AT.encode()))


HOSTILE_VALUES = b"\n".join([
    b"\xef\xbb\xbf" + command("a"),                     # 1: a byte order mark: taken
    named("b", b'"b", "n": ' + LONG),                    # 2: a 5,000-digit number beside
    named("c", LONG),                                    # 3: the number as the value
    b"-" + LONG,                                         # 4: just a number
    b'{"a": ' * 500 + b"1" + b"}" * 500,                 # 5: objects nested 500 deep
    named("d", b'"\\ud800"'),                            # 6: a lone surrogate
    named("e", b"NaN"),                                  # 7: NaN
    named("f", b"1e999"),                                # 8: infinite
    b'{"bureau": "g", "name": "g", "at": "' + AT.encode() + b'"}',  # 9: no type
    b"\xef\xbb\xbf" + command("h"),                     # 10: a mark past the first line
    command("i"),                                        # 11
]) + b"\n"
REFUSED_VALUES = {2: "4300 digits", 3: "4300 digits", 4: "4300 digits", 5: "nested",
                  6: "name", 7: "name", 8: "name", 9: "type", 10: "broken JSON"}
TAKEN_VALUES = ["a", "i"]


def _check_values(problems: dict[int, tuple[str, str]]) -> None:
    assert sorted(problems) == sorted(REFUSED_VALUES), problems
    for line, (zh, en) in problems.items():
        assert REFUSED_VALUES[line] in en and zh and zh != en, (line, zh, en)


def test_every_hostile_value_is_refused_on_its_own_over_http(server):
    answer = expect(server.client("importer").post(
        "/api/import", content=HOSTILE_VALUES,
        headers={"Content-Type": "application/x-ndjson"}), 200)
    assert answer["accepted"] == len(TAKEN_VALUES)
    _check_values({p["line"]: (p["reason"], p["reason_en"]) for p in answer["problems"]})
    names = expect(server.client("admin").get("/api/bureaus"), 200)["bureaus"]
    assert sorted(names) == TAKEN_VALUES


def test_every_hostile_value_is_refused_on_its_own_from_the_cli(tmp_path, capsys, monkeypatch):
    from tests.conftest import SECRET

    monkeypatch.setenv("BANLI_SECRET", SECRET)
    path = tmp_path / "values.jsonl"
    path.write_bytes(HOSTILE_VALUES)
    for args in (["import", str(path), "--data-dir", str(tmp_path / "data")],
                 ["report", "--history", str(path), "--all", "--years", "2020",
                  "--as-of", "2020-12-31"]):
        assert main(args) == 0, args
        out, err = capsys.readouterr()
        said = {int(row.split(":line ")[1].split(":")[0]): row.split("] ", 1)[1]
                for row in err.splitlines() if ":line " in row}
        _check_values({n: (text.split(" (", 1)[0], text.split(" (", 1)[1])
                       for n, text in said.items()})
        assert "Traceback" not in err
    assert main(["import", str(path), "--data-dir", str(tmp_path / "data")]) == 0
    assert f"imported 0, already decided {len(TAKEN_VALUES)}" in capsys.readouterr().out


def test_a_bureaus_stream_is_no_proposal_and_bad_ids_are_no_500(server):
    admin = server.client("admin")
    expect(admin.post("/api/bureaus", json={"bureau": "sh-ipa", "name": "局"}), 201)
    for path in ("/api/proposals/bureau:sh-ipa/deadlines", "/api/proposals/bureau:sh-ipa/history",
                 "/api/proposals/bureau:sh-ipa", "/api/proposals/bureau:sh-ipa/lineage"):
        assert admin.get(path).status_code == 404, path
    for path in ("/api/proposals/%00/deadlines", "/api/proposals/a%20b/history",
                 "/api/proposals/" + "x" * 200):
        assert admin.get(path).status_code in (404, 422), path


def test_every_answer_carries_the_security_headers_and_cors_is_off(server):
    anonymous, admin = server.client(None), server.client("admin")
    for response in (anonymous.get("/app/"), anonymous.get("/app/app.js"),
                     anonymous.get("/api/bureaus"), admin.get("/api/bureaus"),
                     admin.get("/api/proposals/nosuch/history"), anonymous.get("/healthz"),
                     admin.post("/api/commands", content=b"{", headers={
                         "Content-Type": "application/json"})):
        headers = response.headers
        csp = headers["content-security-policy"]
        assert "script-src 'self';" in csp and "frame-ancestors 'none'" in csp, csp
        assert "unsafe-inline" not in csp
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["referrer-policy"] == "no-referrer" and headers["x-frame-options"] == "DENY"
    assert "cdn.jsdelivr.net" in anonymous.get("/docs").headers["content-security-policy"]
    crossed = admin.get("/api/bureaus", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in crossed.headers
    preflight = anonymous.options("/api/bureaus", headers={
        "Origin": "https://evil.example", "Access-Control-Request-Method": "GET"})
    assert "access-control-allow-origin" not in preflight.headers


def test_cors_answers_only_the_origins_a_setting_names(tmp_path, chdb_dsn):
    import uuid

    from apps.embedded import EmbeddedSystem, create_app
    from banli.settings import Settings
    from tests.conftest import SECRET, LiveServer, token_for

    import httpx

    system = EmbeddedSystem(Settings(data_dir=tmp_path / "d", clickhouse_dsn=chdb_dsn,
                                     clickhouse_database=f"o_{uuid.uuid4().hex[:12]}",
                                     secret=SECRET, cors_origins="https://oa.example.gov.cn"))
    try:
        with LiveServer(create_app(system.start())) as live:
            headers = {"Authorization": f"Bearer {token_for(SECRET, 'overseer')}"}
            ok = httpx.get(f"{live.url}/api/bureaus", headers={
                **headers, "Origin": "https://oa.example.gov.cn"})
            assert ok.headers["access-control-allow-origin"] == "https://oa.example.gov.cn"
            other = httpx.get(f"{live.url}/api/bureaus", headers={
                **headers, "Origin": "https://evil.example"})
            assert "access-control-allow-origin" not in other.headers
    finally:
        system.stop()
        system.reporting.drop()
