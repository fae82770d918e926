"""The office's review on the page, in a real browser (issue 25): one proposal through the review
on the desk (received → returned for revision → resubmitted by its filer on their own page →
filed in an area → assigned), a second not filed and passed on as an opinion; the filer sees
both outcomes; the office's report (审查立案) counts them and each number opens its items."""
from __future__ import annotations

import pytest

from tests.conftest import token_for
from tests.e2e.test_oversight_page import Page, browser, until  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
ZHANG = "d-zhang"
FIRST, SECOND = "2020-cppcc_proposal-0301", "2020-cppcc_proposal-0302"


def ok(response, status: int = 201):
    assert response.status_code == status, response.text
    return response.json()


def seed(server) -> None:
    """A bureau, a registered member (张伟), and two proposals of theirs received for review."""
    admin, coordinator = server.client("admin"), server.client("coordinator")
    ok(admin.post("/api/bureaus", json={"bureau": "sh-fgw", "name": "上海市发展和改革委员会",
                                        "name_en": "Shanghai Development and Reform Commission"}))
    ok(coordinator.post("/api/filers", json={"filer": ZHANG, "name": "张伟", "account": "zhangwei",
                                             "affiliation": "经济界别", "term": "十四届"}))
    for number, title in (("0301", "关于优化营商环境的提案"), ("0302", "关于小区停车位的提案")):
        body = ok(coordinator.post("/api/proposals", json={
            "kind": "cppcc_proposal", "year": 2020, "number": number, "title": title,
            "filers": [{"name": "张伟"}], "affiliation": "经济界别", "review": True,
            "at": "2020-11-16T09:00:00+08:00"}))
        assert body["events"][0]["filer_ids"] == [ZHANG]


def decide(tab: Page, proposal: str, command: str, fill) -> None:
    """Opens `command`'s form beside `proposal` in the review queue, fills it, sends it, and
    waits until the queue, drawn again, no longer has the proposal awaiting review (a refusal
    would stay beside the form: it fails here with its words)."""
    item = f'#review-queue article[data-proposal="{proposal}"]'
    block = tab.page.locator(f'{item} details[data-command="{command}"]')
    block.locator("summary").click()
    form = block.locator("form.command")
    fill(form)
    form.locator("button[type=submit]").click()
    until(tab.page, f"!document.querySelector('{item}')"
                    f" || document.querySelector('{item} .form-answer.error')")
    assert tab.page.locator(item).count() == 0, tab.page.inner_text(item)


