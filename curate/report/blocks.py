"""The pieces a report section is made of; `render` turns them into HTML or Markdown."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Text:
    text: str


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
    title: str
    details: str
    body: str


@dataclass
class Section:
    title: str
    blocks: list[Text | Table | Image | Example] = field(default_factory=list)
