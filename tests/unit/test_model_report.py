"""The model year-end report (沪知局〔2020〕118号, DOMAIN.md) printed by `banli report` from the
shipped history: every number the report states."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from apps.cli import main
from banli.demo.model import MODEL_FILE, history_lines, model_history

HISTORY = str(MODEL_FILE)


def report(capsys, *flags: str) -> dict:
    assert main(["report", "--history", HISTORY, "--bureau", "sh-ipa", "--format", "json",
                 *flags]) == 0
    out, err = capsys.readouterr()
    assert err == ""  # every line of the model history is taken
    return json.loads(out)


def test_the_shipped_history_is_what_the_model_builds():
    assert MODEL_FILE.read_text(encoding="utf-8") == "".join(history_lines(model_history()))


def test_2020_as_of_20_november(capsys):
    r = report(capsys, "--years", "2020", "--as-of", "2020-11-20")
    assert r["scope"] == {"bureau": "sh-ipa", "years": [2020, 2020], "as_of": "2020-11-20",
                          "level": None, "kind": None, "profile": "default"}
    assert r["proposals"] == 29
    assert r["assignments"] == {"npc_suggestion": {"lead": 2, "co": 9},
                                "cppcc_proposal": {"lead": 8, "co": 10}}
    assert r["replies"] == 10
    assert r["results"] == {"solved": 9, "planned": 0, "deferred": 0, "reference": 1}
    assert r["disclosure"]["withheld"] == r["disclosure"]["exempt"] == 0
    assert r["disclosure"]["full"] + r["disclosure"]["summary"] == 10
    assert r["rates"]["disclosure"] == 1.0
    assert r["rates"]["adoption"] == 0.9
    assert r["rates"]["on_time_reply"] == r["rates"]["completion"] == 1.0


def test_since_the_term_began(capsys):
    r = report(capsys, "--years", "2018-2020", "--as-of", "2020-11-20")
    assert r["proposals"] == 70
    a = r["assignments"]
    assert sum(a["npc_suggestion"].values()) + sum(a["cppcc_proposal"].values()) == 70
    assert (a["npc_suggestion"]["lead"], a["cppcc_proposal"]["lead"]) == (6, 20)
    assert r["replies"] == 26
    assert r["rates"]["on_time_reply"] == 1.0
    assert r["results"]["solved"] == 24  # the 2018 talent proposal, revised to solved in 2020
    assert r["rates"]["adoption"] == 24 / 26
    d = r["disclosure"]
    assert (d["exempt"], d["withheld"], d["undecided"]) == (1, 1, 0)
    assert d["full"] + d["summary"] == 24
    assert r["rates"]["disclosure"] == 24 / 25 == 0.96
    assert r["rates"]["contact"] == 1.0  # every lead item visited or called before its reply


def test_2018_and_2019_before_the_revision_and_the_review(capsys):
    r = report(capsys, "--years", "2018-2019", "--as-of", "2019-12-31")
    assert r["replies"] == 16
    assert r["disclosure"]["withheld"] == 7 and r["disclosure"]["exempt"] == 0
    assert r["results"] == {"solved": 14, "planned": 0, "deferred": 1, "reference": 1}
    assert r["rates"]["adoption"] == 14 / 16
    assert r["rates"]["disclosure"] == 9 / 16


def test_the_review_published_five_of_the_seven_withheld_replies(capsys):
    before = report(capsys, "--years", "2018-2019", "--as-of", "2020-09-14")["disclosure"]
    after = report(capsys, "--years", "2018-2019", "--as-of", "2020-09-15")["disclosure"]
    assert (before["withheld"], before["exempt"]) == (7, 0)
    assert (after["withheld"], after["exempt"]) == (1, 1)
    assert after["full"] - before["full"] == 2 and after["summary"] - before["summary"] == 3


def test_the_talent_proposal_was_kept_for_reference_until_june_2020(capsys):
    kind = ["--kind", "cppcc_proposal", "--years", "2018"]
    before = report(capsys, *kind, "--as-of", "2020-06-29")["results"]
    after = report(capsys, *kind, "--as-of", "2020-06-30")["results"]
    assert (before["reference"], after["reference"]) == (1, 0)
    assert after["solved"] == before["solved"] + 1


def test_all_bureaus_together(capsys):
    assert main(["report", "--history", HISTORY, "--all", "--years", "2020", "--as-of",
                 "2020-11-20"]) == 0
    r = json.loads(capsys.readouterr().out)
    assert r["scope"]["bureau"] is None
    assert r["proposals"] == 29  # every 2020 item involves sh-ipa
    a = r["assignments"]
    assert a["npc_suggestion"]["lead"] + a["cppcc_proposal"]["lead"] == 29  # one lead each


def test_the_text_report_reads_like_the_year_end_report(capsys):
    assert main(["report", "--history", HISTORY, "--bureau", "sh-ipa", "--years", "2018-2020",
                 "--as-of", "2020-11-20", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("上海市知识产权局 2018–2020 年度建议提案办理情况（截至 2020-11-20")
    for line in ("共承办 70 件", "主办件 6 件", "主办件 20 件", "主办件已答复 26 件",
                 "解决采纳（A类）24 件", "按期办复率：100.0%", "解决采纳率：92.3%",
                 "公开率：96.0%", "依法不公开 1 件"):
        assert line in text


def test_the_text_report_in_english(capsys):
    assert main(["report", "--history", HISTORY, "--bureau", "sh-ipa", "--years", "2020",
                 "--as-of", "2020-11-20", "--format", "text", "--lang", "en"]) == 0
    text = capsys.readouterr().out
    for line in (": suggestions and proposals of 2020, as of 2020-11-20", "(lead 2, co 9)",
                 "(lead 8, co 10)", "solved 9", "reference 1", "disclosure rate: 100.0%",
                 "adoption rate: 90.0%"):
        assert line in text


@pytest.fixture
def noisy_history(tmp_path) -> Path:
    """The model history with three bad lines: broken JSON (line 3), an unknown type (line 8)
    and a second reply without a reopen (the last line)."""
    lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
    lines.insert(2, '{"type": "submit", "kind": ')
    lines.insert(7, json.dumps({"type": "approve", "at": "2018-01-02T09:00:00+08:00"}))
    lines.append(json.dumps({"type": "reply", "proposal": "2020-cppcc_proposal-21001",
                             "bureau": "sh-ipa", "result": "solved",
                             "at": "2020-12-01T10:00:00+08:00"}))
    path = tmp_path / "noisy.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_bad_lines_are_reported_with_their_numbers_and_skipped(capsys, noisy_history):
    args = ["report", "--history", str(noisy_history), "--bureau", "sh-ipa",
            "--years", "2018-2020", "--as-of", "2020-11-20"]
    assert main(args) == 0
    out, err = capsys.readouterr()
    problems = err.splitlines()
    assert len(problems) == 3
    total = len(noisy_history.read_text().splitlines())
    assert problems[0].startswith(f"{noisy_history}:line 3: [invalid] 不是有效的 JSON")
    assert "(broken JSON: " in problems[0]  # Chinese first, then English
    assert problems[1].startswith(f"{noisy_history}:line 8: [invalid]")
    assert problems[2].startswith(f"{noisy_history}:line {total}: [already_replied]")
    assert "市政协提案 21001" in problems[2]  # the item by its number
    assert json.loads(out)["rates"]["adoption"] == 24 / 26  # the report is unchanged

    assert main([*args, "--strict"]) == 1
    assert len(capsys.readouterr().err.splitlines()) == 3


def test_a_reply_by_a_co_handler_in_the_history_is_refused_as_such(capsys, tmp_path):
    lines = MODEL_FILE.read_text(encoding="utf-8").splitlines()
    co_item = next(json.loads(x) for x in lines
                   if '"type":"assign"' in x and '"co":["sh-ipa"]' in x)
    lines.append(json.dumps({"type": "reply", "proposal": co_item["proposal"],
                             "bureau": "sh-ipa", "result": "solved",
                             "at": "2020-12-01T10:00:00+08:00"}))
    path = tmp_path / "co.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["report", "--history", str(path), "--all", "--years", "2018-2020",
                 "--as-of", "2020-12-31", "--strict"]) == 1
    assert f"line {len(lines)}: [not_lead]" in capsys.readouterr().err


def test_a_missing_history_file_is_a_usage_error(capsys, tmp_path):
    missing = tmp_path / "nosuch.jsonl"
    assert main(["report", "--history", str(missing), "--bureau", "sh-ipa", "--years", "2020",
                 "--as-of", "2020-11-20"]) == 2
    assert "nosuch.jsonl" in capsys.readouterr().err
