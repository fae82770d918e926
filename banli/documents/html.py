"""Blocks as a self-contained, printable HTML page."""
from __future__ import annotations

import html
from typing import Callable

from .blocks import (NO_WRAP, Appendix, Block, Closing, Figure, Heading, Masthead, Para, Table,
                     Title, Trace, title_of)
from .layout import KEEP_WHOLE, PADDING, layout, rate_parts, unbroken

HTML_FONTS = {
    "title": '"方正小标宋简体", "FZXiaoBiaoSong-B05S", "STZhongsong", "华文中宋", "SimSun", '
             '"宋体", "Noto Serif CJK SC", "Source Han Serif SC", serif',
    "body": '"仿宋_GB2312", "FangSong_GB2312", "仿宋", "FangSong", "STFangsong", "华文仿宋", '
            '"Noto Serif CJK SC", serif',
    "h1": '"黑体", "SimHei", "STHeiti", "Noto Sans CJK SC", "Source Han Sans SC", sans-serif',
    "h2": '"楷体_GB2312", "KaiTi_GB2312", "楷体", "KaiTi", "STKaiti", "华文楷体", serif',
}

HTML_STYLE = f"""
@page {{ size: A4; margin: 37mm 26mm 35mm 28mm;
  @bottom-center {{ content: "— " counter(page) " —"; font: 14pt "SimSun", serif; }} }}
@page wide {{ size: A4 landscape; margin: 28mm 26mm 26mm 28mm; }}
body {{ font-family: {HTML_FONTS['body']}; font-size: 16pt; line-height: 28.95pt;
  margin: 0; color: #000; }}
main {{ max-width: 156mm; margin: 2em auto; }}
.masthead {{ text-align: center; color: #d00; font-family: {HTML_FONTS['title']};
  font-size: 30pt; letter-spacing: .1em; line-height: 1.4; margin: 0; }}
.docnum {{ text-align: center; margin: 1em 0 0; }}
.rule {{ border: 0; border-top: 2px solid #d00; margin: .3em 0 2em; }}
h1 {{ font-family: {HTML_FONTS['title']}; font-size: 22pt; line-height: 1.5; font-weight: normal;
  text-align: center; margin: 0 0 1em; }}
h2 {{ font-family: {HTML_FONTS['h1']}; font-size: 16pt; font-weight: normal; margin: 0;
  text-indent: 2em; }}
h3 {{ font-family: {HTML_FONTS['h2']}; font-size: 16pt; font-weight: normal; margin: 0;
  text-indent: 2em; }}
p {{ margin: 0; text-indent: 2em; text-align: justify; }}
table {{ border-collapse: collapse; width: 100%; margin: .4em 0 .8em; font-size: 12pt;
  line-height: 1.5; page-break-inside: auto; }}
caption {{ font-family: {HTML_FONTS['h1']}; font-size: 14pt; padding: .4em 0; }}
th, td {{ border: 1px solid #000; padding: 2px 5px; text-align: center; vertical-align: middle; }}
th {{ font-family: {HTML_FONTS['h1']}; font-weight: normal; }}
td.text {{ text-align: left; }}
td.nowrap, td .part {{ white-space: nowrap; }}
thead {{ display: table-header-group; }}
tr {{ page-break-inside: avoid; break-inside: avoid; }}
tr.kept {{ page-break-after: avoid; break-after: avoid; }}
table.whole {{ page-break-inside: avoid; break-inside: avoid; }}
h1, h2, h3, caption, .label, p.lead {{ page-break-after: avoid; break-after: avoid; }}
a.figure {{ color: inherit; text-decoration: underline dotted #888; }}
@media print {{ a.figure {{ text-decoration: none; }} }}
.closing {{ text-align: right; text-indent: 0; margin-top: 2em; padding-right: 2em; }}
.closing + .closing {{ margin-top: 0; padding-right: 4em; }}
.appendix {{ page: wide; page-break-before: always; max-width: 245mm; margin: 2em auto; }}
.appendix .label {{ font-family: {HTML_FONTS['h1']}; text-indent: 0; }}
.appendix h1 {{ font-size: 18pt; }}
.appendix table {{ font-size: 10.5pt; }}
@media screen {{ .appendix {{ border-top: 1px dashed #999; margin-top: 3em; padding-top: 2em; }} }}
@media print {{ main, .appendix {{ margin: 0 auto; }} }}
"""


Linker = Callable[[Trace], str]


