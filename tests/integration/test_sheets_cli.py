"""`banli import FILE.xlsx` on the embedded store: the preview printed with every refused row,
`--dry-run` sending nothing, the items imported as the same history in JSON Lines would be,
and the same sheet imported again changing nothing."""
from __future__ import annotations

import json
from datetime import date

from apps.cli import main
from banli.sheets.example import (EXAMPLE_BUREAUS, EXAMPLE_PATH, REPLY_EXAMPLE_BUREAU,
                                  REPLY_EXAMPLE_PATH)
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope, compute_report
from banli.eventlog.repository import Repository
from banli.eventlog.sqlite import SqliteEventStore
from banli.settings import Settings
from tests.integration.test_sheets_http import BUREAUS, JSONL, assignment_list, reply_list

PROPOSALS = ["2020-cppcc_proposal-101", "2020-cppcc_proposal-102", "2020-cppcc_proposal-104"]
REGISTER = [{"type": "register_bureau", "bureau": b, "name": n, "name_en": en,
             "at": "2020-01-02T09:00:00+08:00"} for b, (n, en) in BUREAUS.items()]
EXAMPLE_REGISTER = [{"type": "register_bureau", "bureau": b, "name": n, "name_en": en,
                     "at": "2026-01-02T09:00:00+08:00"} for b, (n, en) in EXAMPLE_BUREAUS.items()]


def jsonl(path, lines) -> str:
    path.write_text("".join(json.dumps(line, ensure_ascii=False) + "\n" for line in lines),
                    encoding="utf-8")
    return str(path)


def store(data_dir) -> SqliteEventStore:
    return SqliteEventStore(Settings(data_dir=data_dir).store_path)


def states(data_dir) -> Repository:
    return Repository(store(data_dir))


def test_a_sheet_imports_as_its_json_lines_do(tmp_path, capsys):
    sheet_dir, lines_dir = tmp_path / "sheet", tmp_path / "lines"
    for data_dir in (sheet_dir, lines_dir):
        assert main(["import", jsonl(tmp_path / "bureaus.jsonl", REGISTER),
                     "--data-dir", str(data_dir)]) == 0
    sheet = tmp_path / "交办清单.xlsx"
    sheet.write_bytes(assignment_list())
    capsys.readouterr()

    args = ["import", str(sheet), "--data-dir", str(sheet_dir), "--kind", "cppcc_proposal",
            "--year", "2020"]
    assert main([*args, "--dry-run"]) == 0
    out, err = capsys.readouterr()
    assert "5 行 rows" in out and "refused 2" in out
    assert "上海市不存在局" in err and "appears twice" in err
    assert store(sheet_dir).count() == len(BUREAUS)  # a dry run sends nothing

    assert main([*args, "--strict"]) == 1  # two rows were not taken
    out, err = capsys.readouterr()
    assert "imported 3 rows" in out
    assert main(["import", jsonl(tmp_path / "items.jsonl", JSONL),
                 "--data-dir", str(lines_dir)]) == 0
    from_sheet, from_lines = states(sheet_dir), states(lines_dir)
    for bureau in (*BUREAUS, None):
        scope = Scope(bureau=bureau, years=(2020, 2020), as_of=date(2020, 11, 20))
        assert (compute_report([from_sheet.state(p) for p in PROPOSALS], scope,
                               PROFILES["default"])
                == compute_report([from_lines.state(p) for p in PROPOSALS], scope,
                                  PROFILES["default"])), bureau
    for p in PROPOSALS:
        a, b = from_sheet.state(p), from_lines.state(p)
        assert (a.title, a.filers, a.affiliation, sorted(a.assignments)) == (
            b.title, b.filers, b.affiliation, sorted(b.assignments))

    count = store(sheet_dir).count()
    assert main(args) == 0  # again: nothing changes
    assert "unchanged 3" in capsys.readouterr()[0]
    assert store(sheet_dir).count() == count


def test_a_reply_list_and_its_refusals_from_the_command_line(tmp_path, capsys):
    data_dir = tmp_path / "data"
    assert main(["import", jsonl(tmp_path / "all.jsonl", REGISTER + JSONL),
                 "--data-dir", str(data_dir)]) == 0
    replies = tmp_path / "答复.xlsx"
    replies.write_bytes(reply_list([("101", "A", "2020-04-01", "全文公开", "电话"),
                                    ("999", "A", "2020-04-01", None, None)]))
    assert main(["import", str(replies), "--data-dir", str(data_dir), "--replies"]) == 2
    assert "--bureau" in capsys.readouterr()[1]
    assert main(["import", str(replies), "--data-dir", str(data_dir), "--replies", "--bureau",
                 "sh-ipa", "--kind", "cppcc_proposal", "--year", "2020", "--json"]) == 0
    out = capsys.readouterr()[0]
    outcome = json.loads(out.splitlines()[-1])["outcome"]
    assert outcome["counts"]["imported"] == 1 and outcome["counts"]["refused_in_preview"] == 1
    duty = states(data_dir).state("2020-cppcc_proposal-101").assignments["sh-ipa"]
    assert (duty.result, duty.disclosure, duty.contacted_before_reply) == ("solved", "full", True)
    broken = tmp_path / "broken.xlsx"
    broken.write_bytes(b"not a workbook")
    assert main(["import", str(broken), "--data-dir", str(data_dir)]) == 2
    assert "not" in capsys.readouterr()[1]


def test_the_examples_import_with_the_defaults_from_the_command_line(tmp_path, capsys):
    """No --kind, no --year: the title says both (the examples are dated early 2026, before
    today)."""
    data = ["--data-dir", str(tmp_path / "data")]
    bureaus = tmp_path / "bureaus.jsonl"
    bureaus.write_text("".join(json.dumps(c, ensure_ascii=False) + "\n"
                               for c in EXAMPLE_REGISTER), encoding="utf-8")
    assert main(["import", str(bureaus), *data]) == 0
    assert main(["import", str(EXAMPLE_PATH), *data, "--strict", "--json"]) == 0
    out = capsys.readouterr().out
    assert "类型“政协提案”取自 A1 单元格" in out and "year 2026 taken from cell A1" in out
    assert json.loads(out.splitlines()[-1])["outcome"]["counts"]["imported"] == 4
    assert main(["import", str(REPLY_EXAMPLE_PATH), *data, "--replies", "--bureau",
                 REPLY_EXAMPLE_BUREAU, "--strict", "--json"]) == 0
    outcome = json.loads(capsys.readouterr().out.splitlines()[-1])["outcome"]
    assert outcome["counts"]["imported"] == 2 and outcome["counts"]["refused_in_preview"] == 0
