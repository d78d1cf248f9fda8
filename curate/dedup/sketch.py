"""MinHash signatures of shingle sets, and the per-batch sketch of documents (one segment, or
the three of a preference pair)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xxhash

from curate.dedup.arrays import mix64, splitmix64
from curate.dedup.shingling import (
    shingle_hashes,
    shingle_lengths,
    text_keys,
    units_and_scripts,
    word_hashes,
)
from curate.text.units import CHAR_NGRAM, Mode

# --- from minhash.py -----------------------------------------------------------
EMPTY = np.uint32(0xFFFFFFFF)
_CHUNK = 8192  # shingles per chunk: 128 x 8192 x 4 bytes = 4 MB


def permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``(a, b)`` parameters, uint32 column vectors of length ``num_perm``."""
    values = splitmix64(seed, 2 * num_perm)
    a = (values[:num_perm] & np.uint64(0xFFFFFFFF)).astype(np.uint32) | np.uint32(1)
    b = (values[num_perm:] & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    return a[:, None], b[:, None]


def signatures(shingles: np.ndarray, counts: np.ndarray, num_perm: int, seed: int) -> np.ndarray:
    """MinHash signatures ``(documents, num_perm)`` uint32 of flat uint64 shingle hashes.

    ``counts`` gives each document's number of shingles; a document without shingles gets
    the all-``EMPTY`` signature.
    """
    a, b = permutations(num_perm, seed)
    hashed = (shingles >> np.uint64(32)).astype(np.uint32)
    out = np.full((len(counts), num_perm), EMPTY, dtype=np.uint32)
    docs = np.flatnonzero(counts)
    offsets = np.concatenate([[0], np.cumsum(counts[docs])])
    start = 0
    while start < len(docs):
        stop = max(start + 1, int(np.searchsorted(offsets, offsets[start] + _CHUNK, "right")) - 1)
        stop = min(stop, len(docs))
        chunk = hashed[offsets[start]:offsets[stop]]
        permuted = a * chunk  # (num_perm, shingles), wraps mod 2**32
        permuted += b
        out[docs[start:stop]] = np.minimum.reduceat(
            permuted, offsets[start:stop] - offsets[start], axis=1).T
        start = stop
    return out


def estimate_jaccard(left: np.ndarray, a: np.ndarray, right: np.ndarray,
                     b: np.ndarray) -> np.ndarray:
    """MinHash estimate of the Jaccard similarity of ``left[a[i]]`` and ``right[b[i]]``: the
    share of equal signature rows (computed a chunk of pairs at a time, to bound memory)."""
    out = np.empty(len(a), np.float64)
    for start in range(0, len(a), 1 << 15):
        stop = start + (1 << 15)
        out[start:stop] = (left[a[start:stop]] == right[b[start:stop]]).mean(axis=1)
    return out


# --- from sketch.py ------------------------------------------------------------
@dataclass(frozen=True)
class SketchSpec:
    """What to compute; `num_perm=0` skips signatures (exact dedup only).

    `shingle` chooses the units (`curate.text.units`: `auto` splits scripts without spaces
    into characters); `ngram` is the shingle length in words and `char_ngram` in characters,
    for texts written without spaces (all texts with `shingle="char"`)."""

    ngram: int = 5
    num_perm: int = 128
    seed: int = 1
    fold_digits: bool = False
    shingle: Mode = "auto"
    char_ngram: int = CHAR_NGRAM
    fold_case: bool = True

    def matching(self) -> dict[str, object]:
        """The keyword arguments of `ShingleSets.add` that shingle texts as this spec does."""
        return {"ngram": self.ngram, "fold_digits": self.fold_digits, "shingle": self.shingle,
                "char_ngram": self.char_ngram, "fold_case": self.fold_case}


@dataclass
class Sketches:
    keys: np.ndarray  # (n, 2) uint64: 128-bit hash of the normalised text
    words: np.ndarray  # (n,) int64: normalised units (words, CJK characters) per text (0 = empty)
    signatures: np.ndarray  # (n, num_perm) uint32


def sketch(texts: list[str], spec: SketchSpec) -> Sketches:
    """Exact keys, word counts and MinHash signatures of a batch of texts."""
    words, unspaced = units_and_scripts(texts, fold_digits=spec.fold_digits, shingle=spec.shingle,
                                        fold_case=spec.fold_case)
    hashes, counts = word_hashes(words)
    if spec.num_perm:
        lengths = shingle_lengths(counts, unspaced, shingle=spec.shingle, ngram=spec.ngram,
                                  char_ngram=spec.char_ngram)
        shingles, per_doc = shingle_hashes(hashes, counts, lengths)
        matrix = signatures(shingles, per_doc, spec.num_perm, spec.seed)
    else:
        matrix = np.zeros((len(texts), 0), np.uint32)
    return Sketches(text_keys(words), counts, matrix)


def minhash_signatures(texts: list[str], *, num_perm: int = 128, ngram: int = 5, seed: int = 1,
                       fold_digits: bool = False) -> np.ndarray:
    """``(len(texts), num_perm)`` uint32 MinHash signatures of word ``ngram`` shingles."""
    spec = SketchSpec(ngram=ngram, num_perm=num_perm, seed=seed, fold_digits=fold_digits)
    return sketch(texts, spec).signatures


# --- documents of one or more segments (preference pairs compare three) -------------------

_RAW_TAG = b"\x00prefkit-raw\x00"
_SEGMENT_TAGS = (np.uint64(0), np.uint64(0x51ED270B), np.uint64(0xA24BAED4963EE407))


@dataclass
class DocShingles:
    """The shingles of a batch of documents: flat uint64 hashes, document by document."""

    flat: np.ndarray
    counts: np.ndarray  # shingles per document
    words: np.ndarray  # normalised words per document (0: a text with no words)
    keys: np.ndarray  # (n, 2) uint64 exact keys


def doc_shingles(texts: list[str], spec: SketchSpec) -> DocShingles:
    """Shingles of each text. A text with no words (emoji only, ASCII art, a formula) is
    valid data: its exact key and its one shingle are hashes of the raw text, so it matches
    exactly its own copies and nothing else."""
    words, unspaced = units_and_scripts(texts, fold_digits=spec.fold_digits,
                                        shingle=spec.shingle, fold_case=spec.fold_case)
    hashes, counts = word_hashes(words)
    lengths = shingle_lengths(counts, unspaced, shingle=spec.shingle, ngram=spec.ngram,
                              char_ngram=spec.char_ngram)
    flat, per_doc = shingle_hashes(hashes, counts, lengths)
    keys = text_keys(words).copy()
    wordless = np.flatnonzero(counts == 0)
    if len(wordless):
        raw = [_RAW_TAG + texts[i].encode("utf-8", "surrogatepass") for i in wordless.tolist()]
        keys[wordless] = np.frombuffer(b"".join(xxhash.xxh3_128_digest(r) for r in raw),
                                       np.uint64).reshape(-1, 2)
        pseudo = np.array([xxhash.xxh3_64_intdigest(r) for r in raw], np.uint64)
        flat, per_doc = _insert_single(flat, per_doc, wordless, pseudo)
    return DocShingles(flat, per_doc, counts, keys)


def _insert_single(flat: np.ndarray, per_doc: np.ndarray, docs: np.ndarray,
                   values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Give each of `docs` (which have no shingles) the one shingle in `values`."""
    counts = per_doc.copy()
    counts[docs] = 1
    starts = np.cumsum(counts) - counts
    out = np.empty(int(counts.sum()), np.uint64)
    inserted = np.zeros(len(out), bool)
    inserted[starts[docs]] = True
    out[inserted] = values
    out[~inserted] = flat
    return out, counts


def segment_shingles(segments: list[list[str]], spec: SketchSpec) -> DocShingles:
    """Documents made of several texts (a pair's prompt, chosen and rejected): each segment's
    shingles are tagged with the segment, so the union's MinHash finds candidates that match
    on every segment, and the exact key covers all segments."""
    if len(segments) == 1:
        return doc_shingles(segments[0], spec)
    parts = [doc_shingles(texts, spec) for texts in segments]
    n = len(segments[0])
    flats, owners = [], []
    for tag, part in zip(_SEGMENT_TAGS, parts):
        flats.append(mix64(part.flat ^ tag))
        owners.append(np.repeat(np.arange(n), part.counts))
    owner = np.concatenate(owners)
    order = np.argsort(owner, kind="stable")
    flat = np.concatenate(flats)[order]
    counts = sum(part.counts for part in parts)
    stacked = np.ascontiguousarray(np.concatenate([part.keys for part in parts], axis=1))
    keys = np.frombuffer(b"".join(xxhash.xxh3_128_digest(row.tobytes()) for row in stacked),
                         np.uint64).reshape(-1, 2)
    words = sum(part.words for part in parts)
    return DocShingles(flat, counts, words, keys)


def signatures_of(shingles: DocShingles, spec: SketchSpec) -> np.ndarray:
    if not spec.num_perm:
        return np.zeros((len(shingles.counts), 0), np.uint32)
    return signatures(shingles.flat, shingles.counts, spec.num_perm, spec.seed)
