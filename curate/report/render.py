"""Render sections as one self-contained HTML file (images inline) or Markdown (+ PNG files)."""

from __future__ import annotations

import base64
import html
from pathlib import Path

from curate.report.blocks import Block, Heading, Image, Section, Table, Text

_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1f2933; line-height: 1.45; }
h1 { font-size: 1.6rem; } h2 { font-size: 1.25rem; margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
h3 { font-size: 1.02rem; margin: 1.4rem 0 .4rem; }
nav { font-size: .9rem; } nav ul { margin: .3rem 0; padding-left: 1.2rem; columns: 2; }
.table { overflow-x: auto; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .9rem; }
th, td { border: 1px solid #d5dbe1; padding: .25rem .6rem; text-align: left; vertical-align: top; }
th { background: #f5f7fa; }
td { font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
img { max-width: 100%; margin: .5rem 0; display: block; }
.example { border-left: 3px solid #d9730d; padding: .1rem 0 .1rem .7rem; margin: .7rem 0; }
.example .title { font-weight: 600; overflow-wrap: anywhere; }
.details { color: #52606d; font-size: .85rem; margin: .15rem 0 .3rem; overflow-wrap: anywhere; }
pre { white-space: pre-wrap; overflow-wrap: anywhere; background: #f5f7fa; padding: .6rem;
      border-radius: 4px; font-size: .85rem; max-height: 14rem; overflow: auto; margin: .2rem 0; }
details { margin: .3rem 0; } summary { cursor: pointer; color: #2f6fba; font-size: .9rem; }
"""


def _anchors(sections: list[Section]) -> list[str]:
    """A unique id per section (two steps of a folder may share a name)."""
    seen: dict[str, int] = {}
    out = []
    for section in sections:
        anchor = section.anchor or "section"
        seen[anchor] = seen.get(anchor, 0) + 1
        out.append(anchor if seen[anchor] == 1 else f"{anchor}-{seen[anchor]}")
    return out


def to_html(title: str, sections: list[Section]) -> str:
    anchors = _anchors(sections)
    head = ("<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{html.escape(title)}</title><style>{_STYLE}</style></head><body>"
            f"<h1>{html.escape(title)}</h1>")
    parts = [head]
    if len(sections) > 3:
        links = "".join(f"<li><a href='#{anchor}'>{html.escape(section.title)}</a></li>"
                        for section, anchor in zip(sections, anchors, strict=True))
        parts.append(f"<nav><strong>Contents</strong><ul>{links}</ul></nav>")
    for section, anchor in zip(sections, anchors, strict=True):
        parts.append(f"<h2 id='{anchor}'>{html.escape(section.title)}</h2>")
        parts += [_html_block(block) for block in section.blocks]
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _html_block(block: Block) -> str:
    if isinstance(block, Text):
        return f"<p>{html.escape(block.text)}</p>"
    if isinstance(block, Heading):
        return f"<h3>{html.escape(block.text)}</h3>"
    if isinstance(block, Table):
        head = "".join(f"<th>{html.escape(cell)}</th>" for cell in block.header)
        rows = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row) + "</tr>"
                       for row in block.rows)
        return f"<div class='table'><table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table></div>"
    if isinstance(block, Image):
        data = base64.b64encode(block.png).decode("ascii")
        return (f"<img id='{block.name}' alt='{html.escape(block.alt)}' "
                f"src='data:image/png;base64,{data}'>")
    related = "".join(f"<details><summary>{html.escape(name)}</summary>"
                      f"<pre>{html.escape(text)}</pre></details>" for name, text in block.related)
    return (f"<div class='example'><div class='title'>{html.escape(block.title)}</div>"
            f"<p class='details'>{html.escape(block.details)}</p>"
            f"<pre>{html.escape(block.body)}</pre>{related}</div>")


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


def _fenced(text: str) -> list[str]:
    fence = "````" if "```" in text else "```"
    return [fence + "text", text, fence]


def _markdown_block(block: Block, image_dir: Path) -> list[str]:
    if isinstance(block, Text):
        return [block.text]
    if isinstance(block, Heading):
        return [f"### {block.text}"]
    if isinstance(block, Table):
        return (["| " + " | ".join(map(_cell, block.header)) + " |",
                 "|" + "---|" * len(block.header)]
                + ["| " + " | ".join(map(_cell, row)) + " |" for row in block.rows])
    if isinstance(block, Image):
        image_dir.mkdir(parents=True, exist_ok=True)
        (image_dir / f"{block.name}.png").write_bytes(block.png)
        return [f"![{block.alt}]({image_dir.name}/{block.name}.png)"]
    lines = [f"**{_cell(block.title)}**", "", f"_{_cell(block.details)}_", "", *_fenced(block.body)]
    for name, text in block.related:
        lines += ["", f"_{_cell(name)}_", "", *_fenced(text)]
    return lines
