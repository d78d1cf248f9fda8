"""Exact Jaccard of shingle sets, in memory (`ShingleSets`, `jaccard`) and on disk for the
candidates of an out-of-core run (`SetWriter`, `SetStore`, `pair_similarity`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from curate.dedup.arrays import ranges, run_starts
from curate.dedup.shingling import shingle_hashes, shingle_lengths, units_and_scripts, word_hashes
from curate.text.units import CHAR_NGRAM, Mode

# --- from verify.py ------------------------------------------------------------
_CHUNK = 1 << 20  # shingle look-ups per chunk (about 60 MB of temporaries)
_DOCUMENTS = 1 << 16  # documents sorted at once (their index takes the top 16 bits)
_FINGERPRINT = np.uint64((1 << 48) - 1)


def sorted_sets(flat: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each document's run of `flat` shingle hashes as a sorted set: ``(values, sizes)``.

    Up to 2**16 documents at a time, ``document << 48 | hash >> 16`` is packed in one uint64
    and sorted once: one plain sort instead of a small sort per document (a Python loop,
    about 7 us per document) or an ``np.lexsort`` (measured 5x slower). Sets hold the top 48
    bits of each hash; two distinct shingles of a pair of 1,000-shingle documents share
    them with probability below 1e-8.
    """
    values, sizes = [np.zeros(0, np.uint64)], [np.zeros(0, np.int64)]
    bounds = np.concatenate([[0], np.cumsum(counts)])
    for start in range(0, len(counts), _DOCUMENTS):
        part = counts[start:start + _DOCUMENTS]
        document = np.repeat(np.arange(len(part), dtype=np.uint64), part)
        hashes = flat[bounds[start]:bounds[start + len(part)]]
        packed = np.sort((document << np.uint64(48)) | (hashes >> np.uint64(16)))
        packed = packed[run_starts(packed)]
        sizes.append(np.bincount((packed >> np.uint64(48)).astype(np.int64), minlength=len(part)))
        values.append(packed & _FINGERPRINT)
    return np.concatenate(values), np.concatenate(sizes)


class ShingleSets:
    """The shingle sets of documents ``0..n-1``, in the order they were added."""

    def __init__(self) -> None:
        self.values = np.zeros(0, np.uint64)
        self.sizes = np.zeros(0, np.int64)
        self.offsets = np.zeros(1, np.int64)

    def __len__(self) -> int:
        return len(self.sizes)

    def add(self, texts: list[str], *, ngram: int, fold_digits: bool, shingle: Mode = "auto",
            char_ngram: int = CHAR_NGRAM, fold_case: bool = True) -> None:
        """Append the shingle sets of `texts`, normalised and shingled as for signatures
        (the same options as `SketchSpec`: `SketchSpec.matching()` gives them)."""
        words, unspaced = units_and_scripts(texts, fold_digits=fold_digits, shingle=shingle,
                                            fold_case=fold_case)
        hashes, counts = word_hashes(words)
        values, sizes = sorted_sets(*shingle_hashes(hashes, counts,
                                                    shingle_lengths(
            counts, unspaced, shingle=shingle, ngram=ngram, char_ngram=char_ngram)))
        self.values = np.concatenate([self.values, values])
        self.sizes = np.concatenate([self.sizes, sizes])
        self.offsets = np.concatenate([[0], np.cumsum(self.sizes)])


def jaccard(left: ShingleSets, a: np.ndarray, right: ShingleSets, b: np.ndarray) -> np.ndarray:
    """Exact Jaccard similarity of ``left`` document ``a[i]`` and ``right`` document ``b[i]``."""
    a, b = np.asarray(a, np.int64), np.asarray(b, np.int64)
    size_a, size_b = left.sizes[a], right.sizes[b]
    flip = size_a > size_b  # look up the smaller set's shingles in the larger set
    shared = np.empty(len(a))
    shared[~flip] = _shared(left, a[~flip], right, b[~flip])
    shared[flip] = _shared(right, b[flip], left, a[flip])
    return shared / (size_a + size_b - shared)


def _shared(queries: ShingleSets, small: np.ndarray, targets: ShingleSets,
            large: np.ndarray) -> np.ndarray:
    """Number of shingles of each ``queries[small[i]]`` found in ``targets[large[i]]``."""
    out = np.empty(len(small))
    lookups = np.cumsum(queries.sizes[small])
    start = 0
    while start < len(small):
        done = lookups[start - 1] if start else 0
        stop = max(start + 1, int(np.searchsorted(lookups, done + _CHUNK, "right")))
        out[start:stop] = _shared_chunk(queries, small[start:stop], targets, large[start:stop])
        start = stop
    return out


def _shared_chunk(queries: ShingleSets, small: np.ndarray, targets: ShingleSets,
                  large: np.ndarray) -> np.ndarray:
    lengths = queries.sizes[small]
    query = queries.values[ranges(queries.offsets[small], lengths)]
    values = targets.values
    low = np.repeat(targets.offsets[large], lengths)
    end = np.repeat(targets.offsets[large + 1], lengths)
    high = end.copy()
    last = len(values) - 1
    while (open_ := low < high).any():  # binary search: first position >= query
        middle = (low + high) // 2
        right = values[np.minimum(middle, last)] < query
        low = np.where(open_ & right, middle + 1, low)
        high = np.where(open_ & ~right, middle, high)
    hit = (low < end) & (values[np.minimum(low, max(last, 0))] == query)
    pair = np.repeat(np.arange(len(small)), lengths)
    return np.bincount(pair, weights=hit, minlength=len(small))


# --- from store.py -------------------------------------------------------------
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
