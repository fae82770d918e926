"""Every list on the board downloads as the page shows it (issue 22 §3, §4), in a real browser
(Debian's Chromium) against the embedded system with the model history over real HTTP, offline:
the league, the deadlines list, the items behind a count and behind a rate, the records behind
the entries, and the desk's list to assign, each downloaded with its "下载 Excel" and held, header
row and every row, cell for cell, to the page's table: in words (kinds, roles, results, 是/否,
bureaus by name, items by their numbers), dates as the page writes them, rates as it rounds
them; in Chinese and in English. The deadlines list follows the board's years and date: a 2020
board does not list a 2018 item, and counts days to its own date."""
from __future__ import annotations

import json
from datetime import datetime

import pytest

from apps.local import import_commands
from tests.conftest import token_for
from tests.e2e.test_oversight_page import ARTIFACTS, Page, browser, downloaded, until  # noqa: F401 (fixture)
from tests.integration.test_oversight_api import LATE

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is a dependency")

pytestmark = pytest.mark.browser
BOARD = "years=2020&as_of=2020-11-20"
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def as_shown(cell, lang: str) -> str:
    """A spreadsheet's cell as Excel shows it, in the page's words: a date (and time) in the
    sheet's format, a percent as formatted, a whole number without its .0, an empty cell as the
    page's "—"."""
    value, fmt = cell.value, cell.number_format
    if value is None:
        return "—"
    if isinstance(value, datetime):
        day = (f"{value.year}年{value.month}月{value.day}日" if lang == "zh"
               else f"{value.day} {MONTHS[value.month - 1]} {value.year}")
        return f"{day} {value:%H:%M}" if "h" in fmt else day
    if isinstance(value, (int, float)) and fmt.endswith("%"):
        decimals = len(fmt.split(".")[1]) - 1 if "." in fmt else 0
        return f"{value * 100:.{decimals}f}%"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def sheet(path, lang: str) -> list[list[str]]:
    """The list's sheet (the last), header and rows, as shown."""
    book = openpyxl.load_workbook(path)
    return [[as_shown(cell, lang) for cell in row] for row in book.worksheets[-1].iter_rows()]


def table(page, selector: str) -> list[list[str]]:
    """The page's table, header and rows, as the page shows them (an empty list's one row of
    "nothing" left out)."""
    rows = page.eval_on_selector_all(f"{selector} tr", """rows => rows
        .filter(r => !r.querySelector('td[colspan]'))
        .map(r => [...r.children].map(c => c.innerText.trim()))""")
    return rows


def same(page, selector: str, download: str, name: str, lang: str) -> list[list[str]]:
    """Downloads the list beside `selector` and holds it equal to the page's table."""
    shown = table(page, selector)
    saved = sheet(downloaded(page, download, name), lang)
    assert saved[0] == shown[0], (name, saved[0], shown[0])
    assert saved[1:] == shown[1:], name
    return shown


def open_drawer(page, link: str) -> None:
    page.click(link)
    until(page, "document.querySelector('#drawer-title').dataset.count !== undefined"
                " && !document.querySelector('#drawer-xlsx').hidden")


