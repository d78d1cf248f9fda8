"""Format conversion: any supported input -> canonical records -> any output format.

Records stream through one at a time (OASST's flat export is grouped into trees
first), are validated against `schemas`, and are rendered to the target format.
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.formats import RENDERERS, alpaca, columns, detect_format, hh, messages, oasst, sharegpt
from curate.io import BadRecord, Loc, Rejects, read_rows
from curate.step import StepOutput
from schemas import Conversation, PreferencePair, StepStats, first_error

SourceFormat = Literal["auto", "alpaca", "sharegpt", "messages", "oasst", "hh", "columns"]
TargetFormat = Literal["auto", "messages", "prompt-completion", "alpaca", "sharegpt", "preference"]

_PARSERS = {"alpaca": alpaca.parse, "sharegpt": sharegpt.parse, "messages": messages.parse,
            "hh": hh.parse}


class ConvertOptions(BaseModel):
    """Options of `curate convert` (and of a recipe's `convert` step)."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    source_format: SourceFormat = Field("auto", alias="from", description="Input format; auto-detected.")
    to: TargetFormat = Field("auto", description="Output format; auto = messages for "
                             "conversations, preference for pairs.")
    oasst_mode: Literal["best", "all"] = Field("best", description="OASST SFT threads: rank-0 path "
                                               "per tree, or every root-to-leaf thread.")
    pairs: Literal["all", "extremes"] = Field("all", description="OASST pairs: every ranked sibling "
                                              "pair, or best vs worst.")
    lang: list[str] = Field(default_factory=list, description="OASST: keep only these languages.")
    drop_synthetic: bool = Field(False, description="OASST: drop synthetic messages.")
    prompt_field: str | None = Field(None, description="Columns format: the prompt column.")
    response_field: str | None = Field(None, description="Columns format: the response column.")


@dataclass
class Outcome:
    """What became of some input rows: output records, or a removal reason."""

    locs: list[Loc]
    rows: list[dict[str, Any]]
    records: list[dict[str, Any]]
    removed_reason: str | None = None
    dropped_nodes: Counter[str] = field(default_factory=Counter)


def convert_rows(rows: Iterable[tuple[Loc, dict[str, Any]]], options: ConvertOptions,
                 rejects: Rejects) -> Iterator[Outcome]:
    """Convert input rows; bad rows go to `rejects` (which raises by default)."""
    rows = iter(rows)
    first = next(rows, None)
    if first is None:
        return
    rows = chain([first], rows)
    source = options.source_format
    if source == "auto":
        try:
            source = detect_format(first[1])
        except ValueError as exc:
            raise ValueError(f"{first[0]}: {exc}") from None
    if source == "oasst":
        yield from _convert_oasst(rows, options, rejects)
        return
    parse = _row_parser(source, options, first[1])
    for index, (loc, row) in enumerate(rows):
        try:
            record = _validated(parse(row, loc, index), loc, row)
            yield Outcome([loc], [row], [render(record, options.to)])
        except BadRecord as exc:
            rejects(exc)
        except ValueError as exc:
            rejects(BadRecord(loc, "<record>", str(exc), reason="unconvertible", record=row))


def _row_parser(source: str, options: ConvertOptions, first: dict[str, Any]):
    if source != "columns":
        return _PARSERS[source]
    fields = (options.prompt_field, options.response_field)
    if None in fields:
        fields = columns.detect_fields(first) or fields
    if None in fields:
        raise ValueError("the columns format needs --prompt-field and --response-field")
    return lambda row, loc, index: columns.parse(row, loc, index, *fields)


def _validated(record: dict[str, Any], loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    model = Conversation if "messages" in record else PreferencePair
    try:
        return model.model_validate(record).model_dump()
    except ValidationError as exc:
        field, message = first_error(exc)
        reason = "unknown_role" if field.endswith(".role") else "invalid_record"
        raise BadRecord(loc, field, message, reason=reason, record=row) from None


def render(record: dict[str, Any], target: str) -> dict[str, Any]:
    """A validated canonical record in the target format."""
    if target == "auto":
        return record
    return RENDERERS[target](record)


def _convert_oasst(rows: Iterable[tuple[Loc, dict[str, Any]]], options: ConvertOptions,
                   rejects: Rejects) -> Iterator[Outcome]:
    tree_options = oasst.TreeOptions(mode=options.oasst_mode, pairs=options.pairs,
                                     langs=options.lang, drop_synthetic=options.drop_synthetic)
    kind = "pairs" if options.to == "preference" else "sft"
    for unit in oasst.tree_units(rows, rejects):
        dropped: Counter[str] = Counter()
        records = oasst.convert_tree(unit, tree_options, kind, dropped)
        if not records:
            root_reason = oasst.drop_reason(unit.root, tree_options)
            reason = f"oasst_{root_reason}" if root_reason else (
                "oasst_no_ranked_pair" if kind == "pairs" else "oasst_no_assistant_reply")
            yield Outcome(unit.locs, unit.rows, [], reason, dropped)
            continue
        target = "auto" if options.to == "preference" else options.to
        try:
            converted = [render(_validated(r, unit.locs[0], unit.rows[0]), target) for r in records]
        except (BadRecord, ValueError) as exc:
            for loc, row in zip(unit.locs, unit.rows):
                rejects(BadRecord(loc, getattr(exc, "field", "<tree>"), getattr(exc, "message", str(exc)),
                                  reason="invalid_record", record=row))
            continue
        yield Outcome(unit.locs, unit.rows, converted, dropped_nodes=dropped)


def convert_file(source: str | Path, out: str | Path, options: ConvertOptions, *,
                 on_error: Literal["raise", "skip"] = "raise", split: str = "train") -> StepStats:
    """`curate convert`: stream `source` into `out`, with sidecar stats/removed/rejects files."""
    rejects = Rejects(on_error)
    dropped_nodes: Counter[str] = Counter()
    with StepOutput("convert", out, rejects=rejects, inputs=[str(source)]) as output:
        rows_read = 0

        def counted(rows: Iterable[tuple[Loc, dict[str, Any]]]) -> Iterator[tuple[Loc, dict[str, Any]]]:
            nonlocal rows_read
            for row in rows:
                rows_read += 1
                yield row

        used = 0
        for outcome in convert_rows(counted(read_rows(source, rejects=rejects, split=split)),
                                    options, rejects):
            dropped_nodes.update(outcome.dropped_nodes)
            if outcome.removed_reason:
                for row in outcome.rows:
                    output.remove(row, outcome.removed_reason)
                continue
            used += len(outcome.rows)
            for record in outcome.records:
                output.keep(record)
        output.n_in = rows_read + rejects.by_reason["bad_json"]
        output.used = used
        if dropped_nodes:
            output.extra["oasst_nodes_dropped"] = dict(sorted(dropped_nodes.items()))
        if output.n_in == 0:
            print(f"warning: {source} has no records; wrote an empty {out}", file=sys.stderr)
    assert output.stats is not None
    return output.stats
