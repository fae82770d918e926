"""Blocks as Markdown."""
from __future__ import annotations

from .blocks import Appendix, Block, Closing, Heading, Masthead, Para, Table, Title

def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def write_markdown(blocks: list[Block]) -> str:
    out: list[str] = []
    for block in blocks:
        if isinstance(block, Masthead):
            if block.agency:
                out.append(f"**{block.agency}**\n")
            out.append(f"{block.number}\n\n---\n")
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
            lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in block.rows]
            out.append("\n".join(lines) + "\n")
        elif isinstance(block, Closing):
            out.append(f"{block.signer}  \n{block.day}\n")
        elif isinstance(block, Appendix):
            out.append(f"---\n\n**{block.label}**\n\n## {block.title}\n")
    return "\n".join(out)


# Font stacks: the GB/T 9704 faces by their Windows names first, then what Windows, macOS and
# Linux ship (FangSong, STFangsong, Noto), then a generic family.
