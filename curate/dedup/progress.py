"""Progress reporting per phase: silent for library calls, rich bars on stderr for the CLI."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Self

Advance = Callable[[int], None]


class Phases:
    """Silent: phases run without output (the default of `dedup_records`)."""

    @contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[Advance]:
        yield lambda n=1: None


class RichPhases(Phases):
    """One rich progress bar per phase, on stderr (hidden when stderr is not a terminal)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._progress = Progress(SpinnerColumn(), TextColumn("{task.description:<12}"),
                                  BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                                  console=Console(stderr=True), transient=False,
                                  disable=not sys.stderr.isatty())

    def __enter__(self) -> Self:
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()

    @contextmanager
    def phase(self, name: str, total: int | None = None) -> Iterator[Advance]:
        task = self._progress.add_task(name, total=total)

        def advance(n: int = 1) -> None:
            self._progress.advance(task, n)

        yield advance
        done = self._progress.tasks[task].completed
        self._progress.update(task, total=max(done, total or 0), completed=max(done, total or 0))
