"""Year-end documents from the reference (a history decided in memory): the model report's
numbers in every format, every table held to the JSON reports, GB/T 9704 conventions in the
DOCX, the CLI's output rules, and a source that contradicts itself refused."""
from __future__ import annotations

import io
import json
import re
import sys
from datetime import date

import docx
import pytest
from docx.enum.section import WD_ORIENT
from docx.oxml.ns import qn
from docx.shared import Pt

from apps.cli import main
from banli.demo.generate import generate_history, to_jsonl
from banli.demo.model import MODEL_FILE
from banli.documents import (FORMATS, Source, SourceMismatch, build_bundle, compose,
                             congress_term_start, content_disposition, ledger_source, percent,
                             render)
from banli.domain.timing.deadlines import PROFILES
from banli.domain.views.rates import Scope, report_items
from banli.history import reference_report, run_history
from tests.document_tables import (READERS, assert_tables_state, docx_tables, docx_text,
                                   expected, html_text)

AS_OF = date(2020, 11, 20)
DEFAULT = PROFILES["default"]


@pytest.fixture(scope="module")
def model_ledger():
    with MODEL_FILE.open(encoding="utf-8") as lines:
        ledger, problems = run_history(lines)
    assert problems == []
    return ledger


@pytest.fixture(scope="module")
def generated_ledger():
    ledger, _ = run_history(to_jsonl(line) for line in generate_history(150, seed=11))
    return ledger


def reference_expected(ledger, bureau, year=2020, term_start=2018, as_of=AS_OF):
    return expected(lambda s: reference_report(ledger, s),
                    lambda s: report_items(ledger.proposals_as_of(s.as_of), s, ledger.profile),
                    {b: names[0] for b, names in ledger.directory.bureaus.items()},
                    bureau, year, term_start, as_of)


def model_document(ledger, fmt: str, lang: str = "zh", **options) -> bytes:
    bundle = build_bundle(ledger_source(ledger), bureau=options.pop("bureau", "sh-ipa"),
                          year=2020, as_of=AS_OF, profile=DEFAULT, term_start=2018, **options)
    return render(bundle, fmt, lang)


def text_of(data: bytes, fmt: str) -> str:
    if fmt == "docx":
        return docx_text(data)
    return html_text(data) if fmt == "html" else data.decode()


# --- the model report ----------------------------------------------------------------------------

MODEL_SENTENCES = [
    # 2020: 29 handled, NPC lead 2 co 9, CPPCC lead 8 co 10; 9 solved, 1 reference; 100% disclosed
    "2020年，本单位共承办代表建议和政协提案29件，其中代表建议11件（主办件2件，会办件9件）；"
    "政协提案18件（主办件8件，会办件10件）。",
    "10件主办件中，均已答复，其中解决采纳（A类）9件、留作参考（D类）1件。",
    "答复公开率100%（10/10）",
    # since 2018: 70 items, lead 6 NPC + 20 CPPCC, on time 100%, adoption 92% (24 of 26)
    "2018年以来共收到代表建议和政协提案70件",
    "其中代表建议主办件6件，政协提案主办件20件",
    "按期办复率为100%（26/26），解决采纳率为92%（24/26）",
    # review: 7 first undisclosed; 2 full + 3 summary; 96% (24 of 25) with 1 exempt
    "对于首次答复未主动公开的7件建议提案，经研究审核，2件全文公开，3件摘要公开，1件仍不公开，"
    "1件依法不公开。本届以来答复公开率为96%（24/25）（依法不公开的1件不计入基数）。",
    # the 2018 talent proposal, kept for reference, adopted in 2020
    "下表所列主办件的办理结果在2020年有了变化",
]


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_model_document_states_the_model_report(model_ledger, fmt):
    data = model_document(model_ledger, fmt, doc_number="沪知局〔2020〕118号")
    text = text_of(data, fmt)
    for sentence in MODEL_SENTENCES:
        assert sentence in text, sentence
    for line in ("上海市知识产权局文件", "沪知局〔2020〕118号",
                 "上海市知识产权局2020年度人大代表建议和政协提案办理情况统计报告"):
        assert line in text
    tables = READERS[fmt](data)
    assert_tables_state(tables, reference_expected(model_ledger, "sh-ipa"))
    revised = next(rows for caption, rows in tables if caption.endswith("往年答复件办理结果变化"))
    assert revised[1][1:] == ["关于完善知识产权专业人才落户就业政策的建议", "2018", "D类 留作参考",
                              "A类 解决采纳"]


