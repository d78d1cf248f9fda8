"""Training progress on stderr (a rich bar on a terminal, a plain line every ~10 s in a log),
and every log line to metrics.jsonl."""

from __future__ import annotations

import time
from typing import Any

from transformers import TrainerCallback

from curate.progress import PlainProgress, duration, is_terminal
from train.rundir import RunDir


class StepProgress:
    """Steps done out of `total`, the time left and a status (the latest loss or reward).

    On a terminal: a rich bar. Elsewhere (nohup, Slurm, `2> log`): through
    `curate.progress`, one plain line every `PREFKIT_PROGRESS_INTERVAL` seconds (10 s)::

        [train sft] step 120/1,000  0.52 steps/s  elapsed 3m50s  ETA 28m12s  loss=1.234
    """

    def __init__(self, description: str, total: int, completed: int = 0) -> None:
        self.description, self.total, self.completed = description, total, completed
        self.bar: Any = None
        self.plain: _PlainSteps | None = None

    def start(self) -> StepProgress:
        if is_terminal():
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.bar = Progress(TextColumn("{task.description}"), BarColumn(),
                                MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                                TextColumn("{task.fields[status]}"), console=Console(stderr=True),
                                refresh_per_second=2)  # redraws run in a thread: keep them cheap
            self.bar.start()
            self.task = self.bar.add_task(self.description, total=self.total,
                                          completed=self.completed, status="")
        else:
            self.plain = _PlainSteps(self.description, self.total, self.completed)
        return self

    def update(self, completed: int, status: str | None = None) -> None:
        if self.bar is not None:
            self.bar.update(self.task, completed=completed,
                            **({"status": status} if status is not None else {}))
        elif self.plain is not None:
            if status is not None:
                self.plain.status = status
            self.plain.advance(completed - self.plain.done)

    def stop(self) -> None:
        if self.bar is not None:
            self.bar.stop()
        elif self.plain is not None:
            self.plain.finish()
        self.bar = self.plain = None


class _PlainSteps(PlainProgress):
    """`curate.progress`'s plain line, in steps: rate and ETA over the steps of this process
    (a resumed run starts counting at its checkpoint), and the latest status."""

    def __init__(self, prefix: str, total: int, completed: int) -> None:
        super().__init__(prefix, "step", total, "steps")
        self.done = self.first = completed
        self.status = ""

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        rate = (self.done - self.first) / elapsed if elapsed > 0 else 0.0
        parts = [f"[{self.prefix}] step {self.done:,}/{self.total:,}",
                 f"{rate:.3g} steps/s" if rate >= 0.1 or not rate else f"{1 / rate:.3g} s/step",
                 f"elapsed {duration(elapsed)}"]
        if rate > 0 and self.done < self.total:
            parts.append(f"ETA {duration((self.total - self.done) / rate)}")
        if self.status:
            parts.append(self.status)
        return "  ".join(parts)


class TrainProgress(TrainerCallback):
    """transformers' tqdm bar replaced by `StepProgress`, showing the latest loss."""

    SHOWN = ("loss", "eval_loss", "reward")

    def __init__(self, description: str) -> None:
        self.description = description
        self.progress: StepProgress | None = None

    def on_train_begin(self, args, state, control, **kwargs):
        if state.is_world_process_zero:
            self.progress = StepProgress(self.description, state.max_steps,
                                         state.global_step).start()

    def on_step_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.update(state.global_step)

    def on_log(self, args, state, control, logs=None, **kwargs):
        if self.progress is not None and logs:
            shown = {k: v for k, v in logs.items() if k in self.SHOWN}
            if shown:
                self.progress.update(state.global_step,
                                     " ".join(f"{k}={v:.4g}" for k, v in shown.items()))

    def on_train_end(self, args, state, control, **kwargs):
        if self.progress is not None:
            self.progress.stop()
            self.progress = None


class MetricsLog(TrainerCallback):
    """Appends each log (train and eval) to RUN_DIR/metrics.jsonl with its step."""

    def __init__(self, run_dir: RunDir) -> None:
        self.run_dir = run_dir

    def on_log(self, args, state, control, logs: dict[str, Any] | None = None, **kwargs):
        if state.is_world_process_zero and logs:
            self.run_dir.log_metrics({"step": state.global_step,
                                      "epoch": round(state.epoch or 0.0, 4), **logs})
