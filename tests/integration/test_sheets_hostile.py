"""Hostile spreadsheets (tests/hostile_sheets.py) through the page's route on a real server and
through `banli import` as a real process: each gets a clear answer (413 naming its bound, 422
saying what the file is), in Chinese and English, within the reader's limits, while the server
keeps answering other users; uploads cannot take the threadpool, and past the readers and their
queue they are refused at once with Retry-After."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait

import httpx
import pytest

from tests.conftest import ROOT
from tests.hostile_sheets import (ASSIGNMENT_HEADER, assignment_rows, far_corner,
                                  hostile_cases, nested_json, raw_xlsx, row)
from tests.integration.http_world import expect
from tests.integration.test_sheets_http import XLSX, assignment_list, register

HANG = 120  # a request not answered by then hangs: the bug this file is about


@pytest.fixture
def settings(settings, request):
    """The server's settings, with the sheet settings a test asks for (default: the defaults)."""
    return settings.model_copy(update=getattr(request, "param", {}))


def upload(client: httpx.Client, case) -> httpx.Response:
    path = "/api/sheets/replies" if case.replies else "/api/sheets/assignments"
    params = {"bureau": "sh-ipa"} if case.replies else {}
    return client.post(path, content=case.data, params={**params, "kind": "cppcc_proposal",
                                                        "year": 2020},
                       headers={"Content-Type": XLSX}, timeout=HANG)


def check(case, response: httpx.Response) -> None:
    assert response.status_code == case.status, (case.name, response.text[:500])
    if case.status == 200:
        rows = response.json()["preview"]["rows"]
        assert [r["number"] for r in rows] == ["2", "3"], case.name  # the merges hold nothing
        return
    detail = response.json()["detail"]
    assert detail["code"] == case.code, (case.name, detail)
    assert detail["message"] and detail["message_en"], case.name
    if case.bound:
        assert detail["bound"] == case.bound, (case.name, detail)
        assert detail["setting"] in detail["message"] and detail["setting"] in \
            detail["message_en"]


def others_answered_while(server, futures: list[Future]) -> int:
    """Another user's requests, asked again and again until every upload is answered: each
    answered 200. How many were answered while uploads were still waiting for theirs."""
    overseer, clerk = server.client("overseer"), server.client("clerk", "sh-ipa")
    answered = 0
    while not all(f.done() for f in futures):
        expect(overseer.get("/api/me", timeout=HANG), 200)
        expect(clerk.get("/api/report", params={"bureau": "sh-ipa", "years": "2020",
                                                "as_of": "2020-11-20"}, timeout=HANG), 200)
        answered += not all(f.done() for f in futures)
        wait(futures, timeout=0.25)  # the next round when an upload is answered, or soon
    return answered


@pytest.mark.parametrize("settings", [{"sheet_queue": 16}], indirect=True)  # all at once
def test_every_hostile_file_is_refused_clearly_while_others_are_answered(server):
    coordinator = server.client("coordinator")
    register(coordinator)
    clerk = server.client("clerk", "sh-ipa")
    cases = hostile_cases()
    with ThreadPoolExecutor(len(cases)) as pool:
        futures = {case: pool.submit(upload, clerk if case.replies else coordinator, case)
                   for case in cases}
        meanwhile = others_answered_while(server, list(futures.values()))
        for case, future in futures.items():
            check(case, future.result())
    assert meanwhile > 0, "no other request was answered while the sheets were read"
    # and the nested mappings of the probe: 422, not a RecursionError's 500
    for mapping in (nested_json(1000), "[" * 9_999, '{"a": {"b": "title"}}'):
        bad = coordinator.post("/api/sheets/assignments", content=assignment_list(),
                               params={"mapping": mapping}, headers={"Content-Type": XLSX})
        assert expect(bad, 422)["detail"]["code"] == "bad_mapping"


def test_uploads_cannot_take_the_threadpool(server):
    """The probe's attack: many far-corner sheets at once (about 40 took the API down). Each
    is refused (413) or turned away at once (503 busy), and the other routes answer."""
    coordinator = server.client("coordinator")
    data = far_corner()

    def send(_: int) -> httpx.Response:
        return coordinator.post("/api/sheets/assignments", content=data, timeout=HANG,
                                headers={"Content-Type": XLSX})

    with ThreadPoolExecutor(60) as pool:
        futures = [pool.submit(send, n) for n in range(60)]
        meanwhile = others_answered_while(server, futures)
        answers = [f.result() for f in futures]
    assert meanwhile > 0
    assert {a.status_code for a in answers} <= {413, 503}
    assert all(a.json()["detail"]["code"] == ("sheet_too_large" if a.status_code == 413
                                              else "busy") for a in answers)
    assert 413 in {a.status_code for a in answers}
    check(next(c for c in hostile_cases() if c.name == "far_corner"), send(0))


