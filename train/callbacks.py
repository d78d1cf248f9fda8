"""Trainer callbacks: a rich progress bar on stderr, and every log line to metrics.jsonl."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from transformers import TrainerCallback

from train.rundir import RunDir


def progress_bar(console: Console | None = None) -> Progress:
    """The progress bar every `train` command shows (on stderr)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(),
                    TextColumn("{task.fields[status]}"),
                    console=console or Console(stderr=True),
                    refresh_per_second=2)  # redraws run in a thread: keep them off the CPU


class RichProgress(TrainerCallback):
    """Replaces transformers' tqdm bar: steps done, time left, and the latest loss."""

    def __init__(self, description: str) -> None:
        self.description = description
        self.bar: Progress | None = None
        self.task = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.bar = progress_bar()
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=state.max_steps,
                                          completed=state.global_step, status="")

    def on_step_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.update(self.task, completed=state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.bar is not None and logs:
            shown = {k: v for k, v in logs.items() if k in ("loss", "eval_loss")}
            self.bar.update(self.task, status=" ".join(f"{k}={v:.4g}" for k, v in shown.items()))

    def on_train_end(self, args, state, control, **kwargs):
        if self.bar is not None:
            self.bar.stop()
            self.bar = None


class MetricsLog(TrainerCallback):
    """Appends each log (train and eval) to RUN_DIR/metrics.jsonl with its step."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, **kwargs):
        if state.is_world_process_zero and logs:
            self.run_dir.log_metrics({"step": state.global_step,
                                      "epoch": round(state.epoch or 0.0, 4), **logs})
