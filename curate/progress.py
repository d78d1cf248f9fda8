"""Progress on stderr that works in a terminal and in a log file alike.

On a terminal, a rich bar (or spinner when the total is unknown). Anywhere else (nohup,
Slurm, CI, `2> log`), a plain line every `interval` seconds, which is what a log
reader needs:

    [curate filter] score 120,000/1,000,000 records  11,950/s  ETA 1m14s

`PREFKIT_PROGRESS_INTERVAL` (seconds) overrides the interval; 0 prints on every update,
which tests use. Library calls pass `quiet=True` (or use `silent`) and print nothing.

Used by `curate`, `label` and `train`: it is neutral, command-free code.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TextIO

Advance = Callable[..., None]  # advance(n=1)
DEFAULT_INTERVAL = 10.0


def _interval() -> float:
    try:
        return float(os.environ.get("PREFKIT_PROGRESS_INTERVAL", DEFAULT_INTERVAL))
    except ValueError:
        return DEFAULT_INTERVAL


def duration(seconds: float) -> str:
    """`75.2` -> `1m15s`; `3700` -> `1h01m`."""
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


class PlainProgress:
    """Counts work and prints one plain line per `interval` seconds (and one at the end)."""

    def __init__(self, prefix: str, label: str, total: int | None, unit: str, *,
                 stream: TextIO | None = None, interval: float | None = None) -> None:
        self.prefix, self.label, self.total, self.unit = prefix, label, total, unit
        self.stream = stream or sys.stderr
        self.interval = _interval() if interval is None else interval
        self.done = 0
        self.started = self._last = time.monotonic()
        self._printed = False

    def advance(self, n: int = 1) -> None:
        self.done += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self.emit()

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        if not self.done and not self.total:
            return f"[{self.prefix}] {self.label} running  elapsed {duration(elapsed)}"
        rate = self.done / elapsed if elapsed > 0 else 0.0
        count = f"{self.done:,}/{self.total:,}" if self.total else f"{self.done:,}"
        parts = [f"[{self.prefix}] {self.label} {count} {self.unit}", f"{rate:,.0f}/s",
                 f"elapsed {duration(elapsed)}"]
        if self.total and rate > 0 and self.done < self.total:
            parts.append(f"ETA {duration((self.total - self.done) / rate)}")
        return "  ".join(parts)

    def emit(self) -> None:
        print(self.line(), file=self.stream, flush=True)
        self._printed = True

    def finish(self) -> None:
        """A last line, so a log shows how long the phase took (only if it printed before)."""
        if self._printed or self.interval == 0:
            self.emit()


def is_terminal(stream: TextIO | None = None) -> bool:
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


@contextmanager
def progress(prefix: str, label: str, total: int | None = None, *, unit: str = "records",
             quiet: bool = False) -> Iterator[Advance]:
    """Yield `advance(n=1)`; show a rich bar on a terminal, plain lines elsewhere."""
    if quiet:
        yield lambda n=1: None
        return
    if not is_terminal():
        plain = PlainProgress(prefix, label, total, unit)
        yield plain.advance
        plain.finish()
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = [SpinnerColumn(), TextColumn(f"{label} {{task.completed:,}} {unit}")] if not total \
        else [TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
              TimeRemainingColumn()]
    if not total:
        columns.append(TimeElapsedColumn())
    # Two redraws a second keep the drawing thread off a busy CPU.
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  refresh_per_second=2) as bars:
        task = bars.add_task(label, total=total)
        yield lambda n=1: bars.advance(task, n)


class Phases:
    """Named phases of one long command, each with its own progress (`phase(name, total)`)."""

    def __init__(self, prefix: str, *, quiet: bool = False) -> None:
        self.prefix, self.quiet = prefix, quiet

    @contextmanager
    def phase(self, name: str, total: int | None = None, *, unit: str = "records") -> Iterator[Advance]:
        with progress(self.prefix, name, total, unit=unit, quiet=self.quiet) as advance:
            yield advance


SILENT = Phases("", quiet=True)
