"""Paths in a recipe are relative to the recipe file, wherever `curate run` is started.

Input fields must name an existing file (or a hub id); optional path fields (a model,
a tokenizer, a preset) are rewritten only when such a file exists, so names like
`sft-default` or a hub id pass through. (Outputs go under the run directory.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from curate.io import looks_like_hub_id
from curate.options import OptionsError
from curate.recipes.context import StepType


def resolve_paths(values: dict[str, Any], spec: StepType, recipe_dir: Path,
                  where: str) -> dict[str, Any]:
    """`values` with the step's path fields made relative to `recipe_dir`."""
    resolved = dict(values)
    for name in (*spec.inputs, *spec.paths):
        value = values.get(name)
        if value is None:
            continue
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            continue  # the options model reports the type error
        paths = [_resolve(item, recipe_dir, name, spec, where) for item in items]
        resolved[name] = paths[0] if isinstance(value, str) else paths
    return resolved


def _resolve(item: str, recipe_dir: Path, name: str, spec: StepType, where: str) -> str:
    path = Path(item).expanduser()
    candidate = Path(os.path.normpath(path if path.is_absolute() else recipe_dir / path))
    if candidate.exists():
        return str(candidate)
    if name in spec.inputs and not looks_like_hub_id(item):
        raise OptionsError(f"{where}: field '{name}': no such file {item} "
                           f"(looked for {candidate})")
    return item


def referenced_files(values: dict[str, Any], spec: StepType) -> list[Path]:
    """Existing files and directories named by the step's input and path fields, to hash."""
    found: list[Path] = []
    for name in (*spec.inputs, *spec.paths):
        value = values.get(name)
        for item in [value] if isinstance(value, str) else value or []:
            if isinstance(item, str) and Path(item).exists():
                found.append(Path(item))
    return found
