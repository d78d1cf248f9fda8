"""The keep policy: which member of a duplicate cluster survives.

``first`` keeps the earliest record, ``longest``/``shortest`` the one with the most/fewest
characters in the compared text, and a column name the one with the highest value there.
Ties always go to the earliest record, so the choice is deterministic.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from curate.dedup.arrays import group_heads

KEEP_POLICIES = ("first", "longest", "shortest")


class BadKeepValue(ValueError):
    """The keep column of a record is missing or not a number."""


def keep_value(record: dict[str, Any], column: str) -> float:
    """The numeric value of `column` (a dotted path reaches inside) used by ``--keep COLUMN``."""
    value: Any = record
    for key in column.split("."):
        if not isinstance(value, dict) or key not in value:
            raise BadKeepValue(f"missing (needed by --keep {column})")
        value = value[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
        raise BadKeepValue(f"expected a number for --keep {column}, got {value!r}")
    return float(value)


def priority(keep: str, lengths: np.ndarray, values: np.ndarray | None) -> np.ndarray:
    """Lower is better: the sort key of the keep policy (ties are broken by position)."""
    if keep == "first":
        return np.zeros(len(lengths))
    if keep == "longest":
        return -lengths.astype(np.float64)
    if keep == "shortest":
        return lengths.astype(np.float64)
    return -values


def survivors(labels: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """For each item, the index of its cluster's survivor (items share a cluster by label)."""
    order = np.lexsort((np.arange(len(labels)), rank, labels))
    return group_heads(order, labels[order])
