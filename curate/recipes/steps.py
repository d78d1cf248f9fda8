"""The step types a recipe can use. Each calls the same function as its `curate` command,
with the same options model, so a recipe step and a command behave alike."""

from __future__ import annotations

from collections import Counter
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.convert import ConvertOptions, convert_rows
from curate.decontam import DecontamOptions, decontam_records, eval_index, hit_report
from curate.dedup import DedupOptions, run_dedup
from curate.dedup.backend import LOCAL, Backend
from curate.filtering import FilterOptions, filter_records
from curate.io import BadRecord, Loc, Rejects, read_rows, write_records
from curate.pairs import PairsOptions, blind_pairs, pair_outputs
from curate.recipes.context import (
    BatchStep,
    Records,
    StepContext,
    StepRun,
    StepType,
    run_batch_step,
)
from curate.scoring import ScoreOptions, ScoreSummary, Unreadable, score_records, text_check
from curate.select import SelectOptions, select_records, write_report
from curate.step import StepResult, removal


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
    """Save the records to a file (they also pass through to the next step)."""

    model_config = ConfigDict(extra="forbid")

    path: str = Field(description="Output file, relative to the run directory.")


class PairsStepOptions(PairsOptions):
    """`curate pairs` as a step: the incoming records are model A's outputs joined with
    model B's file `b`; without `b` they are preference pairs, re-labeled blind."""

    b: str | None = Field(None, description="Model B's outputs (else: blind preference pairs).")


def run_read(records: Records, options: ReadOptions, ctx: StepContext) -> StepRun:
    """The incoming records (if any) were saved by the `write` step before this one."""
    kept: Records = []
    for source in options.path:
        kept.extend(record for _, record in read_rows(source, rejects=ctx.rejects,
                                                      split=options.split))
    return StepRun(StepResult(kept), n_in=len(kept) + ctx.rejects.by_reason["bad_json"])


def read_origins(options: ReadOptions) -> list[Loc]:
    """The `file:line` of each record `run_read` returns, found by reading again."""
    return [loc for source in options.path
            for loc, _ in read_rows(source, rejects=Rejects("skip"), split=options.split)]


def run_convert(records: Records, options: ConvertOptions, ctx: StepContext) -> StepRun:
    result, used = StepResult([]), 0
    for outcome in convert_rows(zip(ctx.locs(len(records)), records), options, ctx.rejects):
        if outcome.removed_reason:
            result.removed += [removal(row, outcome.removed_reason, "convert") for row in outcome.rows]
        else:
            used += len(outcome.rows)
            result.kept += outcome.records
    return StepRun(result, n_in=len(records), used=used)


def run_dedup_step(records: Records, options: DedupOptions, ctx: StepContext,
                   backend: Backend = LOCAL) -> StepRun:
    run = run_dedup(records, options, rejects=ctx.rejects, locs=ctx.locs(len(records)),
                    backend=backend)
    if options.clusters:
        write_records(ctx.run_dir / options.clusters, run.clusters)
    return StepRun(run.result, n_in=len(records))


def run_select(records: Records, options: SelectOptions, ctx: StepContext) -> StepRun:
    result = select_records(records, options, locs=ctx.locs(len(records)), rejects=ctx.rejects)
    if options.report:
        write_report(ctx.step_dir / "out.jsonl", result.extra["report"])
    return StepRun(result, n_in=len(records))


def run_pairs(records: Records, options: PairsStepOptions, ctx: StepContext) -> StepRun:
    rows = list(zip(ctx.locs(len(records)), records))
    if options.b is None:
        return StepRun(blind_pairs(rows, options, rejects=ctx.rejects), n_in=len(records))
    bad_json = ctx.rejects.by_reason["bad_json"]
    rows_b = list(read_rows(options.b, rejects=ctx.rejects))
    n_in = len(records) + len(rows_b) + ctx.rejects.by_reason["bad_json"] - bad_json
    result = pair_outputs(rows, rows_b, options, names=("a", "b"), rejects=ctx.rejects)
    return StepRun(result, n_in=n_in, used=2 * len(result.kept))


def run_write(records: Records, options: WriteOptions, ctx: StepContext) -> StepRun:
    path = ctx.run_dir / options.path  # an absolute path stays as it is
    write_records(path, records)
    return StepRun(StepResult(records, extra={"written_to": str(path)}), n_in=len(records))


def accept_readable(records: Records, options: Any, ctx: StepContext) -> Records:
    """Records whose texts the options name; the others go to rejects (file:line, field)."""
    check, accepted = text_check(options), []
    for loc, record in zip(ctx.locs(len(records)), records):
        try:
            check(record)
        except Unreadable as exc:
            ctx.rejects(BadRecord(loc, exc.field, exc.message, reason=exc.reason, record=record))
            continue
        accepted.append(record)
    return accepted


def accept_all(records: Records, options: Any, ctx: StepContext) -> Records:
    return records


def score_batch(records: Records, options: ScoreOptions) -> StepResult:
    return StepResult(score_records(records, options))


def summarize_scores(options: ScoreOptions, results: list[StepResult]) -> dict[str, Any]:
    summary = ScoreSummary()
    for result in results:
        summary.add(result.kept)
    return {"scores": summary.as_dict()}


def summarize_filter(options: FilterOptions, results: list[StepResult]) -> dict[str, Any]:
    failed: Counter[str] = Counter()
    for result in results:
        failed.update(result.extra.get("failed_by_rule", {}))
    return {"rules": options.rules(), "failed_by_rule": dict(sorted(failed.items()))}


def summarize_decontam(options: DecontamOptions, results: list[StepResult]) -> dict[str, Any]:
    return hit_report(eval_index(options), [line for result in results for line in result.removed])


def _batch_step(spec: BatchStep):
    return lambda records, options, ctx: run_batch_step(spec, records, options, ctx)


SCORE = BatchStep(accept_readable, score_batch, summarize_scores)
FILTER = BatchStep(accept_readable, filter_records, summarize_filter)
DECONTAM = BatchStep(accept_all, decontam_records, summarize_decontam)
_MODELS = ("tokenizer", "toxicity_model")

STEP_TYPES: dict[str, StepType] = {
    "read": StepType(ReadOptions, run_read, inputs=("path",)),
    "convert": StepType(ConvertOptions, run_convert),
    "dedup": StepType(DedupOptions, run_dedup_step, inputs=("against",)),
    "decontam": StepType(DecontamOptions, _batch_step(DECONTAM), inputs=("against",),
                         batch=DECONTAM),
    "score": StepType(ScoreOptions, _batch_step(SCORE), inputs=("against",), paths=_MODELS,
                      batch=SCORE),
    "filter": StepType(FilterOptions, _batch_step(FILTER), inputs=("against",),
                       paths=(*_MODELS, "preset"), batch=FILTER),
    "select": StepType(SelectOptions, run_select, paths=(
        "tokenizer", "model", "embed_model", "domain_weights", "quality_preset")),
    "pairs": StepType(PairsStepOptions, run_pairs, inputs=("b",)),
    "write": StepType(WriteOptions, run_write, cacheable=False),
}
