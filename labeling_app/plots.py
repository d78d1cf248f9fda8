"""The length-bias curve as a matplotlib figure (no pyplot: safe in server threads)."""

from __future__ import annotations

import io
from typing import Any

from matplotlib.figure import Figure

from labeling_app.metrics import SMALL_CURVE


def length_curve_figure(curve: list[dict[str, Any]], *, title: str = "",
                        small: int = SMALL_CURVE) -> Figure:
    """A's win rate (ties count half) by len(A) - len(B), with 95% bootstrap intervals."""
    figure = Figure(figsize=(6.4, 3.6), dpi=100, layout="constrained")
    axes = figure.add_subplot()
    if curve:
        x = [b["center"] for b in curve]
        y = [b["a_win_rate"] for b in curve]
        errors = [[b["a_win_rate"] - b["ci"][0] for b in curve],
                  [b["ci"][1] - b["a_win_rate"] for b in curve]]
        # Points with intervals, not a line: a line through a few noisy bins reads as a trend.
        axes.errorbar(x, y, yerr=errors, marker="o", linestyle="none", capsize=3)
        n = sum(b["n"] for b in curve)
        if n < small:
            axes.text(0.02, 0.04, f"only {n} votes: too few to read a trend", color="#b45309",
                      transform=axes.transAxes)
    else:
        axes.text(0.5, 0.5, "no judgments yet", ha="center", va="center",
                  transform=axes.transAxes)
    axes.axhline(0.5, color="grey", linewidth=0.8, linestyle="--")
    axes.axvline(0, color="grey", linewidth=0.8, linestyle=":")
    axes.set_ylim(0, 1)
    axes.set_xlabel("len(A) - len(B), characters (bin median)")
    axes.set_ylabel("A win rate")
    axes.set_title(title or "Win rate by length difference (flat at 0.5 = no length bias)")
    return figure


def png_bytes(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
