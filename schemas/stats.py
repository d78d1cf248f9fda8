"""The statistics record every step writes to `OUT.stats.json`."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class StepStats(BaseModel):
    """Counts of one step. The accounting identity is checked on construction:

    `in == used + rejected + removed`, where `used` is the number of inputs that
    produced output (equal to `out` for one-to-one steps, smaller or larger when
    one input fans out into several records, as OASST trees do).
    """

    model_config = ConfigDict(populate_by_name=True, extra="allow")

    step: str
    n_in: int = Field(alias="in", ge=0)
    n_out: int = Field(alias="out", ge=0)
    used: int | None = Field(default=None, ge=0)
    removed: int = Field(default=0, ge=0)
    rejected: int = Field(default=0, ge=0)
    removed_by_reason: dict[str, int] = Field(default_factory=dict)
    rejected_by_reason: dict[str, int] = Field(default_factory=dict)
    seconds: float = 0.0
    docs_per_s: float = 0.0
    inputs: list[str] = Field(default_factory=list)
    output: str | None = None

    @model_validator(mode="after")
    def _accounting(self) -> StepStats:
        if sum(self.removed_by_reason.values()) != self.removed:
            raise ValueError(f"removed_by_reason sums to {sum(self.removed_by_reason.values())}, "
                             f"not removed={self.removed}")
        if sum(self.rejected_by_reason.values()) != self.rejected:
            raise ValueError("rejected_by_reason does not sum to rejected")
        used = self.n_out if self.used is None else self.used
        if self.n_in != used + self.rejected + self.removed:
            raise ValueError(f"accounting broken: in={self.n_in} != used={used} + "
                             f"rejected={self.rejected} + removed={self.removed}")
        return self

    def summary_line(self) -> str:
        """The one-line summary printed on stderr."""
        parts = [f"{self.step}: in={self.n_in}", f"out={self.n_out}"]
        if self.removed:
            parts.append(f"removed={self.removed}")
        if self.rejected:
            parts.append(f"rejected={self.rejected}")
        parts.append(f"{self.seconds:.2f}s ({self.docs_per_s:,.0f} docs/s)")
        return " ".join(parts)
