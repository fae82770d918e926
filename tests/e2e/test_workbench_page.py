"""The workbench's forms in a real browser (issue 21 §2, §3), against the embedded system with the
model history over real HTTP, offline:
- the registry walked: every command a role may send has its form on the page for that role,
  none other, each in the registry's words in Chinese and in English;
- a command the page has never heard of gets its form from its vocabulary entry alone;
- bad input: a refused command says why and what to do beside its form and records nothing; a
  letter that is empty, of the wrong type or too large is refused beside its field; a form
  sent twice, by a double click or again after its answer was lost, is one command;
- a reply with its letter, uploaded first, then downloaded from the item."""
from __future__ import annotations

import json
import re

import pytest

from banli.domain.permissions import reach
from banli.domain.registry import REGISTRY
from banli.domain.types import Actor
from tests.conftest import token_for
from tests.e2e.test_oversight_page import ARTIFACTS, IPA_ONLY, Page, browser, until  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser
CJK = re.compile(r"[\u4e00-\u9fff]")
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
ROLES = [("coordinator", None), ("clerk", "sh-ipa"), ("overseer", None), ("admin", None),
         ("importer", None)]


@pytest.fixture
def settings(settings):
    """A small limit on letters, so that the page is seen refusing one that is too large."""
    return settings.model_copy(update={"max_letter_bytes": 4096})


def sent_by(role: str, bureau: str | None, on_proposal: bool) -> dict[str, tuple[str, str]]:
    """The commands the permission table lets the role send (on an item, or on none), with
    their names (zh, en): what the page must offer, read from the registry, not the page."""
    actor = Actor(user=f"test-{role}", role=role, bureau=bureau)
    return {spec.type: spec.title for spec in REGISTRY
            if spec.on_proposal == on_proposal and reach(actor, spec.type) is not None}


def forms_shown(page, within: str) -> dict[str, dict]:
    """Each form of `within`: its name and the labels of its fields, as the page shows them."""
    return {block["command"]: block for block in page.eval_on_selector_all(
        f"{within} details.action", """blocks => blocks.map(b => ({
            command: b.dataset.command,
            title: b.querySelector('summary').textContent.trim(),
            fields: [...b.querySelectorAll('.field')].map(f => ({
                name: f.dataset.field, label: f.querySelector('.label-text').textContent.trim()})),
            options: [...b.querySelectorAll('select option')].filter(o => o.value)
                .map(o => o.textContent.trim()),
            button: b.querySelector('button[type=submit]').textContent.trim()}))""")}


def assert_words(forms: dict[str, dict], names: dict[str, tuple[str, str]], chinese: bool) -> None:
    """Every form is named as the registry names its command, and every label, choice and
    button is in the page's language."""
    for command, form in forms.items():
        assert form["title"] == names[command][0 if chinese else 1], command
        for text in [f["label"] for f in form["fields"]] + [form["button"]]:
            assert text and bool(CJK.search(text)) is chinese, (command, text)
        for text in form["options"]:  # choices' words, bureaus' names
            assert text and (bool(CJK.search(text)) is chinese), (command, text)


def test_every_command_a_role_may_send_has_its_form_and_no_other(browser, model):
    secret = model.system.settings.secret
    for role, bureau in ROLES:
        actor = Actor(user=f"test-{role}", role=role, bureau=bureau)
        on_item, elsewhere = sent_by(role, bureau, True), sent_by(role, bureau, False)
        tab = Page(browser, model, f"view=item&proposal={IPA_ONLY}").sign_in(
            token_for(secret, role, bureau), ready="#item-page-body .item, #item-page-body .error")
        page = tab.page
        if reach(actor, "read:proposal") is not None:
            page.wait_for_selector("#history li")
            shown = forms_shown(page, "#item-actions")
            assert set(shown) == set(on_item), role
            assert_words(shown, on_item, chinese=True)
        else:  # an importer reads no item: the page shows the refusal, and no form
            assert page.locator("#item-page-body .error").count() == 1
            assert page.locator("details.action").count() == 0
        tab.shot(f"workbench-forms-{role}")
        # the commands sent on no item: on the desk, or beside the imports where there is none
        where = "desk" if reach(actor, "read:routing") else "imports"
        page.goto(f"{model.url}/app/?view={where}")
        page.wait_for_selector("#records-card", state="attached")
        shown = forms_shown(page, "#records")
        assert set(shown) == set(elsewhere), role
        assert page.locator("#records-card").is_visible() is bool(elsewhere)
        assert_words(shown, elsewhere, chinese=True)
        # the same forms in English: each name and label from the registry's English words
        page.click("#lang")
        until(page, "document.documentElement.lang === 'en'")
        assert_words(forms_shown(page, "#records"), elsewhere, chinese=False)
        if reach(actor, "read:proposal") is not None:
            page.goto(f"{model.url}/app/?view=item&proposal={IPA_ONLY}")
            page.wait_for_selector("#history li")
            assert_words(forms_shown(page, "#item-actions"), on_item, chinese=False)
        page.click("#lang")  # the language is kept for the next person in this browser
        until(page, "document.documentElement.lang === 'zh-CN'")
        tab.close()


