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

Relative paths are relative to the recipe file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from curate.io import looks_like_hub_id
from curate.options import OptionsError, load_yaml, validate_options
from curate.recipes.steps import STEP_TYPES, StepType


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


def load_recipe(path: str | Path) -> Recipe:
    """Parse and validate a recipe; unknown steps, bad options and missing files fail here."""
    path = Path(path)
    header = validate_options(RecipeHeader, load_yaml(path), where=str(path))
    steps = [_parse_step(path, index, entry) for index, entry in enumerate(header.steps, start=1)]
    if steps[0].type != "read":
        raise OptionsError(f"{path}: step 1 must be 'read' (got {steps[0].type!r})")
    return Recipe(path, header, steps)


def _parse_step(path: Path, index: int, entry: Any) -> Step:
    where = f"{path}: step {index}"
    if not (isinstance(entry, dict) and len(entry) == 1):
        raise OptionsError(f"{where}: expected a mapping with one key, the step name "
                           f"(one of {', '.join(STEP_TYPES)})")
    [(name, values)] = entry.items()
    if name not in STEP_TYPES:
        raise OptionsError(f"{where}: unknown step {name!r}; known steps: {', '.join(STEP_TYPES)}")
    spec = STEP_TYPES[name]
    options = validate_options(spec.options, values or {}, where=f"{where} ({name})")
    for field in spec.input_fields:
        value = getattr(options, field)
        for item in value if isinstance(value, list) else [value] if value else []:
            if not (path.parent / item).exists() and not looks_like_hub_id(str(item)):
                raise OptionsError(f"{where} ({name}): field '{field}': no such file {item}")
    return Step(index, name, spec, options)
