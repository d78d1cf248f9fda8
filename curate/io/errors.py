"""Bad input: where it happened (`Loc`), what was wrong (`BadRecord`), where it goes (`Rejects`)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any, Literal

OnError = Literal["raise", "skip"]


@dataclass(frozen=True, slots=True)
class Loc:
    """A record's origin: the file and its 1-based line (or row number for tables)."""

    path: str
    line: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}"


class BadRecord(ValueError):
    """An input record that cannot be used, with file:line, field and reason."""

    def __init__(self, loc: Loc, field: str, message: str, *, reason: str = "invalid_record",
                 record: Any = None) -> None:
        self.loc, self.field, self.message, self.reason, self.record = loc, field, message, reason, record
        super().__init__(f"{loc}: field '{field}': {message}")

    def as_reject(self) -> dict[str, Any]:
        """The line written to the rejects file: the reason and the untouched input."""
        return {"reason": self.reason, "error": self.message, "field": self.field,
                "file": self.loc.path, "line": self.loc.line, "record": self.record}


class Rejects:
    """Receives bad records: raises them (`raise`) or collects them (`skip`).

    In `skip` mode the collected rejects are written by the step's output writer
    to `OUT.rejects.jsonl`, so `in == out + rejected + removed` can be checked.
    """

    def __init__(self, mode: OnError = "raise") -> None:
        if mode not in ("raise", "skip"):
            raise ValueError(f"on_error must be 'raise' or 'skip', not {mode!r}")
        self.mode = mode
        self.records: list[dict[str, Any]] = []
        self.by_reason: Counter[str] = Counter()

    def __call__(self, error: BadRecord) -> None:
        if self.mode == "raise":
            raise error
        self.records.append(error.as_reject())
        self.by_reason[error.reason] += 1

    def __len__(self) -> int:
        return len(self.records)


def describe_json_error(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON ({exc.msg} at column {exc.colno})"
