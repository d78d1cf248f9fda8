"""Gopher repetition rules (Rae et al. 2021, table A1), as fractions of the text.

Defaults are the published thresholds: duplicate lines and paragraphs 0.3 (by
count) and 0.2 (by characters); the most frequent 2/3/4-gram 0.20/0.18/0.16 of
the characters; characters in duplicated 5..10-grams 0.15 down to 0.10.
Counting follows datatrove's reference implementation, so decisions agree
with it (see benchmarks/filter_bench.py). The n-gram rules count word n-grams, and
their thresholds were set on English: for text written without spaces (Chinese,
Japanese, Thai) they score `None` (not applicable); the line and paragraph rules
apply to every script.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from itertools import accumulate, compress, count
from operator import itemgetter, ne

import numpy as np

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc

TOP_NGRAM_MAX = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_NGRAM_MAX = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
_HASH_FROM = 100  # tokens; shorter texts count tuples of tokens (less overhead)


def _duplicates(parts: list[str]) -> tuple[int, int]:
    """How many parts repeat an earlier one, and their characters."""
    seen: set[str] = set()
    count_ = chars = 0
    for part in parts:
        if part in seen:
            count_ += 1
            chars += len(part)
        else:
            seen.add(part)
    return count_, chars


def _paragraph_duplicates(doc: Doc) -> tuple[int, int]:
    return _duplicates(doc.paragraphs)


def _line_duplicates(doc: Doc) -> tuple[int, int]:
    return _duplicates(doc.line_runs)


def dup_para_frac(doc: Doc) -> float:
    """Fraction of paragraphs that repeat an earlier paragraph; published maximum 0.3."""
    return ratio(doc.memo(_paragraph_duplicates)[0], len(doc.paragraphs))


def dup_para_char_frac(doc: Doc) -> float:
    """Fraction of characters in repeated paragraphs; published maximum 0.2."""
    return ratio(doc.memo(_paragraph_duplicates)[1], len(doc.text))


def dup_line_frac(doc: Doc) -> float:
    """Fraction of lines that repeat an earlier line; published maximum 0.3."""
    return ratio(doc.memo(_line_duplicates)[0], len(doc.line_runs))


def dup_line_char_frac(doc: Doc) -> float:
    """Fraction of characters in repeated lines; published maximum 0.2."""
    return ratio(doc.memo(_line_duplicates)[1], len(doc.text))


def _ngrams(tokens: list[str], n: int) -> list[tuple[str, ...]]:
    return list(zip(*(tokens[i:] for i in range(n))))


# The two counts below take `grams`, one key per position (a tuple of tokens, or a hash of
# one), and `ends`, the character offsets of token boundaries (a gram at `p` spans
# `ends[p]..ends[p + n]` plus the n - 1 spaces datatrove joins tokens with).

def _top_chars(grams: list, ends: list[int], n: int) -> tuple[int, bool]:
    """Characters of all occurrences of the most frequent gram (the first one, on a tie), and
    whether every gram is unique."""
    counts = Counter(grams)
    gram, occurrences = max(counts.items(), key=itemgetter(1))  # first of the most frequent
    start = grams.index(gram)
    return (ends[start + n] - ends[start] + n - 1) * occurrences, len(counts) == len(grams)


def _repeated_chars(grams: list, ends: list[int], n: int) -> int:
    """Characters of the grams that repeat an earlier one, scanning greedily left to right and
    skipping past each repeat, as datatrove's `find_all_duplicate` does."""
    # Only a position whose gram occurred earlier can be a repeat; the scan jumps between those
    # few candidates instead of stepping through every position.
    first = dict(zip(reversed(grams), range(len(grams) - 1, -1, -1)))
    if len(first) == len(grams):  # no gram occurs twice
        return 0
    seen: set = set()
    repeated = index = 0
    for position in compress(count(), map(ne, map(first.__getitem__, grams), count())):
        if position < index:
            continue  # inside a repeat already counted
        seen.update(grams[index:position])
        gram = grams[position]
        if gram in seen:
            repeated += ends[position + n] - ends[position]
            index = position + n
        else:
            seen.add(gram)
            index = position + 1
    return repeated


