"""The year-end documents as Word, WPS and a printer show them, checked in the suite (issue 22
§5): every DOCX (one bureau and all bureaus, Chinese and English, on the demo's history) is
rendered by LibreOffice, headless, from Debian's packages (`make office` installs them), and
every HTML printed by Debian's Chromium (headless, `--print-to-pdf`); each PDF is read back
with pdfplumber:

- every table's rows are there, in order, each whole on one page (a row split across pages
  would come back as two pieces), with the header repeated on each page it continues on, and a
  total row never alone on a page;
- no cell of a count, date, 序号, case number or rate column wraps: each is one line, but a
  rate's fraction or a case's level may stand on a line of its own, never broken inside;
- every cross-reference (第五部分“统计口径”, part 5, “Definitions”; 附件：…) names a section, or
  the attachment, that is there with that number and title.

The pages go to artifacts/ as PNG (pdftoppm) for a person to look at."""
from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from banli.demo.generate import demo_history
from banli.demo.model import MODEL_FILE
from banli.documents import build_bundle, compose, ledger_source, render
from banli.documents.blocks import NO_WRAP, Appendix, Heading, Table, plain
from banli.documents.layout import unbroken
from banli.history import run_history

from tests.conftest import ROOT

pdfplumber = pytest.importorskip("pdfplumber", reason="the test extra installs pdfplumber")
pytestmark = pytest.mark.office
ARTIFACTS = ROOT / "artifacts"
DOCUMENTS = {  # name: (bureau, lang, as of, document number)
    "ipa-zh": ("sh-ipa", "zh", date(2020, 11, 20), "沪知局〔2020〕118号"),
    "ipa-en": ("sh-ipa", "en", date(2020, 11, 20), None),
    "all-zh": (None, "zh", date(2020, 12, 31), None),
    "all-en": (None, "en", date(2020, 12, 31), "〔2021〕3号"),
}


def tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        pytest.fail(f"no {name}: `make office` installs Debian's libreoffice-writer-nogui and "
                    f"poppler-utils (apt-get install)")
    return found


@dataclass
class Rendered:
    blocks: list
    pdf: Path


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail("no Chromium: `make browser` installs Debian's chromium (apt-get install)")
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, Rendered]:
    """Each document composed from the reference, written as DOCX and rendered by LibreOffice
    (`NAME`), and written as HTML and printed by Chromium (`NAME-html`)."""
    soffice, pdftoppm, browser = tool("soffice"), tool("pdftoppm"), chromium()
    with MODEL_FILE.open(encoding="utf-8") as lines:
        ledger, _ = run_history([*lines, *demo_history()])
    out = tmp_path_factory.mktemp("documents")
    documents = {}
    for name, (bureau, lang, as_of, number) in DOCUMENTS.items():
        bundle = build_bundle(ledger_source(ledger), bureau=bureau, year=2020, as_of=as_of,
                              term_start=2018, profile=ledger.profile, doc_number=number)
        (out / f"document-{name}.docx").write_bytes(render(bundle, "docx", lang))
        documents[name] = Rendered(compose(bundle, lang), out / f"document-{name}.pdf")
        page = out / f"document-{name}.html"
        page.write_bytes(render(bundle, "html", lang))
        printed = out / f"document-{name}-html.pdf"
        subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                        "--no-pdf-header-footer", f"--print-to-pdf={printed}",
                        page.as_uri()], check=True, capture_output=True, timeout=300)
        documents[f"{name}-html"] = Rendered(documents[name].blocks, printed)
    subprocess.run([soffice, f"-env:UserInstallation=file://{out}/profile", "--headless",
                    "--convert-to", "pdf", "--outdir", str(out),
                    *sorted(str(p) for p in out.glob("*.docx"))],
                   check=True, capture_output=True, timeout=300)
    ARTIFACTS.mkdir(exist_ok=True)
    for name, document in documents.items():
        assert document.pdf.is_file(), f"no PDF for {name}"
        shutil.copy(document.pdf, ARTIFACTS / document.pdf.name)
        subprocess.run([pdftoppm, "-r", "60", "-png", str(document.pdf),
                        str(ARTIFACTS / document.pdf.stem)], check=True, timeout=300)
    return documents


def squeeze(text: str | None) -> str:
    """Spaces aside, and the CJK radicals some PDFs map characters to (⼊ for 入) as the
    characters."""
    return re.sub(r"\s", "", unicodedata.normalize("NFKC", text or ""))


