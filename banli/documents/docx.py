"""Year-end documents as DOCX, for Word and WPS, in the manner of GB/T 9704 (党政机关公文格式).

What the standard asks and this writes: A4 with the 156 × 225 mm text block (top 37 mm, left
28 mm, right 26 mm, bottom 35 mm), 三号 仿宋_GB2312 body on a fixed 22-line pitch, the masthead
(发文机关标志) in red 小标宋 over the document number (发文字号) and a red rule, the title in 二号
小标宋, first-level headings in 黑体 and second-level in 楷体, signature and date on the right,
page numbers as "— 1 —" in 四号 宋体 (odd pages right, even pages left), the attachment on its
own pages (landscape, for the wide table of lead items).

The Chinese faces are set as East Asian fonts (w:eastAsia), with Times New Roman for Latin
text. The official faces are often missing (方正小标宋 and the _GB2312 faces are separate
installs), so the font table names a fallback for each (w:altName: 宋体, 仿宋, 楷体), the faces
Windows ships; Word and WPS substitute them when the named one is absent.
"""
from __future__ import annotations

import re
from io import BytesIO
from typing import Callable

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.style import WD_STYLE_TYPE
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_LINE_SPACING
from docx.oxml import OxmlElement
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor
from docx.text.font import Font
from lxml import etree

from .blocks import (NO_WRAP, Appendix, Block, Closing, Figure, Heading, Masthead, Para, Table,
                     Title, Trace)
from .layout import KEEP_WHOLE, PADDING, em, layout, rate_parts, unbroken

# 字号 in points
ERHAO, XIAOER, SANHAO, SIHAO, XIAOSI, WUHAO = 22, 18, 16, 14, 12, 10.5
LINE = Pt(28.95)          # 225 mm / 22 lines
CHAR = Pt(SANHAO)         # one character of body text, for 空二字 indents
TITLE, BODY, HEI, KAI, SONG = "方正小标宋简体", "仿宋_GB2312", "黑体", "楷体_GB2312", "宋体"
LATIN = "Times New Roman"
RED = RGBColor(0xFF, 0x00, 0x00)
# name -> (fallback, family, pitch) for the font table
FONT_TABLE = {TITLE: ("宋体", "roman", "variable"), BODY: ("仿宋", "modern", "fixed"),
              KAI: ("楷体", "modern", "fixed"), HEI: ("SimHei", "modern", "fixed"),
              SONG: ("SimSun", "auto", "variable")}
# w:pPr's children that come after w:pBdr (the schema's order; Word refuses others)
PPR_AFTER_BORDERS = ("w:shd", "w:tabs", "w:suppressAutoHyphens", "w:kinsoku", "w:wordWrap",
                     "w:overflowPunct", "w:topLinePunct", "w:autoSpaceDE", "w:autoSpaceDN",
                     "w:bidi", "w:adjustRightInd", "w:snapToGrid", "w:spacing", "w:ind",
                     "w:contextualSpacing", "w:mirrorIndents", "w:suppressOverlap", "w:jc",
                     "w:textDirection", "w:textAlignment", "w:textboxTightWrap",
                     "w:outlineLvl", "w:divId", "w:cnfStyle", "w:rPr", "w:sectPr", "w:pPrChange")
# characters XML 1.0 cannot carry (a title typed with a stray control character, say)
NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
CELL_MARGIN = Mm(1.0)     # left and right, inside each table cell (layout.PADDING: both, borders)
Linker = Callable[[Trace], str]


