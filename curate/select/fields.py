"""Read, once and up front, what the selection stages need from each record.

Every record needs a question. A record that lacks something else a chosen stage needs (a
solution, a column) is bad input: it is reported with its file:line and field (or, with
`--on-error skip`, set aside as a reject), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from curate.io import BadRecord, Loc, Rejects
from curate.select.answers import extract_answer
from curate.select.options import SelectOptions
from curate.views import text_view

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


@dataclass
class Row:
    """What the stages need from one record."""

    prompt: str
    answer: str
    reference: str | None = None
    domain: str | None = None
    numbers: dict[str, float] = field(default_factory=dict)  # column: and labels: signals
    solved: dict[str, bool] = field(default_factory=dict)  # labels: signals
    texts: dict[str, str] = field(default_factory=dict)  # length:FIELD signals


@dataclass
class Fields:
    """Per-record inputs of the stages, column by column, aligned with the usable records."""

    prompts: list[str] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)
    references: list[str | None] = field(default_factory=list)
    domains: list[str | None] = field(default_factory=list)
    numbers: dict[str, list[float]] = field(default_factory=dict)
    solved: dict[str, list[bool]] = field(default_factory=dict)
    length_texts: dict[str, list[str]] = field(default_factory=dict)

    def append(self, row: Row) -> None:
        self.prompts.append(row.prompt)
        self.answers.append(row.answer)
        self.references.append(row.reference)
        self.domains.append(row.domain)
        for columns, values in ((self.numbers, row.numbers), (self.solved, row.solved),
                                (self.length_texts, row.texts)):
            for spec, value in values.items():
                columns.setdefault(spec, []).append(value)

    def subset(self, positions: list[int]) -> Fields:
        """The fields of the records at `positions`, in that order."""

        def pick(values: list) -> list:
            return [values[i] for i in positions]

        def pick_each(columns: dict[str, list]) -> dict[str, list]:
            return {spec: pick(values) for spec, values in columns.items()}

        return Fields(pick(self.prompts), pick(self.answers), pick(self.references),
                      pick(self.domains), pick_each(self.numbers), pick_each(self.solved),
                      pick_each(self.length_texts))

    def number_arrays(self) -> dict[str, np.ndarray]:
        return {spec: np.asarray(values, dtype=float) for spec, values in self.numbers.items()}


def read_fields(records: list[dict[str, Any]], locs: list[Loc], options: SelectOptions,
                rejects: Rejects) -> tuple[list[int], Fields]:
    """The positions of usable records and their `Fields`; bad ones go to `rejects`."""
    kinds = {signal.kind for signal in options.signals}
    needs_answer = options.quality or "model-loss" in kinds or any(
        s.kind == "length" and not s.field for s in options.signals) or (
        "model-solve" in kinds and not options.reference_field)
    fields = Fields()
    usable: list[int] = []
    for position, (record, loc) in enumerate(zip(records, locs, strict=True)):
        try:
            fields.append(_read_one(record, loc, options, needs_answer, "model-solve" in kinds))
        except BadRecord as error:
            rejects(error)
            continue
        usable.append(position)
    return usable, fields


def _read_one(record: dict[str, Any], loc: Loc, options: SelectOptions, needs_answer: bool,
              needs_reference: bool) -> Row:
    if not isinstance(record.get("meta") or {}, dict):
        raise BadRecord(loc, "meta", "expected an object (the selection is recorded in "
                        "meta.select)", reason="bad_field", record=record)
    if options.quality and not isinstance(record.get("scores") or {}, dict):
        raise BadRecord(loc, "scores", "expected an object (the quality filter keeps its scores "
                        "there); rename this column", reason="bad_field", record=record)
    answer_view = options.answer_field or "response"
    row = Row(prompt=_text(record, loc, options.prompt_field or "prompt", required=True),
              answer=_text(record, loc, answer_view, required=needs_answer))
    if needs_reference and options.reference_field:
        row.reference = _text(record, loc, options.reference_field, required=True)
    elif needs_reference:
        row.reference = extract_answer(row.answer)
        if row.reference is None:
            raise BadRecord(loc, answer_view, "no final answer found in the solution (expected "
                            "'#### N', '\\boxed{...}' or a number); give --reference-field",
                            reason="no_reference_answer", record=record)
    if options.diversity and options.domain_field:
        row.domain = _text(record, loc, options.domain_field, required=True)
    for signal in options.signals:
        if signal.kind == "column":
            row.numbers[signal.spec] = _number(record, loc, signal.field)
        elif signal.kind == "labels":
            row.numbers[signal.spec] = _solvers(record, loc, signal.field)
            row.solved[signal.spec] = row.numbers[signal.spec] > 0
        elif signal.kind == "length" and signal.field:
            row.texts[signal.spec] = _text(record, loc, signal.field, required=True)
    return row


def _text(record: dict[str, Any], loc: Loc, view: str, *, required: bool) -> str:
    try:
        return text_view(record, view)
    except (KeyError, TypeError):
        if not required:
            return ""
        raise BadRecord(loc, view, "missing (needed by the chosen selection stages)",
                        reason="missing_field", record=record) from None


def _value(record: dict[str, Any], loc: Loc, path: str) -> Any:
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict) or value.get(key) is None:
            raise BadRecord(loc, path, "missing", reason="missing_field", record=record)
        value = value[key]
    return value


def _number(record: dict[str, Any], loc: Loc, path: str) -> float:
    value = _value(record, loc, path)
    if isinstance(value, bool | int | float):
        return float(value)
    found = _NUMBER.findall(value) if isinstance(value, str) else []
    if len(found) != 1:
        raise BadRecord(loc, path, f"expected a number (or text with one number), got {value!r}",
                        reason="bad_field", record=record)
    return float(found[0])


def _solvers(record: dict[str, Any], loc: Loc, path: str) -> float:
    value = _value(record, loc, path)
    if isinstance(value, list):
        return float(len(value))
    if isinstance(value, bool | int | float):
        return float(value)
    raise BadRecord(loc, path, f"expected a list of models that solved it, a bool or a count, "
                    f"got {value!r}", reason="bad_field", record=record)
