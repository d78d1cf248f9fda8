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
from curate.dedup.verify import ShingleSets, jaccard


@dataclass
class Side:
    """The documents one end of the pairs indexes into: document ``i`` has the text
    ``texts[rows[i]]`` and the signature ``signatures[rows[i]]`` (``rows`` None: ``i``)."""

    texts: list[str]
    signatures: np.ndarray
    rows: np.ndarray | None = None
    sets: ShingleSets = field(default_factory=ShingleSets, init=False, repr=False)
    _slot: np.ndarray | None = field(default=None, init=False, repr=False)

    def at(self, documents: np.ndarray) -> np.ndarray:
        return documents if self.rows is None else self.rows[documents]

    def slots(self, documents: np.ndarray, *, ngram: int, fold_digits: bool) -> np.ndarray:
        """Where each document's shingle set sits in `sets`; missing sets are added first."""
        rows = self.at(documents)
        if self._slot is None:
            self._slot = np.full(len(self.texts), -1, np.int64)
        missing = np.unique(rows[self._slot[rows] < 0])
        if len(missing):
            self._slot[missing] = np.arange(len(self.sets), len(self.sets) + len(missing))
            self.sets.add([self.texts[row] for row in missing.tolist()], ngram=ngram,
                          fold_digits=fold_digits)
        return self._slot[rows]


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
        options = {"ngram": self.ngram, "fold_digits": self.fold_digits}
        return jaccard(left.sets, left.slots(a, **options), right.sets, right.slots(b, **options))
