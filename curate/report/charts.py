"""Matplotlib charts (figures; `png` renders one), drawn fast and readable.

Speed: figures are made with `matplotlib.figure.Figure` and the Agg canvas (no pyplot state,
no GUI backend), histograms are counted once with numpy and drawn as two step outlines
(`stairs`) instead of hundreds of bar patches, log axes get a handful of plain-number ticks
and no minor ticks (tick objects and mathtext labels were most of the drawing time), and the
layout is fixed instead of `tight_layout` (which draws every figure twice).

Readability: legends sit above the axes, never on the bars; counts go on a log scale when
the removed records would otherwise be too small to see next to the kept ones; values that
span orders of magnitude (lengths) get a log x axis that still shows zero.
"""

from __future__ import annotations

import io
from collections.abc import Sequence

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import (
    FuncFormatter,
    LogLocator,
    MaxNLocator,
    NullLocator,
    SymmetricalLogLocator,
)

KEPT, REMOVED, REJECTED, LINE = "#2f6fba", "#d9730d", "#9aa5b1", "#c0392b"
_WIDTH = 7.2  # inches at 100 dpi: 720 px, inside the page's 60rem column
_BINS = 40
_LOG_SPAN = 50  # a log x axis when the largest value is this many times the smallest
_SMALL_TAIL = 0.1  # log counts when removed records peak below this share of the kept peak


def _figure(height: float) -> tuple[Figure, object]:
    figure = Figure(figsize=(_WIDTH, height), dpi=100)
    axes = figure.add_subplot()
    axes.spines[["top", "right"]].set_visible(False)
    return figure, axes


def _left(labels: Sequence[str], size: float, pad: float) -> float:
    """The left margin (a share of the width) that fits the widest tick label and `pad`
    pixels (tick marks, an axis label): measured with the font, not guessed from lengths."""
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.font_manager import FontProperties

    font, renderer = FontProperties(size=size), RendererAgg(1, 1, 100)
    widest = max((renderer.get_text_width_height_descent(label, font, ismath=False)[0]
                  for label in labels), default=0.0)
    return min(0.6, (widest + pad) / (_WIDTH * 100))


