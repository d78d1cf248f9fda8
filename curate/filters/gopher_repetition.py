"""Gopher repetition rules (Rae et al. 2021, table A1), as fractions of the text.

Defaults are the published thresholds: duplicate lines and paragraphs 0.3 (by
count) and 0.2 (by characters); the most frequent 2/3/4-gram 0.20/0.18/0.16 of
the characters; characters in duplicated 5..10-grams 0.15 down to 0.10.
Counting follows datatrove's reference implementation, so decisions agree
with it (see benchmarks/filter_bench.py).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from itertools import accumulate, compress, count
from operator import itemgetter, ne

import numpy as np

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc

TOP_NGRAM_MAX = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_NGRAM_MAX = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}
_NUMPY_FROM = 100  # tokens; below this the plain-Python path is faster


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


def top_ngram_char_frac(tokens: list[str], n: int, text_length: int) -> float:
    """Characters covered by the most frequent `n`-gram (all its occurrences) over the text."""
    counts = Counter(zip(*(tokens[i:] for i in range(n))))
    if not counts:
        return 0.0
    gram, occurrences = max(counts.items(), key=itemgetter(1))  # first of the most frequent
    return ratio((sum(map(len, gram)) + n - 1) * occurrences, text_length)


def dup_ngram_char_frac(tokens: list[str], n: int, text_length: int) -> float:
    """Characters in `n`-grams that repeat an earlier one (greedy, non-overlapping) over the text,
    as datatrove counts them."""
    grams = _ngrams(tokens, n)
    # Only a position whose n-gram occurred earlier can be a repeat; the greedy scan below
    # jumps between those few candidates instead of stepping through every position.
    first = dict(zip(reversed(grams), range(len(grams) - 1, -1, -1)))
    if len(first) == len(grams):  # no n-gram occurs twice
        return 0.0
    candidates = compress(count(), map(ne, map(first.__getitem__, grams), count()))
    ends = list(accumulate(map(len, tokens), initial=0))
    seen: set[tuple[str, ...]] = set()
    repeated = index = 0
    for position in candidates:
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
    return ratio(repeated, text_length)


def _ngram_stats(doc: Doc) -> tuple[dict[int, float], dict[int, float]]:
    """Top 2/3/4-gram and duplicated 5..10-gram character fractions, computed together.

    Once no n-gram occurs twice, no longer one does either: the top n-gram is then simply
    the first one and nothing is duplicated, so most short texts need little counting.
    """
    if len(doc.tokens) >= _NUMPY_FROM:
        long_doc = _LongDoc(doc)
        return long_doc.top_ngrams(), long_doc.dup_ngrams()
    tokens, length = doc.tokens, len(doc.text)
    top: dict[int, float] = {}
    unique = False
    for n in TOP_NGRAM_MAX:
        if len(tokens) < n:
            top[n], unique = 0.0, True
        elif unique:
            top[n] = ratio(sum(map(len, tokens[:n])) + n - 1, length)
        else:
            gram, occurrences = max(Counter(zip(*(tokens[i:] for i in range(n)))).items(),
                                    key=itemgetter(1))  # the first of the most frequent
            top[n] = ratio((sum(map(len, gram)) + n - 1) * occurrences, length)
            unique = occurrences == 1
    if not unique:
        grams = _ngrams(tokens, min(DUP_NGRAM_MAX))
        unique = len(set(grams)) == len(grams)
    dup = {n: 0.0 if unique else dup_ngram_char_frac(tokens, n, length) for n in DUP_NGRAM_MAX}
    return top, dup


def _groups(hashes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A stable sort of the n-gram hashes: the order, and which sorted slots start a new n-gram
    (so each group's first slot is that n-gram's first occurrence)."""
    order = np.argsort(hashes, kind="stable")
    ordered = hashes[order]
    starts = np.empty(len(hashes), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    return order, starts


class _LongDoc:
    """The same n-gram statistics for long documents, with numpy.

    Each n-gram is a 64-bit rolling hash of its tokens' hashes, so finding repeats is one
    sort rather than a dict of tuples: several times faster from about a hundred tokens on
    (shorter documents stay on the plain path above, which has less overhead).
    """

    _BASE = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, doc: Doc) -> None:
        self.length = len(doc.text)
        self.ends = np.zeros(len(doc.tokens) + 1, dtype=np.int64)
        np.cumsum(list(map(len, doc.tokens)), out=self.ends[1:])
        self.unigrams = np.array(list(map(hash, doc.tokens)), dtype=np.int64).view(np.uint64)
        self._hashes = {1: self.unigrams}

    def hashes(self, n: int) -> np.ndarray:
        if n not in self._hashes:
            shorter = self.hashes(n - 1)
            self._hashes[n] = shorter[:-1] * self._BASE + self.unigrams[n - 1:]
        return self._hashes[n]

    def top_ngrams(self) -> dict[int, float]:
        result = {}
        for n in TOP_NGRAM_MAX:
            hashes = self.hashes(n)
            order, starts = _groups(hashes)
            firsts = np.flatnonzero(starts)
            counts = np.diff(firsts, append=len(hashes))
            most = counts.max()
            start = int(order[firsts[counts == most]].min())  # the first of the most frequent
            chars = int(self.ends[start + n] - self.ends[start]) + n - 1
            result[n] = ratio(chars * int(most), self.length)
        return result

    def dup_ngrams(self) -> dict[int, float]:
        result = dict.fromkeys(DUP_NGRAM_MAX, 0.0)
        for n in DUP_NGRAM_MAX:
            hashes = self.hashes(n)
            order, starts = _groups(hashes)
            if starts.all():
                break  # no repeated n-gram, so no longer one either
            gram_ids = np.empty(len(hashes), dtype=np.int64)
            gram_ids[order] = np.cumsum(starts) - 1
            seen = np.zeros(int(gram_ids.max()) + 1, dtype=bool)
            repeated = index = 0
            for position in np.sort(order[~starts]).tolist():  # later occurrences only
                if position < index:
                    continue
                seen[gram_ids[index:position]] = True
                if seen[gram_ids[position]]:
                    repeated += int(self.ends[position + n] - self.ends[position])
                    index = position + n
                else:
                    seen[gram_ids[position]] = True
                    index = position + 1
            result[n] = ratio(repeated, self.length)
        return result


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
        *(Signal(f"top_{n}gram_char_frac", _top(n), {"max": limit}, _top(n).__doc__)
          for n, limit in TOP_NGRAM_MAX.items()),
        *(Signal(f"dup_{n}gram_char_frac", _dup(n), {"max": limit}, _dup(n).__doc__)
          for n, limit in DUP_NGRAM_MAX.items()),
    ),
)
