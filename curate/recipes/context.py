"""What a recipe step is: its options model, its function, and the paths it names.

A step function takes the records coming in (a list of dicts) and returns a `StepRun`.
Per-record steps also expose `batch`, a pure function of one batch, and `summarize`,
which builds the step's statistics from all batches' results; the local engine calls
them once over everything, the Ray engine once per `map_batches` block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from curate.io import Loc, Rejects
from curate.step import StepResult

Records = list[dict[str, Any]]


@dataclass
class StepContext:
    """Where a step runs: its directory, the previous step's output, the rejects collector."""

    step_dir: Path
    rejects: Rejects
    input_path: Path | None = None
    origins: list[Loc] | None = None  # where the records came from, right after a `read`

    @property
    def run_dir(self) -> Path:
        """Where a recipe's own outputs go (`write`, dedup's `clusters`)."""
        return self.step_dir.parent

    def locs(self, count: int) -> list[Loc]:
        """`file:line` of the incoming records: in the files a `read` step read, else in the
        previous step's output."""
        if self.origins is not None and len(self.origins) == count:
            return self.origins
        name = str(self.input_path or "<input>")
        return [Loc(name, line) for line in range(1, count + 1)]


@dataclass
class StepRun:
    result: StepResult
    n_in: int
    used: int | None = None


@dataclass(frozen=True)
class BatchStep:
    """A per-record step: `accept` sorts out unreadable records (into rejects), `apply` maps a
    batch to a `StepResult`, `summarize(options, results)` gives the step's statistics."""

    accept: Callable[[Records, Any, StepContext], Records]
    apply: Callable[[Records, Any], StepResult]
    summarize: Callable[[Any, list[StepResult]], dict[str, Any]]


@dataclass(frozen=True)
class StepType:
    options: type[BaseModel]
    run: Callable[[Records, Any, StepContext], StepRun]
    inputs: tuple[str, ...] = ()  # option fields naming files that must exist
    paths: tuple[str, ...] = ()  # option fields that may name files (models, presets)
    cacheable: bool = True  # False for steps with effects outside the run dir (write)
    batch: BatchStep | None = None


def run_batch_step(spec: BatchStep, records: Records, options: Any, ctx: StepContext) -> StepRun:
    """The local engine's way to run a per-record step: one batch holding every record."""
    accepted = spec.accept(records, options, ctx)
    result = spec.apply(accepted, options)
    result.extra = spec.summarize(options, [result])
    return StepRun(result, n_in=len(records))
