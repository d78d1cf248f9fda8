"""Exact duplicates: a 128-bit hash of the normalised text, grouped by sorting."""

from __future__ import annotations

import numpy as np
import polars as pl
import xxhash

from curate.dedup.arrays import group_heads


def text_keys(words: pl.Series) -> np.ndarray:
    """``(documents, 2)`` uint64: xxh3-128 of each normalised text (words joined by a space)."""
    digests = b"".join(xxhash.xxh3_128_digest(text.encode("utf-8"))
                       for text in words.list.join(" ").to_list())
    return np.frombuffer(digests, dtype=np.uint64).reshape(-1, 2)


def first_of_group(keys: np.ndarray) -> np.ndarray:
    """For each row, the index of the first row with the same key (itself if unique)."""
    order = np.lexsort((keys[:, 1], keys[:, 0]))  # stable: ties keep input order
    return group_heads(order, keys[order])
