"""Word n-gram shingles as 64-bit hashes, computed for a whole batch at once.

A document of ``L >= n`` normalised words has the ``L - n + 1`` shingles
``words[i:i + n]``; a document shorter than ``n`` words is one shingle (all its words); an
empty document has none. Shingle ``(w0 .. wk)`` hashes to ``mix64(sum(h(wi) * Mi))`` with
fixed odd multipliers ``Mi``, so word order matters and 64 bits keep collisions negligible.
Everything after the per-word hash is numpy over the flattened batch: there is no Python
loop per document or per shingle.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from curate.dedup.hashing import mix64, splitmix64

# Polars' string hash is fast and stable within a polars version (all that matters here:
# hashes never leave the run).
_WORD_SEED = 0x5EED
_POSITION_SEED = 0xD0C5


def word_hashes(words: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 hashes of every word of a ``list[str]`` series, and words per document."""
    counts = words.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = words.explode(empty_as_null=False, keep_nulls=False)
    return flat.hash(seed=_WORD_SEED).to_numpy(), counts


def shingle_hashes(hashes: np.ndarray, counts: np.ndarray, ngram: int) -> tuple[np.ndarray, np.ndarray]:
    """Flat uint64 shingle hashes (document by document, in order) and shingles per document."""
    per_doc = np.where(counts >= ngram, counts - ngram + 1, np.minimum(counts, 1))
    word_starts = np.cumsum(counts) - counts
    shingle_starts = np.cumsum(per_doc) - per_doc
    total = int(per_doc.sum())
    first_word = np.arange(total, dtype=np.int64) + np.repeat(word_starts - shingle_starts, per_doc)
    padded = np.concatenate([hashes.astype(np.uint64), np.zeros(ngram, np.uint64)])
    multipliers = splitmix64(_POSITION_SEED, ngram) | np.uint64(1)
    short = counts < ngram
    window = np.repeat(np.minimum(counts, ngram), per_doc) if short.any() else None
    with np.errstate(over="ignore"):
        acc = padded[first_word] * multipliers[0]
        for k in range(1, ngram):
            term = padded[first_word + k] * multipliers[k]
            if window is not None:
                term[window <= k] = 0  # a short document's single shingle stops at its end
            acc += term
    return mix64(acc), per_doc

