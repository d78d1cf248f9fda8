"""Commands as dataflow: inputs (any number of files, globs, shard directories) through one
per-record step into one output set, on the engine's tasks.

`run_record_step` is what `curate convert|score|filter|decontam` do; recipes run chains of
the same steps with `curate.recipes.runner`. Global steps (dedup, select, pairs, OASST
trees) have their own multi-stage functions that use the same output sets and executor.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from curate.engine import (
    ChainStep,
    EngineOptions,
    StepRun,
    assemble,
    chain_tasks,
    part_format,
    run_tasks,
    sidecar_format,
    step_stats,
)
from curate.io.outputs import OutputSet, is_sharded_path
from curate.io.sources import Split, input_files, plan_splits
from schemas import StepStats


@dataclass(frozen=True)
class Sharding:
    """How a sharded output is cut: one shard per input split (default), at most `rows`
    records per shard, or exactly `count` shards."""

    rows: int | None = None
    count: int | None = None
    format: str | None = None  # of the shards (default: from OUT's name, else jsonl.gz)

    @property
    def requested(self) -> bool:
        return bool(self.rows or self.count)


def open_output(out: str | Path, inputs: list[str], *, on_error: str,
                sharding: Sharding = Sharding(), removed: bool = True,
                extra_inputs: list[str] | None = None) -> OutputSet:
    """The output set of a command: OUT, OUT.removed, OUT.rejects (skip mode), OUT.stats.json."""
    sharded = is_sharded_path(out) or sharding.requested
    files = input_files(inputs, folders=True) + [Path(p) for p in extra_inputs or []]
    outset = OutputSet(out, inputs=files, sharded=sharded,
                       fmt=sharding.format if sharded else None)
    if removed:
        outset.add("removed", outset.sidecar_path("removed"), is_dir=outset.sharded)
    if on_error == "skip":
        outset.add("rejects", outset.sidecar_path("rejects"), is_dir=outset.sharded)
    return outset


def formats_of(outset: OutputSet) -> dict[str, str]:
    side = sidecar_format(outset.format, outset.sharded)
    data = outset.format if outset.sharded else part_format(outset.format)
    formats = {"data": data}
    for role in ("removed", "rejects"):
        if role in outset.members:
            formats[role] = side
    return formats


_NOT_FOUND = ("missing_field", "missing_text", "missing_key")


def refuse_if_nothing_matched(run: StepRun, stats: StepStats) -> None:
    """With `--on-error skip`, a field or key that no record has sets every record aside:
    that is a mistyped option, not a result. Fail (nothing is committed), naming the field
    and what the records do have."""
    missing = sum(n for reason, n in stats.rejected_by_reason.items() if reason in _NOT_FOUND)
    if not stats.n_in or missing < stats.n_in:
        return
    from curate.io.read import read_records
    from curate.options import OptionsError

    first: dict[str, Any] = {}
    for entry in run.counts.parts.get("rejects", []):
        path = run.outset.staging / "parts" / "rejects" / entry["name"]  # type: ignore[union-attr]
        first = next(read_records(str(path)), {})
        if first:
            break
    record = first.get("record")
    keys = ", ".join(sorted(record)) if isinstance(record, dict) else "?"
    raise OptionsError(f"field {first.get('field', '?')!r} is in none of the {stats.n_in:,} "
                       f"records (the records have: {keys}); check --field/--join-on")


def finish_output(outset: OutputSet, run: StepRun, stats: StepStats, *,
                  sharding: Sharding = Sharding(),
                  before_commit: Callable[[OutputSet, StepStats], None] | None = None) -> None:
    """Refuse an option that matched nothing; put the parts in place, then commit the set
    with its stats."""
    refuse_if_nothing_matched(run, stats)
    parts = outset.staging / "parts"
    for role in ("data", "removed", "rejects"):
        if role in outset.members:
            fmt = outset.format if role == "data" else sidecar_format(outset.format, outset.sharded)
            assemble(outset, role, run.counts.parts.get(role, []), parts / role, fmt,
                     shards=sharding.count if role == "data" else None)
    if before_commit:
        before_commit(outset, stats)
    outset.commit(stats.model_dump(by_alias=True))


def run_record_step(step: str, options: BaseModel | None, inputs: list[str], out: str | Path, *,
                    on_error: str = "raise", engine: EngineOptions = EngineOptions(),
                    split: str = "train", sharding: Sharding = Sharding(),
                    extra_inputs: list[str] | None = None, splits: list[Split] | None = None,
                    split_options: list[Any] | None = None,
                    before_commit: Callable[[OutputSet, StepStats], None] | None = None,
                    quiet: bool = False) -> StepStats:
    """Run one per-record step from `inputs` into `out` and its sidecars (`split_options`:
    the step's options split by split, where they differ)."""
    from curate.steps import record_step

    splits = plan_splits(inputs, split=split) if splits is None else splits
    with open_output(out, inputs, on_error=on_error, sharding=sharding,
                     extra_inputs=extra_inputs) as outset:
        chain = ChainStep(step, options, outset.staging / "parts", formats_of(outset),
                          shard_rows=sharding.rows)
        run = StepRun(step, options, outset, [str(i) for i in inputs])
        ids_dir = outset.staging / "ids"
        tasks = chain_tasks(splits, [chain], on_error=on_error, batch_size=engine.batch_size,
                            first_options=split_options, ids_dir=ids_dir)
        executor = engine.executor()
        run_tasks(executor, tasks, [run])
        extra = record_step(step).finish(options, run.counts.extra, run.counts.n_in)
        extra.update(warn_duplicate_ids(executor, ids_dir, splits))
        stats = step_stats(run, extra)
        if not stats.n_in:
            print(f"warning: {', '.join(map(str, inputs))} has no records; wrote an empty "
                  f"{outset.out}", file=sys.stderr)
        finish_output(outset, run, stats, sharding=sharding, before_commit=before_commit)
    if not quiet:
        print(stats.summary_line(), file=sys.stderr)
    return stats


def warn_duplicate_ids(executor: Any, directory: Path, splits: list[Split]) -> dict[str, int]:
    """Warn when input records repeat an id (they are kept: ids are the data's own)."""
    from curate.engine import duplicate_ids_task

    [found] = executor.map(duplicate_ids_task, [directory], label="ids")
    if not found["count"]:
        return {}
    (task, line), (first_task, first_line) = found["repeat"], found["first"]
    print(f"warning: {found['count']:,} input records repeat the id of an earlier record "
          f"(first: {splits[task].path}:{line} repeats {splits[first_task].path}:{first_line})",
          file=sys.stderr)
    return {"duplicate_ids": found["count"]}
