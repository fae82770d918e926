"""Blocks as Markdown."""
from __future__ import annotations

from .blocks import Appendix, Block, Closing, Heading, Masthead, Para, Table, Title, plain


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def write_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Masthead):
            out.append(f"**{block.agency}**\n")
            out.append(f"{block.number}\n\n---\n" if block.number else "---\n")
        elif isinstance(block, Title):
            out.append(f"# {block.text}\n")
        elif isinstance(block, Heading):
            out.append(f"{'#' * (block.level + 1)} {block.text}\n")
        elif isinstance(block, Para):
            out.append(f"{block.text}\n")
        elif isinstance(block, Table):
            if block.caption:
                out.append(f"**{block.caption}**\n")
            lines = ["| " + " | ".join(_md_cell(c) for c in block.header) + " |",
                     "|" + "|".join("---" for _ in block.header) + "|"]
            lines += ["| " + " | ".join(_md_cell(plain(c)) for c in row) + " |"
                      for row in block.rows]
            out.append("\n".join(lines) + "\n")
        elif isinstance(block, Closing):
            out.append(f"{block.signer}  \n{block.day}\n")
        elif isinstance(block, Appendix):
            out.append(f"---\n\n**{block.label}**\n\n## {block.title}\n")
    return "\n".join(out)

