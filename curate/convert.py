"""Format conversion: any supported input -> canonical records -> any output format.

Flat formats (Alpaca, ShareGPT, messages/TRL, HH, columns) convert record by record, a
batch at a time, on the engine. OASST's flat message export is a set of trees spread over
many rows: those rows are shuffled by tree id into partitions (`curate.shuffle`), trees are
built and converted one partition at a time, and the results are merged in input order.

The input format is detected once, from a sample of the first rows (a vote, so one odd
first row does not decide), or given with `--from`. Degenerate preference pairs (chosen
equal to rejected, or an empty side) are removed with a reason: they teach nothing, or
teach to prefer empty answers.
"""

from __future__ import annotations

import functools
import sys
from collections import Counter
from itertools import islice
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from curate.formats import RENDERERS, alpaca, columns, detect_format, hh, messages, oasst, sharegpt
from curate.io import BadRecord, Loc, Rejects
from curate.io.read import read_split
from curate.io.sources import Split, plan_splits
from curate.step import StepResult, removal
from schemas import Conversation, PreferencePair, StepStats, first_error

SourceFormat = Literal["auto", "alpaca", "sharegpt", "messages", "oasst", "hh", "columns"]
TargetFormat = Literal["auto", "messages", "prompt-completion", "alpaca", "sharegpt", "preference"]

STEP = "convert"
SAMPLE_ROWS = 200
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
    unranked: Literal["first", "skip"] = Field("first", description="OASST best thread when "
                                               "sibling replies have no rank: take the first "
                                               "listed (counted), or stop the thread there.")
    tree_state: list[str] = Field(default_factory=list, description="OASST: keep only trees in "
                                  "these states (e.g. ready_for_export).")
    lang: list[str] = Field(default_factory=list, description="OASST: keep only these languages.")
    drop_synthetic: bool = Field(False, description="OASST: drop synthetic messages.")
    prompt_field: str | None = Field(None, description="Columns format: the prompt column.")
    response_field: str | None = Field(None, description="Columns format: the response column.")

    @field_validator("lang", mode="before")
    @classmethod
    def _language_codes(cls, value: Any) -> Any:
        from curate.text.languages import parse_code

        return [parse_code(code) for code in value] if isinstance(value, list) else value


# --- detection -----------------------------------------------------------------------------

def resolve_format(splits: list[Split], options: ConvertOptions) -> ConvertOptions:
    """Options with `source_format` (and the columns' fields) decided from a sample."""
    if options.source_format != "auto" and (options.source_format != "columns" or (
            options.prompt_field and options.response_field)):
        return options
    sample = list(islice(_sample_rows(splits), SAMPLE_ROWS))
    if not sample:
        return options.model_copy(update={"source_format": "messages"}) \
            if options.source_format == "auto" else options
    source = options.source_format
    if source == "auto":
        votes: Counter[str] = Counter()
        for _, record in sample:
            try:
                votes[detect_format(record)] += 1
            except ValueError:
                continue
        if not votes:
            loc, record = sample[0]
            detect_format_or_fail(record, loc)
        source = votes.most_common(1)[0][0]
    update: dict[str, Any] = {"source_format": source}
    if source == "columns" and None in (options.prompt_field, options.response_field):
        found = next((fields for _, record in sample
                      if (fields := columns.detect_fields(record))), None)
        if found is None:
            raise ValueError("the columns format needs --prompt-field and --response-field")
        update["prompt_field"] = options.prompt_field or found[0]
        update["response_field"] = options.response_field or found[1]
    return options.model_copy(update=update)


def detect_format_or_fail(record: dict[str, Any], loc: Loc) -> str:
    try:
        return detect_format(record)
    except ValueError as exc:
        raise ValueError(f"{loc}: {exc}") from None


def _sample_rows(splits: list[Split]):
    quiet = Rejects("skip")
    for split in splits:
        yield from read_split(split, quiet)


# --- flat formats, a batch at a time -------------------------------------------------------

def convert_batch(records: list[dict[str, Any]], locs: list[Loc], options: ConvertOptions,
                  rejects: Rejects) -> StepResult:
    """Convert one batch of a flat format (`options.source_format` resolved)."""
    parse = _row_parser(options)
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for loc, row in zip(locs, records):
        try:
            record = validated(parse(row, loc, loc.row), loc, row)
            reason = degenerate_pair(record)
            rendered = None if reason else render(record, options.to)
        except BadRecord as exc:
            rejects(exc)
            continue
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            rejects(BadRecord(loc, "<record>", _message(exc), reason="unconvertible", record=row))
            continue
        if reason:
            removed.append(removal(row, reason, STEP, line=loc.line, file=loc.path))
            continue
        kept.append(rendered)
    return StepResult(kept, removed)


def _message(exc: Exception) -> str:
    return str(exc) if isinstance(exc, ValueError) else f"unreadable record ({exc})"


def _row_parser(options: ConvertOptions):
    source = options.source_format
    if source == "columns":
        return functools.partial(_columns, fields=(options.prompt_field, options.response_field))
    return _PARSERS[source]


def _columns(row: dict[str, Any], loc: Loc, index: int, *, fields: tuple[str, str]) -> dict[str, Any]:
    return columns.parse(row, loc, index, *fields)


def validated(record: dict[str, Any], loc: Loc, row: dict[str, Any]) -> dict[str, Any]:
    model = Conversation if "messages" in record else PreferencePair
    try:
        return model.model_validate(record).model_dump()
    except ValidationError as exc:
        field, message = first_error(exc)
        reason = "unknown_role" if field.endswith(".role") else "invalid_record"
        raise BadRecord(loc, field, message, reason=reason, record=row) from None


