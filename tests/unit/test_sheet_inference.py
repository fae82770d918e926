"""What a list says about itself (banli.sheets.infer): the kind and the year from the title,
the session's year from the configured terms, an option or a column still winning, and the
preview saying what it inferred and from which cell."""
from __future__ import annotations

import pytest

from banli.sheets import assignment_preview, reply_preview
from banli.sheets.example import EXAMPLE_BUREAUS
from banli.sheets.infer import (DEFAULT_SESSIONS, chinese_number, infer_kind, infer_year,
                                parse_sessions)
from tests.unit.test_sheets import HEADER, item, xlsx


def title(*texts: str) -> list[dict[str, str]]:
    return [{"cell": f"A{n}", "text": t} for n, t in enumerate(texts, start=1)]


@pytest.mark.parametrize("text, kind", [
    ("2027年市政协提案交办清单", "cppcc_proposal"),
    ("政协上海市第十四届委员会第三次会议提案办理情况", "cppcc_proposal"),
    ("市十六届人大三次会议代表建议交办清单", "npc_suggestion"),
    ("上海市第十六届人民代表大会第三次会议代表建议", "npc_suggestion"),
    ("2027年市人大代表建议答复情况", "npc_suggestion"),
    ("2027年人大代表建议和政协提案交办清单", None),  # both: it says nothing
    ("2027年交办清单", None),
])
def test_the_kind_from_the_title(text, kind):
    found = infer_kind(title(text))
    assert (found["value"] if found else None) == kind


@pytest.mark.parametrize("texts, kind, level, year", [
    (["2027年市政协提案交办清单"], "cppcc_proposal", "municipal", 2027),
    (["２０２７年度 市政协提案"], "cppcc_proposal", "municipal", 2027),  # full-width digits
    (["市十六届人大三次会议代表建议交办清单"], "npc_suggestion", "municipal", 2025),
    (["政协上海市第十四届委员会第一次会议提案"], "cppcc_proposal", "municipal", 2023),
    (["市十五届人大五次会议代表建议"], "npc_suggestion", "municipal", 2022),
    (["十四届全国人大二次会议代表建议"], "npc_suggestion", "national", 2024),
    (["十六届三次会议"], None, "municipal", None),            # a session needs the kind
    (["十六届三次会议"], "npc_suggestion", "district", None),  # and the level's terms
    (["2026年交办", "2027年补充"], "cppcc_proposal", "municipal", None),  # two years
    (["交办清单", "交办日期：2027年1月15日"], "cppcc_proposal", "municipal", 2027),
])
def test_the_year_from_the_title_or_the_session(texts, kind, level, year):
    found = infer_year(title(*texts), kind, level, DEFAULT_SESSIONS)
    assert (found["value"] if found else None) == year


def test_a_session_says_how_it_was_counted():
    found = infer_year(title("市十六届人大三次会议代表建议交办清单"), "npc_suggestion", "municipal")
    assert found["cell"] == "A1" and found["value"] == 2025
    assert "第 16 届于 2023 年召开第一次会议" in found["message"]
    assert "BANLI_SHEET_SESSIONS" in found["message"] and "BANLI_SHEET_SESSIONS" in \
        found["message_en"]
    other = infer_year(title("市十六届人大三次会议"), "npc_suggestion", "municipal",
                       parse_sessions('{"municipal": {"npc_suggestion": [16, 2022]}}'))
    assert other["value"] == 2024  # the terms are configuration


@pytest.mark.parametrize("text, number", [("十六", 16), ("三", 3), ("十", 10), ("二十一", 21),
                                          ("一百零二", 102), ("16", 16)])
def test_chinese_numbers(text, number):
    assert chinese_number(text) == number


@pytest.mark.parametrize("text", ['[]', '{"city": {}}', '{"municipal": {"npc_suggestion": [16]}}',
                                  '{"municipal": {"bill": [16, 2023]}}',
                                  '{"municipal": {"npc_suggestion": [16, 1800]}}'])
def test_bad_session_settings_are_refused(text):
    with pytest.raises(ValueError):
        parse_sessions(text)


def sheet(title_text: str | None, header=HEADER, rows=(item(1),)) -> bytes:
    lines = ([[title_text], None] if title_text else []) + [header, *[list(r) for r in rows]]
    return xlsx(lines, merges=("A1:G1",) if title_text else ())


def test_the_preview_takes_the_titles_kind_and_year_and_says_so():
    preview = assignment_preview(sheet("市十六届人大三次会议代表建议交办清单"), bureaus=EXAMPLE_BUREAUS)
    (row,) = preview["rows"]
    assert row["key"] == "municipal/npc_suggestion/2025/1" and row["status"] == "new"
    assert set(preview["inferred"]) == {"kind", "year"}
    assert preview["inferred"]["kind"]["cell"] == preview["inferred"]["year"]["cell"] == "A1"
    assert preview["inferred"]["kind"]["message"].startswith("类型“人大代表建议”取自 A1 单元格")
    assert preview["inferred"]["kind"]["message_en"].startswith("kind npc_suggestion")


def test_an_option_or_a_column_still_wins():
    data = sheet("2026年市政协提案交办清单")
    preview = assignment_preview(data, bureaus=EXAMPLE_BUREAUS, kind="npc_suggestion",
                                 year=2027)
    assert preview["rows"][0]["key"] == "municipal/npc_suggestion/2027/1"
    assert preview["inferred"] == {}  # nothing inferred: the options said it
    preview = assignment_preview(data, bureaus=EXAMPLE_BUREAUS, year=2027)
    assert preview["rows"][0]["key"] == "municipal/cppcc_proposal/2027/1"
    assert set(preview["inferred"]) == {"kind"}
    columns = sheet("2026年市政协提案交办清单", HEADER + ["类型", "年度"],
                    [item(1) + ["人大建议", 2025], item(2) + [None, None]])
    rows = assignment_preview(columns, bureaus=EXAMPLE_BUREAUS)["rows"]
    assert [r["key"] for r in rows] == ["municipal/npc_suggestion/2025/1",
                                        "municipal/cppcc_proposal/2026/2"]


def test_a_title_that_says_nothing_leaves_the_rows_refused_as_before():
    preview = assignment_preview(sheet("交办清单"), bureaus=EXAMPLE_BUREAUS)
    assert preview["inferred"] == {}
    assert [p["code"] for p in preview["rows"][0]["problems"]] == ["missing_kind",
                                                                  "missing_year"]
    assert "标题中看不出" in preview["rows"][0]["problems"][0]["message"]


def test_a_reply_list_infers_too():
    data = xlsx([["2026年市政协提案答复情况"], None, ["提案号", "办理结果", "答复日期"],
                 [21001, "A", "2026-03-01"]])
    preview = reply_preview(data, bureau="sh-ipa", proposals={
        "municipal/cppcc_proposal/2026/21001": "2026-cppcc_proposal-21001"}.get)
    assert preview["rows"][0]["status"] == "new"
    assert preview["inferred"]["year"]["value"] == 2026
