"""The one executor: tasks over input splits, run in this process, a process pool, or Ray.

A *task* reads one split (a file, a byte range of a big file, some parquet row groups)
and pushes its records, a batch at a time, through a chain of per-record steps. Each step
of the chain writes its kept records, its removed records and its rejects to part files of
its own output set. Tasks do not depend on each other or on the number of workers, and
parts are joined in task order, so the output is byte-identical for any `--workers` and for
the Ray engine; it is in input order. Memory is one batch per worker, whatever the input.

Global steps (dedup, select, pairs, OASST trees) use the same executor for their stages.
"""

from __future__ import annotations

import atexit
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from curate.io import Loc, Rejects
from curate.io.outputs import OutputSet
from curate.io.read import read_split
from curate.io.sources import MANIFEST, Split
from curate.io.write import PartWriter, write_json, write_json_array, write_parquet
from curate.progress import progress
from schemas import StepStats

T = TypeVar("T")
R = TypeVar("R")

BATCH = int(os.environ.get("PREFKIT_BATCH", "1000"))
EngineName = Literal["local", "ray"]


@dataclass(frozen=True)
class EngineOptions:
    """How to run: where (local or Ray), with how many local worker processes, and how
    big a batch is. None of these changes the output."""

    workers: int = 1
    engine: EngineName = "local"
    batch_size: int = BATCH

    def executor(self) -> Executor:
        if self.engine == "ray":
            from curate.on_ray import RayExecutor

            return RayExecutor()
        return LocalExecutor(self.workers)


# --- executors ----------------------------------------------------------------------------

class Executor:
    """Maps a function over items, results in item order."""

    workers = 1

    def map(self, function: Callable[[T], R], items: Sequence[T], *, label: str = "tasks",
            prefix: str = "curate") -> list[R]:
        raise NotImplementedError


_record_progress: Callable[[int], None] | None = None  # set while tasks run in this process


def records_done(count: int) -> None:
    """Tasks call this per batch; in this process it drives the records' progress line."""
    if _record_progress is not None:
        _record_progress(count)


class LocalExecutor(Executor):
    """In this process (one worker), or a pool of worker processes."""

    def __init__(self, workers: int = 1) -> None:
        self.workers = max(1, workers)

    def map(self, function: Callable[[T], R], items: Sequence[T], *, label: str = "tasks",
            prefix: str = "curate") -> list[R]:
        global _record_progress
        items = list(items)
        out: list[R] = []
        if self.workers == 1 or len(items) < 2:  # here: progress counts records
            with progress(prefix, label, None, unit="records") as advance:
                _record_progress = advance
                try:
                    for item in items:
                        out.append(function(item))
                finally:
                    _record_progress = None
            return out
        with progress(prefix, label, len(items), unit="tasks") as advance:
            pool = _pool(self.workers)
            try:
                for result in pool.map(function, items):
                    out.append(result)
                    advance()
            except BaseException:
                _discard(self.workers)
                raise
        return out


# One pool per worker count for the whole command: stages reuse its warm workers.
_POOLS: dict[int, Any] = {}
# What the workers' server process imports once, so that forked workers start warm.
PRELOAD = ["curate.steps", "curate.filtering", "curate.dedup.stages", "curate.grouped",
           "curate.select.run"]


def _pool(workers: int) -> Any:
    from concurrent.futures import ProcessPoolExecutor

    pool = _POOLS.get(workers)
    if pool is None:
        if not _POOLS:
            atexit.register(_close_pools)
        pool = _POOLS[workers] = ProcessPoolExecutor(workers, mp_context=_context())
    return pool


def _discard(workers: int) -> None:
    """After a failure (or Ctrl-C): stop that pool's workers at once, never wait for them."""
    pool = _POOLS.pop(workers, None)
    if pool is None:
        return
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        if process.is_alive():
            process.terminate()


def _close_pools() -> None:
    for workers in list(_POOLS):
        pool = _POOLS.pop(workers)
        pool.shutdown(wait=True, cancel_futures=True)


def _context() -> Any:
    """forkserver: workers fork from a clean server process that has imported the steps once
    (no threads of the parent, such as polars' pool, are inherited)."""
    import multiprocessing

    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


# --- per-record chains ------------------------------------------------------------------

@dataclass(frozen=True)
class ChainStep:
    """One step of a chain: its type (resolved in the worker), options, and where its parts
    go (`parts`, None for a step whose records are not written, as `read`)."""

    type: str
    options: BaseModel | None
    parts: Path | None
    formats: dict[str, str]  # role (data, removed, rejects) -> part format
    loc_name: str = "<records>"  # how the next step names a record's location
    shard_rows: int | None = None


