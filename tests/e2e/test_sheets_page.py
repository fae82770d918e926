"""Spreadsheets on the oversight page, in a real browser against the embedded system over real
HTTP: a coordinator uploads an assignment list (交办清单), reads the preview (a row naming an
unknown bureau refused with its reason, in Chinese and in English), commits it and sees what it
became; the board's lists download as .xlsx holding the rows the page shows; a clerk imports its
bureau's reply list, and an overseer is offered no import at all."""
from __future__ import annotations

from contextlib import contextmanager
from datetime import datetime

import pytest

from tests.conftest import token_for
from tests.e2e.test_oversight_page import (ARTIFACTS, Page, browser, downloaded,  # noqa: F401 (fixture)
                                           until, written)
from tests.integration.test_sheets_http import XLSX, assignment_list, register, reply_list

openpyxl = pytest.importorskip("openpyxl", reason="openpyxl is a dependency")

pytestmark = pytest.mark.browser
BOARD = "years=2020&as_of=2020-11-20&kind=cppcc_proposal"

# number, title, filers, sector, leads, 分办, co, 交办日期; the page's clock says 2020-11-20
ITEMS = [
    ("201", "关于加强知识产权保护的提案", "张三、李四", "经济界别", "上海市知识产权局", None,
     "上海市教育委员会", "2020-02-03"),      # long overdue: the lead's reply, the co's opinion
    ("202", "关于职业教育与就业衔接的提案", "王五", "教育界别", "上海市教育委员会", None, None,
     "2020-08-25"),                          # the reply due within 10 days
    ("203", "关于某不存在单位的提案", "赵六", "科技界别", "上海市不存在局", None, None,
     "2020-03-05"),                          # sheet row 7: refused, no such bureau
    ("204", "关于专利转化的提案", "孙八", "科技界别", "上海市知识产权局", None, None,
     "2020-11-16"),                          # owed, but not due for months
]
REFUSED_ROW = 7


