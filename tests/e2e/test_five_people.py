"""One proposal's whole life, by five people on the page, in Chromium (issue 21's "done when"):

1. the coordinator assigns it, from the desk, to a lead and a co-handling bureau;
2. the lead's clerk signs for it and logs a contact;
3. the co-handler's clerk sends its opinion;
4. the lead drafts the reply, the co-handler signs the draft off (会签) and the lead's reviewer
   issues it (签发) with its PDF letter — the `reviewed` profile, as the server is configured;
5. the deputy signs in through Keycloak, reads the reply, downloads the letter and is
   dissatisfied;
6. the lead re-handles and replies again (drafted, signed off, issued), and the deputy is
   satisfied;
7. an overseer supervises a late item from the dashboard's overdue list.

Every act is a click on the page's forms (the setup before the walk — bureaus, the filer
registry, the proposal, a late item — goes through the API). After each step the overseer's
dashboard (the page, following the live feed) shows the numbers the report gives over the API,
and the year-end document's satisfaction line says the same. At 390 px the clerk's list and an
item's forms need no sideways scrolling. Screenshots at 1280 and 390 px in artifacts/
(`BANLI_DOC_IMAGES=1`: the README's images in docs/img/ too).

Run on the embedded system and on the distributed stack (tests/e2e/stack.py, as `make stack`
starts it): there the page's commands and letters go through the reporting service's command
path to Kafka."""
from __future__ import annotations

import os
import re
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable

import httpx
import pytest

from banli.documents.compose import percent
from banli.domain.types import SHANGHAI
from tests.conftest import ROOT, LiveServer, token_for
from tests.e2e.test_oversight_page import ARTIFACTS, Page, browser, until  # noqa: F401 (fixture)

pytestmark = [pytest.mark.browser, pytest.mark.keycloak, pytest.mark.slow]

IPA, HRSS, EDU = "sh-ipa", "sh-hrss", "sh-edu"
BUREAUS = {IPA: "上海市知识产权局", HRSS: "上海市人力资源和社会保障局", EDU: "上海市教育委员会"}
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PDF_AGAIN = b"%PDF-1.4\n% re-handled\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
DOC_IMAGES = ROOT / "docs" / "img"
PHONE = {"width": 390, "height": 844}
DESK = {"width": 1280, "height": 800}


@dataclass
class Deployment:
    """Where the page is served, and how to read behind it."""

    mode: str
    url: str
    secret: str
    settle: Callable[[], None]
    clients: list[httpx.Client] = field(default_factory=list)

    def client(self, role: str, bureau: str | None = None, user: str | None = None,
               filer: str | None = None) -> httpx.Client:
        c = httpx.Client(base_url=self.url, timeout=120, headers={
            "Authorization": f"Bearer {token_for(self.secret, role, bureau, user, filer)}"})
        self.clients.append(c)
        return c

    def token(self, role: str, bureau: str | None = None, user: str | None = None) -> str:
        return token_for(self.secret, role, bureau, user)


def oidc(keycloak) -> dict[str, str]:
    return {"oidc_issuer": keycloak.issuer, "oidc_client_id": keycloak.client_id,
            "oidc_client_secret": keycloak.client_secret}


@pytest.fixture(params=["embedded", pytest.param("distributed", marks=pytest.mark.kafka)])
def deployment(request, keycloak, tmp_path):
    """The system as the walk finds it: replies reviewed (BANLI_PROFILE=reviewed), people signed
    in at Keycloak, the real clock; empty but for what the walk sets up."""
    if request.param == "embedded":
        from apps.embedded import EmbeddedSystem, create_app
        from banli.clock import system_clock

        settings = request.getfixturevalue("settings").model_copy(update={
            "profile": "reviewed", "clerk_backdate_days": 30, **oidc(keycloak)})
        system = EmbeddedSystem(settings, clock=system_clock).start()
        try:
            with LiveServer(create_app(system)) as live:
                deployment = Deployment("embedded", live.url, settings.secret,
                                        lambda: assert_settled(system.settle(60)))
                yield deployment
                for c in deployment.clients:
                    c.close()
        finally:
            system.stop()
            system.reporting.drop()
        return
    from tests.e2e.stack import Stack
    from tests.e2e.test_distributed_product import events_of

    stack = Stack(request.getfixturevalue("kafka_broker").bootstrap, tmp_path, env={
        "BANLI_PROFILE": "reviewed", **{f"BANLI_{k.upper()}": v for k, v in oidc(keycloak).items()}})
    try:
        reporting = stack.start_all()["reporting"]
        overseer = stack.client(reporting, "overseer")

        def settle() -> None:  # every event in the log projected
            events_of(overseer)

        deployment = Deployment("distributed", reporting.url, stack.secret, settle)
        yield deployment
        for c in [overseer, *deployment.clients]:
            c.close()
    finally:
        stack.stop()


