"""Step output: kept records, removed records with a reason, rejects and stats.

Every step that drops something writes it, with its `reason`, to
`OUT.removed.jsonl`; bad input skipped with `--on-error skip` goes to
`OUT.rejects.jsonl`; counts go to `OUT.stats.json` and a one-line summary to
stderr. The accounting `in == used + rejected + removed` is checked by
`schemas.StepStats` before anything is reported.
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from curate.io import RecordWriter, Rejects, sidecar, write_json, write_records
from schemas import StepStats


def removal(record: dict[str, Any], reason: str, step: str, **details: Any) -> dict[str, Any]:
    """The line written to `OUT.removed.jsonl`: why, plus the untouched record."""
    return {"reason": reason, "step": step, **details, "record": record}


@dataclass
class StepResult:
    """What a step function returns: kept records, `removal()` lines, step-specific stats."""

    kept: list[dict[str, Any]]
    removed: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


class StepOutput:
    """Collects a step's outputs; on a clean exit writes sidecars and stats.

    Usage::

        with StepOutput("convert", out, rejects=rejects, inputs=[src]) as output:
            for record in records:
                output.n_in += 1
                output.keep(record)          # or output.remove(record, "reason")
    """

    def __init__(self, step: str, out: str | Path, *, rejects: Rejects | None = None,
                 inputs: list[str] | None = None, quiet: bool = False) -> None:
        self.step, self.out = step, Path(out)
        self.rejects = Rejects("raise") if rejects is None else rejects
        self.inputs = [str(i) for i in inputs or []]
        self.quiet = quiet
        self.n_in = 0
        self.used: int | None = None
        self.extra: dict[str, Any] = {}
        self.removed: list[dict[str, Any]] = []
        self.removed_by_reason: Counter[str] = Counter()
        self.stats: StepStats | None = None
        self._writer = RecordWriter(self.out)

    def __enter__(self) -> Self:
        self._started = time.perf_counter()
        self._writer.__enter__()
        return self

    def keep(self, record: dict[str, Any]) -> None:
        self._writer.write(record)

    def remove(self, record: dict[str, Any], reason: str, **details: Any) -> None:
        self.removed.append(removal(record, reason, self.step, **details))
        self.removed_by_reason[reason] += 1

    def add(self, result: StepResult) -> None:
        """Write a whole `StepResult` (kept, removed and extra stats)."""
        self._writer.write_all(result.kept)
        self.removed.extend(result.removed)
        self.removed_by_reason.update(line["reason"] for line in result.removed)
        self.extra.update(result.extra)

    @property
    def n_out(self) -> int:
        return self._writer.count

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self._writer.__exit__(exc_type, exc, tb)
            return
        seconds = time.perf_counter() - self._started
        stats = StepStats(
            step=self.step, n_in=self.n_in, n_out=self._writer.count, used=self.used,
            removed=len(self.removed), rejected=len(self.rejects),
            removed_by_reason=dict(sorted(self.removed_by_reason.items())),
            rejected_by_reason=dict(sorted(self.rejects.by_reason.items())),
            seconds=round(seconds, 4), docs_per_s=round(self.n_in / seconds, 1) if seconds else 0.0,
            inputs=self.inputs, output=str(self.out), **self.extra)
        self._writer.__exit__(None, None, None)
        write_records(sidecar(self.out, "removed.jsonl"), self.removed)
        if self.rejects.mode == "skip":
            write_records(sidecar(self.out, "rejects.jsonl"), self.rejects.records)
        write_json(sidecar(self.out, "stats.json"), stats.model_dump(by_alias=True))
        self.stats = stats
        if not self.quiet:
            print(stats.summary_line(), file=sys.stderr)
