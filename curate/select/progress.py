"""Progress bars on stderr for the long parts of a selection (models, embeddings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

Advance = Callable[[int], None]
Track = Callable[[str, int], Advance]


def no_progress(description: str, total: int) -> Advance:
    """A `Track` that shows nothing."""
    return lambda count: None


@contextmanager
def progress_bars() -> Iterator[Track]:
    """Yield `track(description, total) -> advance(count)`, drawing rich bars on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TimeElapsedColumn(), TimeRemainingColumn())
    # Redraws run in a thread: two a second keep them off a busy CPU.
    with Progress(*columns, console=Console(stderr=True), transient=True,
                  refresh_per_second=2) as progress:
        def track(description: str, total: int) -> Advance:
            task = progress.add_task(description, total=total)
            return lambda count: progress.advance(task, count)

        yield track
