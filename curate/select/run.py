"""`curate select`, out of core: columns in memory, texts on disk.

1. **Measure** (a task per input split): the record's fields, the quality stage (the
   `reasoning` filter), and per record of the pool its domain (a column), the difficulty
   signals (columns, lengths, model loss or solve rate), the seed-set rules and a sampling
   priority. Each task writes these columns, and the questions for clustering, to files;
   quality removals go straight to the removed parts.
2. **Sample** (one task, on a worker): the columns of the pool; domains without a domain
   column (TF-IDF + SVD + k-means fitted on a seeded sample of `domains.FIT_SAMPLE`
   questions, all of them when the pool is smaller, then every question assigned a
   cluster); difficulty ranks, `--drop-solved`, the seeded s1 loop, and a random baseline
   of the same size for the report; a plan per split. The driver gets counts only.
4. **Write** (a task per split, second pass over the data): the selected records, ranked,
   and the removal line of every other pool record; the ranked runs are merged in order.

Memory is O(pool) numbers (and the selected records), never O(texts).
"""

from __future__ import annotations

import pickle
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import xxhash

from curate.dataflow import Sharding, finish_output, formats_of, open_output
from curate.engine import (
    ChainStep,
    EngineOptions,
    Parts,
    StepCounts,
    StepRun,
    records_done,
    step_stats,
)
from curate.io import Rejects, read_split
from curate.io.sources import Split, plan_splits
from curate.select.fields import read_fields
from curate.select.options import SelectOptions
from curate.select.report import Pool, describe
from curate.select.sampling import domain_weights, s1_sample
from curate.select.seed_set import seed_mask
from curate.select.signals import combine, count_tokens
from curate.shuffle import merge_runs, write_run
from curate.step import removal
from schemas import StepStats

STEP = "select"
_BASELINE_STREAM = 1  # the random baseline draws from its own seeded stream


@dataclass(frozen=True)
class MeasureTask:
    index: int
    split: Split
    options: SelectOptions
    work: Path
    on_error: str
    removed: ChainStep
    known_rejects: bool = False


def measure_task(task: MeasureTask) -> dict[str, Any]:
    """Stage 1: fields, quality, signals of one split; columns to `work/measure-tNNNNN.json`."""
    from curate.select.quality import quality_stage

    options = task.options
    parts = Parts(task.removed, task.index, "-quality")
    rejects = Rejects(task.on_error, sink=lambda line: parts.write("rejects", line))
    reader = Rejects("skip") if task.known_rejects else rejects
    rows = list(read_split(task.split, reader))
    records_done(len(rows))
    records = [record for _, record in rows]
    locs = [loc for loc, _ in rows]
    usable, fields = read_fields(records, locs, options, rejects)
    pool_records = [records[i] for i in usable]
    ordinals = list(usable)
    removed_quality = Counter()
    if options.quality and pool_records:
        passed, removed = quality_stage(pool_records, options.model_copy(update={"workers": 1}))
        for line in removed:
            parts.write("removed", line)
            removed_quality[line["reason"]] += 1
        fields = fields.subset(passed)
        ordinals = [ordinals[i] for i in passed]
        pool_records = [pool_records[i] for i in passed]
    columns = _signal_columns(fields, options)
    seeds = seed_mask(pool_records, options.seed_set) if options.seed_set else \
        [False] * len(pool_records)
    priority = [_priority(options.seed, task.index, ordinal) for ordinal in ordinals]
    data = {"ordinals": ordinals, "domains": fields.domains if options.domain_field else None,
            "values": {spec: values.tolist() for spec, values in columns["values"].items()},
            "solved": columns["solved"].tolist(), "model_answers": columns["model_answers"],
            "lengths": count_tokens(fields.answers).tolist(), "seeds": seeds,
            "priority": priority}
    (task.work / f"measure-t{task.index:05d}.json").write_bytes(orjson.dumps(data))
    if options.diversity and not options.domain_field:
        with open(task.work / f"questions-t{task.index:05d}.jsonl", "wb") as handle:
            handle.writelines(orjson.dumps(prompt) + b"\n" for prompt in fields.prompts)
    return {"rows": len(rows) + (0 if task.known_rejects else _bad_lines(rejects)),
            "pool": len(ordinals), "removed": dict(removed_quality),
            "rejected": dict(rejects.by_reason), "parts": parts.close()}


def _bad_lines(rejects: Rejects) -> int:
    field_level = ("missing_field", "bad_field", "no_reference_answer")
    return sum(n for reason, n in rejects.by_reason.items() if reason not in field_level)


