"""Locality-sensitive hashing: bands and rows, band keys and buckets; verified candidate pairs
joined into components (union-find, in rounds that skip what is already connected)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from curate.dedup.arrays import mix64, run_starts, sorted_unique, splitmix64

# --- from banding.py -----------------------------------------------------------
RECALL_AT_THRESHOLD = 0.999
_ROW_SEED = 0xBA2D


def candidate_probability(similarity: float, bands: int, rows: int) -> float:
    """Probability that two documents at Jaccard ``similarity`` share at least one band."""
    return 1.0 - (1.0 - similarity**rows) ** bands


def derive_bands(threshold: float, num_perm: int, *, verify: bool = True) -> tuple[int, int]:
    """``(bands, rows)`` for `threshold` and `num_perm`.

    With verification, false-positive candidates only cost an exact Jaccard check, so the
    widest rows are chosen that still make a pair *at* the threshold a candidate with
    probability >= 0.999. Without verification, datasketch's optimum (equal weight on
    false positives and false negatives) is used, as `MinHashLSH` would.
    """
    if not verify:
        from datasketch import MinHashLSH

        lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
        return lsh.b, lsh.r
    for rows in range(num_perm, 0, -1):
        bands = num_perm // rows
        if candidate_probability(threshold, bands, rows) >= RECALL_AT_THRESHOLD:
            return bands, rows
    return num_perm, 1


def band_keys(signatures: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """``(documents, bands)`` uint32: a hash of each band's rows of the signature.

    32 bits suffice: two unrelated documents collide in a band with probability 2**-32,
    a false candidate that verification rejects; the gain is half the memory and one plain
    sort per band in `buckets`.
    """
    multipliers = splitmix64(_ROW_SEED, rows) | np.uint64(1)
    keys = np.zeros((len(signatures), bands), np.uint64)
    with np.errstate(over="ignore"):
        for row in range(rows):
            column = signatures[:, row:bands * rows:rows].astype(np.uint64)
            keys += column * multipliers[row]
        keys += np.arange(bands, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    return (mix64(keys) >> np.uint64(32)).astype(np.uint32)


@dataclass
class Buckets:
    """Documents sharing a band key: ``members`` grouped by bucket, in input order inside."""

    members: np.ndarray  # int32 document indices
    bucket: np.ndarray  # int32 bucket number of each member (non-decreasing)

    def __len__(self) -> int:
        return int(self.bucket[-1]) + 1 if len(self.bucket) else 0


def buckets(keys: np.ndarray) -> Buckets:
    """All buckets of two or more documents, over every band."""
    index = np.arange(len(keys), dtype=np.uint64)
    members, labels, next_label = [], [], 0
    for band in range(keys.shape[1]):
        # key << 32 | document: one plain sort groups by key, documents ascending inside
        packed = np.sort((keys[:, band].astype(np.uint64) << np.uint64(32)) | index)
        key = packed >> np.uint64(32)
        starts = np.flatnonzero(run_starts(key))
        sizes = np.diff(np.append(starts, len(key)))
        shared = sizes >= 2
        if not shared.any():
            continue
        count = int(shared.sum())
        members.append((packed[np.repeat(shared, sizes)] & np.uint64(0xFFFFFFFF)).astype(np.int32))
        labels.append(np.repeat(np.arange(next_label, next_label + count, dtype=np.int32),
                                sizes[shared]))
        next_label += count
    if not members:
        return Buckets(np.zeros(0, np.int32), np.zeros(0, np.int32))
    return Buckets(np.concatenate(members), np.concatenate(labels))


# --- from unionfind.py ---------------------------------------------------------
class UnionFind:
    def __init__(self, size: int) -> None:
        self.parent = np.arange(size, dtype=np.int64)

    def roots(self, items: np.ndarray | None = None) -> np.ndarray:
        """The root of every item (of all items when `items` is None); compresses paths."""
        parent = self.parent
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        self.parent = parent
        return parent if items is None else parent[items]

    def union(self, a: np.ndarray, b: np.ndarray) -> None:
        """Join the components of ``a[i]`` and ``b[i]`` for every i."""
        a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
        while len(a):
            root_a, root_b = self.roots(a), self.roots(b)
            apart = root_a != root_b
            a, b, root_a, root_b = a[apart], b[apart], root_a[apart], root_b[apart]
            # Several edges may hook the same root; the smallest target wins this pass
            # and the rest are retried against the merged roots in the next one.
            np.minimum.at(self.parent, np.maximum(root_a, root_b), np.minimum(root_a, root_b))


# --- from clustering.py --------------------------------------------------------
PairCheck = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass
class ClusterStats:
    candidate_pairs: int = 0  # distinct pairs checked
    verified_pairs: int = 0  # checked pairs at or above the threshold
    rounds: int = 0


def connect(buckets: Buckets, passes: PairCheck, union_find: UnionFind,
            on_round: Callable[[int], None] | None = None) -> ClusterStats:
    """Join in `union_find` every bucket pair for which ``passes(a, b)`` is true."""
    stats = ClusterStats()
    members, bucket = buckets.members, buckets.bucket
    failed = np.zeros(0, np.uint64)
    distance = 1
    while len(members):
        members, bucket = _open_buckets(members, bucket, union_find, distance)
        if not len(members):
            break
        same = bucket[:-distance] == bucket[distance:]
        a, b = members[:-distance][same], members[distance:][same]
        apart = union_find.roots(a) != union_find.roots(b)
        lo, hi = np.minimum(a[apart], b[apart]), np.maximum(a[apart], b[apart])
        pair = sorted_unique((lo.astype(np.uint64) << np.uint64(32)) | hi.astype(np.uint64))
        pair = pair[~np.isin(pair, failed, assume_unique=True)]
        a = (pair >> np.uint64(32)).astype(np.int64)
        b = (pair & np.uint64(0xFFFFFFFF)).astype(np.int64)
        ok = passes(a, b) if len(pair) else np.zeros(0, bool)
        union_find.union(a[ok], b[ok])
        failed = sorted_unique(np.concatenate([failed, pair[~ok]]))
        stats.candidate_pairs += len(pair)
        stats.verified_pairs += int(ok.sum())
        stats.rounds += 1
        if on_round:
            on_round(len(pair))
        distance += 1
    return stats


def _open_buckets(members: np.ndarray, bucket: np.ndarray, union_find: UnionFind,
                  distance: int) -> tuple[np.ndarray, np.ndarray]:
    """Members of buckets that still have pairs ``distance`` apart and are not yet one component."""
    starts = np.flatnonzero(run_starts(bucket))
    sizes = np.diff(np.append(starts, len(bucket)))
    roots = union_find.roots(members)
    split = np.minimum.reduceat(roots, starts) != np.maximum.reduceat(roots, starts)
    keep = np.repeat(split & (sizes > distance), sizes)
    return members[keep], bucket[keep]
