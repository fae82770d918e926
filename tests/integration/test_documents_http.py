"""Year-end documents from the projections, over real HTTP: GET /api/report/document opened with
python-docx (and read as HTML and Markdown), every number held to GET /api/report's JSON; who may
download what; and `banli report --format ...` through a running server and without one."""
from __future__ import annotations

import io
import json
import os
import uuid
from datetime import date, datetime
from urllib.parse import quote

import docx
import pytest

from tests.conftest import SECRET
from apps.cli import main
from banli.demo.generate import generate_history, to_jsonl
from banli.demo.model import MODEL_FILE
from banli.documents import FORMATS, MEDIA_TYPES
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope, report_items
from banli.history import reference_report, run_history
from services.reporting.projections.store import ReportingStore
from tests.document_tables import READERS, assert_tables_state, docx_text, expected, html_text
from tests.integration.test_differential import load

MODEL_LINES = MODEL_FILE.read_text(encoding="utf-8").splitlines()
MODEL_QUERY = {"bureau": "sh-ipa", "year": 2020, "term_start": 2018, "as_of": "2020-11-20"}


def json_expected(server, client, bureau, year, term_start, as_of: date,
                  recorded_by: str | None = None):
    """What the document must state, from GET /api/report (and the store's items)."""
    def report_for(scope: Scope) -> dict:
        query = {"years": f"{scope.years[0]}-{scope.years[1]}", "as_of": scope.as_of.isoformat()}
        query.update({"bureau": scope.bureau} if scope.bureau else {"all": "true"})
        if recorded_by:
            query["recorded_by"] = recorded_by
        response = client.get("/api/report", params=query)
        assert response.status_code == 200, response.text
        return response.json()

    def items_for(scope: Scope) -> list[dict]:
        audit = datetime.fromisoformat(recorded_by) if recorded_by else None
        return server.system.reporting.items(scope, PROFILES["default"], audit)

    names = {b: n["name"] for b, n in client.get("/api/bureaus").json()["bureaus"].items()}
    return expected(report_for, items_for, names, bureau, year, term_start, as_of)


def download(client, **query):
    return client.get("/api/report/document", params=query)


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_model_document_over_http(server, fmt):
    load(server.system, MODEL_LINES)
    client = server.client("coordinator")
    response = download(client, format=fmt, **MODEL_QUERY)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == MEDIA_TYPES[fmt]
    name = quote(f"上海市知识产权局2020年度建议提案办理情况报告.{fmt}", safe="")
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"banli-report-sh-ipa-2020.{fmt}\"; filename*=UTF-8''{name}")
    tables = READERS[fmt](response.content)
    assert_tables_state(tables, json_expected(server, client, "sh-ipa", 2020, 2018,
                                              date(2020, 11, 20)))
    text = (docx_text(response.content) if fmt == "docx" else html_text(response.content)
            if fmt == "html" else response.content.decode())
    for sentence in ("共承办代表建议和政协提案29件", "解决采纳率为92%（24/26）",
                     "2件全文公开，3件摘要公开", "本届以来答复公开率为96%（24/25）"):
        assert sentence in text


def test_the_docx_equals_the_reference_documents_numbers(server):
    """The projections' document and the reference's state the same tables."""
    load(server.system, MODEL_LINES)
    response = download(server.client("overseer"), format="docx", **MODEL_QUERY)
    ledger, _ = run_history(MODEL_LINES)
    reference = expected(lambda s: reference_report(ledger, s),
                         lambda s: report_items(ledger.proposals_as_of(s.as_of), s,
                                                ledger.profile),
                         {b: n[0] for b, n in ledger.directory.bureaus.items()},
                         "sh-ipa", 2020, 2018, date(2020, 11, 20))
    assert_tables_state(READERS["docx"](response.content), reference)


