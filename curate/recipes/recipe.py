"""Recipes: a YAML list of steps, each validated before any work starts.

```yaml
name: sft_from_alpaca
on_error: skip          # raise (default) | skip
steps:
  - read: {path: data/alpaca.json}
  - convert: {to: messages}
  - dedup: {method: both}
  - filter: {preset: sft-default}
  - write: {path: out/sft.jsonl}
```

A later `read` (right after a `write`) starts a new stream, so one recipe can make
several outputs. Each step takes the options of its command. Relative paths are relative to the recipe file.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from curate.options import OptionsError, load_yaml, validate_options
from curate.recipes.context import StepType
from curate.recipes.overrides import apply_overrides
from curate.recipes.paths import referenced_files, resolve_paths
from curate.recipes.steps import STEP_TYPES


class RecipeHeader(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    description: str | None = None
    output: str | None = Field(None, description="Default run directory.")
    on_error: Literal["raise", "skip"] = "raise"
    steps: list[Any] = Field(min_length=1)


@dataclass
class Step:
    index: int
    type: str
    spec: StepType
    options: BaseModel
    written: dict[str, Any]  # the options as written in the recipe (paths unresolved)
    files: list[Path]  # files the options name (eval sets, models): their content is hashed

    @property
    def dir_name(self) -> str:
        return f"{self.index:02d}_{self.type}"


@dataclass
class Recipe:
    path: Path
    header: RecipeHeader
    steps: list[Step]

    @property
    def directory(self) -> Path:
        return self.path.parent


def load_recipe(path: str | Path, overrides: list[str] | None = None) -> Recipe:
    """Parse and validate a recipe (with `--set` overrides applied); unknown steps, bad
    options and missing files fail here, before any work starts."""
    path = Path(path)
    header = validate_options(RecipeHeader, load_yaml(path), where=str(path))
    raw = apply_overrides(header.steps, overrides or [])
    steps = [_parse_step(path, index, entry) for index, entry in enumerate(raw, start=1)]
    _check_order(path, steps)
    return Recipe(path, header, steps)


def _check_order(path: Path, steps: list[Step]) -> None:
    """A recipe starts with `read`; a later `read` starts a new stream, so the records before
    it must have been written (nothing is dropped unsaved). Outputs named in options (dedup's
    `clusters`, `write`) stay out of the step folders, whose contents the runner owns."""
    import re

    for step in steps:
        target = getattr(step.options, "clusters", None) or (
            step.options.path if step.type == "write" else None)  # type: ignore[attr-defined]
        if target and re.match(r"^\d\d_[a-z_]+$", Path(target).parts[0]):
            raise OptionsError(f"{path}: step {step.index} ({step.type}): {target} lies in a "
                               "step folder of the run; choose a path outside the NN_step folders")
    if steps[0].type != "read":
        raise OptionsError(f"{path}: step 1 must be 'read' (got {steps[0].type!r})")
    for before, step in itertools.pairwise(steps):
        if step.type == "read" and before.type != "write":
            raise OptionsError(f"{path}: step {step.index} (read) starts a new stream; put a "
                               f"'write' step before it so step {before.index}'s records are kept")


def _parse_step(path: Path, index: int, entry: Any) -> Step:
    where = f"{path}: step {index}"
    if not (isinstance(entry, dict) and len(entry) == 1):
        raise OptionsError(f"{where}: expected a mapping with one key, the step name "
                           f"(one of {', '.join(STEP_TYPES)})")
    [(name, values)] = entry.items()
    if name not in STEP_TYPES:
        raise OptionsError(f"{where}: unknown step {name!r}; known steps: {', '.join(STEP_TYPES)}")
    spec = STEP_TYPES[name]
    values = values or {}
    if not isinstance(values, dict):
        raise OptionsError(f"{where} ({name}): expected a mapping of options, "
                           f"got {type(values).__name__}")
    resolved = resolve_paths(values, spec, path.parent, f"{where} ({name})")
    options = validate_options(spec.options, resolved, where=f"{where} ({name})")
    return Step(index, name, spec, options, values, referenced_files(resolved, spec))
