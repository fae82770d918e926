"""The shipped examples (docs/examples/交办清单示例.xlsx and 答复情况示例.xlsx) with the defaults,
in Chromium: a coordinator uploads the assignment list without choosing a kind or a year (its
title says both, and the preview says so), commits it, and the bureau's clerk imports the
sample reply list (the command line: tests/integration/test_sheets_cli.py)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from banli.sheets.example import EXAMPLE_PATH, REPLY_EXAMPLE_BUREAU, REPLY_EXAMPLE_PATH
from tests.conftest import FixedClock, token_for
from tests.e2e.test_oversight_page import Page, browser, until  # noqa: F401 (fixture)
from tests.integration.http_world import expect
from tests.integration.test_sheets_cli import EXAMPLE_REGISTER as REGISTER

BOARD = "years=2026&as_of=2026-11-20"


@pytest.fixture
def clock() -> FixedClock:
    """The examples are dated 2026; the board looks at 20 November 2026."""
    return FixedClock(datetime(2026, 11, 20, 2, 0, tzinfo=timezone.utc))


@pytest.mark.browser
def test_the_examples_import_with_the_defaults_on_the_page(browser, server):
    coordinator = server.client("coordinator")
    for command in REGISTER:
        expect(coordinator.post("/api/bureaus", json={k: v for k, v in command.items()
                                                      if k != "type"}), 201)
    tab = Page(browser, server, BOARD).sign_in(token_for(server.system.settings.secret,
                                                         "coordinator"))
    page = tab.page
    tab.view("imports", "#imports")
    assert (page.input_value("#i-kind"), page.input_value("#i-year")) == ("", "")
    page.set_input_files("#i-assignments-file", str(EXAMPLE_PATH))
    page.click("#import-assignments button[type=submit]")
    page.wait_for_selector("#sheet-rows tr[data-row]")
    inferred = page.inner_text("#sheet-inferred")
    assert "类型“政协提案”取自 A1 单元格“2026年市政协提案交办清单”" in inferred
    assert "年度 2026 取自 A1 单元格" in inferred
    assert page.inner_text("#sheet-counts [data-count=new]") == "新增 4"
    assert page.inner_text("#sheet-counts [data-count=refused]") == "拒绝 0"
    tab.shot("sheets-example-preview")
    page.click("#lang")
    until(page, "document.querySelector('#sheet-inferred').innerText.includes('from cell A1')")
    page.click("#lang")
    page.click("#sheet-commit")
    page.wait_for_selector("#committed")
    assert page.inner_text("#committed [data-count=imported]") == "已导入 4"
    tab.close()

    clerk = Page(browser, server, BOARD).sign_in(token_for(
        server.system.settings.secret, "clerk", REPLY_EXAMPLE_BUREAU))
    page = clerk.page
    clerk.view("imports", "#imports")
    page.set_input_files("#i-replies-file", str(REPLY_EXAMPLE_PATH))
    page.click("#import-replies button[type=submit]")
    page.wait_for_selector("#sheet-rows tr[data-row]")
    assert page.inner_text("#sheet-counts [data-count=new]") == "新增 2"
    assert "年度 2026 取自 A1 单元格" in page.inner_text("#sheet-inferred")
    clerk.shot("sheets-example-replies")
    page.click("#sheet-commit")
    page.wait_for_selector("#committed")
    assert page.inner_text("#committed [data-count=imported]") == "已导入 2"
    clerk.view("dashboard", "#kpis .kpi")
    until(page, "document.querySelector('[data-kpi=replied] .value').innerText.trim() === '2'")
    clerk.close()