def write_docx(blocks: list[Block], lang: str, title: str, author: str,
               link: Linker | None = None) -> bytes:
    """The document; with `link`, each figure is a hyperlink to its drill-down."""
    doc = Document()
    _normal_style(doc, lang)
    _declare_fonts(doc)
    doc.settings.odd_and_even_pages_header_footer = True
    _page(doc.sections[0], landscape=False)
    _page_numbers(doc.sections[0])
    body = doc.paragraphs[0] if doc.paragraphs else None  # the template's empty paragraph
    if body is not None:
        body._element.getparent().remove(body._element)
    links = _Links(doc.part, link) if link is not None else None
    wide = False
    for index, block in enumerate(blocks):
        # the signature and date never stand alone on a page: the line before goes with them;
        # nor does a sentence that leads into a table ("…：") end a page without it
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        kept = isinstance(after, Closing) or (
            isinstance(after, Table) and isinstance(block, Para)
            and block.text.rstrip().endswith(("：", ":")))
        if isinstance(block, Masthead):
            _masthead(doc, block.agency, block.number)
        elif isinstance(block, Title):
            _paragraph(doc, block.text, TITLE, ERHAO, align=WD_ALIGN_PARAGRAPH.CENTER,
                       line=Pt(35), before=LINE * 2, after=LINE)
        elif isinstance(block, Heading):
            _paragraph(doc, block.text, HEI if block.level == 1 else KAI, SANHAO, indent=CHAR * 2,
                       keep_with_next=True)
        elif isinstance(block, Para):
            p = _paragraph(doc, "", BODY, SANHAO, indent=CHAR * 2,
                           align=WD_ALIGN_PARAGRAPH.JUSTIFY, keep_with_next=kept)
            for part in block.parts:
                _write(p, part, BODY, SANHAO, links, breakable=True)
        elif isinstance(block, Table):
            _table(doc, block, wide, links)
        elif isinstance(block, Closing):
            _paragraph(doc, block.signer, BODY, SANHAO, align=WD_ALIGN_PARAGRAPH.RIGHT,
                       right=CHAR * 2, before=LINE * 2, keep_with_next=True)
            _paragraph(doc, block.day, BODY, SANHAO, align=WD_ALIGN_PARAGRAPH.RIGHT,
                       right=CHAR * 2)
        elif isinstance(block, Appendix):
            section = doc.add_section(WD_SECTION.NEW_PAGE)
            _page(section, landscape=True)
            wide = True
            _paragraph(doc, block.label, HEI, SANHAO, keep_with_next=True)
            _paragraph(doc, block.title, TITLE, XIAOER, align=WD_ALIGN_PARAGRAPH.CENTER,
                       line=Pt(32), after=Pt(12), keep_with_next=True)
    props = doc.core_properties
    props.title, props.author, props.last_modified_by = title, author, "Banli 办理"
    props.language = "zh-CN" if lang == "zh" else "en"
    out = BytesIO()
    doc.save(out)
    return out.getvalue()


# --- Page, styles, fonts -----------------------------------------------------------------------

def _page(section, landscape: bool) -> None:
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = Mm(297), Mm(210)
        section.top_margin, section.bottom_margin = Mm(28), Mm(26)
        section.left_margin, section.right_margin = Mm(37), Mm(35)
    else:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = Mm(210), Mm(297)
        section.top_margin, section.bottom_margin = Mm(37), Mm(35)
        section.left_margin, section.right_margin = Mm(28), Mm(26)
    section.footer_distance = Mm(22)   # the number's top 7 mm under the text block


def _fonts(element, east: str, size: float | None = None, bold: bool | None = None,
           color: RGBColor | None = None) -> None:
    """Set a run's (or a style's) East Asian and Latin faces, size, weight and colour. Through
    python-docx's Font, which keeps w:rPr's children in the order the schema (and Word) wants."""
    font = Font(element)
    font.name = LATIN  # w:ascii and w:hAnsi
    rfonts = element.get_or_add_rPr().get_or_add_rFonts()
    rfonts.set(qn("w:cs"), LATIN)
    rfonts.set(qn("w:eastAsia"), east)
    if size is not None:
        font.size = Pt(size)
    if bold is not None:
        font.bold = bold
    if color is not None:
        font.color.rgb = color


def _normal_style(doc, lang: str) -> None:
    style = doc.styles["Normal"]
    _fonts(style.element, BODY, SANHAO)
    language = OxmlElement("w:lang")
    language.set(qn("w:val"), "en-US")
    language.set(qn("w:eastAsia"), "zh-CN")
    style.element.get_or_add_rPr().insert_element_before(
        language, "w:eastAsianLayout", "w:specVanish", "w:oMath")
    paragraph = style.paragraph_format
    paragraph.space_before = paragraph.space_after = Pt(0)
    paragraph.line_spacing_rule = WD_LINE_SPACING.EXACTLY
    paragraph.line_spacing = LINE


def _declare_fonts(doc) -> None:
    """Name the official faces in the font table, each with the fallback Windows ships.
    python-docx has no API for the font table: its XML is edited and stored back."""
    part = next(p for p in doc.part.package.iter_parts()
                if str(p.partname) == "/word/fontTable.xml")
    root = etree.fromstring(part.blob)
    present = {f.get(qn("w:name")) for f in root}
    for name, (fallback, family, pitch) in FONT_TABLE.items():
        if name in present:
            continue
        font = etree.SubElement(root, qn("w:font"))
        font.set(qn("w:name"), name)
        for tag, value in (("w:altName", fallback), ("w:charset", "86"), ("w:family", family),
                           ("w:pitch", pitch)):
            etree.SubElement(font, qn(tag)).set(qn("w:val"), value)
    part._blob = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)