def _priority(seed: int, task: int, ordinal: int) -> int:
    """A record's place in the seeded sample order (the smallest values form the sample)."""
    return xxhash.xxh3_64_intdigest(f"{seed}:{task}:{ordinal}".encode()) >> 1


def _signal_columns(fields: Any, options: SelectOptions) -> dict[str, Any]:
    from curate.select.difficulty import measure_difficulty

    if not fields.prompts:
        return {"values": {s.spec: np.zeros(0) for s in options.signals},
                "solved": np.zeros(0, bool), "model_answers": None}
    difficulty = measure_difficulty(fields, options)
    return {"values": difficulty.values, "solved": difficulty.solved,
            "model_answers": difficulty.model_answers}


# --- domains by clustering --------------------------------------------------------------------

@dataclass(frozen=True)
class ClusterTask:
    work: Path
    tasks: int
    sample: tuple[tuple[int, int], ...]  # (task, pool index) of the fit sample
    options: SelectOptions
    total: int


def cluster_task(task: ClusterTask) -> dict[str, Any]:
    """Fit the clustering on the sample, then give every question of the pool a domain."""
    from curate.select.domains import ClusterModel

    wanted: dict[int, set[int]] = {}
    for number, position in task.sample:
        wanted.setdefault(number, set()).add(position)
    texts = []
    for number in range(task.tasks):
        path = task.work / f"questions-t{number:05d}.jsonl"
        if number not in wanted or not path.exists():
            continue
        with open(path, "rb") as handle:
            texts += [orjson.loads(line) for i, line in enumerate(handle) if i in wanted[number]]
    options = task.options
    model = ClusterModel.fit(texts, total=task.total, clusters=options.clusters,
                             embed_model=options.embed_model, seed=options.seed,
                             batch_size=options.batch_size)
    for number in range(task.tasks):
        path = task.work / f"questions-t{number:05d}.jsonl"
        if not path.exists():
            continue
        with open(path, "rb") as handle:
            questions = [orjson.loads(line) for line in handle]
        names = model.assign(questions) if questions else []
        (task.work / f"domains-t{number:05d}.json").write_bytes(orjson.dumps(names))
    return {"clusters": model.count}


# --- writing -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class WriteTask:
    index: int
    split: Split
    work: Path
    parts: ChainStep
    known_rejects: bool


def write_task(task: WriteTask) -> dict[str, Any]:
    """Second pass: ranked selected records to a run file, the rest to removed parts."""
    plan = orjson.loads((task.work / f"plan-t{task.index:05d}.json").read_bytes())
    chosen = {ordinal: (rank, info) for ordinal, rank, info in plan["chosen"]}
    dropped = {ordinal: (reason, stage, info) for ordinal, reason, stage, info in plan["dropped"]}
    examples = set(plan["examples"])
    parts = Parts(task.parts, task.index)
    items, sample = [], []
    removed: Counter[str] = Counter()
    for ordinal, (_, record) in enumerate(read_split(task.split, Rejects("skip"))):
        if ordinal in examples:
            sample.append([ordinal, record])
        if ordinal in chosen:
            rank, info = chosen[ordinal]
            items.append((rank, {**record, "meta": {**(record.get("meta") or {}),
                                                    "select": {"order": rank, **info}}}))
        elif ordinal in dropped:
            reason, stage, info = dropped[ordinal]
            parts.write("removed", removal(record, reason, STEP, stage=stage, **info))
            removed[reason] += 1
    write_run(task.work / f"selected-t{task.index:05d}.jsonl.zst", items)
    (task.work / f"examples-t{task.index:05d}.json").write_bytes(orjson.dumps(sample))
    return {"removed": dict(removed), "parts": parts.close()}


@dataclass(frozen=True)
class MergeSelected:
    runs: tuple[Path, ...]
    parts: ChainStep


def merge_selected(task: MergeSelected) -> dict[str, Any]:
    parts = Parts(task.parts, 0, "-selected")
    count = 0
    for record in merge_runs(list(task.runs)):
        parts.write("data", record)
        count += 1
    return {"kept": count, "parts": parts.close()}


# --- the driver ----------------------------------------------------------------------------------