def test_the_audit_clock(server):
    """recorded_by: what the system had recorded by then (here, nothing before the import)."""
    load(server.system, MODEL_LINES)
    client = server.client("coordinator")
    early = "2020-11-19T00:00:00+08:00"
    response = download(client, format="md", recorded_by=early, **MODEL_QUERY)
    assert response.status_code == 200, response.text
    e = json_expected(server, client, "sh-ipa", 2020, 2018, date(2020, 11, 20), early)
    assert e.term_report["proposals"] == 0
    assert_tables_state(READERS["md"](response.content), e)
    assert "按系统截至 2020-11-19T00:00+08:00 已录入的记录统计" in response.content.decode()


def test_a_generated_history_of_several_bureaus(server):
    load(server.system, [to_jsonl(line) for line in generate_history(150, seed=11)])
    client = server.client("overseer")
    for bureau, year, as_of in ((None, 2020, date(2020, 12, 31)),
                                ("sh-hrss", 2019, date(2019, 10, 31))):
        query = {"bureau": bureau} if bureau else {"all": "true"}
        response = download(client, format="docx", year=year, term_start=2018,
                            as_of=as_of.isoformat(), **query)
        assert response.status_code == 200, response.text
        e = json_expected(server, client, bureau, year, 2018, as_of)
        if bureau is None:
            assert len(e.by_bureau) > 3
        assert_tables_state(READERS["docx"](response.content), e)
        docx.Document(io.BytesIO(response.content))  # opens


def test_odd_but_valid_requests(server):
    client = server.client("coordinator")
    first = download(client, format="docx", bureau="sh-ipa", year=1949, as_of="1949-12-31")
    assert first.status_code == 200, first.text  # the term cannot start before 1949
    odd = download(client, format="docx", doc_number="沪\x0b知局〔2020〕\x00118号", **{
        k: v for k, v in MODEL_QUERY.items()})
    assert odd.status_code == 200, odd.text
    assert "沪知局〔2020〕118号" in docx_text(odd.content)


def test_who_may_download_what(server):
    load(server.system, MODEL_LINES)
    own = server.client("clerk", "sh-ipa")
    assert download(own, format="docx", **MODEL_QUERY).status_code == 200
    other = server.client("clerk", "sh-hrss")
    refused = download(other, format="docx", **MODEL_QUERY)
    assert refused.status_code == 403 and refused.json()["detail"]["code"] == "forbidden"
    everyone = {k: v for k, v in MODEL_QUERY.items() if k != "bureau"}
    assert download(own, format="docx", all="true", **everyone).status_code == 403
    assert download(server.client("overseer"), format="docx", all="true",
                    **everyone).status_code == 200
    assert download(server.client(role=None), format="docx", **MODEL_QUERY).status_code == 401


@pytest.mark.parametrize("change,code", [
    ({"format": "pdf"}, "malformed"),
    ({"term_start": 2021}, "bad_term"),
    ({"term_start": 1990}, "bad_term"),  # a term of 31 years
    ({"all": "true"}, "bad_scope"),
    ({"profile": "nonsense"}, "bad_profile"),
    ({"year": 1800}, "malformed"),
    ({"as_of": "2020-13-01"}, "malformed"),
    ({"doc_number": "号" * 61}, "malformed"),
    ({"year": 1949, "term_start": 1948}, "malformed"),
])
def test_bad_requests_are_422(server, change, code):
    response = download(server.client("coordinator"), **{"format": "docx", **MODEL_QUERY,
                                                          **change})
    assert response.status_code == 422, response.text
    assert response.json()["detail"]["code"] == code