@dataclass(frozen=True)
class ChainTask:
    index: int
    split: Split
    steps: tuple[ChainStep, ...]
    on_error: str
    batch_size: int = BATCH
    skip_known_rejects: bool = False  # input already read (and its bad lines counted) once
    ids_dir: Path | None = None  # where to note hashes of the input records' ids


@dataclass
class StepCounts:
    """What one step did in one task (or, merged, in all of them)."""

    n_in: int = 0
    n_out: int = 0
    used: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    extra: dict[str, Any] = field(default_factory=dict)
    parts: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # role -> entries
    seconds: float = 0.0

    def merge(self, other: StepCounts, merge_extra: Callable[[dict, dict], dict]) -> None:
        self.n_in += other.n_in
        self.n_out += other.n_out
        self.used += other.used
        self.removed.update(other.removed)
        self.rejected.update(other.rejected)
        self.extra = merge_extra(self.extra, other.extra)
        for role, entries in other.parts.items():
            self.parts.setdefault(role, []).extend(entries)
        self.seconds = max(self.seconds, other.seconds)


class Parts:
    """The part writers of one step in one task: data, removed and rejects (opened on first
    use, rolled every `shard_rows` records for data)."""

    def __init__(self, step: ChainStep, task: int, tag: str = "") -> None:
        self.step, self.task, self.tag = step, task, tag
        self.writers: dict[str, PartWriter] = {}
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.serial: Counter[str] = Counter()

    def write(self, role: str, record: dict[str, Any]) -> None:
        if self.step.parts is None or role not in self.step.formats:
            return
        writer = self.writers.get(role)
        if writer is None:
            writer = self._open(role)
        elif role == "data" and self.step.shard_rows and writer.rows >= self.step.shard_rows:
            self._close(role)
            writer = self._open(role)
        writer.write(record)

    def _open(self, role: str) -> PartWriter:
        directory = self.step.parts / role
        directory.mkdir(parents=True, exist_ok=True)
        fmt = self.step.formats[role]
        rolled = role == "data" and self.step.shard_rows
        name = f"part-{self.task:05d}{self.tag}-{self.serial[role]:03d}.{fmt}" if rolled else \
            f"part-{self.task:05d}{self.tag}.{fmt}"
        self.serial[role] += 1
        writer = PartWriter(directory / f".{name}.tmp", fmt)
        writer.final = directory / name  # type: ignore[attr-defined]
        self.writers[role] = writer
        return writer

    def _close(self, role: str) -> None:
        writer = self.writers.pop(role)
        entry = writer.close()
        os.replace(writer.path, writer.final)  # type: ignore[attr-defined]
        entry["name"] = writer.final.name  # type: ignore[attr-defined]
        self.entries.setdefault(role, []).append(entry)

    def close(self) -> dict[str, list[dict[str, Any]]]:
        for role in list(self.writers):
            self._close(role)
        return self.entries

    def abort(self) -> None:
        for writer in self.writers.values():
            writer.abort()
            writer.path.unlink(missing_ok=True)


def run_chain(task: ChainTask) -> list[StepCounts]:
    """Run one task: read its split and push each batch through every step of the chain."""
    from curate.steps import record_step

    started = time.perf_counter()
    specs = [record_step(step.type) for step in task.steps]
    parts = [Parts(step, task.index) for step in task.steps]
    counts = [StepCounts() for _ in task.steps]
    reader_rejects = Rejects("skip" if task.skip_known_rejects else task.on_error,
                             sink=None if task.skip_known_rejects else
                             (lambda line: parts[0].write("rejects", line)))
    ids = IdNotes() if task.ids_dir is not None else None
    try:
        rows = read_split(task.split, reader_rejects)
        for batch in _batches(rows, task.batch_size):
            locs = [loc for loc, _ in batch]
            records = [record for _, record in batch]
            if ids is not None:
                ids.note(records, locs)
            for number, (step, spec) in enumerate(zip(task.steps, specs)):
                out = parts[number]
                rejects = Rejects(task.on_error,
                                  sink=lambda line, out=out: out.write("rejects", line))
                result = spec.apply(records, locs, step.options, rejects)
                count = counts[number]
                count.n_in += len(records)
                count.n_out += len(result.kept)
                count.used += result.used if result.used is not None else len(result.kept)
                count.rejected.update(rejects.by_reason)
                count.removed.update(line["reason"] for line in result.removed)
                count.extra = spec.merge(count.extra, result.extra)
                first = sum(e["rows"] for e in out.entries.get("data", [])) + (
                    out.writers["data"].rows if "data" in out.writers else 0)
                for record in result.kept:
                    out.write("data", record)
                for line in result.removed:
                    out.write("removed", line)
                if step.parts is not None and "data" in step.formats:
                    locs = [Loc(step.loc_name.format(task=task.index), first + i + 1)
                            for i in range(len(result.kept))]
                records = result.kept  # a step that writes no records (read) keeps the locs
            records_done(len(batch))
        if not task.skip_known_rejects:
            counts[0].n_in += len(reader_rejects)
            counts[0].rejected.update(reader_rejects.by_reason)
        for number, out in enumerate(parts):
            counts[number].parts = out.close()
        if ids is not None and task.ids_dir is not None:
            ids.save(task.ids_dir / f"ids-t{task.index:05d}.npy")
    except BaseException:
        for out in parts:
            out.abort()
        raise
    for count in counts:
        count.seconds = time.perf_counter() - started
    return counts


