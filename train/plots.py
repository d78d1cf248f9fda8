"""Curves from metrics.jsonl: `loss.png` for every run, `rewards.png` for preference and RL
methods.

Drawn by a child process (`Plotter`, running this module) started before training: it
imports matplotlib (about a second, most of what plotting costs) on another core while the
model trains, and draws when it gets the logged rows, while the model is saved. A thread
would share the trainer's GIL: the import slowed a short training loop by about 5%.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
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


class Plotter:
    """The curves of a run, drawn by a child process that warms up while training runs.
    `enabled=False` (processes other than the main one) draws nothing. The curves are a
    side output: when drawing fails (the child crashed or was killed), `on_failure` gets one
    line and the run goes on to its summary."""

    COMMAND = (sys.executable, "-m", "train.plots")

    def __init__(self, enabled: bool, on_failure: Callable[[str], None]) -> None:
        self.on_failure = on_failure
        self.process: subprocess.Popen | None = None
        if enabled:
            root = str(Path(__file__).resolve().parent.parent)
            path = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
            self.process = subprocess.Popen(
                list(self.COMMAND), stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": path, "MPLBACKEND": "Agg"})

    @contextmanager
    def drawing(self, rows: Sequence[dict[str, Any]], folder: Path, method: str,
                title: str) -> Iterator[None]:
        """Draw `rows` into `folder` during the block; a failure is reported after it."""
        if self.process is None:
            yield
            return
        job = json.dumps({"rows": list(rows), "folder": str(folder), "method": method,
                          "title": title}).encode()
        errors: list[bytes] = []
        thread = threading.Thread(  # the pipe holds 64 kB: write while the block runs
            target=lambda: errors.append(self.process.communicate(job)[1]), name="plots")
        thread.start()
        try:
            yield
        finally:
            thread.join()
        code = self.process.returncode
        if code:
            lines = b"".join(errors).decode(errors="replace").strip().splitlines()
            why = lines[-1] if lines else (f"the drawing process was killed (signal {-code})"
                                           if code < 0 else f"the drawing process exited {code}")
            self.on_failure(f"the curves (loss.png) were not drawn: {why}")

    def close(self) -> None:
        """Stop the child if it is still waiting (training failed)."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def draw(job: dict[str, Any]) -> None:
    folder = Path(job["folder"])
    plot_loss(job["rows"], folder / "loss.png", job["title"])
    if job["method"] in REWARD_PANELS:
        plot_rewards(job["rows"], folder / "rewards.png", job["method"], job["title"])


def _child() -> None:
    """`python -m train.plots`: warm up, then draw the job read from stdin (none: exit)."""
    from matplotlib import font_manager
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # noqa: F401
    from matplotlib.figure import Figure  # noqa: F401

    font_manager.findfont("DejaVu Sans")  # the font cache, loaded at the first text
    text = sys.stdin.read()
    if text.strip():
        draw(json.loads(text))


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


if __name__ == "__main__":
    _child()
