"""Matplotlib charts as PNG bytes (Agg backend, no display needed)."""

from __future__ import annotations

import io
from collections.abc import Sequence

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

_SIZE = (6.4, 3.0)
_BEFORE, _AFTER, _LINE = "#9aa5b1", "#2f6fba", "#c0392b"


def _png(figure: plt.Figure) -> bytes:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png", dpi=100)
    plt.close(figure)
    return buffer.getvalue()


def _bins(values: Sequence[float], log: bool) -> np.ndarray:
    low, high = min(values), max(values)
    if log:
        return np.logspace(np.log10(max(low, 1)), np.log10(max(high, 2)), 40)
    if low == high:
        return np.linspace(low - 0.5, high + 0.5, 3)
    return np.linspace(low, high, 40)


def length_histogram(before: Sequence[float], after: Sequence[float], xlabel: str) -> bytes:
    """Overlaid histograms of a length before and after a step (log x for wide ranges)."""
    figure, axes = plt.subplots(figsize=_SIZE)
    values = list(before) or [0]
    log = max(values) > 50 * max(1, min(values)) and min(values) >= 0
    bins = _bins([v + 1 for v in values] if log else values, log)
    shift = 1 if log else 0
    axes.hist([v + shift for v in before], bins=bins, color=_BEFORE, label=f"before ({len(before):,})")
    axes.hist([v + shift for v in after], bins=bins, color=_AFTER, alpha=0.8,
              label=f"after ({len(after):,})")
    if log:
        axes.set_xscale("log")
        xlabel += " (+1, log scale)"
    axes.set_xlabel(xlabel)
    axes.set_ylabel("records")
    axes.legend(frameon=False)
    return _png(figure)


def score_histogram(kept: Sequence[float], removed: Sequence[float], name: str,
                    low: float | None, high: float | None) -> bytes:
    """Distribution of one score, kept and removed stacked, thresholds as red lines."""
    figure, axes = plt.subplots(figsize=_SIZE)
    values = list(kept) + list(removed) or [0.0]
    bins = _bins(values + [v for v in (low, high) if v is not None], log=False)
    axes.hist([list(kept), list(removed)], bins=bins, stacked=True, color=[_AFTER, _BEFORE],
              label=[f"kept ({len(kept):,})", f"removed ({len(removed):,})"])
    for bound, label in ((low, "min"), (high, "max")):
        if bound is not None:
            axes.axvline(bound, color=_LINE, linestyle="--", linewidth=1.5)
            axes.annotate(f"{label} {bound:g}", (bound, 1), xycoords=("data", "axes fraction"),
                          xytext=(3, -12), textcoords="offset points", color=_LINE, fontsize=8)
    axes.set_xlabel(name)
    axes.set_ylabel("records")
    axes.legend(frameon=False, fontsize=8)
    return _png(figure)


def reason_bars(counts: dict[str, int]) -> bytes:
    """Horizontal bars: records removed per reason."""
    items = sorted(counts.items(), key=lambda item: item[1])
    figure, axes = plt.subplots(figsize=(_SIZE[0], max(1.6, 0.3 * len(items) + 0.8)))
    axes.barh([name for name, _ in items], [count for _, count in items], color=_AFTER)
    axes.set_xlabel("records removed")
    for position, (_, count) in enumerate(items):
        axes.annotate(f"{count:,}", (count, position), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    return _png(figure)


def funnel(steps: Sequence[str], records_in: Sequence[int], records_out: Sequence[int]) -> bytes:
    """Records into (light) and out of (dark) each step, first step on top."""
    figure, axes = plt.subplots(figsize=(_SIZE[0], max(1.6, 0.35 * len(steps) + 0.8)))
    rows = np.arange(len(steps))[::-1]
    axes.barh(rows, records_in, color=_BEFORE, label="in")
    axes.barh(rows, records_out, color=_AFTER, height=0.5, label="out")
    axes.set_yticks(rows, steps)
    axes.set_xlabel("records")
    for row, count in zip(rows, records_out, strict=True):
        axes.annotate(f"{count:,}", (count, row), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    axes.legend(frameon=False, loc="lower right")
    return _png(figure)