def test_the_model_numbers_agree_with_banli_report_json(model_ledger, capsys):
    """The tables against the JSON that `banli report --format json` prints."""
    def cli_json(years: str) -> dict:
        assert main(["report", "--history", str(MODEL_FILE), "--bureau", "sh-ipa", "--years",
                     years, "--as-of", "2020-11-20", "--format", "json"]) == 0
        return json.loads(capsys.readouterr().out)

    e = reference_expected(model_ledger, "sh-ipa")
    e.year_report, e.term_report = cli_json("2020"), cli_json("2018-2020")
    assert (e.year_report["proposals"], e.term_report["proposals"]) == (29, 70)
    assert_tables_state(docx_tables(model_document(model_ledger, "docx")), e)


def test_a_wrong_number_is_caught(model_ledger):
    """The checker itself: a document stating another bureau's numbers fails it."""
    other = model_document(model_ledger, "md", bureau="sh-hrss")
    with pytest.raises(AssertionError):
        assert_tables_state(READERS["md"](other), reference_expected(model_ledger, "sh-ipa"))


@pytest.mark.parametrize("fmt", FORMATS)
def test_all_bureaus_of_the_model(model_ledger, fmt):
    data = model_document(model_ledger, fmt, bureau=None)
    assert_tables_state(READERS[fmt](data), reference_expected(model_ledger, None))
    assert "全部承办单位" in text_of(data, fmt)


# --- generated histories with several bureaus ----------------------------------------------------

@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("bureau,year,term_start,as_of", [
    (None, 2020, 2018, date(2020, 12, 31)),
    ("sh-hrss", 2019, 2018, date(2019, 9, 30)),
    ("sh-jrj", 2020, 2020, date(2021, 3, 1)),
    ("sh-ipa", 2018, 2018, date(2018, 5, 1)),
])
def test_generated_histories(generated_ledger, fmt, bureau, year, term_start, as_of):
    bundle = build_bundle(ledger_source(generated_ledger), bureau=bureau, year=year,
                          as_of=as_of, profile=DEFAULT, term_start=term_start)
    e = reference_expected(generated_ledger, bureau, year, term_start, as_of)
    if bureau is None:
        assert len(e.by_bureau) > 3
    assert_tables_state(READERS[fmt](render(bundle, fmt)), e)


def test_another_profile_counts_planned_as_adopted():
    ledger, _ = run_history(to_jsonl(line) for line in generate_history(80, seed=3))
    ledger.profile = PROFILES["adopt_planned"]
    bundle = build_bundle(ledger_source(ledger), bureau=None, year=2020, as_of=date(2020, 12, 31),
                          profile=PROFILES["adopt_planned"], term_start=2018)
    data = render(bundle, "md")
    assert_tables_state(READERS["md"](data), reference_expected(ledger, None, 2020, 2018,
                                                                date(2020, 12, 31)))
    assert "统计口径为“adopt_planned”" in data.decode()
    assert "解决采纳（A类）、正在解决或列入计划（B类）的比例" in data.decode()


def test_english(model_ledger):
    text = model_document(model_ledger, "md", "en").decode()
    for phrase in ("(lead 2, co 9)", "(lead 8, co 10)", "adoption 92% (24/26)",
                   "Disclosure since the term began: 96% (24/25)", "Table 1. Handled in 2020"):
        assert phrase in text, phrase


# --- numbers as the model report writes them -----------------------------------------------------

@pytest.mark.parametrize("numerator,denominator,shown", [
    (24, 26, "92%"), (24, 25, "96%"), (9, 10, "90%"), (10, 10, "100%"), (0, 7, "0%"),
    (1, 8, "13%"), (5, 8, "63%"), (199, 200, "99.5%"), (2999, 3000, "99.9%"),
    (1, 1000, "0.1%"), (1, 5000, "0.1%"), (0, 0, "—"),
])
def test_percent(numerator, denominator, shown):
    assert percent(numerator, denominator) == shown


