"""The step types a recipe can use: options model, input files, and the function to run.

Every step function takes the records coming in (a list of dicts) and returns a
`StepRun`; it is the same code the matching `curate` command runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.convert import ConvertOptions, convert_rows
from curate.io import Loc, Rejects, read_rows, write_records
from curate.step import StepResult, removal


@dataclass
class StepContext:
    """Where a step runs: its directory, the recipe's directory (for relative paths), rejects."""

    step_dir: Path
    recipe_dir: Path
    rejects: Rejects
    input_path: Path | None = None

    def resolve(self, path: str | Path) -> Path:
        path = Path(path)
        return path if path.is_absolute() else self.recipe_dir / path


@dataclass
class StepRun:
    result: StepResult
    n_in: int
    used: int | None = None


@dataclass(frozen=True)
class StepType:
    options: type[BaseModel]
    run: Callable[[list[dict[str, Any]], Any, StepContext], StepRun]
    input_fields: tuple[str, ...] = ()
    cacheable: bool = True  # False for steps with effects outside the run dir (write)


class ReadOptions(BaseModel):
    """Read one or more files (or saved/hub datasets) and concatenate them."""

    model_config = ConfigDict(extra="forbid")

    path: list[str] = Field(min_length=1, description="Input files, in order.")
    split: str = "train"

    @field_validator("path", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


class WriteOptions(BaseModel):
    """Write the records to a file outside the run directory (they also pass through)."""

    model_config = ConfigDict(extra="forbid")

    path: str


def run_read(records: list[dict[str, Any]], options: ReadOptions, ctx: StepContext) -> StepRun:
    kept: list[dict[str, Any]] = []
    for source in options.path:
        kept.extend(record for _, record in read_rows(ctx.resolve(source), rejects=ctx.rejects,
                                                      split=options.split))
    return StepRun(StepResult(kept), n_in=len(kept) + ctx.rejects.by_reason["bad_json"])


def run_convert(records: list[dict[str, Any]], options: ConvertOptions, ctx: StepContext) -> StepRun:
    name = str(ctx.input_path or "input")
    rows = ((Loc(name, number), record) for number, record in enumerate(records, start=1))
    result, used = StepResult([]), 0
    for outcome in convert_rows(rows, options, ctx.rejects):
        if outcome.removed_reason:
            result.removed += [removal(row, outcome.removed_reason, "convert") for row in outcome.rows]
        else:
            used += len(outcome.rows)
            result.kept += outcome.records
    return StepRun(result, n_in=len(records), used=used)


def run_write(records: list[dict[str, Any]], options: WriteOptions, ctx: StepContext) -> StepRun:
    write_records(ctx.resolve(options.path), records)
    return StepRun(StepResult(records, extra={"written_to": str(ctx.resolve(options.path))}),
                   n_in=len(records))


STEP_TYPES: dict[str, StepType] = {
    "read": StepType(ReadOptions, run_read, input_fields=("path",)),
    "convert": StepType(ConvertOptions, run_convert),
    "write": StepType(WriteOptions, run_write, cacheable=False),
}