def _page_numbers(section) -> None:
    """— 1 — in 四号 宋体: odd pages on the right, even pages on the left, one character in."""
    for footer, align in ((section.footer, WD_ALIGN_PARAGRAPH.RIGHT),
                          (section.even_page_footer, WD_ALIGN_PARAGRAPH.LEFT)):
        footer.is_linked_to_previous = False
        p = footer.paragraphs[0]
        p.alignment = align
        fmt = p.paragraph_format
        fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
        if align == WD_ALIGN_PARAGRAPH.RIGHT:
            fmt.right_indent = Pt(SIHAO)
        else:
            fmt.left_indent = Pt(SIHAO)
        _fonts(p.add_run("— ")._r, SONG, SIHAO)
        _field(p, "PAGE", "1")
        _fonts(p.add_run(" —")._r, SONG, SIHAO)


def _field(paragraph, instruction: str, shown: str) -> None:
    def run_with(child) -> None:
        run = paragraph.add_run()
        _fonts(run._r, SONG, SIHAO)
        run._r.append(child)

    begin = OxmlElement("w:fldChar")
    begin.set(qn("w:fldCharType"), "begin")
    run_with(begin)
    text = OxmlElement("w:instrText")
    text.set(qn("xml:space"), "preserve")
    text.text = f" {instruction} "
    run_with(text)
    separate = OxmlElement("w:fldChar")
    separate.set(qn("w:fldCharType"), "separate")
    run_with(separate)
    _fonts(paragraph.add_run(shown)._r, SONG, SIHAO)
    end = OxmlElement("w:fldChar")
    end.set(qn("w:fldCharType"), "end")
    run_with(end)


# --- Blocks --------------------------------------------------------------------------------------

def _paragraph(doc, text: str, east: str, size: float, *, align=None, indent=None, right=None,
               line=None, before=None, after=None, color: RGBColor | None = None,
               keep_with_next: bool = False):
    p = doc.add_paragraph()
    fmt = p.paragraph_format
    if align is not None:
        p.alignment = align
    if indent is not None:
        fmt.first_line_indent = indent
    if right is not None:
        fmt.right_indent = right
    if line is not None:
        fmt.line_spacing_rule, fmt.line_spacing = WD_LINE_SPACING.EXACTLY, line
    if before is not None:
        fmt.space_before = before
    if after is not None:
        fmt.space_after = after
    fmt.keep_with_next = keep_with_next or None
    if text:
        _fonts(p.add_run(NOT_XML.sub("", text))._r, east, size, color=color)
    return p


class _Links:
    """Each figure's hyperlink relationship, one per address. python-docx's own relate_to looks
    each one up among all the document's relationships and numbers it by counting them: with a
    few thousand figures (a term of many years) that took most of a minute."""

    def __init__(self, part, link: Linker):
        self.part, self.link = part, link
        self.ids: dict[str, str] = {}

    def __call__(self, trace: Trace) -> str:
        url = self.link(trace)
        if url not in self.ids:
            self.ids[url] = f"rIdFigure{len(self.ids) + 1}"
            self.part.rels.add_relationship(RT.HYPERLINK, url, self.ids[url], is_external=True)
        return self.ids[url]


def _write(p, part: str | Figure, east: str | None, size: float, link: _Links | None,
           kind: str = "text", lines: int = 1, breakable: bool = False) -> None:
    """Text, or a figure: a hyperlink to its drill-down where there is a `link` (set as the
    text around it: an official document is not blue). With `lines` 2, each unbroken piece of
    a cell of `kind` on a line of its own (a rate's fraction under its percent, a case's level
    under its number); `breakable` (a rate in running text), a line may end between its percent
    and its fraction (a zero-width space), so that a long fraction does not leave the line
    before it spread thin."""
    text = NOT_XML.sub("", part.text if isinstance(part, Figure) else part)
    pieces = unbroken(kind, text) if lines == 2 else [text]
    if breakable and (parts := rate_parts(text)) is not None and " " not in text:
        pieces = ["\u200b".join(parts)]  # "92% (24/26)" may break at its space already
    runs = []
    for n, piece in enumerate(pieces):
        run = p.add_run(piece)
        if east is not None:  # else the paragraph's style has the faces and size
            _fonts(run._r, east, size)
        if n:
            run._r.insert(0 if run._r.rPr is None else 1, OxmlElement("w:br"))  # after w:rPr
        runs.append(run._r)
    if isinstance(part, Figure) and link is not None:
        hyperlink = OxmlElement("w:hyperlink")
        hyperlink.set(qn("r:id"), link(part.trace))
        hyperlink.set(qn("w:history"), "1")
        runs[0].addprevious(hyperlink)
        for r in runs:
            hyperlink.append(r)