def test_the_term_defaults_to_the_congress_term(model_ledger):
    assert [congress_term_start(y) for y in (2017, 2018, 2020, 2022, 2023, 2027, 2028)] == \
        [2013, 2018, 2018, 2018, 2023, 2023, 2028]
    source = ledger_source(model_ledger)
    assert build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF,
                        profile=DEFAULT).term_start == 2018
    # the calendar starts in 1949: so does the first term it can count
    first = build_bundle(source, bureau="sh-ipa", year=1949, as_of=date(1949, 12, 31),
                         profile=DEFAULT)
    assert (first.term_start, first.previous, first.term.report.proposals) == (1949, None, 0)
    assert "统计报告" in render(first, "md").decode()


# --- the DOCX's conventions ----------------------------------------------------------------------

def east_asian(run) -> str:
    return run._r.rPr.rFonts.get(qn("w:eastAsia"))


def test_docx_follows_the_official_document_format(model_ledger):
    data = model_document(model_ledger, "docx", doc_number="沪知局〔2020〕118号")
    document = docx.Document(io.BytesIO(data))
    first, appendix = document.sections

    def mm(*lengths) -> list[int]:  # lengths come back in twips
        return [round(length.mm) for length in lengths]

    assert mm(first.page_width, first.page_height) == [210, 297]  # A4
    assert mm(first.top_margin, first.bottom_margin, first.left_margin,
              first.right_margin) == [37, 35, 28, 26]  # the 156 x 225 mm text block
    assert appendix.orientation == WD_ORIENT.LANDSCAPE
    assert mm(appendix.page_width, appendix.page_height) == [297, 210]

    normal = document.styles["Normal"]
    assert normal.font.size == Pt(16)  # 三号
    assert normal.element.rPr.rFonts.get(qn("w:eastAsia")) == "仿宋_GB2312"

    paragraphs = {p.text: p for p in document.paragraphs if p.text}
    masthead = paragraphs["上海市知识产权局文件"]
    assert east_asian(masthead.runs[0]) == "方正小标宋简体"
    assert str(masthead.runs[0].font.color.rgb) == "FF0000"
    number = paragraphs["沪知局〔2020〕118号"]
    assert number._p.pPr.find(qn("w:pBdr")) is not None  # the red rule under it
    title = paragraphs["上海市知识产权局2020年度人大代表建议和政协提案办理情况统计报告"]
    assert (east_asian(title.runs[0]), title.runs[0].font.size) == ("方正小标宋简体", Pt(22))
    assert east_asian(paragraphs["一、2020年度办理情况"].runs[0]) == "黑体"
    assert east_asian(paragraphs["（一）基本情况"].runs[0]) == "楷体_GB2312"
    body = next(p for text, p in paragraphs.items() if text.startswith("2020年，本单位"))
    assert (east_asian(body.runs[0]), body.paragraph_format.first_line_indent) == (
        "仿宋_GB2312", Pt(32))

    # page numbers: — PAGE — on the right of odd pages, the left of even pages
    assert document.settings.odd_and_even_pages_header_footer
    for footer in (first.footer, first.even_page_footer):
        xml = footer.paragraphs[0]._p.xml
        assert "PAGE" in xml and footer.paragraphs[0].text.startswith("— ")
    # each official face is declared with the face Windows ships as its fallback
    font_table = next(p for p in document.part.package.iter_parts()
                      if str(p.partname) == "/word/fontTable.xml").blob.decode()
    for face, fallback in (("仿宋_GB2312", "仿宋"), ("方正小标宋简体", "宋体"), ("楷体_GB2312", "楷体")):
        assert f'<w:font w:name="{face}"><w:altName w:val="{fallback}"/>' in font_table
    assert document.core_properties.title.startswith("上海市知识产权局2020年度")


def test_html_is_self_contained_and_printable(model_ledger):
    page = model_document(model_ledger, "html").decode()
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    for external in ("<link", "<script", "src=", "url(", "@import"):
        assert external not in page
    # the only addresses are the figures' links to the page's drill-downs
    assert re.findall(r'(\S+)="https?://', page) == ["href"] * page.count("http")
    assert "@page { size: A4;" in page and "size: A4 landscape" in page


