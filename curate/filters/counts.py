"""Length counts: characters, words (regex tokenizer, punctuation excluded) and lines."""

from __future__ import annotations

from curate.filters.signal import Family, Signal
from curate.filters.text import Doc


def chars(doc: Doc) -> int:
    """Characters in the text."""
    return len(doc.text)


def words(doc: Doc) -> int:
    """Words: tokens of the regex tokenizer that are not punctuation only."""
    return len(doc.words)


def lines(doc: Doc) -> int:
    """Lines that hold something other than whitespace."""
    return len(doc.nonempty_lines)


FAMILY = Family(
    name="counts",
    doc="Length of the text in characters, words and non-empty lines.",
    signals=(
        Signal("chars", chars, None, chars.__doc__),
        Signal("words", words, None, words.__doc__),
        Signal("lines", lines, None, lines.__doc__),
    ),
)
