"""Bad input: where it happened (`Loc`), what was wrong (`BadRecord`), where it goes (`Rejects`)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

OnError = Literal["raise", "skip"]


@dataclass(frozen=True, slots=True)
class Loc:
    """A record's origin: the file and its 1-based line (or row number for tables)."""

    path: str
    line: int
    index: int | None = None  # 0-based record number in the file, where lines do not give it

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"

    @property
    def row(self) -> int:
        """The record's 0-based position in its file (its line, less one, for JSON Lines)."""
        return self.line - 1 if self.index is None else self.index


class BadRecord(ValueError):
    """An input record that cannot be used, with file:line, field and reason."""

    def __init__(self, loc: Loc, field: str, message: str, *, reason: str = "invalid_record",
                 record: Any = None) -> None:
        self.loc, self.field, self.message, self.reason, self.record = loc, field, message, reason, record
        where = f"field '{field}': " if field and not field.startswith("<") else ""
        super().__init__(f"{loc}: {where}{message}")

    def as_reject(self) -> dict[str, Any]:
        """The line written to the rejects file: the reason and the untouched input."""
        return {"reason": self.reason, "error": self.message, "field": self.field,
                "file": self.loc.path, "line": self.loc.line, "record": self.record}

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across worker processes
        return (_rebuild, (self.loc, self.field, self.message, self.reason, self.record))


def _rebuild(loc: Loc, field: str, message: str, reason: str, record: Any) -> BadRecord:
    return BadRecord(loc, field, message, reason=reason, record=record)


class DamagedInput(BadRecord):
    """The rest of a file cannot be read (a truncated or corrupt compressed stream, or a JSON
    array broken past a point): the lines before `loc` were read, nothing after."""

    def __init__(self, loc: Loc, message: str) -> None:
        super().__init__(loc, "<file>", message, reason="damaged_file")

    def __reduce__(self) -> tuple[Any, ...]:
        return (DamagedInput, (self.loc, self.message))


Sink = Callable[[dict[str, Any]], None]


class Rejects:
    """Receives bad records: raises them (`raise`) or sets them aside (`skip`).

    In `skip` mode each reject line goes to `sink` when one is given (a part file of
    `OUT.rejects`, so memory does not grow with the number of bad lines), else it is kept
    in `records`. Counts by reason are always kept, for the stats.
    """

    def __init__(self, mode: OnError = "raise", sink: Sink | None = None) -> None:
        if mode not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {mode!r}")
        self.mode = mode
        self.sink = sink
        self.records: list[dict[str, Any]] = []
        self.by_reason: Counter[str] = Counter()

    def __call__(self, error: BadRecord) -> None:
        if self.mode == "raise":
            raise error
        line = error.as_reject()
        if self.sink is not None:
            self.sink(line)
        else:
            self.records.append(line)
        self.by_reason[error.reason] += 1

    def __len__(self) -> int:
        return sum(self.by_reason.values())

    def __bool__(self) -> bool:  # an empty collector is still a collector
        return True


def describe_json_error(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON ({exc.msg}, column {exc.colno})"