def select_inputs(inputs: list[str], out: str | Path, options: SelectOptions, *,
                  on_error: str = "raise", split: str = "train",
                  engine: EngineOptions = EngineOptions(), sharding: Sharding = Sharding(),
                  known_rejects: bool = False, quiet: bool = False) -> StepStats:
    """Select `options.k` records from `inputs` into `out` (and its report)."""
    engine = EngineOptions(max(engine.workers, options.workers), engine.engine, engine.batch_size)
    executor = engine.executor()
    splits = plan_splits(inputs, split=split)
    started = time.perf_counter()
    with open_output(out, inputs, on_error=on_error, sharding=sharding) as outset:
        work = outset.staging / "select"
        work.mkdir(parents=True)
        chain = ChainStep(STEP, options, outset.staging / "parts", formats_of(outset),
                          shard_rows=sharding.rows)
        measured = executor.map(measure_task, [
            MeasureTask(n, split_, options, work, on_error, chain, known_rejects)
            for n, split_ in enumerate(splits)], label="measure", prefix="curate select")
        [planned] = executor.map(plan_task, [PlanTask(work, len(splits), options)],
                                 label="sample", prefix="curate select")
        written = executor.map(write_task, [WriteTask(n, split_, work, chain, known_rejects)
                                            for n, split_ in enumerate(splits)],
                               label="write", prefix="curate select")
        runs = tuple(work / f"selected-t{n:05d}.jsonl.zst" for n in range(len(splits)))
        [merged] = executor.map(merge_selected, [MergeSelected(runs, chain)], label="merge",
                                prefix="curate select")
        counts = _counts(measured, written, merged)
        counts.seconds = time.perf_counter() - started
        extra = _stats(options, counts, planned)
        report = None
        if options.report:
            [report] = executor.map(report_task, [ReportTask(work, len(splits), options,
                                                             extra["funnel"])],
                                    label="report", prefix="curate select")
            extra["report"] = report
        run = StepRun(STEP, options, outset, list(inputs), counts)
        stats = step_stats(run, extra)

        def add_report(outset_: Any, stats_: StepStats) -> None:
            if report is None:
                return
            from curate.select.render import write_report_to

            html = outset_.add("select_report_html", outset_.sidecar_path(
                "select_report.html", data=False))
            md = outset_.add("select_report_md", outset_.sidecar_path(
                "select_report.md", data=False))
            write_report_to(report, html=html, markdown=md)

        finish_output(outset, run, stats, sharding=sharding, before_commit=add_report)
    if extra["short_by"] and not quiet:
        print(f"warning: only {stats.n_out} of k={options.k} records could be selected; the "
              "pool ran out", file=sys.stderr)
    if not quiet:
        print(stats.summary_line(), file=sys.stderr)
    return stats


@dataclass(frozen=True)
class PlanTask:
    work: Path
    tasks: int
    options: SelectOptions


def plan_task(task: PlanTask) -> dict[str, int]:
    """The middle of the selection, on a worker: load the pool's columns, give them domains,
    run the s1 loop, and write each split's plan. The driver gets a few counts back."""
    options, work = task.options, task.work
    pool = _load_pool(work, task.tasks, options)
    if options.diversity and not options.domain_field and pool.size:
        sample = _fit_sample(pool, options)
        cluster_task(ClusterTask(work, task.tasks, sample, options, pool.size))
        pool.domains = [name for number in range(task.tasks)
                        for name in _domains_of(work, number)]
    choice = _sample(pool, options)
    _write_plans(work, pool, choice, options, task.tasks)
    with open(work / "pool.pickle", "wb") as handle:
        pickle.dump((pool, choice), handle)
    return {"pool": pool.size, "seeds": int(pool.seeds.sum()),
            "dropped": int(choice.dropped.sum()), "candidates": len(choice.candidates),
            "selected": len(choice.order), "domains": len(choice.weights)}


@dataclass(frozen=True)
class ReportTask:
    work: Path
    tasks: int
    options: SelectOptions
    funnel: dict[str, int]


def report_task(task: ReportTask) -> dict[str, Any]:
    with open(task.work / "pool.pickle", "rb") as handle:
        pool, choice = pickle.load(handle)
    return _report(task.options, pool, choice, task.work, task.tasks, task.funnel)


@dataclass
class PoolColumns:
    """Every pool record's columns, in input order (task, then ordinal)."""

    task: np.ndarray
    ordinal: np.ndarray
    domains: list[str]
    values: dict[str, np.ndarray]
    solved: np.ndarray
    lengths: np.ndarray
    seeds: np.ndarray
    priority: np.ndarray
    model_answers: list[Any] | None

    @property
    def size(self) -> int:
        return len(self.ordinal)


