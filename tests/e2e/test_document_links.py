"""A year-end document's figures open the page's drill-down for exactly their number, in a real
browser (Debian's Chromium); the page rounds rates as the document does; the download area
sets the document's number, term and date, and offers the evidence workbook."""
from __future__ import annotations

import io
from urllib.parse import parse_qsl, urlsplit

import docx
import openpyxl
import pytest

from banli.documents import percent

from tests.conftest import token_for
from tests.document_figures import docx_segments, figures
from tests.e2e.test_oversight_page import Page, browser, downloaded, until  # noqa: F401

pytestmark = pytest.mark.browser


def model_document(model) -> bytes:
    response = model.client("overseer").get("/api/report/document", params={
        "format": "docx", "bureau": "sh-ipa", "year": 2020, "term_start": 2018,
        "as_of": "2020-11-20"})
    assert response.status_code == 200, response.text
    return response.content


def test_a_figures_link_opens_its_drilldown(browser, model):
    linked = [(text, url, dict(parse_qsl(urlsplit(url).query)))
              for text, url in figures(docx_segments(model_document(model)))]
    # a rate, a count, the late-entry records, the disclosure review's list
    wanted = {key: next(((url, text) for text, url, query in linked
                         if query.get(key.split("=")[0]) == key.split("=")[1]), None)
              for key in ("measure=adoption", "measure=replied", "entries=imported",
                          "measure=first_undisclosed")}
    secret = model.system.settings.secret
    for key, found in wanted.items():
        assert found is not None, key
        url, text = found
        tab = Page(browser, model, urlsplit(url).query).sign_in(token_for(secret, "overseer"))
        page = tab.page
        until(page, "document.querySelector('#drawer-title').dataset.count !== undefined")
        count = int(page.eval_on_selector("#drawer-title", "t => t.dataset.count"))
        if "%" in text:  # a rate: its denominator listed, its numerator marked
            numerator, denominator = (int(n) for n in text.split("（")[1].rstrip("）").split("/"))
            assert count == denominator
            assert f"{numerator} / {denominator}" in page.inner_text("#drawer-title")
        else:
            assert count == int(text), (url, text)
        tab.shot(f"document-link-{key.split('=')[1]}")
        tab.close()


def test_the_page_rounds_rates_as_the_document_does(browser, model):
    tab = Page(browser, model, "bureau=sh-ipa&years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "overseer"))
    pairs = [(n, d) for d in (1, 2, 3, 7, 8, 26, 199, 200, 1000, 3000, 5000)
             for n in sorted({0, 1, 2, d // 3, d // 2, d - 2, d - 1, d} & set(range(d + 1)))]
    shown = tab.page.evaluate("async (pairs) => { const { percent } = await import('/app/js/words.js');"
                              " return [...pairs.map(([n, d]) => percent(n, d)), percent(0, 0)]; }",
                              [list(pair) for pair in pairs])
    assert shown == [*(percent(n, d) for n, d in pairs), "—"]
    assert tab.kpi("adoption") == "90%"  # 9 of 10, as the document prints it
    tab.close()


def test_the_download_area_sets_number_term_and_date_and_offers_the_evidence(browser, model):
    tab = Page(browser, model, "bureau=sh-ipa&years=2020&as_of=2020-11-20").sign_in(
        token_for(model.system.settings.secret, "overseer"))
    page = tab.page
    saved = downloaded(page, '.downloads a[data-format="docx"]', "document-no-number.docx")
    text = [p.text for p in docx.Document(saved).paragraphs]
    assert not any("号" in line and "〔" in line for line in text), "an unset number is left out"
    page.fill("#d-number", "沪知局〔2020〕118号")
    page.fill("#d-term", "2019")
    page.fill("#d-date", "2020-11-25")
    tab.shot("document-download-area")
    saved = downloaded(page, '.downloads a[data-format="docx"]', "document-with-number.docx")
    text = [p.text for p in docx.Document(saved).paragraphs]
    assert "沪知局〔2020〕118号" in text and "2020年11月25日" in text
    assert any(line.startswith("截至2020年11月20日，2019年以来") for line in text)
    saved = downloaded(page, '.downloads a[data-format="evidence"]', "document-evidence.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(saved.read_bytes()), read_only=True)
    assert [sheet.title for sheet in book.worksheets] == ["数字", "明细"]
    tab.close()
