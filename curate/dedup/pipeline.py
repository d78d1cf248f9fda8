"""`curate dedup`, out of core: the stages of `curate.dedup.stages` in order.

Memory holds keys and candidates, never texts: sketches and band keys go to files per
input split, exact groups form per key partition, LSH buckets per band, candidates are
verified by exact Jaccard against shingle sets re-read from disk, components use document
numbers only, and a last streaming pass writes kept and removed records in input order.
Every stage runs on the engine's executor (local processes or Ray), so the output does not
depend on the number of workers or on the engine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curate.dataflow import Sharding, finish_output, formats_of, open_output
from curate.dedup.lsh import derive_bands
from curate.dedup.options import DedupOptions
from curate.dedup.sketch import SketchSpec
from curate.dedup.stages import (
    ApplyTask,
    BucketTask,
    DedupPlan,
    ExactTask,
    Layout,
    LinkTask,
    SetsTask,
    SketchTask,
    SurvivorTask,
    apply_task,
    bucket_task,
    candidates_task,
    exact_task,
    key_partitions,
    link_task,
    row_offsets,
    sets_task,
    sketch_task,
    survivor_task,
)
from curate.engine import ChainStep, EngineOptions, StepCounts, StepRun, sidecar_format, step_stats
from curate.io import Rejects, read_split
from curate.io.sources import Split, plan_splits
from curate.step import StepResult
from curate.views import is_pair
from schemas import StepStats

STEP = "dedup"


def dedup_inputs(inputs: list[str], out: str | Path, options: DedupOptions, *,
                 on_error: str = "raise", split: str = "train",
                 engine: EngineOptions = EngineOptions(), sharding: Sharding = Sharding(),
                 clusters: str | Path | None = None, known_rejects: bool = False,
                 quiet: bool = False) -> StepStats:
    """Deduplicate every input into `out` and its sidecars (and the clusters file)."""
    engine = EngineOptions(max(engine.workers, options.workers), engine.engine,
                           engine.batch_size)
    splits = plan_splits(inputs, split=split)
    references = plan_splits(options.against) if options.against else []
    started = time.perf_counter()
    with open_output(out, inputs, on_error=on_error, sharding=sharding,
                     extra_inputs=list(options.against)) as outset:
        clusters = clusters if clusters is not None else options.clusters
        clusters_staged = outset.add("clusters", Path(clusters)) if clusters else None
        outset.check_paths()
        plan = make_plan(options, splits, outset.staging / "dedup")
        parts = ChainStep(STEP, options, outset.staging / "parts", formats_of(outset),
                          shard_rows=sharding.rows)
        rejects_dir = outset.staging / "parts" / "rejects" if on_error == "skip" else None
        result = run_stages(plan, splits, references, engine, on_error=on_error, parts=parts,
                            rejects_dir=rejects_dir,
                            rejects_format=sidecar_format(outset.format, outset.sharded),
                            clusters=clusters_staged, known_rejects=known_rejects)
        counts = result["counts"]
        counts.seconds = time.perf_counter() - started
        run = StepRun(STEP, options, outset, list(inputs), counts)
        stats = step_stats(run, result["extra"])
        if not stats.n_in:
            print(f"warning: {', '.join(inputs)} has no records; wrote an empty {outset.out}",
                  file=sys.stderr)
        finish_output(outset, run, stats, sharding=sharding)
    if not quiet:
        extra = stats.model_extra or {}
        rejected = f" rejected={stats.rejected}" if stats.rejected else ""
        print(f"dedup: in={stats.n_in} kept={stats.n_out} removed={stats.removed} "
              f"clusters={extra.get('clusters', 0)}{rejected} {stats.seconds:.2f}s "
              f"({stats.docs_per_s:,.0f} docs/s)", file=sys.stderr)
    return stats


def make_plan(options: DedupOptions, splits: list[Split], work: Path) -> DedupPlan:
    near = options.method != "exact"
    bands, rows = (options.bands, options.rows) if options.bands else \
        derive_bands(options.threshold, options.num_perm, verify=options.verify) if near else (0, 0)
    spec = SketchSpec(ngram=options.ngram, num_perm=options.num_perm if near else 0,
                      seed=options.seed, fold_digits=options.fold_digits,
                      shingle=options.shingle, char_ngram=options.char_ngram,
                      fold_case=options.fold_case)
    work.mkdir(parents=True, exist_ok=True)
    return DedupPlan(options, spec, bands or 0, rows or 0, _segments(options, splits),
                     key_partitions(splits), work)


def _segments(options: DedupOptions, splits: list[Split]) -> int:
    """Preference pairs (seen in the first records) compare prompt, chosen and rejected, each
    on its own, unless `--field` names one text."""
    if options.field != "auto":
        return 1
    quiet = Rejects("skip")
    for split in splits:
        for number, (_, record) in enumerate(read_split(split, quiet)):
            if is_pair(record):
                return 3
            if number >= 100:
                return 1
    return 1


def run_stages(plan: DedupPlan, splits: list[Split], references: list[Split],
               engine: EngineOptions, *, on_error: str, parts: ChainStep,
               rejects_dir: Path | None, rejects_format: str,
               clusters: Path | None, known_rejects: bool = False) -> dict[str, Any]:
    """Every stage, in order; returns the counts and the stats."""
    executor = engine.executor()
    seconds: dict[str, float] = {}

    @contextmanager
    def phase(name: str) -> Iterator[None]:
        begun = time.perf_counter()
        yield
        seconds[name] = round(time.perf_counter() - begun, 4)

    everything = splits + references
    with phase("sketch"):
        if rejects_dir:
            rejects_dir.mkdir(parents=True, exist_ok=True)
        sketches = executor.map(sketch_task, [
            SketchTask(n, split, 0 if n < len(splits) else 1, plan, on_error,
                       rejects_dir / f"part-{n:05d}.{rejects_format}" if rejects_dir and
                       n < len(splits) else None, rejects_format, known_rejects)
            for n, split in enumerate(everything)], label="sketch", prefix="curate dedup")
    offsets = [0]
    for result in sketches:
        offsets.append(offsets[-1] + result["usable"])
    layout = Layout(tuple(offsets), offsets[len(splits)], len(splits))
    with phase("exact"):
        exact = executor.map(exact_task, [ExactTask(p, plan, layout)
                                          for p in range(plan.key_partitions)], label="exact",
                             prefix="curate dedup")
    link: dict[str, Any] = {}
    if plan.near:
        with phase("buckets"):
            buckets = bucket_stage(executor, plan, layout, engine)
        with phase("candidates"):
            [candidates] = executor.map(candidates_task, [plan], label="candidates",
                                        prefix="curate dedup")
        with phase("sets"):
            executor.map(sets_task, [SetsTask(n, split, plan, offsets[n])
                                     for n, split in enumerate(everything)], label="sets",
                         prefix="curate dedup")
        with phase("verify"):
            [link] = executor.map(link_task, [LinkTask(plan, layout)], label="verify",
                                  prefix="curate dedup")
        link |= {"buckets": sum(b["buckets"] for b in buckets), "candidate_documents": candidates}
    sources = tuple("" if n < len(splits) else split.path for n, split in enumerate(everything))
    rows = row_offsets(sketches, len(splits))
    with phase("survivors"):
        [survived] = executor.map(survivor_task, [SurvivorTask(plan, layout, sources, rows,
                                                               clusters)],
                                  label="survivors", prefix="curate dedup")
    with phase("write"):
        applied = executor.map(apply_task, [ApplyTask(n, split, plan, parts, rows[n])
                                            for n, split in enumerate(splits)], label="write",
                               prefix="curate dedup")
    counts = StepCounts()
    for result in sketches[:len(splits)]:
        counts.n_in += result["rows"] + _reader_rejects(result)
        counts.rejected.update(result["rejected"])
    for result in applied:
        counts.n_out += result["kept"]
        counts.removed.update(result["removed"])
        for role, entries in result["parts"].items():
            counts.parts.setdefault(role, []).extend(entries)
    counts.used = counts.n_out
    rejects = [r["rejects_part"] for r in sketches if r.get("rejects_part")]
    if rejects:
        counts.parts["rejects"] = [e for e in rejects if e["rows"]]
    usable = layout.inputs
    duplicates = sum(e["duplicates"] + e["ref_exact"] for e in exact)
    options = plan.options
    extra = {
        "method": options.method, "field": options.field, "compared": _compared(plan),
        "threshold": options.threshold, "ngram": options.ngram,
        "num_perm": options.num_perm if plan.near else None,
        "bands": plan.bands or None, "rows": plan.rows or None, "verify": options.verify,
        "keep": options.keep, "distinct_texts": usable - duplicates,
        "clusters": survived["clusters"], "no_word_texts": sum(r["wordless"] for r in
                                                               sketches[:len(splits)]),
        "removed_against": survived["removed_against"], "against": list(options.against),
        "reference_records": layout.offsets[-1] - layout.inputs - sum(
            e["ref_duplicates"] for e in exact),
        "reference_skipped": sum(r["rows"] - r["usable"] for r in sketches[len(splits):]),
        "exact_checks": link.get("exact_checks", 0) + survived["exact_checks"],
        "kept": counts.n_out, "workers": engine.workers, "engine": engine.engine,
        "partitions": plan.key_partitions, "phase_seconds": seconds,
        **{k: v for k, v in link.items() if k != "exact_checks"},
    }
    return {"counts": counts, "extra": extra}


def _reader_rejects(result: dict[str, Any]) -> int:
    """Bad lines the reader rejected (records rejected for their fields were read)."""
    field_level = ("missing_field", "bad_field", "bad_keep_value")
    return sum(n for reason, n in result["rejected"].items() if reason not in field_level)


def _compared(plan: DedupPlan) -> str:
    if plan.segments == 3:
        return "prompt, chosen and rejected, each at the threshold"
    return plan.options.field if plan.options.field != "auto" else "all"


def bucket_stage(executor: Any, plan: DedupPlan, layout: Layout,
                 engine: EngineOptions) -> list[dict[str, Any]]:
    """LSH buckets, band by band: a sort per band locally, Ray's hash shuffle on Ray."""
    if engine.engine == "ray":
        from curate.on_ray import ray_buckets

        return ray_buckets(plan, layout)
    return executor.map(bucket_task, [BucketTask(b, plan, layout) for b in range(plan.bands)],
                        label="buckets", prefix="curate dedup")


