"""`curate run --engine ray`: the same step functions, run as Ray Data `map_batches`.

* read: JSON Lines are split into lines on the driver and parsed on the workers by
  `parse_json_line`, the local reader's own parser; other formats are read on the driver.
* score, filter, decontam: each block goes through the step's `BatchStep.apply`; the
  driver puts the results back in input order and builds the stats with `summarize`.
* dedup: the same `run_dedup`, with `curate.dedup.on_ray` sketching on the workers and
  grouping band keys with Ray's groupby (see there for what is gathered on the driver).
* convert, select, pairs, write need every record at once (OASST trees, joins, a global
  sample) and run on the driver.

Records travel as JSON text, so nothing is re-typed by Arrow and the output is
byte-identical to the local engine's.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from curate.io import BadRecord, Loc, dumps
from curate.io.read import parse_json_line
from curate.raydata import map_rows
from curate.recipes.context import BatchStep, Records, StepContext, StepRun
from curate.recipes.recipe import Step
from curate.recipes.steps import run_dedup_step
from curate.step import StepResult

_LINE_FORMATS = (".jsonl", ".jsonl.gz", ".ndjson")


def run_on_ray(step: Step, records: Records, ctx: StepContext) -> StepRun:
    if step.spec.batch is not None:
        return _batch_step(step.spec.batch, records, step.options, ctx)
    if step.type == "read" and all(_is_lines(path) for path in step.options.path):
        return _read(step.options, ctx)
    if step.type == "dedup":
        from curate.dedup.on_ray import RAY

        return run_dedup_step(records, step.options, ctx, backend=RAY)
    return step.spec.run(records, step.options, ctx)


def _is_lines(path: str) -> bool:
    return Path(path).is_file() and path.lower().endswith(_LINE_FORMATS)


def _batch_step(spec: BatchStep, records: Records, options: Any, ctx: StepContext) -> StepRun:
    accepted = spec.accept(records, options, ctx)  # cheap checks; rejects stay on the driver

    def apply(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        result = spec.apply([json.loads(row["json"]) for row in rows], options)
        return [{"result": dumps(vars(result))}]  # one row per block, blocks in order

    results = [StepResult(**json.loads(row["result"])) for row in
               map_rows([{"json": dumps(record)} for record in accepted], apply)]
    merged = StepResult([record for result in results for record in result.kept],
                        [line for result in results for line in result.removed])
    merged.extra = spec.summarize(options, results)
    return StepRun(merged, n_in=len(records))


def _read(options: Any, ctx: StepContext) -> StepRun:
    lines = []
    for source in options.path:
        with _open(source) as handle:
            lines += [{"file": source, "line": number, "json": text}
                      for number, text in enumerate(handle, start=1) if text.strip()]

    def parse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        records, bad = [], []
        for row in rows:
            try:
                records.append(parse_json_line(row["json"], Loc(str(row["file"]), int(row["line"]))))
            except BadRecord as error:
                bad.append(error.as_reject())
        return [{"records": dumps(records), "bad": dumps(bad)}]

    kept = []
    for block in map_rows(lines, parse):
        kept += json.loads(block["records"])
        for bad in json.loads(block["bad"]):
            ctx.rejects(BadRecord(Loc(bad["file"], bad["line"]), bad["field"], bad["error"],
                                  reason=bad["reason"], record=bad["record"]))
    return StepRun(StepResult(kept), n_in=len(lines))


def _open(source: str) -> Any:
    if source.lower().endswith(".gz"):
        import gzip

        return gzip.open(source, "rt", encoding="utf-8")
    return open(source, encoding="utf-8")
