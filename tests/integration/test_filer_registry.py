"""The filer registry imported from a spreadsheet (docs/examples/代表委员名册示例.xlsx), on the
command line and over HTTP: its deputies and members registered, the proposals recorded before
it linked to them by exact name and affiliation (the answer says how many), importing it again
changing nothing; a filer then signs in and reads those proposals. An embedded store written
before the proposals' filers were kept gets them from its events."""
from __future__ import annotations

import sqlite3
from datetime import datetime, timezone

from apps.cli import main
from banli.sheets.example import (EXAMPLE_PATH, FILER_EXAMPLE_PATH, FILERS,
                                  example_assignment_list, example_filer_list)
from banli.sheets.filers import derived_id
from tests.conftest import token_for
from tests.integration.test_sheets_cli import EXAMPLE_REGISTER, jsonl, states, store

# The example assignment list's proposals and who filed them (its 提案人 and 界别)
FILED = {"2026-cppcc_proposal-21001": ("张三", "李四"), "2026-cppcc_proposal-21002": ("王五",),
         "2026-cppcc_proposal-21003": ("赵六", "钱七"), "2026-cppcc_proposal-21004": ("孙八",)}
IDS = {name: derived_id(name, sector, term) for _, name, sector, term, _ in FILERS}


def test_the_registry_imported_after_the_list_links_its_proposals(tmp_path, capsys):
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["import", jsonl(tmp_path / "bureaus.jsonl", EXAMPLE_REGISTER), *data]) == 0
    assert main(["import", str(EXAMPLE_PATH), *data]) == 0
    assert all(filer is None for p in FILED for filer in states(tmp_path / "data").state(p)
               .filer_ids)  # the list came first: nobody to link then
    capsys.readouterr()

    assert main(["import", str(FILER_EXAMPLE_PATH), "--filers", "--dry-run", *data]) == 0
    out = capsys.readouterr()[0]
    assert "7 行 rows" in out and "offers to link 6 proposals" in out
    assert main(["import", str(FILER_EXAMPLE_PATH), "--filers", *data]) == 0
    out = capsys.readouterr()[0]
    assert "imported 7 rows" in out and "linked 6 proposals" in out
    log = store(tmp_path / "data")
    for proposal, names in FILED.items():
        assert states(tmp_path / "data").state(proposal).filer_ids == tuple(IDS[n] for n in names), proposal
    assert log.filer_name(IDS["周九"]) == "周九"

    count = log.count()
    assert main(["import", str(FILER_EXAMPLE_PATH), "--filers", *data]) == 0  # again: nothing
    out = capsys.readouterr()[0]
    assert "unchanged 7" in out and "offers to link 0" in out
    assert store(tmp_path / "data").count() == count


def test_a_store_written_before_the_proposals_filers_were_kept_gets_them(tmp_path):
    data = ["--data-dir", str(tmp_path / "data")]
    assert main(["import", jsonl(tmp_path / "bureaus.jsonl", EXAMPLE_REGISTER), *data]) == 0
    assert main(["import", str(EXAMPLE_PATH), *data]) == 0
    path = store(tmp_path / "data").path
    with sqlite3.connect(path) as db:  # as the code before it left the store
        db.execute("DROP TABLE proposal_filers")
    assert store(tmp_path / "data").unlinked("张三", "经济界别") == ["2026-cppcc_proposal-21001"]


def test_the_registry_over_http_then_a_filer_reads_their_proposals(server, clock):
    clock.now = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # the example list is of 2026
    admin, coordinator = server.client("admin"), server.client("coordinator")
    for line in EXAMPLE_REGISTER:
        assert admin.post("/api/commands", json=line).status_code == 201
    upload = {"headers": {"Content-Type": "application/octet-stream"}}
    listed = coordinator.post("/api/sheets/assignments", content=example_assignment_list(),
                              **upload).json()
    assert coordinator.post(f"/api/sheets/{listed['preview_id']}/commit").json()["counts"][
        "imported"] == 4
    assert server.system.settle(30)

    preview = coordinator.post("/api/sheets/filers", content=example_filer_list(), **upload)
    assert preview.status_code == 200, preview.text
    body = preview.json()
    assert body["kind"] == "filers"
    assert body["preview"]["counts"]["new"] == 7 and body["preview"]["counts"]["links"] == 6
    done = coordinator.post(f"/api/sheets/{body['preview_id']}/commit").json()
    assert (done["counts"]["imported"], done["counts"]["linked"]) == (7, 6)
    assert server.system.settle(30)
    again = coordinator.post("/api/sheets/filers", content=example_filer_list(), **upload).json()
    assert again["preview"]["counts"]["unchanged"] == 7 and again["preview"]["counts"]["links"] == 0

    zhang = server.client(token=token_for(server.system.settings.secret, "filer",
                                          user="zhangsan", filer=IDS["张三"]))
    items = zhang.get("/api/my/proposals").json()["items"]
    assert [(i["proposal_id"], i["filed_as"]) for i in items] == [
        ("2026-cppcc_proposal-21001", "lead")]
    li = server.client(token=token_for(server.system.settings.secret, "filer", user="lisi",
                                       filer=IDS["李四"]))
    assert [i["filed_as"] for i in li.get("/api/my/proposals").json()["items"]] == ["co_signer"]
    # importing filers is the coordinators', importers' and admins': a clerk may not
    refused = server.client("clerk", "sh-ipa").post("/api/sheets/filers",
                                                    content=example_filer_list(), **upload)
    assert refused.status_code == 403
