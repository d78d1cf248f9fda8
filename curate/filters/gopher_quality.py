"""Gopher quality rules (Rae et al. 2021, "Scaling Language Models", appendix A.1.1).

Defaults are the published thresholds. Word-count bounds (50 to 100,000) use the
`words` count (see `counts`). Definitions follow datatrove's reference
implementation where the paper is silent: ratios over tokens count punctuation
marks as tokens, and the stop-word rule applies to English text only. Two
deliberate differences: stop words are matched case-insensitively ("The"
counts; datatrove misses it), and markdown bullets (`*`, `‣`, `◦`, `▪`) count
as bullets besides `•` and `-`.

In text written without spaces (Chinese, Japanese, Thai) each character is a word
(`Doc.tokens`): word counts and the token ratios apply as they are; mean word length
and English stop words are not defined there and score `None` (not applicable).
"""

from __future__ import annotations

import re
from itertools import filterfalse

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc

STOP_WORDS = frozenset(("the", "be", "to", "of", "and", "that", "have", "with"))
BULLETS = ("•", "-", "*", "‣", "◦", "▪")
ELLIPSES = ("...", "…")
_LETTER = re.compile(r"[^\W\d_]")


def mean_word_length(doc: Doc) -> float:
    """Mean length of the words (punctuation excluded); published range 3 to 10."""
    words = doc.words
    return ratio(sum(map(len, words)), len(words))


def symbol_word_ratio(doc: Doc) -> float:
    """Hash symbols or ellipses (whichever is more) per token; published maximum 0.1."""
    text = doc.text
    symbols = max(text.count("#"), text.count("...") + text.count("…"))
    return ratio(symbols, len(doc.tokens))


def bullet_lines(doc: Doc) -> float:
    """Fraction of lines that start with a bullet point; published maximum 0.9."""
    lines = doc.lines
    return ratio(sum(line.lstrip().startswith(BULLETS) for line in lines), len(lines))


def ellipsis_lines(doc: Doc) -> float:
    """Fraction of lines that end with an ellipsis; published maximum 0.3."""
    lines = doc.lines
    return ratio(sum(line.rstrip().endswith(ELLIPSES) for line in lines), len(lines))


def alpha_words(doc: Doc) -> float:
    """Fraction of tokens with at least one letter; published minimum 0.8."""
    # Punctuation tokens have no letter; of the words, only the rare non-alphabetic ones
    # (numbers, "3x") need the regex.
    letterless_words = sum(1 for word in filterfalse(str.isalpha, doc.words)
                           if not _LETTER.search(word))
    with_letter = len(doc.words) - letterless_words
    return ratio(with_letter, len(doc.tokens))


def stop_words(doc: Doc) -> int:
    """Distinct English stop words (the, be, to, of, and, that, have, with); minimum 2, English only."""
    return len(STOP_WORDS.intersection(map(str.lower, doc.words)))


FAMILY = Family(
    name="gopher_quality",
    doc="Gopher quality heuristics: word length, symbols, bullets, ellipses, letters, stop words.",
    signals=(
        Signal("mean_word_length", mean_word_length, {"min": 3, "max": 10}, mean_word_length.__doc__,
               spaced_only=True),
        Signal("symbol_word_ratio", symbol_word_ratio, {"max": 0.1}, symbol_word_ratio.__doc__),
        Signal("bullet_lines", bullet_lines, {"max": 0.9}, bullet_lines.__doc__),
        Signal("ellipsis_lines", ellipsis_lines, {"max": 0.3}, ellipsis_lines.__doc__),
        Signal("alpha_words", alpha_words, {"min": 0.8}, alpha_words.__doc__),
        Signal("stop_words", stop_words, {"min": 2, "lang": ["en"]}, stop_words.__doc__,
               spaced_only=True),
    ),
)
