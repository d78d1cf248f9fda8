"""What a step returns, and how a removed record is written.

A step is a function of records: it returns the records it keeps, `removal()` lines for
the ones it drops (each with its `reason` and the step's name) and step-specific
statistics. `in == used + removed + rejected` is checked by `schemas.StepStats` before
anything is reported (`used`: inputs that produced output, for steps that fan out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


def removal(record: dict[str, Any], reason: str, step: str, **details: Any) -> dict[str, Any]:
    """The line written to `OUT.removed`: why, plus the untouched record."""
    return {"reason": reason, "step": step, **details, "record": record}


@dataclass
class StepResult:
    """Kept records, `removal()` lines, step-specific stats; `used` when inputs fan out."""

    kept: list[dict[str, Any]]
    removed: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    used: int | None = None


class StepOutput:
    """A small step's output set written from this process: kept records stream to a staged
    file, removed lines and rejects are kept in memory; on a clean exit OUT, OUT.removed,
    OUT.rejects (skip mode) and OUT.stats.json are committed together (`OutputSet`).

    Usage::

        with StepOutput("export", out, rejects=rejects, inputs=[src]) as output:
            for record in records:
                output.n_in += 1
                output.keep(record)          # or output.remove(record, "reason")
    """

    def __init__(self, step: str, out: Any, *, rejects: Any = None,
                 inputs: list[str] | None = None, quiet: bool = False) -> None:
        from collections import Counter
        from pathlib import Path

        from curate.io import Rejects

        self.step, self.out = step, Path(out)
        self.rejects = Rejects("raise") if rejects is None else rejects
        self.inputs = [str(i) for i in inputs or []]
        self.quiet = quiet
        self.n_in = 0
        self.n_out = 0
        self.used: int | None = None
        self.extra: dict[str, Any] = {}
        self.removed: list[dict[str, Any]] = []
        self.removed_by_reason: Counter[str] = Counter()
        self.stats: Any = None

    def __enter__(self) -> StepOutput:
        import time
        from pathlib import Path

        from curate.engine import part_format
        from curate.io.outputs import OutputSet
        from curate.io.write import PartWriter

        self._started = time.perf_counter()
        self._outset = OutputSet(self.out, inputs=[Path(i) for i in self.inputs
                                                    if Path(i).exists()], sharded=False)
        self._outset.add("removed", self._outset.sidecar_path("removed"))
        if self.rejects.mode == "skip":
            self._outset.add("rejects", self._outset.sidecar_path("rejects"))
        self._outset.__enter__()
        # OUT's own line format (zstd lines for .json/.parquet, which the join rewrites): the
        # join copies JSON Lines parts byte for byte.
        fmt = part_format(self._outset.format)
        self._part = PartWriter(self._outset.staging / f"kept.{fmt}", fmt)
        return self

    def keep(self, record: dict[str, Any]) -> None:
        self._part.write(record)
        self.n_out += 1

    def remove(self, record: dict[str, Any], reason: str, **details: Any) -> None:
        self.removed.append(removal(record, reason, self.step, **details))
        self.removed_by_reason[reason] += 1

    def add(self, result: StepResult) -> None:
        """Write a whole `StepResult` (kept, removed and extra stats)."""
        for record in result.kept:
            self.keep(record)
        self.removed.extend(result.removed)
        self.removed_by_reason.update(line["reason"] for line in result.removed)
        self.extra.update(result.extra)

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        import sys
        import time

        from curate.engine import join_parts
        from curate.io.write import write_records
        from schemas import StepStats

        try:
            if exc_type is not None:
                self._part.abort()
                return
            self._part.close()
            seconds = time.perf_counter() - self._started
            stats = StepStats(
                step=self.step, n_in=self.n_in, n_out=self.n_out, used=self.used,
                removed=len(self.removed), rejected=len(self.rejects),
                removed_by_reason=dict(sorted(self.removed_by_reason.items())),
                rejected_by_reason=dict(sorted(self.rejects.by_reason.items())),
                seconds=round(seconds, 4),
                docs_per_s=round(self.n_in / seconds, 1) if seconds else 0.0,
                inputs=self.inputs, output=str(self.out), **self.extra)
            outset = self._outset
            outset.members["data"].entry = join_parts([self._part.path], outset.staged("data"))
            write_records(outset.staged("removed"), self.removed)
            if "rejects" in outset.members:
                write_records(outset.staged("rejects"), self.rejects.records)
            outset.commit(stats.model_dump(by_alias=True))
            self.stats = stats
            if not self.quiet:
                print(stats.summary_line(), file=sys.stderr)
        finally:
            self._outset.__exit__(exc_type, exc, tb)