def test_a_proposal_through_the_review_on_the_page_and_its_filer_told(browser, server):
    seed(server)
    secret = server.system.settings.secret
    office = Page(browser, server, "view=desk").sign_in(
        token_for(secret, "coordinator"), ready="#review-queue article")
    page = office.page
    queued = page.eval_on_selector_all("#review-queue article", "a => a.map(x => x.dataset.proposal)")
    assert queued == [FIRST, SECOND]
    # none of them waits for assignment: they are not filed yet
    assert page.locator(f'#awaiting tr[data-assign="{FIRST}"]').count() == 0
    office.shot("intake-queue")

    # returned to its filer for revision
    decide(office, FIRST, "request_revision",
           lambda form: form.locator("[data-field=reason] textarea").fill("请补充具体措施和责任单位"))
    page.wait_for_selector(f'#revision-queue li[data-proposal="{FIRST}"]')
    # the second: not filed, passed on as an opinion to the bodies concerned
    decide(office, SECOND, "decline_filing", lambda form: (
        form.locator("[data-field=referred_to] textarea").fill("浦东新区人民政府\n市交通委员会"),
        form.locator("[data-field=reason] textarea").fill("属于具体事务，转有关单位研究")))
    until(page, f"!document.querySelector('#review-queue article[data-proposal=\"{SECOND}\"]')")

    # the filer, on their own page: returned, and why; they revise it and resubmit it
    member = Page(browser, server, "").sign_in(
        token_for(secret, "filer", user="zhangwei", filer=ZHANG), ready="#mine .mine-item")
    mine = member.page
    card = mine.locator(f'.mine-item[data-proposal="{FIRST}"]')
    assert "退回修改" in card.inner_text() and "请补充具体措施和责任单位" in card.inner_text()
    form = card.locator('details.resubmit form.command')
    assert form.locator("[data-field=area]").count() == 0  # the office classifies
    form.locator("[data-field=title] input").fill("关于优化营商环境的提案（修改稿）")
    form.locator("button[type=submit]").click()
    # the page draws the list again: under review once more, the form gone
    until(mine, f"document.querySelector('.mine-item[data-proposal=\"{FIRST}\"] .mine-head')"
                ".textContent.includes('审查中')")
    assert card.locator("details.resubmit").count() == 0
    member.shot("intake-mine-resubmitted")

    # back on the desk: awaiting review again; filed in an area, then assigned
    page.wait_for_selector(f'#review-queue article[data-proposal="{FIRST}"]')
    decide(office, FIRST, "file_proposal",
           lambda form: form.locator("[data-field=area] select").select_option("economy"))
    page.wait_for_selector(f'#awaiting tr[data-assign="{FIRST}"]')
    page.click(f'#awaiting tr[data-assign="{FIRST}"]')
    form = office.open_form("assign")
    form.locator('[data-field=lead] input[value="sh-fgw"]').check()
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.ok").wait_for()
    events = server.client("coordinator").get(f"/api/proposals/{FIRST}/history").json()["events"]
    assert [e["type"] for e in events] == [
        "ProposalSubmitted", "ProposalReceived", "RevisionRequested", "ProposalResubmitted",
        "ProposalFiled", "ProposalAssigned"]
    assert events[3]["actor"]["role"] == "filer" and events[4]["data"]["area"] == "economy"

    # the filer sees both outcomes: filed and to whom assigned; not filed and passed on where
    mine.reload()
    mine.wait_for_selector(f'.mine-item[data-proposal="{FIRST}"] li[data-bureau="sh-fgw"]')
    first = mine.locator(f'.mine-item[data-proposal="{FIRST}"]').inner_text()
    assert "上海市发展和改革委员会" in first and "立案" in first and "经济" in first
    steps = mine.eval_on_selector_all(f'.mine-item[data-proposal="{FIRST}"] .review li',
                                      "l => l.map(x => x.dataset.step)")
    assert steps == ["received", "returned", "resubmitted", "filed"]
    second = mine.locator(f'.mine-item[data-proposal="{SECOND}"]').inner_text()
    assert "不立案" in second and "浦东新区人民政府" in second and "市交通委员会" in second
    member.shot("intake-mine-outcomes")
    member.close()

    # the office's report counts them, and each number opens the items behind it
    office.view("intake", "#intake-outcomes")
    page.fill("#intake-years", "2020")
    page.fill("#intake-as-of", "2020-11-20")
    page.click("#intake-scope button[type=submit]")
    page.wait_for_selector('#intake-outcomes [data-row="not_filed"]')
    assert page.inner_text('#intake-outcomes [data-row="filed"] .number') == "1"
    assert page.inner_text('#intake-outcomes [data-row="not_filed"] .number') == "1"
    assert page.inner_text('#intake-areas [data-row="area.economy"] .share') == "100.0%"
    page.click('#intake-outcomes [data-row="not_filed"] .number')
    page.wait_for_selector(f'#intake-items tr[data-proposal="{SECOND}"]')
    assert page.locator("#intake-items tbody tr").count() == 1
    office.shot("intake-report")
    office.close()


def test_a_form_half_filled_in_survives_the_queue_drawn_again(browser, server):
    """The desk draws its lists again after every live batch: a reason half typed into a
    review form stays, with its form open, while someone else's proposal arrives in the queue."""
    seed(server)
    secret = server.system.settings.secret
    office = Page(browser, server, "view=desk").sign_in(
        token_for(secret, "coordinator"), ready="#review-queue article")
    page = office.page
    item = f'#review-queue article[data-proposal="{FIRST}"]'
    block = page.locator(f'{item} details[data-command="decline_filing"]')
    block.locator("summary").click()
    block.locator("form.command [data-field=reason] textarea").fill("属于具体事务")
    third = "2020-cppcc_proposal-0303"
    ok(server.client("coordinator").post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": "0303", "title": "关于社区食堂的提案",
        "filers": [{"name": "张伟"}], "affiliation": "经济界别", "review": True,
        "at": "2020-11-16T10:00:00+08:00"}))
    page.wait_for_selector(f'#review-queue article[data-proposal="{third}"]')  # drawn again
    assert block.evaluate("d => d.open")
    assert block.locator("form.command [data-field=reason] textarea").input_value() == "属于具体事务"
    office.close()
