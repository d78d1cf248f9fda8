"""A keyed shuffle through on-disk partitions, for global steps that group records by a key
(OASST trees by tree id, `curate pairs` by join key, duplicate ids).

1. **Partition.** One task per input split reads its records and appends each, with its key
   and its position `(task, ordinal)`, to the file of partition `hash(key) % P`.
2. **Group.** One task per partition reads that partition's files (in task order) and calls
   `group(rows)`, a function of every row whose key hashes there; it returns output rows
   each tagged with a sort position, written sorted to a run file.
3. **Merge.** The run files are merged by position into the step's output, so the output
   is in input order whatever `P` and the number of workers.

Memory is one partition at a time (P grows with the input: about 128 MB of input each).
The same functions run on Ray, where the partition files sit in the run's staging
directory, which must be on storage every node sees.
"""

from __future__ import annotations

import heapq
import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import xxhash

from curate.engine import Executor, records_done
from curate.io import BadRecord, Loc, Rejects
from curate.io.codecs import open_binary
from curate.io.read import read_split
from curate.io.sources import Split
from curate.io.write import PartWriter

PARTITION_BYTES = int(os.environ.get("PREFKIT_PARTITION_BYTES", str(128 << 20)))
KeyFunction = Callable[[dict[str, Any]], str]  # may raise BadRecord-worthy KeyError/ValueError


@dataclass(frozen=True)
class Row:
    """A record in the shuffle: key, position in the input, origin and the record."""

    key: str
    task: int
    ordinal: int
    loc: Loc
    record: dict[str, Any]
    side: int = 0  # which input (for joins)

    @property
    def position(self) -> tuple[int, int, int]:
        return (self.side, self.task, self.ordinal)


def partitions_for(splits: list[Split]) -> int:
    size = 0
    for split in splits:
        try:
            size += (split.stop or os.path.getsize(split.path)) - split.start \
                if split.kind == "lines" else os.path.getsize(split.path)
        except OSError:
            size += PARTITION_BYTES
    return max(1, min(1024, math.ceil(size / PARTITION_BYTES)))


def partition_of(key: str, partitions: int) -> int:
    return xxhash.xxh3_64_intdigest(key.encode("utf-8", "surrogatepass")) % partitions


@dataclass(frozen=True)
class PartitionTask:
    index: int
    split: Split
    side: int
    key: KeyFunction
    partitions: int
    directory: Path
    on_error: str
    rejects_part: Path | None
    rejects_format: str = "jsonl"
    known_rejects: bool = False  # bad lines were counted by an earlier read


def partition_task(task: PartitionTask) -> dict[str, Any]:
    """Stage 1: spread one split's records over the partition files."""
    writers: dict[int, PartWriter] = {}
    reject_writer = PartWriter(task.rejects_part, task.rejects_format) \
        if task.rejects_part else None
    rejects = Rejects(task.on_error, sink=reject_writer.write if reject_writer else None)
    rows = key_rejected = 0
    reader = Rejects("skip") if task.known_rejects else rejects
    for ordinal, (loc, record) in enumerate(read_split(task.split, reader)):
        rows += 1
        if rows % 4096 == 0:
            records_done(4096)
        try:
            key = task.key(record)
        except (KeyError, ValueError, TypeError) as exc:
            field, message = exc.args if len(exc.args) == 2 else ("<record>", str(exc))
            rejects(BadRecord(loc, field, message, reason="missing_key", record=record))
            key_rejected += 1
            continue
        number = partition_of(key, task.partitions)
        writer = writers.get(number)
        if writer is None:
            folder = task.directory / f"p{number:04d}"
            folder.mkdir(parents=True, exist_ok=True)
            writer = writers[number] = PartWriter(folder / f"s{task.side}-t{task.index:05d}.jsonl.zst",
                                                  "jsonl.zst")
        writer.write({"k": key, "t": task.index, "o": ordinal, "f": loc.path, "l": loc.line,
                      "i": loc.index, "r": record})
    for writer in writers.values():
        writer.close()
    entry = reject_writer.close() if reject_writer else None
    return {"rows": rows, "rejected": dict(rejects.by_reason), "key_rejected": key_rejected,
            "rejects_part": entry}


def partition_rows(directory: Path, number: int) -> Iterator[Row]:
    """Stage 2 input: the rows of one partition, side by side and task by task, in order."""
    folder = directory / f"p{number:04d}"
    if not folder.is_dir():
        return
    for path in sorted(folder.iterdir()):
        side = int(path.name[1:path.name.index("-")])
        with open_binary(path) as handle:
            for line in handle:
                row = orjson.loads(line)
                yield Row(row["k"], row["t"], row["o"], Loc(row["f"], row["l"], row["i"]),
                          row["r"], side)


def write_run(path: Path, items: list[tuple[Any, dict[str, Any]]]) -> int:
    """Write `(position, payload)` items sorted by position (a run of the final merge)."""
    items.sort(key=lambda item: item[0])
    writer = PartWriter(path, "jsonl.zst")
    for position, payload in items:
        writer.write({"p": list(position) if isinstance(position, tuple) else position,
                      "x": payload})
    writer.close()
    return len(items)


def merge_runs(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """Stage 3: the payloads of every run, merged by position."""
    def read(path: Path) -> Iterator[tuple[Any, int, dict[str, Any]]]:
        with open_binary(path) as handle:
            for line in handle:
                item = orjson.loads(line)
                position = item["p"]
                yield (tuple(position) if isinstance(position, list) else position, 0, item["x"])

    for _, _, payload in heapq.merge(*(read(p) for p in paths if p.exists()),
                                     key=lambda item: item[0]):
        yield payload


def shuffle(executor: Executor, inputs: list[tuple[int, list[Split]]], key: KeyFunction,
            directory: Path, *, on_error: str, rejects_dir: Path | None,
            rejects_format: str = "jsonl", known_sides: tuple[int, ...] = (),
            partitions: int | None = None) -> tuple[int, list[dict[str, Any]]]:
    """Stage 1 over every split of every side; returns P and the per-task results."""
    all_splits = [split for _, splits in inputs for split in splits]
    count = partitions or partitions_for(all_splits)
    tasks, index = [], 0
    for side, splits in inputs:
        for split in splits:
            rejects_part = (rejects_dir / f"part-{index:05d}.{rejects_format}") \
                if rejects_dir else None
            tasks.append(PartitionTask(index, split, side, key, count, directory, on_error,
                                       rejects_part, rejects_format, side in known_sides))
            index += 1
    if rejects_dir:
        rejects_dir.mkdir(parents=True, exist_ok=True)
    return count, executor.map(partition_task, tasks, label="partition")
