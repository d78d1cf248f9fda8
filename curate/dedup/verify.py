"""Exact Jaccard similarity of many document pairs at once.

Each document's shingle set is a sorted array of unique 64-bit hashes; the sets sit end to
end in one array. The shared shingles of a pair are found by looking up every shingle of
the smaller set in the larger one with a binary search that runs, one halving step at a
time, over all look-ups of all pairs together: no Python loop per pair or per shingle.
"""

from __future__ import annotations

import numpy as np

from curate.dedup.arrays import ranges

_CHUNK = 1 << 22  # shingle look-ups per chunk


class ShingleSets:
    """The shingle sets of some documents, indexed ``0..n-1`` in the order given."""

    def __init__(self, sets: list[np.ndarray]) -> None:
        """`sets`: each document's shingle hashes, sorted and unique (`shingle_sets`)."""
        self.sizes = np.array([len(s) for s in sets], np.int64)
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])
        self.values = np.concatenate(sets) if sets else np.zeros(0, np.uint64)

    def jaccard(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Exact Jaccard similarity of documents ``a[i]`` and ``b[i]`` (float64)."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        out = np.empty(len(a), np.float64)
        small = np.where(self.sizes[a] <= self.sizes[b], a, b)
        large = np.where(self.sizes[a] <= self.sizes[b], b, a)
        lookups = np.cumsum(self.sizes[small])
        start = 0
        while start < len(a):
            done = lookups[start - 1] if start else 0
            stop = max(start + 1, int(np.searchsorted(lookups, done + _CHUNK, "right")))
            shared = self._shared(small[start:stop], large[start:stop])
            union = self.sizes[a[start:stop]] + self.sizes[b[start:stop]] - shared
            out[start:stop] = shared / union
            start = stop
        return out

    def _shared(self, small: np.ndarray, large: np.ndarray) -> np.ndarray:
        """Number of shingles of each ``small[i]`` found in ``large[i]``."""
        lengths = self.sizes[small]
        query = self.values[ranges(self.offsets[small], lengths)]
        low = np.repeat(self.offsets[large], lengths)
        end = np.repeat(self.offsets[large + 1], lengths)
        high = end.copy()
        last = len(self.values) - 1
        while (open_ := low < high).any():  # binary search: first position >= query
            middle = (low + high) // 2
            right = self.values[np.minimum(middle, last)] < query
            low = np.where(open_ & right, middle + 1, low)
            high = np.where(open_ & ~right, middle, high)
        hit = (low < end) & (self.values[np.minimum(low, last)] == query)
        pair = np.repeat(np.arange(len(small)), lengths)
        return np.bincount(pair, weights=hit, minlength=len(small))
