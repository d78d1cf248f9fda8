"""Clusters from LSH buckets: only pairs that pass the check are joined.

Checking every pair of a bucket is quadratic, so pairs are checked in rounds: round ``d``
checks members ``d`` apart in each bucket, skipping pairs already in one component and
pairs that already failed, and a bucket is dropped once all its members are connected.
The resulting components are exactly those of checking all candidate pairs (a skipped
pair is already connected), but a bucket of true duplicates costs about one check per
member.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from curate.dedup.arrays import run_starts, sorted_unique
from curate.dedup.banding import Buckets
from curate.dedup.unionfind import UnionFind

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

