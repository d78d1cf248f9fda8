"""Exact and MinHash-LSH deduplication (`curate dedup`).

Public API: ``dedup_records(records, DedupOptions(...)) -> StepResult`` (and `run_dedup`,
which also returns the cluster lines); `minhash_signatures` and `band_keys` are the pure
per-batch functions a distributed engine maps over batches.
"""

from curate.dedup.banding import band_keys, derive_bands
from curate.dedup.normalise import normalise
from curate.dedup.options import DedupOptions
from curate.dedup.pipeline import DedupRun, dedup_records, run_dedup
from curate.dedup.sketch import minhash_signatures

__all__ = [
    "DedupOptions",
    "DedupRun",
    "band_keys",
    "dedup_records",
    "derive_bands",
    "minhash_signatures",
    "normalise",
    "run_dedup",
]