def _load_pool(work: Path, tasks: int, options: SelectOptions) -> PoolColumns:
    task, ordinal, domains, solved, lengths, seeds, priority = [], [], [], [], [], [], []
    values: dict[str, list[float]] = {s.spec: [] for s in options.signals}
    answers: list[Any] | None = [] if any(s.kind == "model-solve" for s in options.signals) \
        else None
    for number in range(tasks):
        data = orjson.loads((work / f"measure-t{number:05d}.json").read_bytes())
        task += [number] * len(data["ordinals"])
        ordinal += data["ordinals"]
        domains += data["domains"] if data["domains"] is not None else \
            ["all"] * len(data["ordinals"])
        for spec in values:
            values[spec] += data["values"].get(spec, [])
        solved += data["solved"]
        lengths += data["lengths"]
        seeds += data["seeds"]
        priority += data["priority"]
        if answers is not None:
            answers += data["model_answers"] or [None] * len(data["ordinals"])
    return PoolColumns(np.asarray(task, np.int64), np.asarray(ordinal, np.int64), domains,
                       {spec: np.asarray(v, float) for spec, v in values.items()},
                       np.asarray(solved, bool), np.asarray(lengths, float),
                       np.asarray(seeds, bool), np.asarray(priority, np.uint64), answers)


def _fit_sample(pool: PoolColumns, options: SelectOptions) -> tuple[tuple[int, int], ...]:
    from curate.select.domains import FIT_SAMPLE

    if pool.size <= FIT_SAMPLE:
        chosen = np.arange(pool.size)
    else:
        chosen = np.sort(np.argpartition(pool.priority, FIT_SAMPLE)[:FIT_SAMPLE])
    starts = {int(t): int(np.searchsorted(pool.task, t)) for t in np.unique(pool.task[chosen])}
    return tuple((int(pool.task[i]), int(i - starts[int(pool.task[i])])) for i in chosen)


def _domains_of(work: Path, number: int) -> list[str]:
    path = work / f"domains-t{number:05d}.json"
    return orjson.loads(path.read_bytes()) if path.exists() else []


@dataclass
class Choice:
    order: list[int]  # pool indices, in selection order
    dropped: np.ndarray  # solved (drop_solved)
    candidates: np.ndarray
    score: np.ndarray
    weights: dict[str, float]
    baseline: list[int]


def _sample(pool: PoolColumns, options: SelectOptions) -> Choice:
    if pool.seeds.sum() > options.k:
        raise ValueError(f"seed_set: the rules match {int(pool.seeds.sum())} records, more than "
                         f"k={options.k}")
    domains = pool.domains if options.diversity else ["all"] * pool.size
    domain_weights(options.domain_weights, Counter(domains))
    score = combine(options.signals, pool.values, pool.size)
    dropped = pool.solved & ~pool.seeds if options.drop_solved else np.zeros(pool.size, bool)
    candidates = np.flatnonzero(~dropped & ~pool.seeds)
    rng = np.random.default_rng(options.seed)
    weights = domain_weights(options.domain_weights, Counter(domains[i] for i in candidates))
    picks = s1_sample([domains[i] for i in candidates], score[candidates],
                      options.k - int(pool.seeds.sum()), rng, weights, options.domain_draw)
    order = [int(i) for i in np.flatnonzero(pool.seeds)] + [int(candidates[i]) for i in picks]
    baseline_rng = np.random.default_rng([options.seed, _BASELINE_STREAM])
    baseline = sorted(baseline_rng.choice(pool.size, size=min(options.k, pool.size),
                                          replace=False).tolist()) if pool.size else []
    pool.domains = domains
    return Choice(order, dropped, candidates, score, weights, baseline)


def _details(pool: PoolColumns, choice: Choice, position: int) -> dict[str, Any]:
    info: dict[str, Any] = {
        "domain": pool.domains[position],
        "difficulty": round(float(choice.score[position]), 6),
        "signals": {spec: _plain(values[position]) for spec, values in pool.values.items()},
        "seed_set": bool(pool.seeds[position]),
    }
    if pool.model_answers is not None:
        info["solved"] = bool(pool.solved[position])
        info["model_answers"] = pool.model_answers[position]
    return info


def _plain(value: Any) -> float | int:
    value = float(value)
    return int(value) if value.is_integer() else round(value, 6)