_BASE = np.uint64(0x9E3779B97F4A7C15)


def _hashed_ngrams(tokens: list[str]) -> Iterator[list[int]]:
    """The 2-grams, 3-grams, ... of `tokens` as 64-bit rolling hashes of their tokens' hashes:
    numpy builds each level in one step, and int keys count faster than tuples of strings."""
    unigrams = np.fromiter(map(hash, tokens), dtype=np.int64, count=len(tokens)).view(np.uint64)
    level = unigrams
    for n in count(2):
        level = level[:-1] * _BASE + unigrams[n - 1:]
        yield level.tolist()


def _ngram_stats(doc: Doc) -> tuple[dict[int, float], dict[int, float]]:
    """Top 2/3/4-gram and duplicated 5..10-gram character fractions, computed together.

    Grams are tuples of tokens in short texts and rolling hashes in long ones (faster from
    about a hundred tokens on; a 64-bit collision is vanishingly unlikely). Once no n-gram
    occurs twice, no longer one does either: the top n-gram is then simply the first one and
    nothing is duplicated, so most short texts need little counting.
    """
    tokens, length = doc.tokens, len(doc.text)
    ends = list(accumulate(map(len, tokens), initial=0))
    top = dict.fromkeys(TOP_NGRAM_MAX, 0.0)
    dup = dict.fromkeys(DUP_NGRAM_MAX, 0.0)
    levels = _hashed_ngrams(tokens) if len(tokens) >= _HASH_FROM else \
        (_ngrams(tokens, n) for n in count(2))
    for n, grams in zip(range(2, max(DUP_NGRAM_MAX) + 1), levels):
        if not grams:
            break
        if n in TOP_NGRAM_MAX:
            chars, unique = _top_chars(grams, ends, n)
            top[n] = ratio(chars, length)
            if unique:  # the first gram is the top one from here on, and nothing repeats
                for longer in range(n + 1, max(TOP_NGRAM_MAX) + 1):
                    if len(tokens) >= longer:
                        top[longer] = ratio(ends[longer] + longer - 1, length)
                break
        else:
            repeated = _repeated_chars(grams, ends, n)
            if not repeated:
                break  # no repeated n-gram (else the first repeat counts), so no longer one
            dup[n] = ratio(repeated, length)
    return top, dup


def _top(n: int) -> Callable[[Doc], float]:
    def signal(doc: Doc) -> float:
        return doc.memo(_ngram_stats)[0][n]

    signal.__doc__ = (f"Characters covered by the most frequent {n}-gram over the text; "
                      f"published maximum {TOP_NGRAM_MAX[n]}.")
    return signal


def _dup(n: int) -> Callable[[Doc], float]:
    def signal(doc: Doc) -> float:
        return doc.memo(_ngram_stats)[1][n]

    signal.__doc__ = (f"Characters in repeated {n}-grams over the text; "
                      f"published maximum {DUP_NGRAM_MAX[n]}.")
    return signal


FAMILY = Family(
    name="gopher_repetition",
    doc="Gopher repetition heuristics: repeated lines, paragraphs and n-grams.",
    signals=(
        Signal("dup_para_frac", dup_para_frac, {"max": 0.3}, dup_para_frac.__doc__),
        Signal("dup_para_char_frac", dup_para_char_frac, {"max": 0.2}, dup_para_char_frac.__doc__),
        Signal("dup_line_frac", dup_line_frac, {"max": 0.3}, dup_line_frac.__doc__),
        Signal("dup_line_char_frac", dup_line_char_frac, {"max": 0.2}, dup_line_char_frac.__doc__),
        *(Signal(f"top_{n}gram_char_frac", _top(n), {"max": limit}, _top(n).__doc__,
                 spaced_only=True) for n, limit in TOP_NGRAM_MAX.items()),
        *(Signal(f"dup_{n}gram_char_frac", _dup(n), {"max": limit}, _dup(n).__doc__,
                 spaced_only=True) for n, limit in DUP_NGRAM_MAX.items()),
    ),
)
