"""The oversight page in a real browser: Debian's headless Chromium driven by Playwright, against
the embedded system over real HTTP, offline (every request that leaves 127.0.0.1 is refused and
fails the test). Screenshots go to artifacts/ (git-ignored)."""
from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from banli.domain.views.rates import RATES

from tests.conftest import ROOT, token_for

playwright = pytest.importorskip("playwright.sync_api", reason="the test extra installs playwright")
docx = pytest.importorskip("docx", reason="python-docx is a dependency")

pytestmark = pytest.mark.browser
ARTIFACTS = ROOT / "artifacts"
IPA_ONLY = "2020-cppcc_proposal-21001"


def chromium_path() -> str:
    found = os.environ.get("BANLI_CHROMIUM") or shutil.which("chromium")
    if not found:
        pytest.fail("no Chromium: `make test` installs Debian's chromium (apt-get install chromium)")
    return found


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(),
                                    args=["--no-sandbox", "--lang=zh-CN"])
        yield browser
        browser.close()


def until(page, expression: str, timeout: float = 10) -> None:
    """Wait until a JavaScript expression holds on the page. Polled from here with `evaluate`:
    Playwright's own wait_for_function compiles its predicate in the page, which the page's
    strict Content-Security-Policy (no eval) rightly refuses."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(f"() => Boolean({expression})"):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        time.sleep(0.05)


def written(iso: str) -> str:
    """A date as the Chinese page writes it: 2020-05-08 → 2020年5月8日."""
    year, month, day = (int(part) for part in iso[:10].split("-"))
    return f"{year}年{month}月{day}日"


def downloaded(page, selector: str, name: str) -> Path:
    """Click what downloads a file and keep it in artifacts/ as `name`; the name the server
    suggests has the same suffix."""
    with page.expect_download() as download:
        page.click(selector)
    saved = ARTIFACTS / name
    download.value.save_as(saved)
    assert download.value.suggested_filename.endswith(saved.suffix)
    return saved


class Page:
    """One signed-in tab at 1280×800 that may not leave the machine."""

    def __init__(self, browser, server, query: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 800},
                                           locale="zh-CN", timezone_id="Asia/Shanghai")
        self.page = self.context.new_page()
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.page.route("**/*", self._only_local)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("console", lambda message: self.errors.append(message.text)
                     if "Content Security Policy" in message.text else None)
        self.page.goto(f"{server.url}/app/?{query}")

    def _only_local(self, route) -> None:
        if route.request.url.startswith(("http://127.0.0.1", "data:")):
            route.continue_()
        else:
            self.outside.append(route.request.url)
            route.abort()

    def sign_in(self, token: str, ready: str = "#kpis .kpi") -> "Page":
        """Signs in with `token` and waits for `ready` (the view the URL or the role lands on:
        the dashboard's cards unless told otherwise) and for the live feed, where the role
        follows it."""
        self.page.fill("#token", token)
        self.page.click("#signin-go")
        self.page.wait_for_selector(ready)
        until(self.page, "document.querySelector('#live').hidden"
                         " || document.querySelector('#live').dataset.state !== 'off'")
        return self

    def view(self, name: str, ready: str) -> None:
        """Goes to a view by its tab in the top bar and waits for `ready`."""
        self.page.click(f'#nav a[data-view="{name}"]')
        self.page.wait_for_selector(ready)

    def open_form(self, command: str):
        """Opens the form of `command` on the item shown (unfolding 其他办理事项 where it is
        folded) and answers it."""
        block = self.page.locator(f'details.action[data-command="{command}"]').first
        if not block.is_visible():
            self.page.click("details.more-actions > summary")
        if block.get_attribute("open") is None:
            block.locator("summary").first.click()
        return block.locator("form.command")

    def kpi(self, name: str) -> str:
        return self.page.inner_text(f'[data-kpi="{name}"] .value').strip()

    def shot(self, name: str) -> None:
        ARTIFACTS.mkdir(exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{name}.png"))

    def close(self) -> None:
        assert self.errors == [], self.errors
        assert self.outside == [], f"the page reached outside the machine: {self.outside}"
        self.context.close()


def test_page_shows_the_model_report_live_and_drills_down_to_events(browser, model):
    secret = model.system.settings.secret
    tab = Page(browser, model, "bureau=sh-ipa&years=2020&as_of=2020-11-20").sign_in(
        token_for(secret, "overseer"))
    page = tab.page
    until(page, "document.querySelector('#f-bureau').value === 'sh-ipa'")
    until(page, "document.querySelector('[data-kpi=duties] .value').innerText.trim()"
                           " === '29'")
    report = model.client("overseer").get("/api/report", params={
        "bureau": "sh-ipa", "years": "2020", "as_of": "2020-11-20"}).json()
    assert report["proposals"] == 29 and report["replies"] == 10
    # the model report: 29 handled, 10 lead items replied, 9 solved and 1 kept for reference,
    # replies disclosed 100%
    assert (tab.kpi("duties"), tab.kpi("replied")) == ("29", "10")
    assert tab.kpi("disclosure") == "100%" and tab.kpi("adoption") == "90%"
    # each card shows its rate's numerator and denominator, and every rate of the table has one
    assert page.inner_text('[data-parts="adoption"]') == "9 / 10"
    assert page.locator("[data-parts]").count() == len(RATES)
    assert page.evaluate("typeof echarts") == "object", "the charts' library did not load"
    assert page.locator("#chart-results canvas").count() == 1
    assert "上海市知识产权局" in page.inner_text("#league")
    tab.shot("oversight-zh-1280x800")

    # live: a command posted elsewhere shows on the page without a reload
    started = time.monotonic()
    r = model.client("clerk", "sh-ipa").post("/api/commands", json={
        "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
        "method": "visit"})
    assert r.status_code == 201, r.text
    page.locator("#feed li.new", has_text=IPA_ONLY).wait_for(timeout=2_000)
    shown_after = time.monotonic() - started
    assert "沟通" in page.inner_text("#feed")
    print(f"live: the event was on the page {shown_after:.2f} s after the command was accepted")

    # drill-down: a rate → the items behind it → one item's events
    page.click('[data-kpi="adoption"] a.num')
    page.wait_for_selector("#items tr.item")
    assert "9 / 10" in page.inner_text("#drawer-title")
    assert page.locator("#items tr.item").count() == 10
    assert page.locator("#items .tag.no").count() == 1  # the one kept for reference
    tab.shot("oversight-drilldown")
    page.click(f'#items tr.item[data-proposal="{IPA_ONLY}"]')
    page.wait_for_selector("#history li")
    events = model.client("overseer").get(f"/api/proposals/{IPA_ONLY}/history").json()["events"]
    assert page.locator("#history li").count() == len(events)
    last = page.locator("#history li").last
    assert "沟通" in last.inner_text() and "test-clerk" in last.inner_text()
    last.locator("details.audit summary").click()  # when it happened, was recorded, by which command
    assert ("发生" in last.inner_text() and "记录" in last.inner_text()
            and events[-1]["command_id"] in last.inner_text())
    tab.shot("oversight-history")

    # the year-end document, downloaded from the page, states the same numbers
    page.click("#drawer-close")
    saved = downloaded(page, '.downloads a[data-format="docx"]', "oversight-download.docx")
    text = "\n".join(p.text for p in docx.Document(saved).paragraphs)
    assert "共承办代表建议和政协提案29件" in text and "主办件2件" in text

    # English is one click away
    page.click("#lang")
    assert page.inner_text('[data-kpi="on_time_reply"] .label') == "On-time reply rate"
    tab.shot("oversight-en-1280x800")

    # the audit clock: what the system showed before anything was recorded
    page.fill("#f-recorded", "2000-01-01T00:00:00")
    page.click("#controls button[type=submit]")
    until(page, "document.querySelector('[data-kpi=duties] .value').innerText.trim()"
                           " === '0'")
    assert "as recorded by 1 Jan 2000 00:00" in page.inner_text("#clocks")
    tab.close()


# Every /api/dashboard the page asks for: when it started (the page's clock) and the position
# its answer stands at.
RECORD_BOARDS = """() => {
  window.boards = [];
  const fetch = window.fetch;
  window.fetch = async (...args) => {
    const start = performance.now();
    const response = await fetch(...args);
    if (String(args[0]).includes("/api/dashboard")) {
      response.clone().json().then((body) => window.boards.push({ start, position: body.position }));
    }
    return response;
  };
}"""


def test_the_board_follows_the_feed_soon_then_at_most_every_few_seconds(browser, model):
    """Under many clerks every live batch has events: the board refreshes soon after the first,
    then at most once every 3 s, and always after the last batch (issue 24)."""
    tab = Page(browser, model, "bureau=sh-ipa&years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "overseer"))
    page = tab.page
    page.evaluate(RECORD_BOARDS)
    clerk = model.client("clerk", "sh-ipa")

    def contact() -> float:
        r = clerk.post("/api/commands", json={
            "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
            "method": "visit"})
        assert r.status_code == 201, r.text
        return page.evaluate("performance.now()")

    sent = contact()
    until(page, "window.boards.length === 1", timeout=5)
    first = page.evaluate("window.boards[0].start")
    assert first - sent < 1500  # the first batch after a quiet spell: soon
    for _ in range(6):  # a batch every 0.3 s or so
        last = contact()
        time.sleep(0.3)
    head = model.system.log.head()
    until(page, f"window.boards.some((b) => b.start > {last})", timeout=10)
    until(page, f"window.boards.some((b) => b.position === {head})", timeout=5)
    time.sleep(1)
    starts = page.evaluate("window.boards.map((b) => b.start)")
    gaps = [later - earlier for earlier, later in zip(starts, starts[1:])]
    assert len(starts) <= 1 + (last - first) // 3000 + 1, starts
    assert all(gap >= 2900 for gap in gaps), gaps
    tab.close()


def test_a_clerk_of_another_bureau_cannot_see_the_model_bureaus_items(browser, model):
    tab = Page(browser, model, "years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-hrss"))
    page = tab.page
    assert page.locator("#f-bureau").is_disabled()
    assert page.eval_on_selector("#f-bureau", "s => [...s.options].map(o => o.value)") == ["sh-hrss"]
    assert "上海市知识产权局" not in page.inner_text("#league")
    page.click('[data-kpi="duties"] a.num')
    page.wait_for_selector("#items tr.item")
    bureaus = set(page.eval_on_selector_all("#items tr.item td:nth-child(3)",
                                            "cells => cells.map(c => c.innerText)"))
    assert bureaus == {"上海市人力资源和社会保障局"}
    # asking for the model bureau's item directly: unknown to this clerk, nothing of it shown
    page.goto(f"{model.url}/app/?view=item&proposal={IPA_ONLY}")
    page.wait_for_selector("#item-page-body .error")
    assert "不存在" in page.inner_text("#item-page-body")
    assert page.locator("#history li").count() == 0
    tab.shot("oversight-clerk-refused")
    page.go_back()
    page.wait_for_selector("#kpis .kpi")
    until(page, "document.querySelector('#live').dataset.state !== 'off'")
    # a post by the model bureau does not reach this clerk's live feed
    r = model.client("clerk", "sh-ipa").post("/api/commands", json={
        "type": "log_contact", "proposal": IPA_ONLY, "bureau": "sh-ipa", "stage": "after",
        "method": "visit"})
    assert r.status_code == 201
    time.sleep(1.5)  # several polls of the live feed
    assert IPA_ONLY not in page.inner_text("#feed")
    tab.close()


def test_page_without_a_token_asks_to_sign_in_and_refuses_a_bad_one(browser, model):
    tab = Page(browser, model, "")
    page = tab.page
    page.wait_for_selector("#signin:not([hidden])")
    page.fill("#token", "not-a-token")
    page.click("#signin-go")
    until(page, "document.querySelector('#signin-error').innerText.length > 0")
    assert "令牌无效" in page.inner_text("#signin-error")
    assert page.locator("#board").is_hidden()
    tab.close()


def test_a_coordinator_assigns_from_suggestions_and_reads_the_deadlines(browser, model):
    coordinator = model.client("coordinator")
    r = coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "9100",
        "title": "关于加强知识产权保护、促进知识产权运营交易的提案", "topics": ["知识产权保护"],
        "at": "2020-11-19T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    proposal = "2020-cppcc_proposal-9100"
    # the coordinator lands on the desk (交办台), where what awaits assignment is
    tab = Page(browser, model, "").sign_in(token_for(model.system.settings.secret, "coordinator"),
                                           ready="#awaiting tbody tr")
    page = tab.page
    page.click(f'#awaiting tr[data-assign="{proposal}"]')
    page.wait_for_selector("#suggest-lead li")
    suggested = page.eval_on_selector_all("#suggest-lead li", "items => items.map(i => i.dataset.bureau)")
    api = coordinator.get(f"/api/proposals/{proposal}/suggestions", params={"limit": 5}).json()
    assert suggested == [s["bureau"] for s in api["lead"]] and suggested[0] == "sh-ipa"
    assert page.locator("#similar tr").count() == len(api["similar"]) > 0
    # the assignment's form (the registry's `assign`) starts with the suggested lead
    form = tab.open_form("assign")
    assert form.locator("[data-field=lead] input:checked").evaluate_all(
        "boxes => boxes.map(b => b.value)") == ["sh-ipa"]
    tab.shot("oversight-assign")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.ok").wait_for()
    events = coordinator.get(f"/api/proposals/{proposal}/history").json()["events"]
    assert [e["type"] for e in events] == ["ProposalSubmitted", "ProposalAssigned"]
    assert events[-1]["actor"]["role"] == "coordinator"
    assert events[-1]["data"]["duties"][0]["bureau"] == "sh-ipa"
    until(page, f"!document.querySelector('#awaiting tr[data-assign=\"{proposal}\"]')")

    # the item opens with each assignment's deadline explained
    page.goto(f"{model.url}/app/?view=item&proposal={IPA_ONLY}")
    page.wait_for_selector("#deadlines tr[data-bureau]")
    explained = coordinator.get(f"/api/proposals/{IPA_ONLY}/deadlines").json()
    assert page.locator("#deadlines tr[data-bureau]").count() == len(explained["assignments"])
    lead = next(a for a in explained["assignments"] if a["role"] == "lead")
    row = page.inner_text(f'#deadlines tr[data-bureau="{lead["bureau"]}"]')
    assert written(lead["due"]) in row and "交办后 3 个月内答复" in row and "按期" in row
    tab.shot("oversight-deadlines")
    tab.close()


def test_an_overseer_sees_suggestions_but_no_assign_form(browser, model):
    r = model.client("coordinator").post("/api/proposals", json={
        "kind": "npc_suggestion", "year": 2020, "number": "9200", "title": "关于人才引进的建议",
        "at": "2020-11-19T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    tab = Page(browser, model, "view=desk&years=2020").sign_in(
        token_for(model.system.settings.secret, "overseer"), ready="#awaiting tbody tr")
    page = tab.page
    page.click('#awaiting tr[data-assign="2020-npc_suggestion-9200"]')
    page.wait_for_selector("#suggest-lead li")
    page.wait_for_selector("#history li")
    assert page.locator("form[data-command=assign], form[data-command=reassign]").count() == 0
    # a clerk has no desk: neither its tab nor its list, even asked for by its address
    clerk = Page(browser, model, "view=desk&years=2020").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#work-view")
    assert clerk.page.locator("#nav a[data-view=desk]").count() == 0
    assert clerk.page.locator("#awaiting-card").is_hidden()
    clerk.close()
    tab.close()


def test_an_overseer_supervises_from_an_items_history_and_a_clerk_cannot(browser, model):
    """督办 is the overseer's only write: offered on the page from the command registry's
    vocabulary, decided, and on the live feed; a clerk is not offered it."""
    tab = Page(browser, model, "bureau=sh-ipa&years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "overseer"))
    page = tab.page
    page.click('[data-kpi="replied"] a.num')
    page.click(f'#items tr.item[data-proposal="{IPA_ONLY}"]')
    page.wait_for_selector("#history li")
    form = tab.open_form("supervise")
    form.locator("[name=bureau]").select_option("sh-ipa")
    form.locator("[name=note]").fill("请加快办理")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.ok").wait_for(timeout=5_000)
    page.locator("#feed li", has_text=IPA_ONLY).first.wait_for(timeout=5_000)
    events = model.client("overseer").get(f"/api/proposals/{IPA_ONLY}/history").json()["events"]
    assert (events[-1]["type"], events[-1]["actor"]["role"], events[-1]["data"]["note"]) == (
        "ProposalSupervised", "overseer", "请加快办理")
    tab.close()
    clerk = Page(browser, model, "years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"))
    clerk.page.click('[data-kpi="replied"] a.num')
    clerk.page.click(f'#items tr.item[data-proposal="{IPA_ONLY}"]')
    clerk.page.wait_for_selector("#history li")
    assert clerk.page.locator("details.action").count() > 0  # the clerk's own forms
    assert clerk.page.locator("[data-command=supervise]").count() == 0
    clerk.close()
