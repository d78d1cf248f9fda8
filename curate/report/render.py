"""Render sections as one self-contained HTML file (images inline) or Markdown (+ PNG files)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from curate.report.blocks import Example, Image, Section, Table, Text

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2933; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #d5dbe1; padding: .25rem .6rem; text-align: left; }
td:not(:first-child):not(:nth-child(2)) { font-variant-numeric: tabular-nums; }
img { max-width: 100%; margin: .5rem 0; }
details { margin: .4rem 0; } summary { cursor: pointer; font-weight: 600; }
.details { color: #52606d; font-size: .85rem; margin: .2rem 0; }
pre { white-space: pre-wrap; background: #f5f7fa; padding: .6rem; border-radius: 4px;
      font-size: .85rem; max-height: 18rem; overflow: auto; }
"""


def to_html(title: str, sections: list[Section]) -> str:
    head = (f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style></head><body><h1>{html.escape(title)}</h1>")
    parts = [head]
    for section in sections:
        parts.append(f"<h2>{html.escape(section.title)}</h2>")
        for block in section.blocks:
            parts.append(_html_block(block))
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _html_block(block: Text | Table | Image | Example) -> str:
    if isinstance(block, Text):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                       for row in block.rows)
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        return (f"<img id='{block.name}' alt='{html.escape(block.alt)}' "
                f"src='data:image/png;base64,{data}'>")
    return (f"<details><summary>{html.escape(block.title)}</summary>"
            f"<p class='details'>{html.escape(block.details)}</p>"
            f"<pre>{html.escape(block.body)}</pre></details>")


def to_markdown(title: str, sections: list[Section], image_dir: Path) -> str:
    """Markdown text; images are written as PNG files into `image_dir` and linked relatively."""
    lines = [f"# {title}", ""]
    for section in sections:
        lines += [f"## {section.title}", ""]
        for block in section.blocks:
            lines += _markdown_block(block, image_dir) + [""]
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _markdown_block(block: Text | Table | Image | Example, image_dir: Path) -> list[str]:
    if isinstance(block, Text):
        return [block.text]
    if isinstance(block, Table):
        return (["| " + " | ".join(map(_cell, block.header)) + " |",
                 "|" + "---|" * len(block.header)]
                + ["| " + " | ".join(map(_cell, row)) + " |" for row in block.rows])
    if isinstance(block, Image):
        image_dir.mkdir(parents=True, exist_ok=True)
        (image_dir / f"{block.name}.png").write_bytes(block.png)
        return [f"![{block.alt}]({image_dir.name}/{block.name}.png)"]
    fence = "````" if "```" in block.body else "```"
    return [f"**{block.title}**", "", f"_{block.details}_", "", fence + "text", block.body, fence]