def png(figure: Figure) -> bytes:
    """The figure as PNG bytes."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def _margins(figure: Figure, *, left: float = 0.1, bottom: float = 0.18,
             top: float = 0.84) -> Figure:
    figure.subplots_adjust(left=left, right=0.97, bottom=bottom, top=top)
    return figure


def _plain(value: float, _position: object = None) -> str:
    if value == 0:
        return "0"
    if abs(value) >= 1:
        return f"{value:,.0f}"
    return f"{value:g}"


def _log_axis(axis: object, span: float, *, zero: bool = False) -> None:
    """Log ticks as plain numbers (1, 2, 5, 10... over up to three decades, else 1, 10,
    100...), no minor ticks; `zero` keeps 0 on the axis (a symmetric log scale, linear below
    1). `span` is the largest value over the smallest."""
    subs = (1.0, 2.0, 5.0) if span <= 1000 else (1.0,)
    locator = SymmetricalLogLocator(base=10, linthresh=1, subs=subs) if zero else \
        LogLocator(subs=subs, numticks=12)
    axis.set_major_locator(locator)
    axis.set_major_formatter(FuncFormatter(_plain))
    axis.set_minor_locator(NullLocator())


def _legend_above(axes: object, ncol: int = 3) -> None:
    axes.legend(loc="lower left", bbox_to_anchor=(0, 1.02), ncol=ncol, frameon=False,
                borderaxespad=0, fontsize=9, handlelength=1.4)


def _edges(values: np.ndarray, bounds: Sequence[float]) -> tuple[np.ndarray, str]:
    """Bin edges and the x scale: 'linear', 'log', or 'symlog' (log that keeps zero)."""
    everything = np.concatenate([values, np.asarray(bounds, float)]) if len(bounds) else values
    low, high = float(everything.min()), float(everything.max())
    integer = bool(np.all(values == np.round(values)))
    positive = everything[everything > 0]
    smallest = float(positive.min()) if len(positive) else 1.0
    if low >= 0 and high > _LOG_SPAN * max(1.0, smallest):
        start = max(smallest, 1.0) if integer else smallest
        edges = np.logspace(np.log10(start), np.log10(high * 1.02), _BINS + 1)
        if integer:  # whole-number edges: no empty bins between consecutive integers
            edges = np.unique(np.round(edges))
            edges = np.append(edges, edges[-1] + 1) if edges[-1] <= high else edges
        if low < start:
            edges = np.concatenate([[0.0], edges])
            return edges, "symlog"
        return edges, "log"
    if low == high:
        return np.array([low - 0.5, high + 0.5]), "linear"
    if integer and high - low < _BINS:
        return np.arange(low - 0.5, high + 1.5), "linear"
    return np.linspace(low, high, _BINS + 1), "linear"


def distribution(kept: Sequence[float], removed: Sequence[float], xlabel: str, *,
                 low: float | None = None, high: float | None = None) -> Figure:
    """How a value is distributed over the kept records (filled) and the removed ones
    (outline), with the thresholds that removed them as dashed lines."""
    kept_values, removed_values = np.asarray(kept, float), np.asarray(removed, float)
    bounds = [bound for bound in (low, high) if bound is not None]
    everything = np.concatenate([kept_values, removed_values])
    if not len(everything):
        everything = np.zeros(1)
    edges, scale = _edges(everything, bounds)
    kept_counts = np.histogram(kept_values, edges)[0]
    removed_counts = np.histogram(removed_values, edges)[0]
    log_counts = 0 < removed_counts.max() < _SMALL_TAIL * kept_counts.max()
    figure, axes = _figure(2.9)
    floor = 0.6 if log_counts else 0.0  # where a bar of a log axis starts
    axes.stairs(np.where(kept_counts > 0, kept_counts, floor), edges, baseline=floor,
                fill=True, color=KEPT, alpha=0.8, label=f"kept ({len(kept_values):,})")
    axes.stairs(np.where(removed_counts > 0, removed_counts, floor), edges, baseline=floor,
                color=REMOVED, linewidth=1.8, label=f"removed ({len(removed_values):,})")
    for bound, name in ((low, "min"), (high, "max")):
        if bound is not None:
            axes.axvline(bound, color=LINE, linestyle="--", linewidth=1.4,
                         label=f"{name} {bound:g}")
    if scale != "linear":
        axes.set_xscale(scale, **({"linthresh": 1, "linscale": 0.3} if scale == "symlog" else {}))
        _log_axis(axes.xaxis, edges[-1] / max(edges[1], 1e-9), zero=scale == "symlog")
        xlabel += " (log scale)"
    if log_counts:
        axes.set_yscale("log")
        axes.set_ylim(bottom=floor)
        _log_axis(axes.yaxis, kept_counts.max() / floor)
    else:
        axes.yaxis.set_major_locator(MaxNLocator(integer=True))  # records are whole
    axes.set_xlim(edges[0], edges[-1])
    axes.set_xlabel(xlabel)
    axes.set_ylabel("records" + (" (log scale)" if log_counts else ""))
    _legend_above(axes, ncol=4)
    tallest = max(int(kept_counts.max()), int(removed_counts.max()), 1)
    return _margins(figure, left=max(0.08, _left([_plain(tallest)], 10, 46)))


def reason_bars(counts: dict[str, int]) -> Figure:
    """Horizontal bars: records removed per reason, largest on top (log scale when the
    counts span more than 20x, so a rare reason is still a visible bar)."""
    items = sorted(counts.items(), key=lambda item: item[1])
    labels = [name for name, _ in items]
    values = np.array([count for _, count in items], float)
    height = max(1.4, 0.28 * len(items) + 0.7)
    figure, axes = _figure(height)
    rows = np.arange(len(items))
    nonzero = values[values > 0]
    log = len(nonzero) > 1 and nonzero.max() > 20 * nonzero.min()
    start = 0.8 if log else 0.0
    axes.barh(rows, np.where(values > 0, values - start, 0), left=start, color=KEPT, height=0.7)
    axes.set_yticks(rows, labels, fontsize=9)
    for row, value in zip(rows, values, strict=True):
        axes.annotate(f"{value:,.0f}", (max(value, start), row), xytext=(3, 0),
                      textcoords="offset points", va="center", fontsize=8)
    if log:
        axes.set_xscale("log")
        _log_axis(axes.xaxis, nonzero.max() / start)
    else:
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlim(left=start, right=max(values.max(), 1) * (3 if log else 1.12))
    axes.set_xlabel("records removed" + (" (log scale)" if log else ""))
    return _margins(figure, left=_left(labels, 9, 20), bottom=0.55 / height + 0.05,
                    top=1 - 0.12 / height)


def funnel(steps: Sequence[str], records_out: Sequence[int], removed: Sequence[int],
           rejected: Sequence[int]) -> Figure:
    """Records out of each step (first step on top), with what the step removed and
    rejected stacked after them, so the bar is the step's input."""
    height = max(1.5, 0.32 * len(steps) + 0.9)
    figure, axes = _figure(height)
    rows = np.arange(len(steps))[::-1]
    out = np.array(records_out, float)
    gone = np.array(removed, float)
    bad = np.array(rejected, float)
    axes.barh(rows, out, color=KEPT, height=0.7, label="out")
    axes.barh(rows, gone, left=out, color=REMOVED, height=0.7, label="removed")
    if bad.any():
        axes.barh(rows, bad, left=out + gone, color=REJECTED, height=0.7, label="rejected")
    axes.set_yticks(rows, list(steps), fontsize=9)
    for row, count, minus in zip(rows, out + gone + bad, gone + bad, strict=True):
        kept = count - minus
        text = f"{kept:,.0f}" + (f"  (-{minus:,.0f})" if minus else "")
        axes.annotate(text, (count, row), xytext=(3, 0), textcoords="offset points",
                      va="center", fontsize=8)
    axes.set_xlim(0, max(1.0, float((out + gone + bad).max())) * 1.18)
    axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_xlabel("records")
    _legend_above(axes)
    return _margins(figure, left=_left(steps, 9, 20), bottom=0.5 / height + 0.05,
                    top=1 - 0.35 / height)
