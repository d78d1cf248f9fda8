"""Similarity of document pairs: the MinHash estimate, or exact Jaccard behind a prefilter.

With verification a pair is scored by the exact Jaccard of its shingle sets, computed (once)
for just the documents that need an exact check. Pairs whose MinHash estimate lies 5 standard
deviations below the threshold skip the exact check and score 0: a pair truly at the
threshold is rejected that way with probability below 1e-6, while LSH false positives,
which dominate the candidates, cost only a signature comparison.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from curate.dedup.minhash import estimate_jaccard
from curate.dedup.shingles import shingle_sets
from curate.dedup.verify import ShingleSets

_PAIRS = 1 << 17  # pairs whose shingle sets are built at once


@dataclass
class Side:
    """The documents one end of the pairs indexes into: document ``i`` has the text
    ``texts[rows[i]]`` and the signature ``signatures[rows[i]]`` (``rows`` None: ``i``)."""

    texts: list[str]
    signatures: np.ndarray
    rows: np.ndarray | None = None
    _shingles: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    def at(self, documents: np.ndarray) -> np.ndarray:
        return documents if self.rows is None else self.rows[documents]

    def shingles(self, rows: np.ndarray, *, ngram: int, fold_digits: bool) -> list[np.ndarray]:
        """Shingle set of ``texts[row]`` for each row, computed once per row."""
        missing = [row for row in rows.tolist() if row not in self._shingles]
        if missing:
            sets = shingle_sets([self.texts[row] for row in missing], ngram=ngram,
                                fold_digits=fold_digits)
            self._shingles.update(zip(missing, sets))
        return [self._shingles[row] for row in rows.tolist()]


@dataclass
class Similarity:
    threshold: float
    verify: bool = True
    ngram: int = 5
    fold_digits: bool = False
    exact_checks: int = 0

    def scores(self, left: Side, a: np.ndarray, right: Side, b: np.ndarray) -> np.ndarray:
        """Score of each pair ``(left[a[i]], right[b[i]])``; pairs scoring below the threshold
        with verification may carry 0 instead of their true similarity."""
        estimate = estimate_jaccard(left.signatures, left.at(a), right.signatures, right.at(b))
        if not self.verify:
            return estimate
        num_perm = left.signatures.shape[1]
        margin = 5 * np.sqrt(self.threshold * (1 - self.threshold) / num_perm)
        plausible = np.flatnonzero(estimate >= self.threshold - margin)
        out = np.zeros(len(a))
        out[plausible] = self.exact(left, a[plausible], right, b[plausible])
        return out

    def passes(self, left: Side, a: np.ndarray, right: Side, b: np.ndarray) -> np.ndarray:
        return self.scores(left, a, right, b) >= self.threshold

    def exact(self, left: Side, a: np.ndarray, right: Side, b: np.ndarray) -> np.ndarray:
        """Exact Jaccard (or, without verification, the estimate) of each pair."""
        if not self.verify:
            return estimate_jaccard(left.signatures, left.at(a), right.signatures, right.at(b))
        self.exact_checks += len(a)
        out = np.empty(len(a))
        for start in range(0, len(a), _PAIRS):
            lefts, a_local = np.unique(left.at(a[start:start + _PAIRS]), return_inverse=True)
            rights, b_local = np.unique(right.at(b[start:start + _PAIRS]), return_inverse=True)
            options = {"ngram": self.ngram, "fold_digits": self.fold_digits}
            sets = ShingleSets(left.shingles(lefts, **options) + right.shingles(rights, **options))
            out[start:start + _PAIRS] = sets.jaccard(a_local, b_local + len(lefts))
        return out