def degenerate_pair(record: dict[str, Any]) -> str | None:
    """Why a canonical preference pair cannot teach a preference, if it cannot: an empty
    chosen or rejected answer, or the same answer on both sides."""
    if "chosen" not in record:
        return None
    chosen = [m["content"].strip() for m in record["chosen"] if m["role"] == "assistant"]
    rejected = [m["content"].strip() for m in record["rejected"] if m["role"] == "assistant"]
    if not any(chosen):
        return "empty_chosen"
    if not any(rejected):
        return "empty_rejected"
    if chosen == rejected:
        return "identical_chosen_rejected"
    return None


def render(record: dict[str, Any], target: str) -> dict[str, Any]:
    """A validated canonical record in the target format."""
    if target == "auto":
        return record
    return RENDERERS[target](record)


# --- OASST trees, through the shuffle ------------------------------------------------------

def oasst_tree_key(record: dict[str, Any]) -> str:
    """Rows of one tree share a key: its tree id (flat rows without one share the empty key
    and are assembled together)."""
    tree = record.get("message_tree_id")
    if tree is None and oasst.is_tree_row(record):
        tree = (record.get("prompt") or {}).get("message_id")
    if tree is None and record.get("parent_id") is None and record.get("replies"):
        tree = record.get("message_id")
    return str(tree) if tree is not None else ""


def convert_oasst_partition(rows: list[Any], options: ConvertOptions,
                            rejects: Rejects) -> list[tuple[tuple, dict[str, Any]]]:
    """Trees of one partition -> `(position, payload)` items: kept records (kind "kept"),
    removed rows (kind "removed") and node counters (kind "nodes")."""
    tree_options = oasst.TreeOptions(mode=options.oasst_mode, pairs=options.pairs,
                                     langs=options.lang, drop_synthetic=options.drop_synthetic,
                                     unranked=options.unranked, tree_states=options.tree_state)
    kind = "pairs" if options.to == "preference" else "sft"
    target = "auto" if options.to == "preference" else options.to
    position_of = {id(row.record): row.position for row in rows}
    out: list[tuple[tuple, dict[str, Any]]] = []
    for unit in oasst.tree_units([(row.loc, row.record) for row in rows], rejects):
        position = min(position_of[id(r)] for r in unit.rows)
        dropped: Counter[str] = Counter()
        if unit.duplicate_of is not None:
            reason = "oasst_duplicate_tree"
            records = []
        else:
            records = oasst.convert_tree(unit, tree_options, kind, dropped)
            reason = None if records else oasst.empty_reason(unit, tree_options, kind)
        if reason == "oasst_lang":  # the languages seen, for a --lang that matched nothing
            out.append((position, {"kind": "nodes",
                                   "counts": {f"root_lang:{unit.root.lang or '?'}": 1}}))
        if reason:
            for loc, row in zip(unit.locs, unit.rows):
                details = {"tree_id": unit.tree_id, "line": loc.line, "file": loc.path}
                if unit.duplicate_of is not None:
                    details["duplicate_of"] = str(unit.duplicate_of)
                out.append((position_of[id(row)], {"kind": "removed",
                                                   "line": removal(row, reason, STEP, **details)}))
        else:
            try:
                converted = [render(validated(r, unit.locs[0], unit.rows[0]), target)
                             for r in records]
            except BadRecord as exc:
                for loc, row in zip(unit.locs, unit.rows):
                    rejects(BadRecord(loc, exc.field, exc.message, reason="invalid_record",
                                      record=row))
                continue
            good = [(record, degenerate_pair(record)) for record in converted]
            out.append((position, {"kind": "kept", "records": [r for r, bad in good if not bad],
                                   "used": len(unit.rows),
                                   "removed_pairs": [removal(r, bad, STEP, tree_id=unit.tree_id)
                                                     for r, bad in good if bad]}))
        if dropped:
            out.append((position, {"kind": "nodes", "counts": dict(dropped)}))
    return out


# --- the command ---------------------------------------------------------------------------

def convert_inputs(inputs: list[str], out: str | Path, options: ConvertOptions, *,
                   on_error: str = "raise", split: str = "train", engine: Any = None,
                   sharding: Any = None, quiet: bool = False) -> StepStats:
    """`curate convert`: every input into `out` with its sidecars."""
    from curate.dataflow import Sharding, run_record_step
    from curate.engine import EngineOptions

    engine = engine or EngineOptions()
    sharding = sharding or Sharding()
    splits = plan_splits(inputs, split=split)
    per_split = resolve_per_file(splits, options)
    formats = {o.source_format for o in per_split}
    if "oasst" in formats and len(formats) > 1:
        raise ValueError("OASST trees and other formats in one convert: convert them separately")
    options = per_split[0] if per_split else resolve_format(splits, options)
    if options.source_format == "oasst":
        from curate.oasst_convert import convert_oasst

        return convert_oasst(inputs, splits, out, options, on_error=on_error, engine=engine,
                             sharding=sharding, quiet=quiet)
    if options.lang or options.tree_state:
        print("warning: --lang and --tree-state apply to OASST trees only; ignored for "
              f"{options.source_format}", file=sys.stderr)
    return run_record_step("convert", options, inputs, out, on_error=on_error, engine=engine,
                           splits=splits, split_options=per_split, sharding=sharding, quiet=quiet)


def resolve_per_file(splits: list[Split], options: ConvertOptions) -> list[ConvertOptions]:
    """Resolved options for each split: the format is detected file by file (several inputs
    may be in different formats), from a sample at the start of each file."""
    by_file: dict[str, ConvertOptions] = {}
    for split in splits:
        if split.path not in by_file:
            first = [s for s in splits if s.path == split.path]
            by_file[split.path] = resolve_format(first, options)
    return [by_file[split.path] for split in splits]