class IdNotes:
    """A hash of each input record's `id`, with its line: 16 bytes per record."""

    def __init__(self) -> None:
        from array import array

        self.hashes, self.lines = array("Q"), array("q")

    def note(self, records: list[dict[str, Any]], locs: list[Loc]) -> None:
        import xxhash

        from curate.io.jsonl import dump_bytes

        for record, loc in zip(records, locs):
            if "id" in record:
                self.hashes.append(xxhash.xxh3_64_intdigest(dump_bytes(record["id"])))
                self.lines.append(loc.line)

    def save(self, path: Path) -> None:
        import numpy as np

        path.parent.mkdir(parents=True, exist_ok=True)
        np.save(path, np.column_stack([np.frombuffer(self.hashes, np.uint64).view(np.int64),
                                       np.frombuffer(self.lines, np.int64)]))


def duplicate_ids_task(directory: Path) -> dict[str, Any]:
    """Records whose id an earlier record already has: how many, and the first such pair."""
    import numpy as np

    tables = []
    for path in sorted(directory.glob("ids-t*.npy")):
        table = np.load(path)
        task = int(path.name[5:10])
        tables.append(np.column_stack([table, np.full(len(table), task, np.int64)]))
    if not tables:
        return {"count": 0}
    table = np.concatenate(tables)
    order = np.lexsort((table[:, 1], table[:, 2], table[:, 0]))  # by id, then input order
    ordered = table[order]
    repeats = np.flatnonzero(ordered[1:, 0] == ordered[:-1, 0]) + 1
    if not len(repeats):
        return {"count": 0}
    by_position = repeats[np.lexsort((ordered[repeats, 1], ordered[repeats, 2]))]
    first = int(by_position[0])
    twin = first - 1
    while twin > 0 and ordered[twin - 1, 0] == ordered[first, 0]:
        twin -= 1
    return {"count": len(repeats),
            "repeat": [int(ordered[first, 2]), int(ordered[first, 1])],
            "first": [int(ordered[twin, 2]), int(ordered[twin, 1])]}


def _batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    iterator = iter(rows)
    while batch := list(islice(iterator, size)):
        yield batch


# --- running a chain into output sets ----------------------------------------------------

@dataclass
class StepRun:
    """A step of a chain as the driver sees it: its output set and its final stats."""

    type: str
    options: BaseModel | None
    outset: OutputSet | None
    inputs: list[str]
    counts: StepCounts = field(default_factory=StepCounts)
    stats: StepStats | None = None


def chain_tasks(splits: list[Split], steps: list[ChainStep], *, on_error: str,
                batch_size: int, skip_known_rejects: bool = False,
                first_options: list[Any] | None = None,
                ids_dir: Path | None = None) -> list[ChainTask]:
    """One task per split. `first_options` gives the first step different options per split
    (convert's input format, detected file by file)."""
    from dataclasses import replace

    tasks = []
    for index, split in enumerate(splits):
        chain = tuple(steps)
        if first_options is not None:
            chain = (replace(steps[0], options=first_options[index]), *steps[1:])
        tasks.append(ChainTask(index, split, chain, on_error, batch_size, skip_known_rejects,
                               ids_dir))
    return tasks


def run_tasks(executor: Executor, tasks: list[ChainTask], runs: list[StepRun], *,
              prefix: str = "curate") -> None:
    """Run every task and merge each step's counts (in task order)."""
    from curate.steps import record_step

    started = time.perf_counter()
    results = executor.map(run_chain, tasks, label="splits", prefix=prefix)
    for number, run in enumerate(runs):
        spec = record_step(run.type)
        for task_counts in results:
            run.counts.merge(task_counts[number], spec.merge)
        run.counts.seconds = time.perf_counter() - started


