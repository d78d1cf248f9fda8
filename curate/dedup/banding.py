"""LSH banding: bands and rows, per-document band keys, and the buckets they form.

`band_keys` is a pure function of a signature matrix (so it runs per batch, in Ray Data
too); `buckets` groups documents sharing a key in any band and is what clustering reads.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from curate.dedup.arrays import run_starts
from curate.dedup.hashing import mix64, splitmix64

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