def test_download_name_is_chinese_with_an_ascii_fallback(model_ledger):
    bundle = build_bundle(ledger_source(model_ledger), bureau="sh-ipa", year=2020, as_of=AS_OF,
                          profile=DEFAULT)
    header = content_disposition(bundle, "docx")
    assert header.startswith('attachment; filename="banli-report-sh-ipa-2020.docx"; ')
    assert header.endswith("filename*=UTF-8''%E4%B8%8A%E6%B5%B7%E5%B8%82%E7%9F%A5%E8%AF%86"
                           "%E4%BA%A7%E6%9D%83%E5%B1%802020%E5%B9%B4%E5%BA%A6%E5%BB%BA%E8%AE"
                           "%AE%E6%8F%90%E6%A1%88%E5%8A%9E%E7%90%86%E6%83%85%E5%86%B5%E6%8A"
                           "%A5%E5%91%8A.docx")


# --- sources that disagree with themselves -------------------------------------------------------

def test_a_source_whose_items_disagree_with_its_report_is_refused(model_ledger):
    honest = ledger_source(model_ledger)
    short = Source(honest.report_for, lambda scope: honest.items_for(scope)[1:], honest.names)
    with pytest.raises(SourceMismatch):
        build_bundle(short, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT)


def test_a_moving_source_is_read_again(model_ledger):
    """A live store may take events between its queries: the first, torn read is retried."""
    honest = ledger_source(model_ledger)
    calls = {"n": 0}

    def torn_once(scope: Scope):
        calls["n"] += 1
        items = honest.items_for(scope)
        return items[1:] if calls["n"] == 1 else items

    source = Source(honest.report_for, torn_once, honest.names)
    with pytest.raises(SourceMismatch):
        build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT)
    calls["n"] = 0
    bundle = build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT,
                          attempts=2)
    assert bundle.term.report.proposals == 70


def test_a_source_counting_with_another_profile_is_refused(model_ledger):
    with pytest.raises(SourceMismatch, match="counts with 'default'"):
        build_bundle(ledger_source(model_ledger), bureau="sh-ipa", year=2020, as_of=AS_OF,
                     profile=PROFILES["adopt_planned"])


def test_bad_terms_and_formats_are_refused(model_ledger):
    source = ledger_source(model_ledger)
    with pytest.raises(ValueError, match="term"):
        build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT,
                     term_start=2021)
    bundle = build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT)
    with pytest.raises(ValueError, match="format"):
        render(bundle, "pdf")


# --- the CLI -------------------------------------------------------------------------------------

MODEL_FLAGS = ["report", "--history", str(MODEL_FILE), "--bureau", "sh-ipa", "--as-of",
               "2020-11-20"]


def test_cli_writes_the_document(model_ledger, tmp_path, capsys):
    out = tmp_path / "报告.docx"
    assert main([*MODEL_FLAGS, "--years", "2018-2020", "--format", "docx", "-o", str(out)]) == 0
    assert "已写入" in capsys.readouterr().err
    assert_tables_state(docx_tables(out.read_bytes()), reference_expected(model_ledger, "sh-ipa"))


def test_cli_term_start_default_and_flag(model_ledger, capsysbinary):
    assert main([*MODEL_FLAGS, "--years", "2020", "--format", "md"]) == 0  # 2018: the term
    by_default = capsysbinary.readouterr().out
    assert main([*MODEL_FLAGS, "--years", "2020", "--term-start", "2018", "--format", "md"]) == 0
    assert capsysbinary.readouterr().out == by_default
    assert "2018年以来共收到代表建议和政协提案70件".encode() in by_default
    assert main([*MODEL_FLAGS, "--years", "2020", "--term-start", "2019", "--format", "md"]) == 0
    assert "2019年以来共收到代表建议和政协提案50件".encode() in capsysbinary.readouterr().out


def test_cli_docx_to_a_terminal_needs_output(monkeypatch, capsysbinary):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    assert main([*MODEL_FLAGS, "--years", "2020", "--format", "docx"]) == 2
    captured = capsysbinary.readouterr()
    assert b"--output" in captured.err and captured.out == b""
    assert main([*MODEL_FLAGS, "--years", "2020", "--format", "docx", "--output", "-"]) == 0
    assert capsysbinary.readouterr().out.startswith(b"PK")  # a zip: the DOCX itself


def test_cli_docx_to_a_pipe(capsysbinary):
    assert main([*MODEL_FLAGS, "--years", "2020", "--format", "docx"]) == 0
    data = capsysbinary.readouterr().out
    assert docx.Document(io.BytesIO(data)).tables


