"""`--against`: match records to reference datasets without deduplicating the references.

The reference texts are sketched like the input; their band keys are sorted once per
band, and each query's band keys are looked up with ``np.searchsorted``. Every candidate
pair is checked (exact Jaccard, or the MinHash estimate without verification) and a query
is matched to its most similar reference record (ties: the earliest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.dedup.arrays import group_heads, ranges, run_starts, sorted_unique
from curate.dedup.exact import first_of_group


@dataclass
class Reference:
    """Reference records (duplicates within them collapsed to their first occurrence)."""

    ids: list[Any]
    sources: list[str]
    texts: list[str]
    keys: np.ndarray  # (n, 2) uint64 exact keys
    signatures: np.ndarray  # (n, num_perm) uint32
    skipped: int = 0  # records without the compared text

    def __len__(self) -> int:
        return len(self.ids)

    def collapsed(self) -> Reference:
        first = np.flatnonzero(first_of_group(self.keys) == np.arange(len(self.ids)))
        return Reference([self.ids[i] for i in first], [self.sources[i] for i in first],
                         [self.texts[i] for i in first], self.keys[first], self.signatures[first],
                         self.skipped)


def exact_matches(query_keys: np.ndarray, reference_keys: np.ndarray) -> np.ndarray:
    """Index of the first reference record with the same key as each query, or -1."""
    keys = np.concatenate([reference_keys, query_keys])
    order = np.lexsort((keys[:, 1], keys[:, 0]))  # stable: references sort first among equals
    head = group_heads(order, keys[order])[len(reference_keys):]
    return np.where(head < len(reference_keys), head, -1)


def near_matches(query_bands: np.ndarray, reference_bands: np.ndarray,
                 similarity: Callable[[np.ndarray, np.ndarray], np.ndarray],
                 threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Best reference (or -1) and its similarity for each query, over LSH candidates."""
    pairs = []
    for band in range(reference_bands.shape[1]):
        order = np.argsort(reference_bands[:, band], kind="stable")
        ordered = reference_bands[order, band]
        left = np.searchsorted(ordered, query_bands[:, band], "left")
        count = np.searchsorted(ordered, query_bands[:, band], "right") - left
        query = np.repeat(np.arange(len(query_bands), dtype=np.uint64), count)
        reference = order[ranges(left, count)].astype(np.uint64)
        pairs.append((query << np.uint64(32)) | reference)
    pair = sorted_unique(np.concatenate(pairs)) if pairs else np.zeros(0, np.uint64)
    query = (pair >> np.uint64(32)).astype(np.int64)
    reference = (pair & np.uint64(0xFFFFFFFF)).astype(np.int64)
    score = similarity(query, reference) if len(pair) else np.zeros(0)
    passed = score >= threshold
    query, reference, score = query[passed], reference[passed], score[passed]
    best_reference = np.full(len(query_bands), -1, np.int64)
    best_score = np.zeros(len(query_bands))
    order = np.lexsort((reference, -score, query))  # per query: highest score, then earliest
    chosen = order[run_starts(query[order])]
    best_reference[query[chosen]] = reference[chosen]
    best_score[query[chosen]] = score[chosen]
    return best_reference, best_score

