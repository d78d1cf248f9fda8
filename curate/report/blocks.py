"""The pieces a report section is made of; `render` turns them into HTML or Markdown."""

from __future__ import annotations

import re
from dataclasses import dataclass, field


@dataclass
class Text:
    text: str


@dataclass
class Heading:
    text: str  # a sub-heading inside a section


@dataclass
class Table:
    header: list[str]
    rows: list[list[str]]


@dataclass
class Image:
    name: str  # file stem, unique within a report
    png: bytes
    alt: str


@dataclass
class Example:
    """A removed (or rejected) record: what it is, why it went, its text, and related texts
    (the kept record it duplicates)."""

    title: str
    details: str
    body: str
    related: list[tuple[str, str]] = field(default_factory=list)


Block = Text | Heading | Table | Image | Example


@dataclass
class Section:
    title: str
    blocks: list[Block] = field(default_factory=list)

    @property
    def anchor(self) -> str:
        return slug(self.title)


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
