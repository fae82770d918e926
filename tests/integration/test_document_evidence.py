"""Every number of each year-end document traced to its evidence, over real HTTP (issue 22 §6).

On the demo's history (the model bureau's and nine others'), the documents of one bureau and of
all bureaus, in Chinese and English, as DOCX and HTML: every number is read; each that is a
count or a rate is a link, and what the link's drill-down lists (GET /api/items or
/api/entries with the link's own parameters) is the number: its size, or its numerator over
its denominator rounded as the document says. The numbers that are not counts (years, dates,
table and section numbers, case numbers) are the only ones left without a link, but for the
misrouting section (README: it has no items drill-down). The evidence workbook beside each
document lists the same figures in the same order, for each the same items as the link's
drill-down, and for each item the ids of its duty's and its proposal's events dated on or
before the figure's as-of date, as the proposal's history gives them."""
from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, datetime

import openpyxl
import pytest

from apps.local import load_demo
from banli.domain.types import business_date

from tests.document_figures import (assert_figure_is_its_list, docx_segments, drilldown,
                                    figures, html_segments, loose_numbers)

YEAR, AS_OF, TERM = 2020, "2020-11-20", 2018
DOC_NUMBER = "沪知局〔2020〕118号"
DOCUMENTS = [("sh-ipa", "zh"), ("sh-ipa", "en"), (None, "zh"), (None, "en")]
READ = {"docx": docx_segments, "html": html_segments}


@pytest.fixture
def demo(server):
    load_demo(server.system)
    assert server.system.settle(120)
    return server


def document(client, bureau: str | None, lang: str, fmt: str) -> bytes:
    query = {"format": fmt, "year": YEAR, "as_of": AS_OF, "term_start": TERM, "lang": lang}
    query.update({"bureau": bureau, "doc_number": DOC_NUMBER} if bureau else {"all": "true"})
    response = client.get("/api/report/document", params=query)
    assert response.status_code == 200, response.text
    return response.content


class Drilldowns:
    """The lists behind the links, each asked once, over HTTP as the page would."""

    def __init__(self, client, base: str):
        self.client, self.base = client, base
        self.answers: dict[str, dict] = {}
        self.histories: dict[str, list[dict]] = {}

    def __call__(self, url: str) -> dict:
        if url not in self.answers:
            assert url.startswith(f"{self.base}/app/?"), url
            path, query = drilldown(url)
            response = self.client.get(path, params=query)
            assert response.status_code == 200, (url, response.text)
            self.answers[url] = response.json()
        return self.answers[url]

    def history(self, proposal_id: str) -> list[dict]:
        if proposal_id not in self.histories:
            response = self.client.get(f"/api/proposals/{proposal_id}/history")
            assert response.status_code == 200, response.text
            self.histories[proposal_id] = response.json()["events"]
        return self.histories[proposal_id]


def test_every_number_is_the_list_behind_its_link_and_the_evidence_lists_it(demo):
    client = demo.client("overseer")
    lists = Drilldowns(client, demo.url)
    names = client.get("/api/bureaus").json()["bureaus"]
    for bureau, lang in DOCUMENTS:
        linked: dict[str, list[tuple[str, str]]] = {}
        for fmt, read in READ.items():
            segments = read(document(client, bureau, lang, fmt))
            assert loose_numbers(segments, DOC_NUMBER) == [], (bureau, lang, fmt)
            linked[fmt] = figures(segments)
            assert len(linked[fmt]) > 80, (bureau, lang, fmt)
            for text, url in linked[fmt]:
                assert_figure_is_its_list(text, url, lists(url))
        assert linked["docx"] == linked["html"], (bureau, lang)
        workbook = document(client, bureau, lang, "evidence")
        assert_evidence(workbook, linked["docx"], lists, names, lang)


def assert_evidence(workbook: bytes, linked: list[tuple[str, str]], lists: Drilldowns,
                    names: dict[str, dict[str, str]], lang: str) -> None:
    book = openpyxl.load_workbook(io.BytesIO(workbook), read_only=True)
    shown, items = (list(sheet.iter_rows(min_row=2, values_only=True))
                    for sheet in book.worksheets)
    # as printed (a rate's fraction may stand on the next line: spaces aside), and its link
    assert [(re.sub(r"\s", "", row[2]), row[12]) for row in shown] == [
        (re.sub(r"\s", "", text), url) for text, url in linked]
    by_figure: dict[int, list[tuple]] = defaultdict(list)
    for row in items:
        by_figure[row[0]].append(row)
    named = {n["name_en" if lang == "en" else "name"]: b for b, n in names.items()}
    for n, (text, url) in enumerate(linked, 1):
        answer, rows = lists(url), by_figure.get(n, [])
        if "which" in answer:  # records: each with its own event
            assert sorted((r[1], r[8]) for r in rows) == sorted(
                (i["proposal_id"], i["seq"]) for i in answer["items"]), (text, url)
            for row in rows:
                (event,) = [e for e in lists.history(row[1]) if e["seq"] == row[8]]
                assert row[9] == event["event_id"]
            continue
        assert sorted((r[1], named[r[4]]) for r in rows) == sorted(
            (i["proposal_id"], i["bureau"]) for i in answer["items"]), (text, url)
        if answer.get("counted") is not None:
            counted = {(i["proposal_id"], i["bureau"]) for i in answer["items"] if i["counted"]}
            assert {(r[1], named[r[4]]) for r in rows if r[6] in ("是", "yes")} == counted
        as_of = date.fromisoformat(dict(p.split("=") for p in url.split("?")[1].split("&"))
                                   ["as_of"])
        for row in rows:
            bureau = named[row[4]]
            expected = [e["event_id"] for e in lists.history(row[1])
                        if (e["bureau"] or "") in ("", bureau)
                        and business_date(datetime.fromisoformat(e["occurred_at"])) <= as_of]
            assert (row[9] or "").split() == expected, (text, row[1])
