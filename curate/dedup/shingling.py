"""From text to what dedup compares: normalisation (what "the same text" means), script-aware
units and their n-gram shingles as 64-bit hashes, and exact keys."""

from __future__ import annotations

import numpy as np
import polars as pl
import xxhash

from curate.dedup.arrays import group_heads, mix64, splitmix64
from curate.text.units import Mode, ngram_sizes, unit_lists


# --- from normalise.py ---------------------------------------------------------
def word_lists(texts: list[str], *, fold_digits: bool = False, shingle: Mode = "auto",
               fold_case: bool = True) -> pl.Series:
    """The normalised units of each text, as a polars ``list[str]`` series."""
    return unit_lists(texts, shingle, fold_digits=fold_digits, fold_case=fold_case)[0]


def units_and_scripts(texts: list[str], *, fold_digits: bool = False, shingle: Mode = "auto",
                      fold_case: bool = True) -> tuple[pl.Series, np.ndarray]:
    """`word_lists`, and per text how many units are characters of a script without spaces."""
    return unit_lists(texts, shingle, fold_digits=fold_digits, fold_case=fold_case)


def normalise(text: str, *, fold_digits: bool = False, shingle: Mode = "auto",
              fold_case: bool = True) -> str:
    """One text normalised by the rule above."""
    return " ".join(word_lists([text], fold_digits=fold_digits, shingle=shingle,
                               fold_case=fold_case)[0])


# --- from shingles.py ----------------------------------------------------------
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


# --- from exact.py -------------------------------------------------------------
def text_keys(words: pl.Series) -> np.ndarray:
    """``(documents, 2)`` uint64: xxh3-128 of each normalised text (words joined by a space)."""
    digests = b"".join(xxhash.xxh3_128_digest(text.encode("utf-8"))
                       for text in words.list.join(" ").to_list())
    return np.frombuffer(digests, dtype=np.uint64).reshape(-1, 2)


def first_of_group(keys: np.ndarray) -> np.ndarray:
    """For each row, the index of the first row with the same key (itself if unique)."""
    order = np.lexsort((keys[:, 1], keys[:, 0]))  # stable: ties keep input order
    return group_heads(order, keys[order])
