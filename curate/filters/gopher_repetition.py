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
from collections.abc import Callable
from itertools import accumulate, pairwise

from curate.filters.signal import Family, Signal, ratio
from curate.filters.text import Doc

TOP_NGRAM_MAX = {2: 0.20, 3: 0.18, 4: 0.16}
DUP_NGRAM_MAX = {5: 0.15, 6: 0.14, 7: 0.13, 8: 0.12, 9: 0.11, 10: 0.10}


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


def _refine(groups: list[list[int]], tokens: list[str], n: int) -> list[list[int]]:
    """The repeated (n+1)-grams, from the repeated n-grams: each group (the positions of one
    n-gram occurring twice or more) split by the token that follows; groups of one dropped.
    Only repeats are ever regrouped, so the work shrinks with n."""
    refined: list[list[int]] = []
    size = len(tokens)
    for members in groups:
        if len(members) == 2:  # the common case, without a dict
            first, second = members
            if second + n < size and tokens[first + n] == tokens[second + n]:
                refined.append(members)
            continue
        split: dict[str, list[int]] = {}
        for position in members:
            if position + n < size:
                split.setdefault(tokens[position + n], []).append(position)
        refined += [group for group in split.values() if len(group) > 1]
    return refined


def _repeated_chars(groups: list[list[int]], ends: list[int], n: int) -> int:
    """Characters of the n-grams that repeat an earlier one, scanning greedily left to right
    and skipping past each repeat, as datatrove's `find_all_duplicate` does. Only positions of
    repeated n-grams (`groups`) can matter, so the scan visits those alone, in order."""
    events = sorted((position, number) for number, members in enumerate(groups)
                    for position in members)
    seen: set[int] = set()
    repeated = index = 0
    for position, number in events:
        if position < index:
            continue  # inside a repeat already counted: not visited
        if number in seen:
            repeated += ends[position + n] - ends[position]
            index = position + n
        else:
            seen.add(number)
    return repeated


def _ngram_stats(doc: Doc) -> tuple[dict[int, float], dict[int, float]]:
    """Top 2/3/4-gram and duplicated 5..10-gram character fractions, computed together.

    Only repeated n-grams are tracked: the 2-grams are grouped by value once, and each
    longer level splits the groups that repeat by their next token. Once no n-gram occurs
    twice, no longer one does either: the top n-gram is then simply the first one and
    nothing is duplicated. The most frequent n-gram is the first to occur among the most
    frequent (datatrove's `Counter.most_common`). A gram at `p` spans `ends[p]..ends[p + n]`
    plus the n - 1 spaces datatrove joins tokens with.
    """
    tokens, length = doc.tokens, len(doc.text)
    ends = list(accumulate(map(len, tokens), initial=0))
    top = dict.fromkeys(TOP_NGRAM_MAX, 0.0)
    dup = dict.fromkeys(DUP_NGRAM_MAX, 0.0)
    if len(tokens) < 2:
        return top, dup
    bigrams = list(pairwise(tokens))
    counts = Counter(bigrams)
    if len(counts) == len(bigrams):
        groups: list[list[int]] = []
    else:
        first: dict[tuple[str, str], list[int]] = {}
        for position, gram in enumerate(bigrams):
            if counts[gram] > 1:
                first.setdefault(gram, []).append(position)
        groups = list(first.values())
    for n in range(2, max(DUP_NGRAM_MAX) + 1):
        if len(tokens) < n:
            break
        if not groups:  # every n-gram is unique: the first one is the top one, nothing repeats
            for longer in range(n, max(TOP_NGRAM_MAX) + 1):
                if len(tokens) >= longer:
                    top[longer] = ratio(ends[longer] + longer - 1, length)
            break
        if n in TOP_NGRAM_MAX:
            members = max(groups, key=lambda group: (len(group), -group[0]))
            start = members[0]
            top[n] = ratio((ends[start + n] - ends[start] + n - 1) * len(members), length)
        else:
            repeated = _repeated_chars(groups, ends, n)
            if not repeated:
                break
            dup[n] = ratio(repeated, length)
        groups = _refine(groups, tokens, n)
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