def test_cli_refuses_a_term_that_contradicts_the_years(capsys):
    assert main([*MODEL_FLAGS, "--years", "2018-2020", "--term-start", "2019",
                 "--format", "md"]) == 2
    assert "--years Y1-Y2" in capsys.readouterr().err


def test_report_help_names_the_document_formats(capsys):
    with pytest.raises(SystemExit):
        main(["report", "--help"])
    text = capsys.readouterr().out
    for flag in ("docx", "--output", "--term-start", "--doc-number"):
        assert flag in text


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_document_states_the_days_lost_to_misrouting(fmt):
    """Per bureau, since the term began, as banli.domain.views.routing_lineage counts them."""
    from banli.domain.views.routing_lineage import misrouting

    ledger, _ = run_history(to_jsonl(line) for line in generate_history(240, 11,
                                                                        routing_noise=0.3))
    as_of = date(2020, 12, 31)
    lost = misrouting(ledger.streams.values(), (2018, 2020), as_of)
    assert sum(m.days_lost for m in lost) > 0, "the history should bounce some assignments"
    bundle = build_bundle(ledger_source(ledger), bureau=None, year=2020, term_start=2018,
                          as_of=as_of, profile=ledger.profile)
    tables = dict((caption.split("　")[-1].split(". ")[-1], rows)
                  for caption, rows in READERS[fmt](render(bundle, fmt)))
    rows = tables["误交办情况"]
    names = {b: zh for b, (zh, _) in ledger.directory.bureaus.items()}
    assert rows[1:] == [[names[m.bureau], str(m.returned), str(m.removed), str(m.days_lost)]
                        for m in lost]
    one = lost[0].bureau
    mine = build_bundle(ledger_source(ledger), bureau=one, year=2020, term_start=2018,
                        as_of=as_of, profile=ledger.profile)
    assert [m.bureau for m in mine.misrouted] == [one]


def test_a_source_that_cannot_tell_misrouting_leaves_the_section_out(model_ledger):
    source = ledger_source(model_ledger)
    quiet = Source(source.report_for, source.items_for, source.names)
    text = render(build_bundle(quiet, bureau="sh-ipa", year=2020, as_of=date(2020, 11, 20),
                               profile=model_ledger.profile), "md").decode()
    assert "误交办" not in text
    text = render(build_bundle(source, bureau="sh-ipa", year=2020, as_of=date(2020, 11, 20),
                               profile=model_ledger.profile), "md").decode()
    assert "误交办" in text


def test_the_document_states_who_recorded_the_satisfaction():
    """满意度录入: the filer, the office, the bureau itself (代表被满意), in the text and the
    table, as the report counts them."""
    from tests.integration.test_feedback_report import HISTORY

    ledger, problems = run_history(HISTORY)
    assert problems == []
    bundle = build_bundle(ledger_source(ledger), bureau=None, year=2020,
                          as_of=date(2020, 12, 31), profile=DEFAULT, term_start=2020)
    zh, en = (render(bundle, "md", lang).decode() for lang in ("zh", "en"))
    assert ("满意度录入：代表委员本人0件，交办单位0件，承办单位自行录入3件；"
            "承办单位自行录入的占100%（3/3）。") in zh
    assert ("Who recorded the feedback: the filer 0, the office 0, the bureau itself 3; "
            "recorded by the bureau itself 100% (3/3).") in en
    assert_tables_state(READERS["md"](render(bundle, "md")),
                        reference_expected(ledger, None, 2020, 2020, date(2020, 12, 31)))


# --- issue 22 §5: references, masthead, number, date, layout ------------------------------------

def test_a_reference_names_the_section_it_points_to_whatever_their_order(model_ledger):
    """With the misrouting section, 统计口径 is part 5; without it, part 4: the text follows."""
    source = ledger_source(model_ledger)
    quiet = Source(source.report_for, source.items_for, source.names)
    for chosen, number, zh in ((source, 5, "五"), (quiet, 4, "四")):
        bundle = build_bundle(chosen, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT)
        text = render(bundle, "md").decode()
        assert f"统计口径见第{zh}部分“统计口径”" in text and f"## {zh}、统计口径" in text
        english = render(bundle, "md", "en").decode()
        assert f"see part {number}, “Definitions”" in english
        assert f"## {number}. Definitions" in english