def same(got: list[str], want: list[str]) -> bool:
    """A row read back is the row written: its cells' text, spaces aside. A face that draws two
    characters with one glyph (户 and 戶, 见 and ⻅, — and ―) gives either back: a cell may
    differ in such a character, never in its digits, Latin letters or length (a row split
    across pages would)."""
    if len(got) != len(want):
        return False
    for g, w in zip(map(squeeze, got), map(squeeze, want)):
        if len(g) != len(w) or any(a != b and (a.isascii() or b.isascii())
                                   for a, b in zip(g, w)):
            return False
    return True


@dataclass
class PdfRow:
    page: int
    cells: list[str]   # as laid out: "\n" where a line ended


def pdf_tables(pdf: Path) -> list[list[PdfRow]]:
    """The tables of the PDF in reading order, each the rows found on every page it covers; a
    table that goes on over a page break is one table here (it is the next on the page and
    starts at the top of the text block)."""
    tables: list[list[PdfRow]] = []
    with pdfplumber.open(pdf) as document:
        for number, page in enumerate(document.pages, 1):
            found = sorted(page.find_tables(), key=lambda t: t.bbox[1])
            for index, table in enumerate(found):
                rows = [PdfRow(number, [c or "" for c in row]) for row in table.extract()]
                above = page.crop((0, 0, page.width, table.bbox[1])).extract_text() or ""
                # goes on from the page before: first on its page, nothing above it, the
                # header repeated (a table that starts on a new page has a caption or title)
                if (index == 0 and tables and not squeeze(above)
                        and tables[-1][-1].page == number - 1
                        and same(rows[0].cells, tables[-1][0].cells)):
                    tables[-1].extend(rows)
                else:
                    tables.append(rows)
    return tables


def assert_tables_laid_out(name: str, document: Rendered) -> None:
    expected = [b for b in document.blocks if isinstance(b, Table)]
    found = pdf_tables(document.pdf)
    assert len(found) == len(expected), (name, len(found), len(expected))
    for table, rows in zip(expected, found):
        where = f"{name}: {table.caption or 'the attachment'}"
        pages = sorted({r.page for r in rows})
        # the header on top of each page the table is on, and only there
        for page in pages:
            first = next(r for r in rows if r.page == page)
            assert same(first.cells, table.header), (where, page, first.cells)
        body = [r for r in rows if not same(r.cells, table.header)]
        # every row whole and in order: a row split across pages comes back as two pieces
        assert len(body) == len(table.rows), (where, len(body), len(table.rows))
        for row, got in zip(table.rows, body):
            assert same(got.cells, [plain(c) for c in row]), (where, got.cells, row)
        for row, got in zip(table.rows, body):
            for column, cell in enumerate(got.cells):
                kind = table.kind(column)
                if kind in NO_WRAP:
                    lines = [line for line in cell.split("\n") if line.strip()]
                    pieces = [squeeze(p) for p in unbroken(kind, plain(row[column]))]
                    assert [squeeze(line) for line in lines] in ([squeeze(cell)], pieces), (
                        f"{where}: {table.header[column]} wraps: {cell!r}")
        if table.total and len(pages) > 1:
            last_page = body[-1].page
            assert sum(r.page == last_page for r in body) > 1, f"{where}: the total alone"


def pdf_text(pdf: Path) -> str:
    with pdfplumber.open(pdf) as document:
        return "\n".join(page.extract_text() or "" for page in document.pages)


def assert_references_name_sections(name: str, document: Rendered) -> None:
    text = squeeze(pdf_text(document.pdf))
    headings = [b.text for b in document.blocks if isinstance(b, Heading) and b.level == 1]
    referred = (re.findall(r"第([一二三四五六七八九十]+)部分“(.+?)”", text)
                + re.findall(r"part(\d+),“(.+?)”", text))
    assert referred, f"{name}: no cross-reference found"
    for number, title in referred:
        heading = f"{number}、{title}" if not number.isdigit() else f"{number}.{title}"
        assert squeeze(heading) in [squeeze(h) for h in headings], (name, number, title)
        assert squeeze(heading) in text, (name, heading)
    (appendix,) = [b for b in document.blocks if isinstance(b, Appendix)]
    said = re.findall(r"(?:附件：|Attachment:)(.+?)(?=\n|$)", pdf_text(document.pdf))
    assert [squeeze(s) for s in said][:1] == [squeeze(appendix.title)], (name, said)


@pytest.mark.parametrize("name", [*DOCUMENTS, *(f"{name}-html" for name in DOCUMENTS)])
def test_the_rendered_document_keeps_its_tables_whole(rendered, name):
    assert_tables_laid_out(name, rendered[name])


@pytest.mark.parametrize("name", DOCUMENTS)
def test_every_cross_reference_names_a_section_that_is_there(rendered, name):
    assert_references_name_sections(name, rendered[name])