# --- in memory, for library users and tests ---------------------------------------------------

@dataclass
class DedupRun:
    """The step result plus one line per cluster (`--clusters`)."""

    result: StepResult
    clusters: list[dict[str, Any]] = field(default_factory=list)


def run_dedup(records: list[dict[str, Any]], options: DedupOptions, *,
              on_error: str = "raise", engine: EngineOptions = EngineOptions()) -> DedupRun:
    """Deduplicate a list of records with the same stages (through temporary files)."""
    from curate.io import read_records, write_records

    with tempfile.TemporaryDirectory(prefix="curate-dedup-") as scratch:
        source = Path(scratch) / "in.jsonl"
        write_records(source, records)
        out = Path(scratch) / "out.jsonl"
        clusters = Path(scratch) / "clusters.jsonl"
        stats = dedup_inputs([str(source)], out, options.model_copy(update={"clusters": None}),
                             on_error=on_error, engine=engine, clusters=clusters, quiet=True)
        kept = list(read_records(str(out)))
        removed = list(read_records(str(Path(scratch) / "out.removed.jsonl")))
        lines = list(read_records(str(clusters)))
    return DedupRun(StepResult(kept, removed, dict(stats.model_extra or {})), lines)


def dedup_records(records: list[dict[str, Any]], options: DedupOptions, *,
                  on_error: str = "raise") -> StepResult:
    """`run_dedup` without the cluster lines."""
    return run_dedup(records, options, on_error=on_error).result