def write(tmp_path, name: str, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@contextmanager
def held(page, pattern: str):
    """Requests matching `pattern` wait until the block ends, then go on to the server: what the
    page shows while an upload or a commit is under way, seen without timing anything."""
    waiting = []
    page.route(pattern, lambda route: waiting.append(route))
    try:
        yield
    finally:
        page.unroute(pattern)
        assert waiting, f"no request to {pattern}"
        for route in waiting:
            route.continue_()


def xlsx_rows(path) -> list[list]:
    """The list's sheet (the last), as values."""
    book = openpyxl.load_workbook(path, read_only=True)
    return [list(row) for row in book.worksheets[-1].iter_rows(values_only=True)]


def day(value) -> str:
    return (value.date() if isinstance(value, datetime) else value).isoformat()


def test_a_coordinator_imports_an_assignment_list_and_downloads_the_lists(browser, server,
                                                                          tmp_path):
    coordinator = server.client("coordinator")
    register(coordinator)
    sheet = write(tmp_path, "2020年政协提案交办清单.xlsx", assignment_list(ITEMS))
    tab = Page(browser, server, BOARD).sign_in(token_for(server.system.settings.secret,
                                                         "coordinator"))
    page = tab.page
    tab.view("imports", "#imports")
    # a coordinator imports assignment lists, not replies; kind and year: what the sheet says
    assert page.locator("#import-assignments").is_visible()
    assert page.locator("#import-replies").is_hidden()
    assert (page.input_value("#i-kind"), page.input_value("#i-year")) == ("", "")
    tab.shot("sheets-board-coordinator")

    page.set_input_files("#i-assignments-file", str(sheet))
    # while the file is read the button waits and says so (the request held here until seen)
    with held(page, "**/api/sheets/assignments*"):
        page.click("#import-assignments button[type=submit]")
        until(page, "document.querySelector('#import-assignments button').disabled"
                    " && document.querySelector('#import-status .spinner')")
        assert page.inner_text("#import-status") == f"正在上传并读取 {sheet.name}……"
    page.wait_for_selector("#sheet-rows tr[data-row]")
    assert page.locator("#import-assignments button").is_enabled()
    assert page.locator("#sheet-rows tr[data-row]").count() == 4
    assert "（预览，尚未导入）" in page.inner_text("#drawer-title")
    assert "表头第 3–4 行" in page.inner_text(".sheet-info")
    # the title row (2020年市政协提案交办清单) gave the kind and the year, and the page says so
    inferred = page.inner_text("#sheet-inferred")
    assert "类型“政协提案”取自 A1 单元格" in inferred and "年度 2020 取自 A1 单元格" in inferred
    assert page.inner_text("#sheet-page") == "第 1–4 项，共 4 项"
    assert page.inner_text("#sheet-counts [data-count=new]") == "新增 3"
    assert page.inner_text("#sheet-counts [data-count=refused]") == "拒绝 1"
    refused = page.locator(f"#sheet-rows tr[data-row='{REFUSED_ROW}']")
    assert refused.get_attribute("class") == "refused"
    assert "拒绝" in refused.inner_text()
    assert f"第 {REFUSED_ROW} 行" in refused.inner_text()
    assert "上海市不存在局" in refused.locator(".reason").inner_text()
    first = page.inner_text("#sheet-rows tr[data-row='5']")
    assert "登记建议提案" in first and "关于加强知识产权保护的提案" in first
    assert "交办" in first and "主办 上海市知识产权局" in first and "会办 上海市教育委员会" in first
    assert page.inner_text("#sheet-commit") == "确认导入（发送 6 条指令）"
    assert server.system.log.count() == 3  # the bureaus: previewing writes nothing
    tab.shot("sheets-preview-zh")

    # the reason in the page's language
    page.click("#lang")
    until(page, f"document.querySelector(\"#sheet-rows tr[data-row='{REFUSED_ROW}'] .reason\")"
                ".innerText.startsWith('row')")
    assert "bureau '上海市不存在局' is not registered" in refused.inner_text()
    assert "refused" in refused.inner_text()
    tab.shot("sheets-preview-en")
    page.click("#lang")

    with held(page, "**/api/sheets/*/commit"):
        page.click("#sheet-commit")
        until(page, "document.querySelector('#sheet-commit').disabled"
                    " && document.querySelector('#sheet-commit-status .spinner')")
        assert page.inner_text("#sheet-commit-status") == "正在导入……"
    page.wait_for_selector("#committed")
    assert page.inner_text("#committed [data-count=imported]") == "已导入 3"
    assert page.inner_text("#committed [data-count=refused]") == "被拒绝 0"
    assert "预览中拒绝 1 行" in page.inner_text("#committed")
    assert page.inner_text("#drawer-title").endswith("（已导入）")
    assert page.locator("#sheet-commit").count() == 0  # committed once
    history = coordinator.get("/api/proposals/2020-cppcc_proposal-201/history").json()["events"]
    assert [e["type"] for e in history] == ["ProposalSubmitted", "ProposalAssigned"]
    assert {e["actor"]["user"] for e in history} == {"test-coordinator"}
    tab.shot("sheets-committed")

    # the board's numbers follow, in the scope it was left with: 3 lead duties and 1 co-handler's
    tab.view("dashboard", "#kpis .kpi")
    until(page, "document.querySelector('[data-kpi=duties] .value').innerText.trim() === '4'")
    assert server.system.settle(30)
    owed = coordinator.get("/api/assignments").json()["items"]
    urgent = [i for i in owed if i["overdue"] or i["due_soon"]]
    until(page, f"document.querySelectorAll('#owed tr[data-proposal]').length === {len(urgent)}")

    # the deadlines list as .xlsx: the rows the page shows, no more, in words
    shown = [(row.get_attribute("data-proposal"), row.get_attribute("data-bureau"),
              *[row.locator("td").nth(n).inner_text() for n in (0, 1, 2, 5, 6)])
             for row in page.locator("#owed tr[data-proposal]").all()]
    assert {(p[-3:], b) for p, b, *_ in shown} == {("201", "sh-ipa"), ("201", "sh-edu"),
                                                   ("202", "sh-edu")}
    assert any(i["proposal_id"].endswith("204") for i in owed)  # open, but not on the list
    page.locator("#owed").scroll_into_view_if_needed()
    tab.shot("sheets-owed-list")
    saved = downloaded(page, "[data-xlsx=owed]", "sheets-owed.xlsx")
    header, *rows = xlsx_rows(saved)
    assert header == ["编号", "标题", "承办单位", "主办/会办", "待办", "期限", "剩余天数"]
    names = {"上海市知识产权局": "sh-ipa", "上海市教育委员会": "sh-edu"}
    got = [(f"2020-cppcc_proposal-{r[0][-3:]}", names[r[2]], r[0], r[1], r[2],
            written(day(r[5])), str(int(r[6]))) for r in rows]
    assert got == shown
    assert rows[0][0] == "市政协提案 0201" and rows[0][3] in ("主办", "会办")

    # the league table and (on the desk) the awaiting list likewise: a row for each row on the page
    header, *rows = xlsx_rows(downloaded(page, "[data-xlsx=league]", "sheets-league.xlsx"))
    assert len(rows) == page.locator("#league tr[data-bureau]").count()
    assert [r[0] for r in rows] == page.eval_on_selector_all(
        "#league tr[data-bureau] th", "cells => cells.map(c => c.innerText.trim())")
    tab.view("desk", "#awaiting tbody tr")
    header, *rows = xlsx_rows(downloaded(page, "[data-xlsx=awaiting]", "sheets-awaiting.xlsx"))
    assert len(rows) == page.locator("#awaiting tr[data-assign]").count()
    tab.view("dashboard", "#kpis .kpi")

    # the items behind a number, from its drawer, in English
    page.click("#lang")
    page.click('[data-kpi="duties"] a.num')
    page.wait_for_selector("#items tr.item")
    header, *rows = xlsx_rows(downloaded(page, "#drawer-xlsx", "sheets-duties.xlsx"))
    assert header[:3] == ["No.", "Title", "Bureau"] and "In numerator" not in header
    assert sorted(r[0] for r in rows) == sorted(page.eval_on_selector_all(
        "#items tr.item", "rows => rows.map(r => r.children[0].innerText.trim())"))
    page.click("#drawer-close")

    # the year-end document's attachment, beside the document's downloads
    downloaded(page, '.downloads a[data-format="xlsx"]', "sheets-attachment.xlsx")
    tab.close()


def test_a_clerk_imports_its_reply_list_and_an_overseer_is_offered_no_import(browser, server,
                                                                            tmp_path):
    coordinator = server.client("coordinator")
    register(coordinator)
    preview = coordinator.post("/api/sheets/assignments", content=assignment_list(ITEMS),
                               headers={"Content-Type": XLSX},
                               params={"kind": "cppcc_proposal", "year": 2020}).json()
    assert coordinator.post(f"/api/sheets/{preview['preview_id']}/commit").status_code == 200
    replies = write(tmp_path, "答复情况.xlsx", reply_list([
        ("201", "A类", "2020-04-01", "全文公开", "电话"),
        ("202", "B", "2020-04-02", None, None),     # sh-edu's item: refused as unknown
        ("999", "A", "2020-04-03", None, None)]))  # no such item: refused in the preview

    tab = Page(browser, server, BOARD).sign_in(token_for(server.system.settings.secret,
                                                         "clerk", "sh-ipa"))
    page = tab.page
    tab.view("imports", "#imports")
    assert page.locator("#import-replies").is_visible()
    assert page.locator("#import-assignments").is_hidden()
    assert page.inner_text("#i-replies-bureau") == "上海市知识产权局"
    # the list has no title: its kind and year are chosen on the page
    page.select_option("#i-kind", "cppcc_proposal")
    page.fill("#i-year", "2020")
    page.set_input_files("#i-replies-file", str(replies))
    page.click("#import-replies button[type=submit]")
    page.wait_for_selector("#sheet-rows tr[data-row]")
    assert "上海市知识产权局" in page.inner_text("#drawer-title")
    unknown = page.inner_text("#sheet-rows tr[data-row='4']")
    assert "不是本单位主办的建议提案" in unknown
    others = page.inner_text("#sheet-rows tr[data-row='3']")  # another bureau's: the same words
    assert "拒绝" in others and "不是本单位主办的建议提案" in others
    assert page.locator("#sheet-inferred").count() == 0  # the page's options said it all
    reply = page.inner_text("#sheet-rows tr[data-row='2']")
    assert "沟通" in reply and "电话" in reply and "A 已解决或采纳" in reply and "全文公开" in reply
    tab.shot("sheets-clerk-replies")
    page.click("#sheet-commit")
    page.wait_for_selector("#committed")
    assert page.inner_text("#committed [data-count=imported]") == "已导入 1"
    assert page.inner_text("#committed [data-count=refused]") == "被拒绝 0"
    assert "预览中拒绝 2 行" in page.inner_text("#committed")
    tab.shot("sheets-clerk-committed")
    tab.view("dashboard", "#kpis .kpi")
    until(page, "document.querySelector('[data-kpi=replied] .value').innerText.trim() === '1'")
    tab.close()

    # an overseer has no imports: no tab (the office's report is its to read), and the address of
    # the view shows its dashboard
    overseer = Page(browser, server, "view=imports").sign_in(token_for(server.system.settings.secret,
                                                                       "overseer"))
    assert overseer.page.locator("#nav a[data-view]").evaluate_all(
        "tabs => tabs.map(t => t.dataset.view)") == ["desk", "dashboard", "intake"]
    assert overseer.page.locator("#imports, #import-assignments, #import-replies").count() == 0
    overseer.close()


def test_a_long_preview_is_read_a_page_at_a_time(browser, server, tmp_path):
    """A list of 150 items: the drawer shows the first 100 with the whole's counts, the next
    page the rest, and a filter the refused rows only, each page asked of the server."""
    coordinator = server.client("coordinator")
    register(coordinator)
    items = [(str(300 + n), f"关于第{n}项的提案", "张三", "经济界别",
              "上海市不存在局" if n % 10 == 0 else "上海市知识产权局", None, None, "2020-03-02")
             for n in range(150)]
    sheet = write(tmp_path, "长清单.xlsx", assignment_list(items))
    tab = Page(browser, server, "view=imports").sign_in(
        token_for(server.system.settings.secret, "coordinator"), ready="#imports")
    page = tab.page
    page.set_input_files("#i-assignments-file", str(sheet))
    page.click("#import-assignments button[type=submit]")
    page.wait_for_selector("#sheet-rows tr[data-row]")
    assert page.locator("#sheet-rows tr[data-row]").count() == 100
    assert page.inner_text("#sheet-page") == "第 1–100 项，共 150 项"
    assert page.inner_text("#sheet-counts [data-count=new]") == "新增 135"
    assert page.inner_text("#sheet-commit") == "确认导入（发送 270 条指令）"  # the whole's
    assert page.locator("#sheet-prev").is_disabled()
    with page.expect_response("**/api/sheets/*?*offset=100*"):
        page.click("#sheet-next")
    until(page, "document.querySelector('#sheet-page').innerText === '第 101–150 项，共 150 项'")
    rows = page.locator("#sheet-rows tr[data-row]")
    assert rows.count() == 50 and rows.first.get_attribute("data-row") == "105"
    assert page.locator("#sheet-next").is_disabled()
    page.select_option("#sheet-filter", "refused")
    until(page, "document.querySelector('#sheet-page').innerText === '第 1–15 项，共 15 项'")
    assert {r.get_attribute("data-status") for r in rows.all()} == {"refused"}
    tab.shot("sheets-paged")
    page.click("#lang")
    until(page, "document.querySelector('#sheet-page').innerText === 'items 1–15 of 15'")
    tab.close()