def assert_settled(done: bool) -> None:
    assert done, "the projections did not catch up"


def created(response: httpx.Response) -> dict:
    assert response.status_code == 201, response.text
    return response.json()


def at(day) -> str:
    return f"{day.isoformat()}T10:00:00+08:00"


# --- what the numbers must be ----------------------------------------------------------------
COUNTS = ("duties", "replied")
RATES = ("on_time_reply", "on_time_opinion", "contact", "adoption", "satisfaction")


def numbers(duties: int, replied: int, on_time_reply: tuple[int, int],
            on_time_opinion: tuple[int, int] = (0, 0), contact: tuple[int, int] = (0, 0),
            adoption: tuple[int, int] = (0, 0), satisfaction: tuple[int, int] = (0, 0)) -> dict:
    """The dashboard's numbers for all bureaus this year: counts, and each rate's fraction."""
    return {"duties": duties, "replied": replied, "on_time_reply": on_time_reply,
            "on_time_opinion": on_time_opinion, "contact": contact, "adoption": adoption,
            "satisfaction": satisfaction}


def shown(expected: dict) -> dict[str, tuple[str, str]]:
    """What the page's cards show for them: the value, and a rate's numerator / denominator."""
    return {**{k: (str(expected[k]), "") for k in COUNTS},
            **{k: (percent(*expected[k]), f"{expected[k][0]} / {expected[k][1]}") for k in RATES}}