def _masthead(doc, agency: str, number: str | None) -> None:
    """The agency's name in red, the document number under it (left out when there is none),
    and the red rule."""
    # as large as 小初 (36 pt), smaller when the name would not fit on the 156 mm line
    size = min(36.0, round(Mm(150).pt / max(em(agency), 1), 1))
    _paragraph(doc, agency, TITLE, size, align=WD_ALIGN_PARAGRAPH.CENTER,
               line=Pt(size * 1.5), color=RED)
    p = _paragraph(doc, number or "", BODY, SANHAO, align=WD_ALIGN_PARAGRAPH.CENTER,
                   before=LINE * 2 if number else None,
                   line=None if number else Pt(SANHAO))
    borders = OxmlElement("w:pBdr")
    bottom = OxmlElement("w:bottom")
    for key, value in (("w:val", "single"), ("w:sz", "12"), ("w:space", "11"),
                       ("w:color", str(RED))):
        bottom.set(qn(key), value)
    borders.append(bottom)
    p._p.get_or_add_pPr().insert_element_before(borders, *PPR_AFTER_BORDERS)


def _table(doc, block: Table, wide: bool, link: _Links | None) -> None:
    """A table laid out from its content (banli.documents.layout) as a fixed grid: rows never
    split across pages, the header repeats on each, and a short table (or a long one's total
    row with the rows before it) is kept together."""
    if block.caption:
        _paragraph(doc, block.caption, HEI, SIHAO, align=WD_ALIGN_PARAGRAPH.CENTER,
                   before=Pt(6), keep_with_next=True)
    text_width = 225 if wide else 156
    shape = layout(block, text_width, WUHAO if wide else XIAOSI, PADDING)
    table = doc.add_table(rows=1 + len(block.rows), cols=len(block.header))
    table.style = doc.styles["Table Grid"]
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False  # w:tblLayout fixed: the grid below, not the content, decides
    _cell_margins(table)
    rows: list[list[str | Figure]] = [list(block.header), *block.rows]
    styles = {(header, text): _cell_style(doc, shape.size, header, text)
              for header in (True, False) for text in (True, False)}
    kept = _kept_rows(len(rows), block.total, whole=not wide)
    widths = [Mm(w) for w in shape.widths]
    for column, width in zip(table.columns, widths):
        column.width = width  # w:gridCol, which a fixed layout follows
    for row_index, (row, values) in enumerate(zip(table.rows, rows)):
        tr = row._tr.get_or_add_trPr()
        tr.append(OxmlElement("w:cantSplit"))  # a row never breaks across pages
        if row_index == 0:  # repeat the header on every page
            header = OxmlElement("w:tblHeader")
            header.set(qn("w:val"), "1")
            tr.append(header)
        for column, (cell, value, width) in enumerate(zip(row.cells, values, widths)):
            cell.width = width  # w:tcW, which WPS and older Words read
            p = cell.paragraphs[0]
            kind = block.kind(column)
            p._p.get_or_add_pPr().style = styles[row_index == 0, kind == "text"]  # its id
            if row_index in kept:
                p.paragraph_format.keep_with_next = True
            _write(p, value, None, shape.size, link if row_index else None, kind,
                   shape.lines(column) if row_index else 1)
    _paragraph(doc, "", BODY, XIAOSI, line=Pt(12))  # a little air under the table


def _cell_style(doc, size: float, header: bool, text: bool) -> str:
    """The paragraph style of a table's cells at `size`: 黑体 in the header, else 仿宋, titles
    and names on the left, single lines. One style, not each run's own formatting: a table of
    a few thousand cells is written in a moment."""
    name = f"Banli {'header' if header else 'cell'}{' text' if text and not header else ''} {size:g}"
    found = [style for style in doc.styles if style.name == name]
    if found:
        return found[0].style_id
    style = doc.styles.add_style(name, WD_STYLE_TYPE.PARAGRAPH)
    style.base_style = doc.styles["Normal"]
    _fonts(style.element, HEI if header else BODY, size)
    fmt = style.paragraph_format
    fmt.line_spacing_rule = WD_LINE_SPACING.SINGLE
    fmt.space_before = fmt.space_after = Pt(2)
    fmt.first_line_indent = Pt(0)
    fmt.alignment = WD_ALIGN_PARAGRAPH.LEFT if text and not header else WD_ALIGN_PARAGRAPH.CENTER
    return style.style_id


def _kept_rows(count: int, total: bool, whole: bool) -> set[int]:
    """The rows kept with the next: all but the last of a short table in the text (`whole`);
    else the header with the first two rows (a caption or a title never ends a page) and,
    before a total row, the two rows above it (a total never stands alone)."""
    if whole and count <= KEEP_WHOLE:
        return set(range(count - 1))
    return {0, 1} & set(range(count - 1)) | ({count - 3, count - 2} if total else set())


def _cell_margins(table) -> None:
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        edge = OxmlElement(f"w:{side}")
        edge.set(qn("w:w"), str(CELL_MARGIN.twips))
        edge.set(qn("w:type"), "dxa")
        margins.append(edge)
    properties = table._tbl.tblPr
    properties.insert_element_before(margins, "w:tblLook", "w:tblCaption",
                                     "w:tblDescription", "w:tblPrChange")
