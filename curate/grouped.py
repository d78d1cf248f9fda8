"""Grouped steps: shuffle records by a key, process each partition alone, merge in order.

Used by OASST tree conversion (key: tree id), `curate pairs` (key: the join key, two
inputs) and blind pairs (key: the pair id). A group function takes every shuffled row of
one partition and returns `(position, payload)` items, where a payload is one of

* `{"kind": "kept", "records": [...], "used": n}`: output records, in place of n inputs;
* `{"kind": "removed", "line": removal(...)}`: an input set aside with its reason;
* `{"kind": "stats", "counts": {...}}`: counters merged into the step's stats.

Stages run on the executor (local processes or Ray); the final merge runs as one task.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from curate.dataflow import Sharding, finish_output, formats_of, open_output
from curate.engine import (
    ChainStep,
    EngineOptions,
    Parts,
    StepCounts,
    StepRun,
    sidecar_format,
    step_stats,
)
from curate.io import Rejects
from curate.io.sources import Split
from curate.io.write import PartWriter
from curate.shuffle import KeyFunction, merge_runs, partition_rows, shuffle, write_run
from schemas import StepStats

GroupFunction = Callable[[list[Any], Any, Rejects], list[tuple[Any, dict[str, Any]]]]


@dataclass(frozen=True)
class GroupTask:
    number: int
    directory: Path
    runs: Path
    group: GroupFunction
    options: Any
    on_error: str
    rejects_part: Path | None
    rejects_format: str = "jsonl"


def group_task(task: GroupTask) -> dict[str, Any]:
    """Stage 2: one partition's rows through the group function, into a sorted run file."""
    writer = PartWriter(task.rejects_part, task.rejects_format) if task.rejects_part else None
    rejects = Rejects(task.on_error, sink=writer.write if writer else None)
    rows = list(partition_rows(task.directory, task.number))
    items = task.group(rows, task.options, rejects) if rows else []
    task.runs.mkdir(parents=True, exist_ok=True)
    write_run(task.runs / f"run-{task.number:04d}.jsonl.zst", items)
    return {"rejected": dict(rejects.by_reason), "rejects_part": writer.close() if writer else None}


@dataclass(frozen=True)
class MergeTask:
    runs: list[Path]
    step: ChainStep


def merge_task(task: MergeTask) -> dict[str, Any]:
    """Stage 3: every run merged by position into the step's data and removed parts."""
    parts = Parts(task.step, 0)
    used, removed, extra = 0, Counter(), Counter()
    n_out = 0
    for payload in merge_runs(task.runs):
        kind = payload["kind"]
        if kind == "kept":
            for record in payload["records"]:
                parts.write("data", record)
            n_out += len(payload["records"])
            used += payload["used"]
        elif kind == "removed":
            parts.write("removed", payload["line"])
            removed[payload["line"]["reason"]] += 1
        else:
            extra.update(payload["counts"])
    entries = parts.close()
    return {"used": used, "out": n_out, "removed": dict(removed), "extra": dict(extra),
            "parts": entries}


def run_grouped_step(step: str, options: BaseModel, sides: list[tuple[int, list[Split]]],
                     input_specs: list[str], out: str | Path, *, key: KeyFunction,
                     group: GroupFunction, on_error: str, engine: EngineOptions,
                     sharding: Sharding,
                     finish: Callable[[dict[str, int], StepCounts], dict[str, Any]],
                     quiet: bool = False, partitions: int | None = None,
                     known_sides: tuple[int, ...] = ()) -> StepStats:
    """Shuffle every side's splits by `key`, group each partition, merge, commit."""
    executor = engine.executor()
    started = time.perf_counter()
    with open_output(out, input_specs, on_error=on_error, sharding=sharding) as outset:
        staging = outset.staging
        rejects_dir = staging / "parts" / "rejects" if on_error == "skip" else None
        side_format = sidecar_format(outset.format, outset.sharded)
        count, partitioned = shuffle(executor, sides, key, staging / "shuffle", on_error=on_error,
                                     rejects_dir=rejects_dir, rejects_format=side_format,
                                     known_sides=known_sides, partitions=partitions)
        tasks = [GroupTask(n, staging / "shuffle", staging / "runs", group, options, on_error,
                           rejects_dir / f"group-{n:05d}.{side_format}" if rejects_dir else None,
                           side_format)
                 for n in range(count)]
        grouped = executor.map(group_task, tasks, label="groups")
        chain = ChainStep(step, options, staging / "parts", formats_of(outset),
                          shard_rows=sharding.rows)
        runs = [staging / "runs" / f"run-{n:04d}.jsonl.zst" for n in range(count)]
        [merged] = executor.map(merge_task, [MergeTask(runs, chain)], label="merge")
        counts = _counts(partitioned, grouped, merged)
        counts.seconds = time.perf_counter() - started
        run = StepRun(step, options, outset, list(input_specs), counts)
        stats = step_stats(run, finish(merged["extra"], counts))
        if not stats.n_in:
            print(f"warning: {', '.join(input_specs)} has no records; wrote an empty "
                  f"{outset.out}", file=sys.stderr)
        finish_output(outset, run, stats, sharding=sharding)
    if not quiet:
        print(stats.summary_line(), file=sys.stderr)
    return stats


def _counts(partitioned: list[dict[str, Any]], grouped: list[dict[str, Any]],
            merged: dict[str, Any]) -> StepCounts:
    counts = StepCounts()
    for result in partitioned:
        counts.n_in += result["rows"] + sum(result["rejected"].values()) - result["key_rejected"]
        counts.rejected.update(result["rejected"])
    for result in grouped:
        counts.rejected.update(result["rejected"])
    counts.n_out, counts.used = merged["out"], merged["used"]
    counts.removed.update(merged["removed"])
    rejects = [r["rejects_part"] for r in partitioned + grouped if r.get("rejects_part")]
    counts.parts = {role: entries for role, entries in merged["parts"].items()}
    if rejects:
        counts.parts["rejects"] = [e for e in rejects if e["rows"]]
    return counts
