"""FineWeb line rules (Penedo et al. 2024, "The FineWeb Datasets", section 3.3).

Published thresholds: at least 12% of lines end in terminal punctuation; at
most 67% of lines are 30 characters or shorter; at most 1% of the characters
sit in duplicated lines; at most 0.3 newlines per token. Lines are the
non-empty lines of the text split on `\\n`. Terminal punctuation includes the CJK
marks; the short-line rule counts 30 characters of English, which is not a short
line in Chinese or Japanese: it scores `None` (not applicable) on text written
without spaces. Tokens there are characters (`Doc.tokens`).
"""

from __future__ import annotations

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc

# Sentence-final marks of the common scripts (Latin, CJK, Arabic, Devanagari, Ethiopic, ...).
TERMINAL_PUNCTUATION = tuple(".!?。！？．｡‼⁇⁈⁉‽؟۔।॥။።։")
SHORT_LINE_CHARS = 30


def line_punct_ratio(doc: Doc) -> float:
    """Fraction of lines ending in terminal punctuation; published minimum 0.12."""
    lines = doc.nonempty_lines
    return ratio(sum(line.endswith(TERMINAL_PUNCTUATION) for line in lines), len(lines))


def short_line_ratio(doc: Doc) -> float:
    """Fraction of lines of 30 characters or fewer; published maximum 0.67."""
    lines = doc.nonempty_lines
    return ratio(sum(len(line) <= SHORT_LINE_CHARS for line in lines), len(lines))


def char_dup_ratio(doc: Doc) -> float:
    """Characters in lines that repeat an earlier line, over all non-newline characters;
    published maximum 0.01."""
    seen: set[str] = set()
    duplicated = 0
    for line in doc.nonempty_lines:
        if line in seen:
            duplicated += len(line)
        else:
            seen.add(line)
    return ratio(duplicated, len(doc.text) - doc.text.count("\n"))


def newline_ratio(doc: Doc) -> float:
    """Newlines per token (list-like pages); published maximum 0.3."""
    return ratio(doc.text.count("\n"), len(doc.tokens))


FAMILY = Family(
    name="fineweb",
    doc="FineWeb line heuristics: punctuated lines, short lines, duplicated lines, newlines.",
    signals=(
        Signal("line_punct_ratio", line_punct_ratio, {"min": 0.12}, line_punct_ratio.__doc__),
        Signal("short_line_ratio", short_line_ratio, {"max": 0.67}, short_line_ratio.__doc__,
               spaced_only=True),
        Signal("char_dup_ratio", char_dup_ratio, {"max": 0.01}, char_dup_ratio.__doc__),
        Signal("newline_ratio", newline_ratio, {"max": 0.3}, newline_ratio.__doc__),
    ),
)
