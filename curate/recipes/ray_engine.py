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
        return ([{"kind": "kept", "json": dumps(record)} for record in result.kept]
                + [{"kind": "removed", "json": dumps(line)} for line in result.removed]
                + [{"kind": "extra", "json": dumps(result.extra)}])

    results: list[StepResult] = []
    for row in map_rows([{"json": dumps(record)} for record in accepted], apply):
        if row["kind"] == "extra":
            results.append(StepResult([], [], json.loads(row["json"])))
        else:
            if not results or results[-1].extra:  # a block's rows precede its "extra" row
                results.append(StepResult([]))
            getattr(results[-1], row["kind"]).append(json.loads(row["json"]))
    merged = StepResult([r for result in results for r in result.kept],
                        [line for result in results for line in result.removed])
    merged.extra = spec.summarize(options, results)
    return StepRun(merged, n_in=len(records))


def _read(options: Any, ctx: StepContext) -> StepRun:
    lines = []
    for source in options.path:
        opener = _open(source)
        with opener as handle:
            lines += [{"file": source, "line": number, "json": text}
                      for number, text in enumerate(handle, start=1) if text.strip()]

    def parse(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for row in rows:
            loc = Loc(str(row["file"]), int(row["line"]))
            try:
                out.append({"kind": "record", "json": dumps(parse_json_line(row["json"], loc)),
                            "line": int(row["line"])})
            except BadRecord as error:
                out.append({"kind": "bad", "json": dumps(error.as_reject()),
                            "line": int(row["line"])})
        return out

    kept = []
    for row in map_rows(lines, parse):
        if row["kind"] == "record":
            kept.append(json.loads(row["json"]))
        else:
            bad = json.loads(row["json"])
            ctx.rejects(BadRecord(Loc(bad["file"], bad["line"]), bad["field"], bad["error"],
                                  reason=bad["reason"], record=bad["record"]))
    return StepRun(StepResult(kept), n_in=len(lines))


def _open(source: str) -> Any:
    if source.lower().endswith(".gz"):
        import gzip

        return gzip.open(source, "rt", encoding="utf-8")
    return open(source, encoding="utf-8")
