"""Text to matching units: words in scripts with spaces, characters in scripts without.

Dedup shingles, decontamination n-grams and the length rules all count *units*:

* `auto` (default): a word (a run of letters, marks and digits) in scripts that put spaces
  between words; one character (with its combining marks) in Chinese, Japanese, Thai, Lao,
  Khmer and Myanmar. "用Python写代码" is 用 | python | 写 | 代 | 码. Mixed text works unit by
  unit.
* `word`: runs of letters, marks and digits in every script (a whole Chinese clause is then
  one word: only right for scripts with spaces).
* `char`: every letter or digit, with its marks, in every script.

Why characters rather than a word segmenter for Chinese and Japanese: character n-grams need
no model or dictionary (jieba would cover Chinese only), cover Japanese, Thai and mixed text
alike, run as one Rust regex over a batch like the word pattern, and reached the target in
benchmarks/multilingual_bench.py: with 3-character shingles near-duplicate recall is 0.966
(Chinese) and 0.904 (Japanese) at precision 1.000, against 0.863 for English with 5-word
shingles and the same edits; 5 characters gave Japanese 0.883. A document counts as written in a script without spaces
when at least half of its units are such characters; its shingles are then `char_ngram`
units long instead of `ngram` (see `ngram_sizes`).

The patterns run in Python (`regex`) and in polars (Rust) alike; tests check they agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Literal

import regex

from curate.text.normalise import normalise, normalise_series
from curate.text.scripts import UNSPACED_CLASS

if TYPE_CHECKING:  # numpy and polars load with the batch functions, not with the rules
    import numpy as np
    import polars as pl

Mode = Literal["auto", "word", "char"]
MODES: tuple[str, ...] = ("auto", "word", "char")
CHAR_NGRAM = 3  # characters per dedup shingle in scripts without spaces (measured: see docstring)

UNSPACED_CHAR = rf"[[\p{{L}}\p{{N}}]&&[{UNSPACED_CLASS}]]\p{{M}}*"
SPACED_WORD = rf"[[\p{{L}}\p{{M}}\p{{N}}]--[{UNSPACED_CLASS}]]+"
PATTERNS: dict[str, str] = {
    "auto": f"{UNSPACED_CHAR}|{SPACED_WORD}",
    "word": r"[\p{L}\p{M}\p{N}]+",
    "char": r"[\p{L}\p{N}]\p{M}*",
}
_DIGIT = r"\p{Nd}"
_COMPILED = {mode: regex.compile(pattern, regex.V1) for mode, pattern in PATTERNS.items()}
_UNSPACED = regex.compile(UNSPACED_CHAR, regex.V1)
_DIGITS = regex.compile(_DIGIT)


def units(text: str, mode: Mode = "auto", *, fold_digits: bool = False,
          fold_case: bool = True) -> list[str]:
    """The normalised units of one text (`curate.text.normalise`, then the mode's pattern)."""
    text = normalise(text, fold_case=fold_case)
    if fold_digits:
        text = _DIGITS.sub("0", text)
    return _COMPILED[mode].findall(text)


_SPACED_WORD = regex.compile(SPACED_WORD, regex.V1)
_SAMPLE = 4000  # characters: enough to tell how a text is written
# The first UTF-8 bytes of every character `_UNSPACED` can match (a test enumerates all of
# Unicode): U+02BC, U+0800-1FFF (Thai, Lao, Myanmar, Khmer), U+3000-AFFF (kana, CJK), U+F000-
# FFFF and U+10000-3FFFF. Hand-written because the exact pattern's script properties cost
# about 70 ns a character, 130 us for a 1.9 kB English text with curly quotes (13% of the
# Gopher signals' time); deleting every other byte of its UTF-8 takes 6 us and leaves nothing.
_UNSPACED_LEADS = {0xCA, 0xE0, 0xE1, *range(0xE3, 0xEB), 0xEF, 0xF0}
_OTHER_BYTES = bytes(byte for byte in range(256) if byte not in _UNSPACED_LEADS)


def _maybe_unspaced(text: str) -> bool:
    """False when the text cannot hold a character of a script without spaces."""
    return not text.isascii() and \
        bool(text.encode("utf-8", "surrogatepass").translate(None, _OTHER_BYTES))


def writes_without_spaces(text: str) -> bool:
    """True when at least half the units of (the start of) a text are characters of a script
    without spaces: Chinese, Japanese, Thai, ... (`uses_characters`); fast for ASCII text."""
    sample = text[:_SAMPLE]
    if not _maybe_unspaced(sample):
        return False
    unspaced = len(_UNSPACED.findall(sample))
    return unspaced > 0 and unspaced >= len(_SPACED_WORD.findall(sample))


def has_unspaced(text: str) -> bool:
    """True when the text has any character of a script without spaces."""
    return _maybe_unspaced(text) and _UNSPACED.search(text) is not None


def count_units(text: str) -> int:
    """Units (`auto` mode) in a text as written, without normalising it first."""
    return len(_COMPILED["auto"].findall(text))


def split_characters(tokens: list[str]) -> list[str]:
    """Tokens with each character of a script without spaces made a token of its own
    (with its combining marks): "简单的例子。" -> 简 | 单 | 的 | 例 | 子 | 。."""
    out: list[str] = []
    for token in tokens:
        if _UNSPACED.search(token) is None:
            out.append(token)
            continue
        position = 0
        for match in _UNSPACED.finditer(token):
            if match.start() > position:
                out.append(token[position:match.start()])
            out.append(match.group())
            position = match.end()
        if position < len(token):
            out.append(token[position:])
    return out


def unspaced_count(unit_list: list[str]) -> int:
    """How many of the units are characters of a script without spaces."""
    return sum(1 for unit in unit_list if _UNSPACED.fullmatch(unit))


def join_units(unit_list: Sequence[str]) -> str:
    """Units as readable text: a space between words, none between characters of scripts
    without spaces ("作为一个 ai 语言模型")."""
    out: list[str] = []
    previous_char = False
    for unit in unit_list:
        is_char = _UNSPACED.fullmatch(unit) is not None
        if out and not (is_char and previous_char):
            out.append(" ")
        out.append(unit)
        previous_char = is_char
    return "".join(out)


def unit_lists(texts: list[str], mode: Mode = "auto", *, fold_digits: bool = False,
               fold_case: bool = True) -> tuple[pl.Series, np.ndarray]:
    """A batch's normalised units (a polars `list[str]` series), and per text how many of them
    are characters of a script without spaces (0 in `word` mode; all of them in `char` mode)."""
    import numpy as np

    series = normalise_series(texts, fold_case=fold_case)
    if fold_digits:
        series = series.str.replace_all(_DIGIT, "0")
    lists = series.str.extract_all(PATTERNS[mode])
    if mode == "word":
        unspaced = np.zeros(len(texts), np.int64)
    elif mode == "char":
        unspaced = lists.list.len().fill_null(0).to_numpy().astype(np.int64)
    else:
        unspaced = series.str.count_matches(UNSPACED_CHAR).fill_null(0).to_numpy().astype(np.int64)
    return lists, unspaced


def uses_characters(unit_count: int, unspaced: int) -> bool:
    """True when a text counts as written without spaces: at least half its units are
    characters of such a script."""
    return unspaced > 0 and 2 * unspaced >= unit_count


def ngram_sizes(counts: np.ndarray, unspaced: np.ndarray, ngram: int,
                char_ngram: int) -> np.ndarray:
    """Shingle length per text: `char_ngram` for texts written without spaces, else `ngram`."""
    import numpy as np

    return np.where((unspaced > 0) & (2 * unspaced >= counts), char_ngram, ngram).astype(np.int64)
