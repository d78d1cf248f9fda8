"""Unit n-gram shingles as 64-bit hashes, computed for a whole batch at once.

Units are words, or characters in scripts without spaces (`curate.dedup.normalise`). A
document of ``L >= n`` normalised units has the ``L - n + 1`` shingles ``units[i:i + n]``; a
document shorter than ``n`` units is one shingle (all its units); an empty document has none.
``n`` is one number for the batch, or one per document (`curate.text.units.ngram_sizes`:
longer shingles for texts written without spaces). Shingle ``(w0 .. wk)`` hashes to ``mix64(sum(h(wi) * Mi))`` with
fixed odd multipliers ``Mi``, so word order matters and 64 bits keep collisions negligible.
Everything after the per-word hash is numpy over the flattened batch: there is no Python
loop per document or per shingle.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.dedup.hashing import mix64, splitmix64
from curate.text.units import Mode, ngram_sizes

# Polars' string hash is fast and stable within a polars version (all that matters here:
# hashes never leave the run).
_WORD_SEED = 0x5EED
_POSITION_SEED = 0xD0C5


def word_hashes(words: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 hashes of every word of a ``list[str]`` series, and words per document."""
    counts = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode(empty_as_null=False, keep_nulls=False)
    return flat.hash(seed=_WORD_SEED).to_numpy(), counts


def shingle_hashes(hashes: np.ndarray, counts: np.ndarray,
                   ngram: int | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 shingle hashes (document by document, in order) and shingles per document.
    `ngram` is the shingle length, for the batch or per document."""
    per_document = not np.isscalar(ngram)
    sizes = np.asarray(ngram, np.int64)
    if per_document:
        ngram = int(sizes.max()) if len(sizes) else 1
    per_doc = np.where(counts >= sizes, counts - sizes + 1, np.minimum(counts, 1))
    word_starts = np.cumsum(counts) - counts
    shingle_starts = np.cumsum(per_doc) - per_doc
    total = int(per_doc.sum())
    first_word = np.arange(total, dtype=np.int64) + np.repeat(word_starts - shingle_starts, per_doc)
    padded = np.concatenate([hashes.astype(np.uint64), np.zeros(ngram, np.uint64)])
    multipliers = splitmix64(_POSITION_SEED, ngram) | np.uint64(1)
    short = counts < sizes
    window = np.repeat(np.minimum(counts, sizes), per_doc) \
        if per_document or short.any() else None
    with np.errstate(over="ignore"):
        acc = padded[first_word] * multipliers[0]
        for k in range(1, ngram):
            term = padded[first_word + k] * multipliers[k]
            if window is not None:
                term[window <= k] = 0  # a shingle stops at its length
            acc += term
    return mix64(acc), per_doc



def shingle_lengths(counts: np.ndarray, unspaced: np.ndarray, *, shingle: Mode, ngram: int,
                    char_ngram: int) -> int | np.ndarray:
    """Shingle length in units: `ngram` words, or `char_ngram` characters for a text written
    without spaces (every text in `char` mode). One number when the whole batch takes it."""
    if shingle == "word" or ngram == char_ngram or not unspaced.any():
        return ngram
    if shingle == "char":
        return char_ngram
    return ngram_sizes(counts, unspaced, ngram, char_ngram)