class Walk:
    """The walk's people, its proposal and the checks made after each step."""

    def __init__(self, deployment: Deployment, browser):
        self.d, self.browser = deployment, browser
        self.today = datetime.now(SHANGHAI).date()
        self.year = self.today.year
        self.proposal = f"{self.year}-npc_suggestion-101"
        self.late = f"{self.year}-npc_suggestion-102"
        self.overseer_api = deployment.client("overseer")
        self.tabs: list[Page] = []

    # --- people ---------------------------------------------------------------------------------
    def sign_in(self, query: str, role: str, bureau: str | None = None, user: str | None = None,
                ready: str = "#view > *") -> Page:
        tab = Page(self.browser, self.d, query).sign_in(self.d.token(role, bureau, user), ready)
        self.tabs.append(tab)
        return tab

    def shots(self, tab: Page, name: str, doc: str | None = None) -> None:
        """The page at 1280 and at 390 px wide; `doc`: also the README's image of a view."""
        ARTIFACTS.mkdir(exist_ok=True)
        tab.page.screenshot(path=str(ARTIFACTS / f"five-{self.d.mode}-{name}-1280.png"))
        if doc and self.d.mode == "embedded" and os.environ.get("BANLI_DOC_IMAGES"):
            small_png(tab.page.screenshot(), DOC_IMAGES / f"{doc}.png")
        tab.page.set_viewport_size(PHONE)
        try:
            tab.page.screenshot(path=str(ARTIFACTS / f"five-{self.d.mode}-{name}-390.png"))
        finally:
            tab.page.set_viewport_size(DESK)


    # --- checks ---------------------------------------------------------------------------------
    def board(self, tab: Page, expected: dict, feedback: tuple[int, int, int] = (0, 0, 0),
              by_filer: int = 0) -> None:
        """The overseer's dashboard shows `expected` (following the live feed), the report over
        the API gives the same, and so does the year-end document's satisfaction line:
        `feedback` (satisfied, basically, dissatisfied), `by_filer` of it recorded by the
        filer themselves."""
        self.d.settle()
        want = shown(expected)
        deadline = time.monotonic() + 60
        while (seen := tab.page.evaluate("""names => Object.fromEntries(names.map(n => [n, [
                (document.querySelector(`[data-kpi="${n}"] .value`) || {}).innerText?.trim(),
                (document.querySelector(`[data-parts="${n}"]`) || {}).innerText?.trim() || ""]]))""",
                                         list(want))) != {k: list(v) for k, v in want.items()}:
            assert time.monotonic() < deadline, (seen, want)
            time.sleep(0.2)
        scope = {"all": "true", "years": str(self.year), "as_of": self.today.isoformat()}
        report = self.overseer_api.get("/api/report", params=scope).json()
        assert report["replies"] == expected["replied"]
        assert sum(n for kind in report["assignments"].values() for n in kind.values()) == \
            expected["duties"]
        for rate in RATES:
            assert (report["fractions"][rate]["numerator"],
                    report["fractions"][rate]["denominator"]) == expected[rate], rate
        satisfied, basically, dissatisfied = feedback
        line, recorders = self.satisfaction_lines()
        rate = percent(*expected["satisfaction"])
        rate = f"{rate}（{expected['satisfaction'][0]}/{expected['satisfaction'][1]}）" \
            if expected["satisfaction"][1] else "暂无"
        assert line == (f"收到意见反馈{sum(feedback)}件：满意{satisfied}件，基本满意{basically}件，"
                        f"不满意{dissatisfied}件，满意率{rate}。"), line
        if sum(feedback):
            assert recorders.startswith(f"满意度录入：代表委员本人{by_filer}件，交办单位0件，"
                                        f"承办单位自行录入0件"), recorders
        else:
            assert recorders is None

    def satisfaction_lines(self) -> tuple[str, str | None]:
        """The year-end document's (Markdown, all bureaus) sentence on feedback, from 收到意见反馈,
        and its line on who recorded it (None where there is none), its figures' links read as
        their text."""
        answer = self.overseer_api.get("/api/report/document", params={
            "format": "md", "all": "true", "year": str(self.year), "as_of": self.today.isoformat(),
            "term_start": str(self.year)})
        assert answer.status_code == 200, answer.text
        text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", answer.text)
        line = re.search(r"收到意见反馈[^。]*。", text).group(0)
        recorders = re.search(r"^满意度录入：[^\n|]*$", text, re.M)
        return line, recorders.group(0) if recorders else None

    def history(self, proposal: str) -> list[str]:
        events = self.overseer_api.get(f"/api/proposals/{proposal}/history").json()["events"]
        return [e["type"] for e in events]


def small_png(png: bytes, path: Path) -> None:
    """A screenshot for the README: in 64 colours where Pillow is at hand (a tenth the size)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        from io import BytesIO

        from PIL import Image
    except ImportError:
        path.write_bytes(png)
        return
    Image.open(BytesIO(png)).convert("RGB").quantize(64).save(path, optimize=True)


def fits(page, width: int = PHONE["width"]) -> None:
    """Nothing scrolls sideways: the document, and the drawer where it is open."""
    sizes = page.evaluate("""() => {
        const drawer = document.querySelector('#drawer');
        const body = document.querySelector('#drawer-body');
        return {page: document.scrollingElement.scrollWidth,
                drawer: drawer.hidden ? 0 : body.scrollWidth - body.clientWidth};}""")
    assert sizes["page"] <= width and sizes["drawer"] <= 0, sizes


def answered(form) -> None:
    """The form's answer: accepted, in place."""
    form.locator(".form-answer.ok").wait_for(timeout=60_000)


def choose(form, name: str, bureaus: list[str]) -> None:
    """Ticks exactly `bureaus` in a bureaus field (whatever a suggestion ticked)."""
    for box in form.locator(f"[data-field={name}] input[type=checkbox]").all():
        box.set_checked(box.get_attribute("value") in bureaus)


def open_work(tab: Page, proposal: str, owed: str):
    """Opens an item from the work list where it is owed `owed` (the forms of that first)."""
    row = tab.page.locator(f'#work li.work-item[data-proposal="{proposal}"][data-owed="{owed}"]')
    row.wait_for(timeout=60_000)
    row.locator("a").click()
    tab.page.wait_for_selector("#drawer-body #history li")