def test_cli_fetches_the_document_from_the_running_server(server, tmp_path, monkeypatch,
                                                           capsys):
    """With `banli serve` running on the data dir, the CLI asks it (chDB is one process's)."""
    load(server.system, MODEL_LINES)
    data_dir = server.system.settings.data_dir
    (data_dir / "server.json").write_text(json.dumps({"url": server.url, "pid": os.getpid()}))
    monkeypatch.setenv("BANLI_SECRET", server.system.settings.secret)
    out = tmp_path / "report.docx"
    assert main(["report", "--data-dir", str(data_dir), "--bureau", "sh-ipa", "--years", "2020",
                 "--as-of", "2020-11-20", "--format", "docx", "-o", str(out)]) == 0
    capsys.readouterr()
    assert_tables_state(READERS["docx"](out.read_bytes()),
                        json_expected(server, server.client("coordinator"), "sh-ipa", 2020, 2018,
                                      date(2020, 11, 20)))


def test_cli_builds_the_document_from_the_store_without_a_server(tmp_path, chdb_dsn,
                                                                 monkeypatch, capsysbinary):
    database = f"d_{uuid.uuid4().hex[:12]}"
    for name, value in (("BANLI_CLICKHOUSE_DSN", chdb_dsn), ("BANLI_SECRET", SECRET),
                        ("BANLI_CLICKHOUSE_DATABASE", database)):
        monkeypatch.setenv(name, value)
    data_dir = str(tmp_path / "data")
    try:
        assert main(["import", str(MODEL_FILE), "--data-dir", data_dir]) == 0
        capsysbinary.readouterr()
        assert main(["report", "--data-dir", data_dir, "--bureau", "sh-ipa", "--years",
                     "2018-2020", "--as-of", "2020-11-20", "--format", "md"]) == 0
        document = capsysbinary.readouterr().out
        ledger, _ = run_history(MODEL_LINES)
        assert_tables_state(READERS["md"](document), expected(
            lambda s: reference_report(ledger, s),
            lambda s: report_items(ledger.proposals_as_of(s.as_of), s, ledger.profile),
            {b: n[0] for b, n in ledger.directory.bureaus.items()}, "sh-ipa", 2020, 2018,
            date(2020, 11, 20)))
    finally:
        ReportingStore(chdb_dsn, database).drop()


def test_the_documents_misrouting_equals_the_api(server):
    """The store's document states the days lost to misrouting that /api/misrouting gives; an
    audit document (recorded_by) leaves the section out, since that query has no audit clock."""
    load(server.system, [to_jsonl(line) for line in generate_history(200, 11,
                                                                     routing_noise=0.3)])
    client = server.client("overseer")
    lost = client.get("/api/misrouting", params={"years": "2018-2020",
                                                 "as_of": "2020-12-31"}).json()["bureaus"]
    assert sum(m["days_lost"] for m in lost) > 0
    response = download(client, format="md", all="true", year=2020, term_start=2018,
                        as_of="2020-12-31")
    assert response.status_code == 200, response.text
    (rows,) = [rows for caption, rows in READERS["md"](response.content)
               if caption.endswith("误交办情况")]
    assert rows[1:] == [[m["name"], str(m["returned"]), str(m["removed"]), str(m["days_lost"])]
                        for m in lost]
    audit = download(client, format="md", all="true", year=2020, term_start=2018,
                     as_of="2020-12-31", recorded_by="2199-01-01T00:00:00+08:00")
    assert audit.status_code == 200 and "误交办" not in audit.content.decode()


def test_the_documents_date_and_number_over_http(server):
    """doc_date signs the document (never before its data: `inconsistent`); an unset number is
    left out, a given one printed under the masthead."""
    load(server.system, MODEL_LINES)
    client = server.client("coordinator")
    response = download(client, format="docx", doc_date="2020-11-25", **MODEL_QUERY)
    assert response.status_code == 200, response.text
    text = docx_text(response.content)
    assert text.startswith("上海市知识产权局文件\n\n") and "〔" not in text.split("\n", 3)[1]
    assert "上海市知识产权局\n2020年11月25日" in text
    early = download(client, format="docx", doc_date="2020-11-19", **MODEL_QUERY)
    assert early.status_code == 422 and early.json()["detail"]["code"] == "inconsistent"