def test_every_list_on_the_board_downloads_as_the_page_shows_it(browser, model):
    late = [json.dumps(line, ensure_ascii=False) for line in LATE]
    assert import_commands(model.system.handle, late)[2] == []
    assert model.system.settle(30)
    tab = Page(browser, model, BOARD).sign_in(token_for(model.system.settings.secret,
                                                        "overseer"))
    page = tab.page
    until(page, "document.querySelectorAll('#owed tr[data-proposal]').length === 3")

    # the deadlines list: the 2020 board's own, counted to 2020-11-20 (the 2018 item is not on it)
    owed = same(page, "#owed", "[data-xlsx=owed]", "board-owed-zh.xlsx", "zh")
    assert owed[0] == ["编号", "标题", "承办单位", "主办/会办", "待办", "期限", "剩余天数"]
    assert owed[1:] == [
        ["市政协提案 9301", "提案 9301", "上海市人力资源和社会保障局", "会办", "会办意见", "2020年7月1日",
         "-142"],
        ["市政协提案 9301", "提案 9301", "上海市知识产权局", "主办", "答复", "2020年9月1日", "-80"],
        ["市人大代表建议 9302", "建议 9302", "上海市知识产权局", "主办", "答复", "2020年11月25日", "5"]]

    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "board-lists-zh.png"), full_page=True)

    # the league: the same columns, rows in the same order, rates rounded alike
    league = same(page, "#league", "[data-xlsx=league]", "board-league-zh.xlsx", "zh")
    assert league[0][:4] == ["承办单位", "主办", "会办", "已答复"]
    assert "上海市知识产权局" in [row[0] for row in league[1:]]

    # a plain count: its number in the title, no 计入分子
    open_drawer(page, '[data-kpi="replied"] a.num')
    title = page.inner_text("#drawer-title")
    assert "null" not in title and title.endswith(page.eval_on_selector(
        "#drawer-title", "t => t.dataset.count") + " 件次")
    replied = same(page, "#items", "#drawer-xlsx", "board-replied-zh.xlsx", "zh")
    assert "计入分子" not in replied[0] and len(replied) - 1 == int(page.eval_on_selector(
        "#drawer-title", "t => t.dataset.count"))
    assert {row[replied[0].index("办理结果")] for row in replied[1:]} <= {
        "A 已解决或采纳", "B 正在解决或列入计划", "C 因条件限制待以后解决", "D 留作参考"}
    page.click("#drawer-close")

    # a rate: its numerator over its denominator, each item counted or not, in words
    open_drawer(page, '[data-kpi="contact"] a.num')
    assert " / " in page.inner_text("#drawer-title")
    tab.shot("board-rate-drilldown")
    rate = same(page, "#items", "#drawer-xlsx", "board-contact-zh.xlsx", "zh")
    assert rate[0][-2:] == ["答复前沟通", "计入分子"]
    assert len(rate) > 1 and {row[-1] for row in rate[1:]} <= {"是", "否"}
    assert all(row[-1] == row[-2] for row in rate[1:])  # counted: those who spoke first
    page.click("#drawer-close")

    # the records behind the entries (whose act, who typed it in, how it was entered)
    page.goto(f"{model.url}/app/?{BOARD}&entries=all")
    until(page, "document.querySelector('#drawer-title')"
                " && document.querySelector('#drawer-title').dataset.count !== undefined"
                " && !document.querySelector('#drawer-xlsx').hidden")
    entries = same(page, "#entries", "#drawer-xlsx", "board-entries-zh.xlsx", "zh")
    assert entries[0] == ["编号", "承办单位", "记录", "发生日期", "录入时间", "操作人", "录入人", "录入情况"]
    assert len(entries) > 1 and {row[-1] for row in entries[1:]} <= {"逾期补录", "批量导入", "按时录入"}
    page.click("#drawer-close")

    # English: the same lists in English words
    page.click("#lang")
    until(page, "document.querySelector('#owed th').innerText.trim() === 'No.'")
    owed_en = same(page, "#owed", "[data-xlsx=owed]", "board-owed-en.xlsx", "en")
    assert owed_en[2][2:6] == ["Shanghai Intellectual Property Administration", "lead", "reply", "1 Sep 2020"]
    same(page, "#league", "[data-xlsx=league]", "board-league-en.xlsx", "en")
    open_drawer(page, '[data-kpi="adoption"] a.num')
    adoption = same(page, "#items", "#drawer-xlsx", "board-adoption-en.xlsx", "en")
    assert adoption[0][-1] == "In numerator" and {row[-1] for row in adoption[1:]} == {"yes", "no"}
    page.click("#drawer-close")
    page.click("#lang")

    # the desk's list to assign: a proposal waiting, in the same columns
    assert model.client("coordinator").post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "9401", "title": "待交办的提案",
        "at": "2020-11-02T09:00:00+08:00"}).status_code == 201
    page.goto(f"{model.url}/app/?view=desk&years=2020")
    page.wait_for_selector("#awaiting tr[data-assign]")
    awaiting = same(page, "#awaiting", "[data-xlsx=awaiting]", "board-awaiting-zh.xlsx", "zh")
    assert awaiting[0] == ["编号", "标题", "提交日期", "曾退回"]
    assert ["市政协提案 9401", "待交办的提案", "2020年11月2日", "否"] in awaiting[1:]
    tab.close()