def write_html(blocks: list[Block], lang: str, link: Linker | None = None) -> str:
    """The document as one self-contained page; with `link`, each figure is a link to its
    drill-down."""
    e = html.escape

    def part(value: str | Figure, kind: str = "text", lines: int = 1,
             breakable: bool = False) -> str:
        """Text, or a figure linked; each unbroken piece of a cell on a line of its own
        (`lines` 2: a rate's fraction under its percent), or a rate in running text
        (`breakable`) where a line may end between its percent and its fraction."""
        text = value.text if isinstance(value, Figure) else value
        shown = e(text)
        if lines == 2:
            shown = "<br>".join(f'<span class="part">{e(p)}</span>'
                                for p in unbroken(kind, text))
        elif breakable and (pieces := rate_parts(text)) is not None:
            shown = (" " if " " in text else "<wbr>").join(
                f'<span class="part">{e(p)}</span>' for p in pieces)
        if isinstance(value, Figure) and link is not None:
            return f'<a class="figure" href="{e(link(value.trace))}">{shown}</a>'
        return shown

    out = [f'<!DOCTYPE html>\n<html lang="{"zh-CN" if lang == "zh" else "en"}">\n<head>\n'
           f'<meta charset="utf-8">\n<title>{e(title_of(blocks))}</title>\n'
           f"<style>{HTML_STYLE}</style>\n</head>\n<body>\n<main>"]
    in_appendix = False
    for index, block in enumerate(blocks):
        after = blocks[index + 1] if index + 1 < len(blocks) else None
        if isinstance(block, Masthead):
            out.append(f'<p class="masthead">{e(block.agency)}</p>')
            if block.number:
                out.append(f'<p class="docnum">{e(block.number)}</p>')
            out.append('<hr class="rule">')
        elif isinstance(block, Title):
            out.append(f"<h1>{e(block.text)}</h1>")
        elif isinstance(block, Heading):
            out.append(f"<h{block.level + 1}>{e(block.text)}</h{block.level + 1}>")
        elif isinstance(block, Para):
            # printed with what follows: a sentence leading into a table ("…："), the line
            # before the signature (which never stands alone on a page)
            lead = ' class="lead"' if isinstance(after, Closing) or (
                isinstance(after, Table) and block.text.rstrip().endswith(("：", ":"))) else ""
            out.append(f"<p{lead}>{''.join(part(p, breakable=True) for p in block.parts)}</p>")
        elif isinstance(block, Table):
            out.append(_table(block, in_appendix, part))
        elif isinstance(block, Closing):
            out.append(f'<p class="closing lead">{e(block.signer)}</p>'
                       f'<p class="closing">{e(block.day)}</p>')
        elif isinstance(block, Appendix):
            out.append('</main>\n<section class="appendix">')
            out.append(f'<p class="label">{e(block.label)}</p><h1>{e(block.title)}</h1>')
            in_appendix = True
    out.append("</section>" if in_appendix else "</main>")
    out.append("</body>\n</html>\n")
    return "\n".join(out)


def _table(block: Table, wide: bool, part: Callable[..., str]) -> str:
    """Columns as wide as the DOCX's (banli.documents.layout), number cells unwrapped, rows
    never split when printed, a short table in the text on one page, and a total row kept with
    the row before it."""
    e = html.escape
    shape = layout(block, 243 if wide else 156, 10.5 if wide else 12, PADDING)
    classes = ['class="text"' if block.kind(i) == "text" else
               'class="nowrap"' if block.kind(i) in NO_WRAP else ""
               for i in range(len(block.header))]
    kept = {len(block.rows) - 2} if block.total and len(block.rows) > 1 else set()
    whole = ' class="whole"' if not wide and len(block.rows) < KEEP_WHOLE else ""
    rows = "\n".join(
        ('<tr class="kept">' if n in kept else "<tr>")
        + "".join(f"<td {classes[i]}>".replace(" >", ">")
                  + part(c, block.kind(i), shape.lines(i)) + "</td>"
                  for i, c in enumerate(row)) + "</tr>"
        for n, row in enumerate(block.rows))
    caption = f"<caption>{e(block.caption)}</caption>\n" if block.caption else ""
    total = sum(shape.widths)
    columns = "<colgroup>" + "".join(f'<col style="width:{w / total:.1%}">'
                                     for w in shape.widths) + "</colgroup>\n"
    return (f'<table{whole} style="font-size:{shape.size}pt">\n{caption}{columns}<thead><tr>'
            + "".join(f"<th>{e(h)}</th>" for h in block.header)
            + f"</tr></thead>\n<tbody>\n{rows}\n</tbody>\n</table>")