def test_one_proposal_by_five_people(browser, deployment, tmp_path):
    walk = Walk(deployment, browser)
    d, today, year, P, LATE = deployment, walk.today, walk.year, walk.proposal, walk.late
    letter, letter_again = tmp_path / "答复函.pdf", tmp_path / "答复函（重新办理）.pdf"
    letter.write_bytes(PDF)
    letter_again.write_bytes(PDF_AGAIN)

    # --- the setup, over the API: the bureaus, the deputy in the registry, the proposal, and
    # another bureau's item overdue for its reply
    office = d.client("coordinator")
    for bureau, name in BUREAUS.items():
        created(office.post("/api/bureaus", json={"bureau": bureau, "name": name}))
    created(office.post("/api/commands", json={
        "type": "register_filer", "filer": "filer-00", "name": "张伟",
        "affiliation": "浦东新区代表团", "account": "zhangwei"}))
    created(office.post("/api/proposals", json={
        "kind": "npc_suggestion", "year": year, "number": "101",
        "title": "关于加强知识产权保护促进科技创新的建议", "affiliation": "浦东新区代表团",
        "filers": [{"name": "张伟", "id": "filer-00"}]}))
    created(office.post("/api/proposals", json={
        "kind": "npc_suggestion", "year": year, "number": "102", "title": "关于增加中小学学位供给的建议",
        "at": at(today - timedelta(days=120))}))
    created(office.post(f"/api/proposals/{LATE}/assign", json={
        "lead": [EDU], "reply_due": (today - timedelta(days=10)).isoformat(),
        "at": at(today - timedelta(days=119))}))

    # the overseer watches the dashboard for all bureaus, this year, as of today
    overseer = walk.sign_in(f"view=dashboard&years={year}&as_of={today.isoformat()}",
                            "overseer", ready="#kpis .kpi")
    walk.board(overseer, numbers(1, 0, (0, 1)))  # the late item: due, not replied

    # --- 1. the coordinator assigns it from the desk, lead and co-handler
    coordinator = walk.sign_in(f"view=desk&years={year}", "coordinator", ready="#awaiting tbody tr")
    page = coordinator.page
    # the desk's lists read (returned items, extension requests, key items), none refused
    assert [e for e in page.locator("#desk-view .error").all_inner_texts() if e.strip()] == []
    assert page.inner_text("#n-extensions") == "0"
    page.click(f'#awaiting tr[data-assign="{P}"]')
    form = coordinator.open_form("assign")
    choose(form, "lead", [IPA])
    choose(form, "co", [HRSS])
    walk.shots(coordinator, "1-assign-form", doc="desk")
    form.locator("button[type=submit]").click()
    answered(form)
    until(page, f"!document.querySelector('#awaiting tr[data-assign=\"{P}\"]')", timeout=60)
    assert walk.history(P)[-1] == "ProposalAssigned"
    walk.shots(coordinator, "1-assigned")
    walk.board(overseer, numbers(3, 0, (0, 1)))

    # --- 2. the lead's clerk signs for it and logs a contact
    lead = walk.sign_in("view=work", "clerk", IPA, user="wang", ready="#work li")
    page = lead.page
    work = d.client("clerk", IPA).get("/api/work").json()
    until(page, f"document.querySelector('#count-work').textContent === '{work['total']}'")
    assert [(i["proposal_id"], i["owed"]) for i in work["items"]][:1] == [(P, "acknowledge")]
    page.set_viewport_size(PHONE)  # the work list on a phone: no sideways scrolling
    fits(page)
    page.set_viewport_size(DESK)
    walk.shots(lead, "2-work", doc="work")
    open_work(lead, P, "acknowledge")
    walk.shots(lead, "2-item", doc="item")
    form = lead.open_form("acknowledge")
    form.locator("button[type=submit]").click()
    answered(form)
    form = lead.open_form("log_contact")
    form.locator("[name=stage]").select_option("before")
    form.locator("[name=method]").select_option("visit")
    form.locator("[name=note]").fill("上门走访张伟代表，了解建议背景")
    page.set_viewport_size(PHONE)  # an item's forms on a phone: none scrolls sideways
    fits(page)
    page.set_viewport_size(DESK)
    walk.shots(lead, "2-contact-form")
    form.locator("button[type=submit]").click()
    answered(form)
    assert walk.history(P)[-2:] == ["AssignmentAcknowledged", "ContactLogged"]
    walk.board(overseer, numbers(3, 0, (0, 1)))  # nothing replied, no opinion due yet

    # --- 3. the co-handler's clerk sends its opinion
    co = walk.sign_in("view=work", "clerk", HRSS, user="li", ready="#work li")
    open_work(co, P, "opinion")
    form = co.open_form("submit_opinion")
    form.locator("[name=summary]").fill("建议将知识产权人才纳入本市人才引进目录")
    form.locator("button[type=submit]").click()
    answered(form)
    walk.shots(co, "3-opinion")
    walk.board(overseer, numbers(3, 0, (0, 1), on_time_opinion=(1, 1)))

    # --- 4. the lead drafts, the co-handler signs the draft off, the reviewer issues it
    lead.view("work", "#work li")
    open_work(lead, P, "draft")
    # the lead reads its co-handler's opinion: its reply is written from it
    assert "知识产权人才" in lead.page.inner_text('#history li[data-type="OpinionSubmitted"]')
    form = lead.open_form("draft_reply")
    form.locator("[name=result]").select_option("planned")
    form.locator("[name=summary]").fill("已列入明年知识产权人才专项计划")
    form.locator("button[type=submit]").click()
    answered(form)
    co.view("work", "#work li")
    open_work(co, P, "sign_off")
    assert "已列入明年" in co.page.inner_text('#history li[data-type="ReplyDrafted"]')
    form = co.open_form("sign_off_reply")
    form.locator("[name=lead]").select_option(IPA)
    form.locator("[name=remark]").fill("同意")
    form.locator("button[type=submit]").click()
    answered(form)
    reviewer = walk.sign_in("view=work", "clerk", IPA, user="ipa-director", ready="#work li")
    open_work(reviewer, P, "approve")
    form = reviewer.open_form("approve_reply")
    form.locator("[name=signed_by]").fill("局长 陈明")
    form.locator("input[type=file]").set_input_files(str(letter))
    walk.shots(reviewer, "4-approve-form")
    form.locator("button[type=submit]").click()
    answered(form)
    reviewer.page.wait_for_selector("#drawer-body #letters li")
    assert walk.history(P)[-4:] == ["ReplyDrafted", "ReplySignedOff", "ReplyApproved",
                                    "ReplyIssued"]
    walk.shots(reviewer, "4-issued")
    walk.board(overseer, numbers(3, 1, (1, 2), on_time_opinion=(1, 1), contact=(1, 1),
                                 adoption=(0, 1)))

    # --- 5. the deputy signs in at Keycloak, reads the reply, downloads it, is dissatisfied
    deputy = Page(browser, d, "")
    walk.tabs.append(deputy)
    page = deputy.page
    page.wait_for_selector("#signin-idp", state="visible")
    page.click("#signin-idp")
    page.wait_for_selector("#kc-form-login")
    assert "密码" in page.inner_text("#kc-form-login")  # the realm speaks Chinese
    page.fill("#username", "zhangwei")
    page.fill("#password", "zhangwei-pass")
    page.click("#kc-login")
    card = page.locator(f'.mine-item[data-proposal="{P}"]')
    card.wait_for(timeout=60_000)
    assert page.evaluate("document.body.dataset.role") == "filer"
    reply = card.locator(".reply").first
    assert "已列入明年知识产权人才专项计划" in reply.inner_text()
    # the deputy never sees the internal records: the draft, the sign-off, the opinion
    signed_in = page.evaluate("sessionStorage.getItem('banli.token')")
    events = [e["type"] for e in httpx.get(f"{d.url}/api/proposals/{P}/history", timeout=60,
                                           headers={"Authorization": f"Bearer {signed_in}"}
                                           ).json()["events"]]
    assert "ReplyIssued" in events and not {"ReplyDrafted", "ReplySignedOff",
                                            "OpinionSubmitted"} & set(events)
    with page.expect_download() as download:
        reply.locator("[data-letter]").click()
    saved = ARTIFACTS / f"five-{d.mode}-letter.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    form = reply.locator('details.rate form.command')
    form.locator("[name=satisfaction]").select_option("dissatisfied")
    form.locator("[name=comment]").fill("人才专项的时间表不明确")
    walk.shots(deputy, "5-rate-form", doc="mine")
    form.locator("button[type=submit]").click()
    card.locator(".reply .rated").first.wait_for(timeout=60_000)
    assert card.locator(".reply .rated strong").first.inner_text() == "不满意"
    walk.shots(deputy, "5-dissatisfied")
    walk.board(overseer, numbers(3, 1, (1, 2), on_time_opinion=(1, 1), contact=(1, 1),
                                 adoption=(0, 1), satisfaction=(0, 1)),
               feedback=(0, 0, 1), by_filer=1)

    # --- 6. the lead re-handles and replies again; the deputy is satisfied
    lead.view("work", "#work li")
    open_work(lead, P, "rehandle")
    form = lead.open_form("reopen")
    form.locator("[name=reason]").fill("代表不满意：补充人才专项时间表")
    form.locator("[name=reply_due]").fill((today + timedelta(days=30)).isoformat())
    form.locator("button[type=submit]").click()
    answered(form)
    form = lead.open_form("draft_reply")
    form.locator("[name=result]").select_option("solved")
    form.locator("[name=summary]").fill("人才专项于下月启动，时间表见答复函")
    form.locator("button[type=submit]").click()
    answered(form)
    co.view("work", "#work li")
    open_work(co, P, "sign_off")
    form = co.open_form("sign_off_reply")
    form.locator("[name=lead]").select_option(IPA)
    form.locator("button[type=submit]").click()
    answered(form)
    reviewer.view("work", "#work li")
    open_work(reviewer, P, "rehandle")
    form = reviewer.open_form("approve_reply")
    form.locator("[name=signed_by]").fill("局长 陈明")
    form.locator("input[type=file]").set_input_files(str(letter_again))
    form.locator("button[type=submit]").click()
    answered(form)
    assert walk.history(P)[-5:] == ["HandlingReopened", "ReplyDrafted", "ReplySignedOff",
                                    "ReplyApproved", "ReplyIssued"]
    walk.board(overseer, numbers(3, 1, (1, 2), on_time_opinion=(1, 1), contact=(1, 1),
                                 adoption=(1, 1), satisfaction=(0, 1)),
               feedback=(0, 0, 1), by_filer=1)  # the latest rating is still the first's
    second = card.locator(".reply").nth(1)  # the deputy's list follows the live feed
    second.locator("details.rate form.command").wait_for(timeout=60_000)
    assert "人才专项于下月启动" in second.inner_text()
    with page.expect_download() as download:
        second.locator("[data-letter]").click()
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF_AGAIN
    form = second.locator("details.rate form.command")
    form.locator("[name=satisfaction]").select_option("satisfied")
    form.locator("button[type=submit]").click()
    card.locator(".reply").nth(1).locator(".rated").wait_for(timeout=60_000)
    assert card.locator(".reply").nth(1).locator(".rated strong").inner_text() == "满意"
    walk.shots(deputy, "6-satisfied")
    walk.board(overseer, numbers(3, 1, (1, 2), on_time_opinion=(1, 1), contact=(1, 1),
                                 adoption=(1, 1), satisfaction=(1, 1)),
               feedback=(1, 0, 0), by_filer=1)

    # --- 7. the overseer supervises the late item, from the dashboard's overdue list
    page = overseer.page
    walk.shots(overseer, "7-dashboard", doc="dashboard")
    page.click(f'#owed tr.overdue[data-proposal="{LATE}"]')
    page.wait_for_selector("#drawer-body #history li")
    form = overseer.open_form("supervise")
    form.locator("[name=bureau]").select_option(EDU)
    form.locator("[name=note]").fill("答复已逾期，请于一周内答复代表")
    form.locator("button[type=submit]").click()
    answered(form)
    walk.shots(overseer, "7-supervised")
    assert walk.history(LATE)[-1] == "ProposalSupervised"
    walk.board(overseer, numbers(3, 1, (1, 2), on_time_opinion=(1, 1), contact=(1, 1),
                                 adoption=(1, 1), satisfaction=(1, 1)),
               feedback=(1, 0, 0), by_filer=1)

    # the importer's view, for the README's role guide
    if d.mode == "embedded" and os.environ.get("BANLI_DOC_IMAGES"):
        importer = walk.sign_in("view=imports", "importer", ready="#view > *")
        walk.shots(importer, "imports", doc="imports")
    for tab in walk.tabs:
        tab.close()
