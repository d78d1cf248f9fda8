"""The selection report's numbers: the selection against a seeded random sample of the same k.

The random sample is drawn from the same pool (the records that passed the quality stage),
like s1's "1K random" ablation. Both sets are described by their domain histogram, domain
entropy as a share of its maximum, difficulty distribution, mean solution length and the
near-duplicate questions left in them (found by `curate.dedup`, the code of `curate dedup`).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

import numpy as np

from curate.select.signals import count_tokens

_DIFFICULTY_BINS = 10
_MAX_DISCRETE_VALUES = 12


@dataclass
class Pool:
    """What the report needs to know about the pool the sets are drawn from."""

    records: list[dict[str, Any]]
    domains: list[str]
    score: np.ndarray
    values: dict[str, np.ndarray]
    solved: np.ndarray | None
    answers: list[str]
    question_field: str  # the view or column near-duplicates are looked for in
    lengths: np.ndarray | None = None  # solution lengths, when already counted
    domain_count: int | None = None  # domains in the whole pool (default: in `domains`)


def describe(pool: Pool, positions: list[int]) -> dict[str, Any]:
    """The report's numbers for one set of pool positions."""
    index = np.asarray(positions, dtype=int)
    counts = Counter(pool.domains[i] for i in positions)
    lengths = pool.lengths[index] if pool.lengths is not None else \
        count_tokens([pool.answers[i] for i in positions])
    domains = pool.domain_count or len(set(pool.domains))
    return {
        "size": len(positions),
        "domain_counts": dict(sorted(counts.items(), key=lambda item: (-item[1], item[0]))),
        "domain_entropy_share": entropy_share(counts, domains),
        "difficulty_mean": _mean(pool.score[index]),
        "difficulty_histogram": np.histogram(pool.score[index], bins=_DIFFICULTY_BINS,
                                             range=(0.0, 1.0))[0].tolist(),
        "signals": {spec: _distribution(values, index) for spec, values in pool.values.items()},
        "mean_length": _mean(lengths),
        "near_duplicates": near_duplicates([pool.records[i] for i in positions],
                                           pool.question_field),
        "solved_share": None if pool.solved is None else _mean(pool.solved[index]),
    }


def entropy_share(counts: Counter[str], domains: int) -> float:
    """Shannon entropy of the domain counts over its maximum, log(min(domains, size))."""
    size = sum(counts.values())
    most = math.log(min(domains, size)) if size else 0.0
    if most == 0.0:
        return 1.0
    entropy = -sum(c / size * math.log(c / size) for c in counts.values() if c)
    return round(entropy / most, 6)


def near_duplicates(records: list[dict[str, Any]], question_field: str) -> int:
    """How many records `curate dedup --field QUESTION` (MinHash, Jaccard 0.8) would remove."""
    from curate.dedup import DedupOptions, dedup_records

    if len(records) < 2:
        return 0
    return len(dedup_records(records, DedupOptions(field=question_field)).removed)


def _distribution(values: np.ndarray, index: np.ndarray) -> dict[str, Any]:
    chosen = values[index]
    summary: dict[str, Any] = {"mean": _mean(chosen)}
    if len(chosen):
        p10, p50, p90 = np.percentile(chosen, [10, 50, 90])
        summary.update(p10=round(float(p10), 4), p50=round(float(p50), 4), p90=round(float(p90), 4))
    if len(np.unique(values)) <= _MAX_DISCRETE_VALUES:
        counts = Counter(_plain(v) for v in chosen)
        summary["counts"] = {str(value): counts.get(value, 0)
                             for value in sorted({_plain(v) for v in values})}
    return summary


def _plain(value: float) -> float | int:
    return int(value) if float(value).is_integer() else round(float(value), 4)


def _mean(values: np.ndarray) -> float | None:
    return round(float(np.mean(values)), 4) if len(values) else None
