"""A labeling database is one project: its task (pairwise, ranking or ratings) and, for
ratings, the criteria and flags, chosen at the first `label import` and fixed after it.

The default criteria (helpful, truthful, harmless on 1-7, each with its guideline; flags
unsafe, hallucination, refusal) are a data file, `assets/criteria.yaml`; `--criteria FILE`
brings others in the same shape.
"""

from __future__ import annotations

import re
from importlib.resources import files
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from schemas import first_error

_NAME = re.compile(r"[a-z][a-z0-9_]{0,31}")
MAX_POINTS = 11
"""Points a criterion's scale may have (one button each)."""


class Criterion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A short identifier: lower-case letters, digits, _.")
    low: int = 1
    high: int = 7
    guideline: str = Field(min_length=1, description="What labelers read for this criterion.")

    @model_validator(mode="after")
    def _check(self) -> Criterion:
        if not _NAME.fullmatch(self.name):
            raise ValueError(f"name: {self.name!r}: lower-case letters, digits and _, starting "
                             "with a letter (at most 32)")
        if not 2 <= self.high - self.low + 1 <= MAX_POINTS:
            raise ValueError(f"{self.name}: a scale of 2 to {MAX_POINTS} points, not "
                             f"{self.low}-{self.high}")
        return self

    @property
    def points(self) -> list[int]:
        return list(range(self.low, self.high + 1))


class Project(BaseModel):
    """What a database's items are and how they are judged."""

    model_config = ConfigDict(extra="forbid")

    task: Literal["pairwise", "ranking", "ratings"]
    criteria: list[Criterion] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)

    @model_validator(mode="after")
    def _check(self) -> Project:
        if self.task == "ratings" and not self.criteria:
            raise ValueError("criteria: a ratings project needs at least one criterion")
        if self.task != "ratings" and (self.criteria or self.flags):
            raise ValueError(f"criteria: only a ratings project has criteria and flags, not "
                             f"a {self.task} one")
        names = [c.name for c in self.criteria]
        if len(set(names)) != len(names):
            raise ValueError("criteria: each name once")
        for flag in self.flags:
            if not _NAME.fullmatch(flag):
                raise ValueError(f"flags: {flag!r}: lower-case letters, digits and _")
        if len(set(self.flags)) != len(self.flags):
            raise ValueError("flags: each once")
        return self

    @property
    def multi(self) -> bool:
        """True for K-way items (ranking, ratings)."""
        return self.task != "pairwise"


def load_criteria(path: str | Path | None = None) -> tuple[list[Criterion], list[str]]:
    """Criteria and flags from a YAML file (`criteria: [...]`, `flags: [...]`), by default
    the bundled ones. A bad file is a `ValueError` naming the file and the field."""
    where = str(path) if path else "the bundled criteria"
    text = (files("labeling_app") / "assets" / "criteria.yaml").read_text("utf-8") \
        if path is None else Path(path).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{where}: not YAML ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("criteria"), list):
        raise ValueError(  # noqa: TRY004 (a bad file, reported as one line like the others)
f"{where}: field 'criteria': a list of {{name, low, high, guideline}}")
    try:
        project = Project(task="ratings", criteria=data["criteria"],
                          flags=data.get("flags") or [])
    except ValidationError as exc:
        field, message = first_error(exc)
        raise ValueError(f"{where}: field '{field}': {message}") from None
    return project.criteria, project.flags


def ratings_project(path: str | Path | None = None) -> Project:
    criteria, flags = load_criteria(path)
    return Project(task="ratings", criteria=criteria, flags=flags)
