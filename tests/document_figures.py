"""Reading every number of a year-end document (DOCX or HTML), with the link each figure
carries, and telling the figures from the numbers that are not counts (years, dates, table and
section numbers, a case's number, the working days of the late-entry rule).

A document is read as segments: each piece of text in reading order, with the section it
stands in, the header of its table column (for cells) and its link (for figures)."""
from __future__ import annotations

import io
import re
from dataclasses import dataclass
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import docx
from docx.oxml.ns import qn

from banli.documents import percent

HEADING = re.compile(r"^(?:[一二三四五六七八九十]、|\d+\. [A-Z])")
# columns whose cells are not counts: a row's order, a case's number, a title (free text)
NOT_COUNTS = {"序号", "#", "案号", "No.", "标题", "Title"}
# sections whose figures have no drill-down yet (README: misrouting comes from /api/misrouting)
UNLINKED_SECTIONS = ("误交办情况", "Misrouting")
NOT_FIGURES = [
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2})?(?:[+-]\d{2}:\d{2})?)?",  # dates, times
    r"\d{4}年\d{1,2}月\d{1,2}日",
    r"〔\d{4}〕\d*号?",                                     # a document number
    r"表\d+", r"Table \d+", r"part \d+",                    # table and section numbers
    r"^\d+\.(?:\d+)? (?=[A-Z])",                             # an English heading's number
    r"\d+个工作日", r"\d+ working days",                     # the late-entry rule's N
    r"(?<![\d.])(?:19[4-9]\d|2[01]\d\d)(?![\d.%])",         # years
    r"[A-D]类", r"\([A-D]\)",
]
RATE = re.compile(r"^(\d+(?:\.\d)?%)\s*[（(](\d+)/(\d+)[）)]$")


@dataclass(frozen=True)
class Segment:
    text: str
    section: str
    column: str | None   # the column header, for a table cell
    url: str | None      # a figure's link


def docx_segments(data: bytes) -> list[Segment]:
    document = docx.Document(io.BytesIO(data))
    rels = document.part.rels
    out: list[Segment] = []
    section = ""

    def paragraph(p, column: str | None) -> str:
        text = "".join(t.text or "" for t in p.iter(qn("w:t")))
        for child in p.iterchildren():
            if child.tag == qn("w:hyperlink"):
                url = rels[child.get(qn("r:id"))].target_ref
                shown = "".join(t.text or "" for t in child.iter(qn("w:t")))
                out.append(Segment(shown, section, column, url))
            elif child.tag == qn("w:r"):
                out.append(Segment("".join(t.text or "" for t in child.iter(qn("w:t"))),
                                   section, column, None))
        return text

    for element in document.element.body.iterchildren():
        if element.tag == qn("w:p"):
            text = paragraph(element, None)
            if HEADING.match(text):
                section = text
        elif element.tag == qn("w:tbl"):
            rows = element.findall(qn("w:tr"))
            header = ["".join(t.text or "" for t in tc.iter(qn("w:t")))
                      for tc in rows[0].findall(qn("w:tc"))]
            for row in rows[1:]:
                for column, tc in enumerate(row.findall(qn("w:tc"))):
                    for p in tc.findall(qn("w:p")):
                        paragraph(p, header[column])
    return [s for s in out if s.text]


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.out: list[Segment] = []
        self.section = ""
        self.heading: list[str] | None = None
        self.header: list[str] = []
        self.in_head = self.in_style = False
        self.column = -1
        self.link: tuple[str, list[str]] | None = None  # a figure's link and its text so far

    def _column(self) -> str | None:
        return self.header[self.column] if 0 <= self.column < len(self.header) else None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "h2":
            self.heading = []
        elif tag == "thead":
            self.in_head, self.header = True, []
        elif tag == "tr":
            self.column = -1
        elif tag in ("td", "th"):
            self.column += 1
        elif tag == "a" and "figure" in (attrs.get("class") or ""):
            self.link = (attrs["href"], [])
        elif tag == "style":
            self.in_style = True

    def handle_endtag(self, tag):
        if tag == "h2" and self.heading is not None:
            self.section, self.heading = "".join(self.heading), None
        elif tag == "thead":
            self.in_head = False
        elif tag == "table":
            self.column = -1
        elif tag == "a" and self.link is not None:
            url, text = self.link
            self.out.append(Segment("".join(text), self.section, self._column(), url))
            self.link = None
        elif tag == "style":
            self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            return
        if self.heading is not None:
            self.heading.append(data)
        if self.in_head:
            self.header.append(data)
        elif self.link is not None:
            self.link[1].append(data)
        else:
            self.out.append(Segment(data, self.section, self._column(), None))


def html_segments(data: bytes) -> list[Segment]:
    reader = _Reader()
    reader.feed(data.decode())
    return [s for s in reader.out if s.text.strip()]


def loose_numbers(segments: list[Segment], doc_number: str | None = None) -> list[Segment]:
    """The segments outside any link that still hold a number once what is not a count is
    taken out: each is a figure without its link."""
    found = []
    for s in segments:
        if s.url is not None or s.column in NOT_COUNTS or s.section.endswith(UNLINKED_SECTIONS):
            continue
        text = s.text.replace(doc_number, "") if doc_number else s.text
        if s.section.endswith(("统计口径", "Definitions")):
            text = re.sub(r"\d+(?:\.\d)?%?", "", text)  # the rules: the rounding examples
        for pattern in NOT_FIGURES:
            text = re.sub(pattern, "", text)
        if re.search(r"\d", text):
            found.append(s)
    return found


def figures(segments: list[Segment]) -> list[tuple[str, str]]:
    """(text as printed, link) of each figure, in reading order."""
    return [(s.text.replace("\u200b", "").strip(), s.url) for s in segments
            if s.url is not None]


def drilldown(url: str) -> tuple[str, dict[str, str]]:
    """The API route and parameters a figure's link asks for (README: the link format)."""
    parts = urlsplit(url)
    assert parts.path == "/app/", url
    query = dict(parse_qsl(parts.query))
    query.pop("count", None)
    if "entries" in query:
        query["which"] = query.pop("entries")
        return "/api/entries", query
    assert "measure" in query, url
    return "/api/items", query


def assert_figure_is_its_list(text: str, url: str, answer: dict) -> None:
    """The number as printed is the list behind its link: a count its size (or its distinct
    proposals' with count=proposals), a rate its numerator over its denominator, rounded as
    the document says."""
    if "count=proposals" in url:
        assert int(text) == len({i["proposal_id"] for i in answer["items"]}), (text, url)
        return
    match = RATE.match(text)
    if match:
        shown, numerator, denominator = match[1], int(match[2]), int(match[3])
        assert (answer["counted"], answer["count"]) == (numerator, denominator), (text, url)
        assert percent(numerator, denominator) == shown, (text, url)
    elif text in ("—", "暂无", "none yet"):
        assert answer["count"] == 0, (text, url)
    else:
        assert int(text) == answer["count"], (text, url, answer["count"])
