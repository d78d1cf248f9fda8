"""Shingle sets and signatures of candidate documents, on disk, read back by document.

Only documents that share an LSH bucket with another one are stored (one file per input
task, written in the second pass over the data). A document's entry is its sorted shingle
set per segment (uint64 fingerprints, as `verify.sorted_sets` makes them) followed by its
MinHash signature. Reading takes one `pread` per document, so a verifier holds only the
documents of the pairs it is checking: memory is O(pairs in flight), never O(corpus).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from curate.dedup.verify import ShingleSets, jaccard

SEGMENTS_MAX = 3


class SetWriter:
    """Appends documents' sets and signatures to `path` (`.bin`) and its index (`.npy`)."""

    def __init__(self, path: Path, segments: int) -> None:
        self.path, self.segments = path, segments
        self._handle = open(path.with_suffix(".bin"), "wb")
        self._rows: list[list[int]] = []
        self._offset = 0

    def add(self, doc: int, sets: list[np.ndarray], signature: np.ndarray) -> None:
        sizes = [len(s) for s in sets] + [0] * (SEGMENTS_MAX - len(sets))
        self._rows.append([doc, self._offset, *sizes])
        for values in sets:
            data = values.astype(np.uint64, copy=False).tobytes()
            self._handle.write(data)
            self._offset += len(data)
        data = signature.astype(np.uint32, copy=False).tobytes()
        data += b"\0" * (_padded(len(data)) - len(data))  # keep the next record 8-aligned
        self._handle.write(data)
        self._offset += len(data)

    def close(self) -> None:
        self._handle.close()
        index = np.array(self._rows, np.int64).reshape(-1, 2 + SEGMENTS_MAX)
        np.save(self.path.with_suffix(".npy"), index)


class SetStore:
    """Every candidate document's sets and signature, looked up by global document number."""

    def __init__(self, directory: Path, segments: int, num_perm: int) -> None:
        self.segments, self.num_perm = segments, num_perm
        indexes, files = [], []
        for number, path in enumerate(sorted(directory.glob("sets-*.npy"))):
            index = np.load(path)
            indexes.append(np.column_stack([index, np.full(len(index), number, np.int64)]))
            files.append(path.with_suffix(".bin"))
        table = np.concatenate(indexes) if indexes else np.zeros((0, 6), np.int64)
        order = np.argsort(table[:, 0], kind="stable")
        self.table = table[order]
        self.docs = self.table[:, 0]
        self._fds = [os.open(path, os.O_RDONLY) for path in files]

    def close(self) -> None:
        for fd in self._fds:
            os.close(fd)
        self._fds = []

    def __contains__(self, doc: int) -> bool:
        position = np.searchsorted(self.docs, doc)
        return bool(position < len(self.docs) and self.docs[position] == doc)

    def load(self, docs: np.ndarray) -> tuple[list[ShingleSets], np.ndarray]:
        """The sets (one `ShingleSets` per segment, document i at slot i) and signatures
        (rows) of `docs`, in that order: one read per document into one buffer."""
        rows = self.table[np.searchsorted(self.docs, docs)]
        sizes = rows[:, 2:2 + self.segments]
        lengths = 8 * sizes.sum(axis=1) + _padded(4 * self.num_perm)
        starts = np.concatenate([[0], np.cumsum(lengths)])
        buffer = bytearray(int(starts[-1]))
        view = memoryview(buffer)
        for i, (offset, length, file) in enumerate(zip(rows[:, 1].tolist(), lengths.tolist(),
                                                       rows[:, 5].tolist())):
            done = os.preadv(self._fds[file], [view[starts[i]:starts[i] + length]], offset)
            if done != length:
                raise OSError(f"short read of the shingle store ({done} of {length} bytes)")
        signatures = np.empty((len(docs), self.num_perm), np.uint32)
        signature_at = (starts[:-1] + 8 * sizes.sum(axis=1)).tolist()
        for i, at in enumerate(signature_at):
            signatures[i] = np.frombuffer(buffer, np.uint32, self.num_perm, at)
        # Set values start at multiples of 8 (signatures are padded to 8 bytes): view them as
        # uint64 and gather each segment's runs.
        words = np.frombuffer(buffer, np.uint64, len(buffer) // 8)
        out = []
        before = np.zeros(len(docs), np.int64)
        for segment in range(self.segments):
            counts = sizes[:, segment].astype(np.int64)
            sets = ShingleSets()
            sets.values = words[_ranges(starts[:-1] // 8 + before, counts)]
            sets.sizes = counts
            sets.offsets = np.concatenate([[0], np.cumsum(counts)])
            out.append(sets)
            before = before + counts
        return out, signatures


def _padded(size: int) -> int:
    return -(-size // 8) * 8


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    from curate.dedup.arrays import ranges

    return ranges(starts.astype(np.int64), lengths.astype(np.int64))


PAIR_BLOCK = 1 << 13  # pairs checked at once: their documents' sets are loaded together


def pair_similarity(store: SetStore, a: np.ndarray, b: np.ndarray, threshold: float, *,
                    verify: bool) -> tuple[np.ndarray, int]:
    """Similarity of each document pair `(a[i], b[i])`, and how many exact checks ran.

    With verification, the exact Jaccard of the shingle sets (for multi-segment documents
    the smallest over segments, so every segment must match); pairs whose MinHash estimate
    lies 5 standard deviations below the threshold score 0 without an exact check (a pair
    truly at the threshold is rejected that way with probability below 1e-6). Without
    verification, the MinHash estimate. Pairs go a block at a time, so memory is bounded by
    the block, whatever the number of pairs.
    """
    out = np.zeros(len(a))
    checks = 0
    for start in range(0, len(a), PAIR_BLOCK):
        stop = start + PAIR_BLOCK
        out[start:stop], done = _block_similarity(store, a[start:stop], b[start:stop], threshold,
                                                  verify=verify)
        checks += done
    return out, checks


def _block_similarity(store: SetStore, a: np.ndarray, b: np.ndarray, threshold: float, *,
                      verify: bool) -> tuple[np.ndarray, int]:
    if not len(a):
        return np.zeros(0), 0
    docs, slots = np.unique(np.concatenate([a, b]), return_inverse=True)
    sets, signatures = store.load(docs)
    left, right = slots[:len(a)], slots[len(a):]
    estimate = (signatures[left] == signatures[right]).mean(axis=1) if store.num_perm else \
        np.ones(len(a))
    if not verify:
        return estimate, 0
    margin = 5 * np.sqrt(threshold * (1 - threshold) / max(store.num_perm, 1))
    plausible = np.flatnonzero(estimate >= threshold - margin) if store.num_perm else \
        np.arange(len(a))
    out = np.zeros(len(a))
    if len(plausible):
        scores = [jaccard(segment, left[plausible], segment, right[plausible])
                  for segment in sets]
        out[plausible] = np.minimum.reduce(scores)
    return out, len(plausible)