@pytest.mark.parametrize("settings", [{"sheet_parallel": 1, "sheet_queue": 0}], indirect=True)
def test_past_the_readers_and_the_queue_an_upload_is_refused_at_once(server):
    """One upload holds the only place (its body still coming); the next is refused at once,
    503 busy with Retry-After, and other routes answer; once it is done, uploads go on."""
    coordinator = server.client("coordinator")
    data = far_corner()
    release = threading.Event()

    def slow_body():
        yield data[:100]
        release.wait(HANG)
        yield data[100:]

    gate = server.server.app.state.ports.previews.gate  # the server's own gate
    held = ThreadPoolExecutor(1).submit(
        coordinator.post, "/api/sheets/assignments", content=slow_body(), timeout=HANG,
        headers={"Content-Type": XLSX})
    deadline = time.monotonic() + HANG
    while gate.admitted < 1:  # until the held upload has its place (its body still coming)
        assert not held.done(), held.result().text
        assert time.monotonic() < deadline, "the held upload never took its place"
        time.sleep(0.01)
    answer = coordinator.post("/api/sheets/assignments", content=data,
                              headers={"Content-Type": XLSX})
    assert answer.status_code == 503, answer.text
    assert answer.headers["Retry-After"].isdigit()
    assert answer.json()["detail"]["code"] == "busy"
    assert answer.json()["detail"]["message"] and answer.json()["detail"]["message_en"]
    expect(server.client("overseer").get("/api/me"), 200)
    release.set()
    assert held.result().status_code == 413
    assert coordinator.post("/api/sheets/assignments", content=data,
                            headers={"Content-Type": XLSX}).status_code == 413


@pytest.mark.parametrize("settings", [{"sheet_max_bytes": 10_000}], indirect=True)
def test_a_file_over_max_bytes_is_refused_before_it_is_read(server):
    """Declared (Content-Length) or streamed (chunked), a body past BANLI_SHEET_MAX_BYTES is
    413 as soon as that is known."""
    coordinator = server.client("coordinator")
    body = b"PK\x03\x04" + b"\0" * 20_000
    for content in (body, iter([body[:8000], body[8000:]])):
        answer = coordinator.post("/api/sheets/assignments", content=content,
                                  headers={"Content-Type": XLSX})
        detail = expect(answer, 413)["detail"]
        assert (detail["code"], detail["bound"], detail["setting"]) == (
            "sheet_too_large", "bytes", "BANLI_SHEET_MAX_BYTES")


# ---------------------------------------------------------------- the command line


def banli_import(tmp_path, case_name: str, data: bytes, *extra: str):
    path = tmp_path / f"{case_name}.xlsx"  # named .xlsx whatever it is
    path.write_bytes(data)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([sys.executable, "-m", "apps.cli", "import", str(path), "--data-dir",
                           str(tmp_path / "data"), "--dry-run", *extra], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=HANG)


@pytest.mark.slow  # a dozen processes
def test_every_hostile_file_through_banli_import(tmp_path):
    """`banli import` as a real process: refused with the bound or what the file is (exit 2),
    never a traceback, never SIGABRT (the probe's exit 134)."""
    for case in hostile_cases():
        extra = ("--replies", "--bureau", "sh-ipa") if case.replies else ()
        done = banli_import(tmp_path, case.name, case.data, "--kind", "cppcc_proposal",
                            "--year", "2020", *extra)
        assert "Traceback" not in done.stderr, (case.name, done.stderr)
        if case.status == 200:
            assert done.returncode == 0 and "2 行 rows" in done.stdout, (case.name, done)
            continue
        assert done.returncode == 2, (case.name, done.returncode, done.stderr)
        assert "banli import:" in done.stderr
        if case.bound:
            assert "表格超出读取上限" in done.stderr and "past a bound" in done.stderr, case.name
        else:
            assert "无法读取表格文件" in done.stderr and "cannot read" in done.stderr, case.name
    mapping = tmp_path / "mapping.json"
    mapping.write_text(nested_json(100_000), encoding="utf-8")
    sheet = raw_xlsx(iter([row(1, ASSIGNMENT_HEADER), *assignment_rows(1)]))
    done = banli_import(tmp_path, "nested", sheet, "--mapping", str(mapping))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "a mapping is a flat object" in done.stderr

