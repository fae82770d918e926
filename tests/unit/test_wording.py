"""How things are named for people (banli.domain.wording): an item by its number with its kind
and level, a day in words."""
from __future__ import annotations

from datetime import date, datetime, timezone

from banli.domain.types import SHANGHAI
from banli.domain.wording import day_words, item_number, numbered


def test_an_items_number_says_its_level_and_kind():
    assert item_number("cppcc_proposal", "municipal", 2020, "7") == (
        "市政协提案 0007", "municipal CPPCC proposal 0007")
    assert item_number("npc_suggestion", "municipal", 2020, "0007") == (
        "市人大代表建议 0007", "municipal NPC suggestion 0007")
    assert item_number("npc_suggestion", "national", 2020, "21001")[0] == "全国人大代表建议 21001"
    assert item_number("cppcc_proposal", "district", 2020, "A7")[0] == "区政协提案 A7"
    assert item_number("cppcc_proposal", "provincial", 2019, "12", with_year=True) == (
        "2019年省政协提案 0012", "2019 provincial CPPCC proposal 0012")


def test_a_list_shows_the_year_only_where_it_spans_years():
    one = numbered([{"kind": "cppcc_proposal", "level": "municipal", "year": 2020,
                     "number": "7"}])
    assert one[0]["display"] == "市政协提案 0007"
    two = numbered([{"kind": "cppcc_proposal", "level": "municipal", "year": y, "number": "7"}
                    for y in (2019, 2020)])
    assert [i["display"] for i in two] == ["2019年市政协提案 0007", "2020年市政协提案 0007"]
    assert numbered([]) == []


def test_days_and_times_in_words():
    assert day_words(date(2020, 3, 1)) == ("2020年3月1日", "1 March 2020")
    assert day_words(datetime(2020, 3, 1, 9, 30, tzinfo=SHANGHAI)) == (
        "2020年3月1日 09:30", "1 March 2020, 09:30")
    assert day_words(datetime(2020, 2, 29, 16, 0, tzinfo=timezone.utc)) == (
        "2020年3月1日", "1 March 2020")  # midnight in Shanghai: the day alone