def _field(name, label, label_en, input, source="user", required=False, default=None, **more):
    return {"name": name, "label": label, "label_en": label_en, "input": input, "source": source,
            "required": required, "default": default, "choice_set": None, "choices": [],
            "min_length": None, "max_length": None, "pattern": None, "minimum": None,
            "maximum": None, "min_items": None, "max_items": None, "item_field": None, **more}


def test_a_command_the_page_never_heard_of_gets_its_form(browser, model):
    """A command the registry might gain tomorrow, given to the page only through the vocabulary:
    its form has a control for each kind of input (an unknown kind is asked as text), and the
    body it sends is the one the description asks for. The server's answers here are our own
    (the page's logic is what is tested); a refusal's reason and hint are shown beside it."""
    vocabulary = model.client("clerk", "sh-ipa").get("/api/vocabulary").json()
    methods = next(c["choices"] for c in vocabulary["choices"] if c["name"] == "contact_method")
    toy = {"type": "note_a_visit", "title": "记录来访", "title_en": "note a visit", "route": None,
           "service": "handling", "on_proposal": True, "clock": "duty", "roles": {"clerk": "own"},
           "events": ["VisitNoted"], "may_send": True, "fields": [
               _field("type", "指令类型", "command type", None, "fixed", default="note_a_visit"),
               _field("proposal", "建议提案", "proposal", "proposal", "item", True),
               _field("bureau", "承办单位", "bureau", "bureau", "own_bureau", True, "sh-ipa"),
               _field("place", "地点", "place", "text", required=True, max_length=50),
               _field("story", "经过", "what happened", "long_text", max_length=20000),
               _field("on", "约定日期", "agreed day", "date"),
               _field("method", "方式", "method", "select", required=True, choice_set="contact_method",
                      choices=methods),
               _field("host", "接待单位", "host", "bureau"),
               _field("guests", "陪同单位", "with", "bureaus", max_items=5),
               _field("urgent", "加急", "urgent", "boolean", default=False),
               _field("people", "人数", "people", "number", minimum=1, maximum=99),
               _field("topics", "议题", "topics", "texts", max_items=10, max_length=100),
               _field("colour", "颜色", "colour", "colour"),
               _field("command_id", "指令编号", "command id", None, "page"),
               _field("at", "发生时间", "business time", "datetime"),
               _field("actor", "操作人", "actor", None, "server"),
               _field("recorded_by", "录入人", "recorded by", None, "server")]}
    vocabulary["commands"].append(toy)
    sent: list[dict] = []

    def answer(route):
        body = json.loads(route.request.post_data)
        sent.append(body)
        if len(sent) == 1:
            route.fulfill(status=201, json={"command_id": body["command_id"], "accepted": True,
                                            "replayed": False, "events": []})
        else:
            route.fulfill(status=409, json={
                "command_id": body["command_id"], "accepted": False, "replayed": False,
                "code": "toy_refused", "message": "同一天已记录来访", "message_en": "a visit that day is noted",
                "hint": "请改日期或补充经过", "hint_en": "change the day or add to the story"})

    tab = Page(browser, model, f"view=item&proposal={IPA_ONLY}")
    page = tab.page
    page.route("**/api/vocabulary", lambda route: route.fulfill(json=vocabulary))
    page.route("**/api/commands", answer)
    tab.sign_in(token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#history li")
    form = tab.open_form("note_a_visit")
    asked = form.locator(".field").evaluate_all("fields => fields.map(f => [f.dataset.field, f.dataset.input])")
    assert asked == [["place", "text"], ["story", "long_text"], ["on", "date"], ["method", "select"],
                     ["host", "bureau"], ["guests", "bureaus"], ["urgent", "boolean"],
                     ["people", "number"], ["topics", "texts"], ["colour", "colour"], ["at", "datetime"]]
    assert form.locator("[data-field=colour] input[type=text]").count() == 1  # an unknown kind: text
    assert form.locator("[data-field=method] option").all_inner_texts()[1:] == [c["label"] for c in methods]
    # what is required is asked for before anything is sent
    form.locator("button[type=submit]").click()
    assert form.locator(".field.invalid").evaluate_all("f => f.map(x => x.dataset.field)") == ["place", "method"]
    assert form.locator("[data-field=place] .field-error").inner_text() == "必填"
    assert sent == []
    form.locator("[name=place]").fill("区政协会议室")
    form.locator("[name=story]").fill("谈了两个小时")
    form.locator("[name=on]").fill("2020-11-18")
    form.locator("[name=method]").select_option("visit")
    form.locator("[name=host]").select_option("sh-ipa")
    form.locator("[data-field=guests] input[value=sh-hrss]").check()
    form.locator("[name=urgent]").check()
    form.locator("[name=people]").fill("3")
    form.locator("[name=topics]").fill("知识产权\n\n人才引进\n")
    form.locator("[name=colour]").fill("红")
    form.locator("[name=at]").fill("2020-11-19")
    form.locator("[name=at-time]").fill("15:30")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.ok").wait_for()
    first = sent[0]
    assert first["command_id"].startswith("page-")
    assert {k: v for k, v in first.items() if k != "command_id"} == {
        "type": "note_a_visit", "proposal": IPA_ONLY, "bureau": "sh-ipa", "place": "区政协会议室",
        "story": "谈了两个小时", "on": "2020-11-18", "method": "visit", "host": "sh-ipa",
        "guests": ["sh-hrss"], "urgent": True, "people": 3, "topics": ["知识产权", "人才引进"],
        "colour": "红", "at": "2020-11-19T15:30:00+08:00"}
    # refused: the reason and what to do, beside the form; a new command id for the next try
    form = tab.open_form("note_a_visit")
    form.locator("[name=place]").fill("区政协会议室")
    form.locator("[name=method]").select_option("phone")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.refused").wait_for()
    assert "同一天已记录来访" in form.locator(".form-answer").inner_text()
    assert form.locator(".form-answer .hint").inner_text() == "请改日期或补充经过"
    assert sent[1]["command_id"] != first["command_id"]
    tab.shot("workbench-unknown-command")
    page.click("#lang")
    until(page, "document.documentElement.lang === 'en'")
    form = tab.open_form("note_a_visit")
    assert form.locator("[data-field=place] .label-text").inner_text() == "place"
    page.click("#lang")
    tab.close()


def assigned(model, number: str) -> str:
    """A new proposal assigned to sh-ipa as its lead two days before the page's today."""
    coordinator = model.client("coordinator")
    r = coordinator.post("/api/proposals", json={
        "kind": "cppcc_proposal", "year": 2020, "number": number, "title": f"关于第{number}号事项的提案",
        "at": "2020-11-18T09:00:00+08:00"})
    assert r.status_code == 201, r.text
    proposal = f"2020-cppcc_proposal-{number}"
    r = coordinator.post(f"/api/proposals/{proposal}/assign", json={
        "lead": ["sh-ipa"], "at": "2020-11-18T10:00:00+08:00"})
    assert r.status_code == 201, r.text
    assert model.system.settle(30)
    return proposal


def history(model, proposal: str) -> list[str]:
    events = model.client("overseer").get(f"/api/proposals/{proposal}/history").json()["events"]
    return [e["type"] for e in events]


def test_a_refused_command_says_why_beside_its_form_and_records_nothing(browser, model, tmp_path):
    before = history(model, IPA_ONLY)
    assert "ReplyIssued" in before  # the model bureau has replied to it
    tab = Page(browser, model, f"view=item&proposal={IPA_ONLY}").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#history li")
    page = tab.page
    letter = tmp_path / "答复函.pdf"
    letter.write_bytes(PDF)
    form = tab.open_form("reply")
    form.locator("[name=result]").select_option("solved")
    form.locator("input[type=file]").set_input_files(str(letter))
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.refused").wait_for()
    said = form.locator(".form-answer").inner_text()
    assert "已答复" in said and "重新办理" in said, said  # the kernel's words: reopen first
    assert form.locator(".form-answer .reason").get_attribute("data-code") == "already_replied"
    tab.shot("workbench-refused")
    # nothing recorded: the history is as it was, on the page and in the log
    assert history(model, IPA_ONLY) == before
    seen = model.client("clerk", "sh-ipa").get(f"/api/proposals/{IPA_ONLY}/history").json()["events"]
    assert page.locator("#history li").count() == len(seen)  # what this clerk may see of it
    page.click("#lang")
    until(page, "document.documentElement.lang === 'en'")
    form = tab.open_form("reply")
    form.locator("[name=result]").select_option("planned")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.refused").wait_for()
    assert "already replied" in form.locator(".form-answer").inner_text()
    page.click("#lang")
    tab.close()


def test_a_letter_empty_of_the_wrong_type_or_too_large_is_refused_beside_its_field(browser, model,
                                                                                  tmp_path):
    proposal = assigned(model, "9301")
    before = history(model, proposal)
    tab = Page(browser, model, f"view=item&proposal={proposal}").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#history li")
    page = tab.page
    uploads = []
    page.on("request", lambda r: uploads.append(r.url) if "/letters" in r.url else None)
    cases = [("空的.pdf", b"", "是空的"),                              # refused by the page itself
             ("答复函.pdf", "这不是PDF".encode() * 20, "不是"),        # by its bytes, not its name
             ("太大.pdf", PDF + b"0" * 5000, "超过")]                  # over BANLI_MAX_LETTER_BYTES
    for name, content, words in cases:
        path = tmp_path / name
        path.write_bytes(content)
        form = tab.open_form("reply")
        form.locator("[name=result]").select_option("solved")
        form.locator("input[type=file]").set_input_files(str(path))
        form.locator("button[type=submit]").click()
        error = form.locator("[data-field=letter] .field-error")
        error.wait_for()
        assert words in error.inner_text(), (name, error.inner_text())
        assert form.locator(".form-answer.error").count() == 1
        tab.shot(f"workbench-letter-{name.split('.')[0]}")
    assert len(uploads) == 2  # the empty file never left the page
    assert history(model, proposal) == before  # no reply recorded
    tab.close()


def test_a_reply_goes_out_with_its_letter_and_the_letter_downloads(browser, model, tmp_path):
    proposal = assigned(model, "9302")
    tab = Page(browser, model, f"view=item&proposal={proposal}").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#history li")
    page = tab.page
    form = tab.open_form("acknowledge")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#item-flash")
    assert "签收" in page.inner_text("#item-flash")
    letter = tmp_path / "答复函.pdf"
    letter.write_bytes(PDF)
    form = tab.open_form("reply")
    form.locator("[name=result]").select_option("planned")
    form.locator("[name=summary]").fill("已列入明年计划")
    form.locator("input[type=file]").set_input_files(str(letter))
    assert "答复函.pdf" in form.locator(".file-name").inner_text()
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#letters li")
    assert history(model, proposal)[-1] == "ReplyIssued"
    reply = page.locator('#history li[data-type="ReplyIssued"]')
    assert "B 正在解决或列入计划" in reply.inner_text() and "答复函.pdf" in reply.inner_text()
    with page.expect_download() as download:
        page.click("#letters button[data-letter]")
    saved = ARTIFACTS / "workbench-letter.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == PDF
    tab.shot("workbench-replied")
    tab.close()


def test_a_form_sent_twice_is_one_command(browser, model):
    proposal = assigned(model, "9303")
    tab = Page(browser, model, f"view=item&proposal={proposal}").sign_in(
        token_for(model.system.settings.secret, "clerk", "sh-ipa"), ready="#history li")
    page = tab.page
    # a double click: one command
    form = tab.open_form("acknowledge")
    form.locator("button[type=submit]").dblclick()
    page.wait_for_selector("#item-flash")
    assert history(model, proposal).count("AssignmentAcknowledged") == 1
    # the answer lost on the way back (the server took it): sent again, the same command id,
    # and the server's first answer; one contact in the log
    lost = []

    def lose_the_answer(route):
        if route.request.method == "POST" and not lost:
            lost.append(route.fetch().status)  # the server decides it ...
            route.abort("connectionreset")      # ... and the page never hears
        else:
            route.continue_()

    page.route("**/api/commands", lose_the_answer)
    form = tab.open_form("log_contact")
    form.locator("[name=stage]").select_option("during")
    form.locator("[name=method]").select_option("phone")
    form.locator("[name=note]").fill("电话沟通办理进度")
    command_id = form.get_attribute("data-command-id")
    form.locator("button[type=submit]").click()
    form.locator(".form-answer.error").wait_for()
    assert lost == [201]
    assert "可以再次提交" in form.locator(".form-answer").inner_text()
    assert form.get_attribute("data-command-id") == command_id  # kept for the retry
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#item-flash")
    assert history(model, proposal).count("ContactLogged") == 1
    outcome = model.client("clerk", "sh-ipa").get(f"/api/commands/{command_id}").json()
    assert outcome["accepted"] and len(outcome["events"]) == 1
    tab.close()
