"""Curves from metrics.jsonl: `loss.png` for every run, `rewards.png` for preference and RL
methods.

Drawn with matplotlib's object API (no pyplot global state), so they can be drawn in a
thread while the model is saved; `warm_up` imports matplotlib in a thread while training
runs (the import costs about a second, most of what plotting costs).
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from curate.io import atomic_path

# Panels of rewards.png per method: (title, metric keys). Eval metrics are drawn as dots.
REWARD_PANELS: dict[str, list[tuple[str, list[str]]]] = {
    "dpo": [("rewards", ["rewards/chosen", "rewards/rejected"]), ("margin", ["rewards/margins"]),
            ("reward accuracy", ["rewards/accuracies"]),
            ("log-probs", ["logps/chosen", "logps/rejected"]),
            ("completion length (tokens)", ["lengths/chosen", "lengths/rejected"])],
    "rm": [("pairwise accuracy", ["accuracy"]), ("margin", ["margin"]),
           ("reward", ["min_reward", "mean_reward", "max_reward"])],
    "grpo": [("mean reward", ["reward"]),
             ("rewards", ["rewards/accuracy/mean", "rewards/format/mean", "rewards/length/mean",
                          "rewards/reward_model/mean", "rewards/reward_fn/mean"]),
             ("completion length (tokens)", ["completions/mean_length"]),
             ("KL to reference", ["kl"]), ("entropy", ["entropy"]),
             ("clipped ratio", ["clip_ratio/region_mean"])],
    "ppo": [("mean reward", ["mean_reward", "mean_score"]), ("KL to reference", ["kl"]),
            ("entropy", ["entropy"]), ("clip fraction", ["clip_fraction"]),
            ("value loss", ["value_loss"]), ("approx. KL (old -> new)", ["approx_kl"])],
}


def warm_up() -> None:
    """Import what plotting needs (run in a background thread during training)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401


def plot_loss(rows: Sequence[dict[str, Any]], path: Path, title: str) -> None:
    _plot(rows, [("loss", ["loss"])], path, title)


def plot_rewards(rows: Sequence[dict[str, Any]], path: Path, method: str, title: str) -> None:
    _plot(rows, REWARD_PANELS[method], path, title)


def _plot(rows: Sequence[dict[str, Any]], panels: list[tuple[str, list[str]]], path: Path,
          title: str) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    panels = [(name, keys) for name, keys in panels
              if any(key in row or f"eval_{key}" in row for row in rows for key in keys)]
    if not panels:
        panels = [("no data logged", [])]
    columns = min(3, len(panels))
    lines = -(-len(panels) // columns)
    figure = Figure(figsize=(4.2 * columns, 3.2 * lines))
    FigureCanvasAgg(figure)
    axes = figure.subplots(lines, columns, squeeze=False)
    for axis, (name, keys) in zip(axes.flat, panels, strict=False):
        for key in keys:
            color = _series(axis, rows, key, "-", key)
            _series(axis, rows, f"eval_{key}", "o", f"eval {key}", color)
        axis.set_title(name)
        axis.set_xlabel("step")
        if keys:
            axis.legend(fontsize="small")
        axis.grid(alpha=0.3)
    for axis in list(axes.flat)[len(panels):]:
        axis.set_visible(False)
    figure.suptitle(title)
    figure.tight_layout()
    with atomic_path(path) as temp:
        figure.savefig(temp, format="png", dpi=100)


def _series(axis, rows: Sequence[dict[str, Any]], key: str, style: str, label: str,
            color: str | None = None) -> str | None:
    """Draw a curve (a noisy one, 20+ points, faintly under its moving average); its color."""
    points = [(row["step"], row[key]) for row in rows if isinstance(row.get(key), (int, float))]
    if not points:
        return None
    steps, values = zip(*points, strict=True)
    if style != "-" or len(points) < 20:
        (line,) = axis.plot(steps, values, style, label=label, markersize=5, color=color)
        return line.get_color()
    window = len(points) // 10
    (line,) = axis.plot(steps, values, style, alpha=0.3, linewidth=1, color=color)
    averaged = [statistics.fmean(values[max(0, i - window + 1):i + 1]) for i in range(len(values))]
    axis.plot(steps, averaged, style, color=line.get_color(), label=f"{label} (mean of {window})")
    return line.get_color()