def _write_plans(work: Path, pool: PoolColumns, choice: Choice, options: SelectOptions,
                 tasks: int) -> None:
    """Per task: which ordinals are chosen (with rank and details), which are dropped (with
    reason), and which the report shows as examples."""
    plans: list[dict[str, list[Any]]] = [{"chosen": [], "dropped": [], "examples": []}
                                         for _ in range(tasks)]
    chosen = set(choice.order)
    for rank, position in enumerate(choice.order):
        plans[pool.task[position]]["chosen"].append(
            [int(pool.ordinal[position]), rank, _details(pool, choice, position)])
    for position in np.flatnonzero(choice.dropped).tolist():
        plans[pool.task[position]]["dropped"].append(
            [int(pool.ordinal[position]), "solved", "difficulty", _details(pool, choice, position)])
    for position in choice.candidates.tolist():
        if position not in chosen:
            plans[pool.task[position]]["dropped"].append(
                [int(pool.ordinal[position]), "not_sampled", "diversity",
                 _details(pool, choice, position)])
    if options.report:
        for position in set(choice.order) | set(choice.baseline):
            plans[pool.task[position]]["examples"].append(int(pool.ordinal[position]))
    for number, plan in enumerate(plans):
        plan["dropped"].sort()
        (work / f"plan-t{number:05d}.json").write_bytes(orjson.dumps(plan))


def _counts(measured: list[dict[str, Any]], written: list[dict[str, Any]],
            merged: dict[str, Any]) -> StepCounts:
    counts = StepCounts()
    for result in measured:
        counts.n_in += result["rows"]
        counts.rejected.update(result["rejected"])
        counts.removed.update(result["removed"])
        for role, entries in result["parts"].items():
            counts.parts.setdefault(role, []).extend(entries)
    for result in written:
        counts.removed.update(result["removed"])
        for role, entries in result["parts"].items():
            counts.parts.setdefault(role, []).extend(entries)
    counts.n_out = counts.used = merged["kept"]
    counts.parts["data"] = merged["parts"].get("data", [])
    return counts


def _stats(options: SelectOptions, counts: StepCounts, planned: dict[str, int]) -> dict[str, Any]:
    quality = counts.n_in - sum(counts.rejected.values()) - planned["pool"]
    funnel = {"in": counts.n_in, "rejected": sum(counts.rejected.values()),
              "removed_quality": quality, "removed_difficulty": planned["dropped"],
              "removed_diversity": planned["candidates"] - (planned["selected"] -
                                                            planned["seeds"]),
              "selected": planned["selected"]}
    return {"k": options.k, "short_by": options.k - planned["selected"],
            "seed_set": planned["seeds"], "domains": planned["domains"],
            "signals": options.difficulty, "funnel": funnel}


def _report(options: SelectOptions, pool: PoolColumns, choice: Choice, work: Path, tasks: int,
            funnel: dict[str, int]) -> dict[str, Any]:
    examples: dict[tuple[int, int], dict[str, Any]] = {}
    for number in range(tasks):
        path = work / f"examples-t{number:05d}.json"
        if path.exists():
            for ordinal, record in orjson.loads(path.read_bytes()):
                examples[(number, ordinal)] = record
    needed = sorted(set(choice.order) | set(choice.baseline))
    index = {position: slot for slot, position in enumerate(needed)}
    records = [examples[(int(pool.task[p]), int(pool.ordinal[p]))] for p in needed]
    solved = pool.solved if any(s.kind in ("model-solve", "labels")
                                for s in options.signals) else None
    described = Pool(records=records, domains=[pool.domains[p] for p in needed],
                     score=choice.score[needed] if needed else np.zeros(0),
                     values={spec: v[needed] for spec, v in pool.values.items()},
                     solved=solved[needed] if solved is not None else None,
                     answers=[""] * len(needed), lengths=pool.lengths[needed],
                     question_field=options.prompt_field or "prompt",
                     domain_count=len(set(pool.domains)))
    return {"k": options.k, "seed": options.seed, "options": options.model_dump(),
            "funnel": funnel, "pool": {"size": pool.size, "domains": len(set(pool.domains))},
            "selection": describe(described, [index[p] for p in choice.order]),
            "random": describe(described, [index[p] for p in choice.baseline])}




def select_records(records: list[dict[str, Any]], options: SelectOptions, *,
                   on_error: str = "raise") -> Any:
    """Select from a list of records with the same engine (through temporary files)."""
    import tempfile

    from curate.io import read_records, write_records
    from curate.step import StepResult

    with tempfile.TemporaryDirectory(prefix="curate-select-") as scratch:
        source = Path(scratch) / "in.jsonl"
        write_records(source, records)
        out = Path(scratch) / "out.jsonl"
        stats = select_inputs([str(source)], out, options, on_error=on_error, quiet=True)
        kept = list(read_records(str(out)))
        removed = list(read_records(str(Path(scratch) / "out.removed.jsonl")))
    return StepResult(kept, removed, dict(stats.model_extra or {}))
