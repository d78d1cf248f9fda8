"""Exact and MinHash-LSH deduplication (`curate dedup`), out of core.

Public API: ``dedup_inputs(inputs, out, DedupOptions(...))`` (the command),
``dedup_records(records, options) -> StepResult`` (in memory, through the same stages);
`minhash_signatures` and `band_keys` are the pure per-batch functions the stages use.
"""

from curate.dedup.lsh import band_keys, derive_bands
from curate.dedup.options import DedupOptions
from curate.dedup.pipeline import DedupRun, dedup_inputs, dedup_records, run_dedup
from curate.dedup.shingling import normalise
from curate.dedup.sketch import minhash_signatures

__all__ = [
    "DedupOptions",
    "DedupRun",
    "band_keys",
    "dedup_inputs",
    "dedup_records",
    "derive_bands",
    "minhash_signatures",
    "normalise",
    "run_dedup",
]