def step_stats(run: StepRun, extra: dict[str, Any]) -> StepStats:
    counts = run.counts
    seconds = counts.seconds
    output = str(run.outset.out) if run.outset else None
    return StepStats(
        step=run.type, n_in=counts.n_in, n_out=counts.n_out,
        used=counts.used,
        removed=sum(counts.removed.values()), rejected=sum(counts.rejected.values()),
        removed_by_reason=dict(sorted(counts.removed.items())),
        rejected_by_reason=dict(sorted(counts.rejected.items())),
        seconds=round(seconds, 4), docs_per_s=round(counts.n_in / seconds, 1) if seconds else 0.0,
        inputs=[str(i) for i in run.inputs], output=output, **extra)


# --- assembling parts into the final layout ------------------------------------------------

def assemble(outset: OutputSet, role: str, entries: list[dict[str, Any]], parts_dir: Path,
             fmt: str, *, shards: int | None = None) -> None:
    """Put a role's parts (in task order) where the output set expects them: shards plus a
    manifest for a sharded output (a part keeps its name, `part-TASK`, so a location in it
    stays valid), or one joined file."""
    member = outset.members[role]
    files = [parts_dir / e["name"] for e in entries]
    if member.is_dir:
        member.staged.mkdir(parents=True, exist_ok=True)
        if shards and len(files) != shards:
            entries, files = _rechunk(files, shards, fmt, parts_dir / ".rechunk")
        shard_list = []
        for entry, path in zip(entries, files):
            os.replace(path, member.staged / entry["name"])
            shard_list.append(entry)
        manifest = {"format": fmt, "rows": sum(e["rows"] for e in shard_list),
                    "shards": shard_list}
        write_json(member.staged / MANIFEST, manifest)
        member.entry = {"rows": manifest["rows"], "shards": len(shard_list)}
        return
    member.entry = join_parts(files, member.staged)


def join_parts(files: list[Path], target: Path) -> dict[str, Any]:
    """Join JSON Lines parts (plain or compressed blocks) into `target`'s format."""
    import xxhash

    from curate.io.write import format_of

    fmt = format_of(target)
    rows = 0
    if fmt in ("json", "parquet"):
        records = _records_of(files)
        if fmt == "json":
            counted = _counting(records)
            write_json_array(target, counted)
            rows = counted.count  # type: ignore[attr-defined]
        else:
            listed = list(records)
            rows = len(listed)
            write_parquet(target, listed)
    else:
        with open(target, "wb") as out:
            for path in files:
                with open(path, "rb") as part:
                    shutil.copyfileobj(part, out, 1 << 22)
        rows = sum(_count_lines(path) for path in files)
    digest = xxhash.xxh3_128()
    with open(target, "rb") as handle:
        while chunk := handle.read(1 << 22):
            digest.update(chunk)
    return {"rows": rows, "bytes": target.stat().st_size, "xxh3_128": digest.hexdigest()}


class _counting:
    def __init__(self, items: Iterable[Any]) -> None:
        self.items, self.count = items, 0

    def __iter__(self) -> Iterator[Any]:
        for item in self.items:
            self.count += 1
            yield item


def _records_of(files: list[Path]) -> Iterator[dict[str, Any]]:
    from curate.io.read import read_records

    for path in files:
        yield from read_records(str(path))


def _count_rows(path: Path) -> int:
    if str(path).endswith(".parquet"):
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return _count_lines(path)


def _count_lines(path: Path) -> int:
    from curate.io.codecs import open_binary

    count = 0
    with open_binary(path) as handle:
        while chunk := handle.read(1 << 22):
            count += chunk.count(b"\n")
    return count


def _rechunk(files: list[Path], shards: int, fmt: str,
             directory: Path) -> tuple[list[dict[str, Any]], list[Path]]:
    """Re-cut parts into exactly `shards` shards of (nearly) equal row counts."""
    directory.mkdir(parents=True, exist_ok=True)
    total = sum(_count_rows(path) for path in files)
    sizes = [total // shards + (1 if n < total % shards else 0) for n in range(shards)]
    records = _records_of(files)
    out_entries, out_files = [], []
    for number, size in enumerate(sizes):
        path = directory / f"part-{number:05d}.{fmt}"
        writer = PartWriter(path, fmt)
        writer.write_all(islice(records, size))
        entry = writer.close()
        out_entries.append(entry)
        out_files.append(path)
    return out_entries, out_files


def part_format(out_format: str) -> str:
    """What tasks write for an output of `out_format`: the same JSON Lines format, or (for a
    single .json/.parquet file, joined at the end) zstd JSON Lines."""
    if out_format in ("json",):
        return "jsonl.zst"
    if out_format == "parquet":
        return "jsonl.zst"
    return out_format


def sidecar_format(out_format: str, sharded: bool) -> str:
    if not sharded:
        return "jsonl"
    return out_format if out_format.startswith("jsonl") else "jsonl.gz"