def test_the_masthead_number_and_date(model_ledger):
    source = ledger_source(model_ledger)
    every = build_bundle(source, bureau=None, year=2020, as_of=AS_OF, profile=DEFAULT)
    text = docx_text(render(every, "docx"))
    assert text.startswith("建议提案办理工作办公室文件\n")  # the office's masthead, by default
    assert "〔" not in text and "号\n" not in text  # no number given: none printed, not a blank
    named = build_bundle(source, bureau=None, year=2020, as_of=AS_OF, profile=DEFAULT,
                         office=("上海市人民政府办公厅", "General Office"),
                         doc_number="沪府办〔2020〕7号", doc_date=date(2020, 12, 1))
    text = docx_text(render(named, "docx"))
    assert text.startswith("上海市人民政府办公厅文件\n沪府办〔2020〕7号\n")
    assert "上海市人民政府办公厅\n2020年12月1日" in text
    with pytest.raises(ValueError, match="before its data"):
        build_bundle(source, bureau="sh-ipa", year=2020, as_of=AS_OF, profile=DEFAULT,
                     doc_date=date(2020, 11, 19))


def test_cli_sets_the_number_term_and_date(capsysbinary):
    assert main([*MODEL_FLAGS, "--years", "2020", "--term", "2019", "--date", "2020-11-25",
                 "--doc-number", "沪知局〔2020〕118号", "--format", "md"]) == 0
    text = capsysbinary.readouterr().out.decode()
    assert "沪知局〔2020〕118号" in text and "2020年11月25日" in text
    assert "2019年以来共收到代表建议和政协提案50件" in text
    assert main([*MODEL_FLAGS, "--years", "2020", "--date", "2020-11-19", "--format", "md"]) == 2


def test_columns_are_as_wide_as_what_they_hold(model_ledger):
    """Every table's columns add up to the text block; a column that never wraps is at least as
    wide as its widest cell (each unbroken piece of it, where the layout splits it)."""
    from banli.documents.blocks import NO_WRAP, Table, plain
    from banli.documents.layout import MM_PER_PT, em, layout, unbroken

    for lang in ("zh", "en"):
        bundle = build_bundle(ledger_source(model_ledger), bureau=None, year=2020, as_of=AS_OF,
                              profile=DEFAULT)
        for table in (b for b in compose(bundle, lang) if isinstance(b, Table)):
            shape = layout(table, 156, 12, 2.6)
            assert abs(sum(shape.widths) - 156) < 0.01, table.caption
            for column, width in enumerate(shape.widths):
                if table.kind(column) not in NO_WRAP:
                    continue
                for row in table.rows:
                    text = plain(row[column])
                    pieces = unbroken(table.kind(column), text) if shape.lines(column) == 2 \
                        else [text]
                    need = max(em(p) for p in pieces) * shape.size * MM_PER_PT + 2.6
                    assert need <= width + 1e-6, (table.caption, column, text)


def test_cli_writes_the_evidence_beside_the_document(model_ledger, tmp_path, capsys):
    """From the reference: each figure of the document, with the items it counts and their
    events; the model's adoption since 2018 (92%, 24 of 26) lists its 26 replies, 24 counted."""
    import openpyxl

    from banli.documents import figures_of

    out = tmp_path / "依据.xlsx"
    assert main([*MODEL_FLAGS, "--years", "2018-2020", "--format", "evidence", "-o",
                 str(out)]) == 0
    capsys.readouterr()
    book = openpyxl.load_workbook(out, read_only=True)
    shown, items = (list(sheet.iter_rows(min_row=2, values_only=True))
                    for sheet in book.worksheets)
    bundle = build_bundle(ledger_source(model_ledger), bureau="sh-ipa", year=2020, as_of=AS_OF,
                          profile=DEFAULT, term_start=2018)
    assert [row[2] for row in shown] == [f.text for f in figures_of(compose(bundle))]
    adoption = next(row[0] for row in shown if row[2] == "92%（24/26）"
                    and "measure=adoption" in row[12] and "years=2018-2020" in row[12])
    rows = [row for row in items if row[0] == adoption]
    assert len(rows) == 26 and sum(row[6] == "是" for row in rows) == 24
    events = {e.event_id: e for events in model_ledger.streams.values() for e in events}
    for row in rows:
        ids = row[9].split()
        assert ids and all(events[i].proposal_id == row[1] for i in ids)
        assert {events[i].type for i in ids} >= {"ProposalSubmitted", "ReplyIssued"}
