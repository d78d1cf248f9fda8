"""`curate run --set STEP.FIELD=VALUE`: change a recipe's option from the command line.

STEP is a step name (when the recipe has one step of that type), its number, or its
directory name (`05_filter`); FIELD may be dotted (`filter.thresholds.words.min=5`).
VALUE is read as YAML (`0.3`, `true`, `[a, b]`). A value naming an existing file
relative to the current directory is made absolute, since it was typed here, not in the
recipe's folder.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import yaml

from curate.options import OptionsError


def apply_overrides(steps: list[Any], overrides: list[str]) -> list[Any]:
    """A copy of the raw `steps` list (one-key mappings) with every override applied."""
    steps = copy.deepcopy(steps)
    for override in overrides:
        target, value = _parse(override)
        step_key, *fields = target.split(".")
        if not fields:
            raise OptionsError(f"--set {override}: expected STEP.FIELD=VALUE")
        entry = steps[_find_step(steps, step_key, override)]
        [(name, options)] = entry.items()
        options = entry[name] = dict(options or {})
        for field in fields[:-1]:
            inner = options.get(field)
            options[field] = dict(inner) if isinstance(inner, dict) else {}
            options = options[field]
        options[fields[-1]] = value
    return steps


def _parse(override: str) -> tuple[str, Any]:
    target, sep, text = override.partition("=")
    if not sep or not target:
        raise OptionsError(f"--set {override}: expected STEP.FIELD=VALUE")
    try:
        value = yaml.safe_load(text) if text else ""
    except yaml.YAMLError as exc:
        raise OptionsError(f"--set {override}: the value is not valid YAML ({exc})") from None
    return target, _absolute_if_file(value)


def _absolute_if_file(value: Any) -> Any:
    if isinstance(value, list):
        return [_absolute_if_file(item) for item in value]
    if isinstance(value, str) and value and Path(value).exists():
        return str(Path(value).resolve())
    return value


def _find_step(steps: list[Any], key: str, override: str) -> int:
    names = [next(iter(entry)) if isinstance(entry, dict) and entry else None for entry in steps]
    by_dir = {f"{index:02d}_{name}": index - 1 for index, name in enumerate(names, start=1)}
    if key in by_dir:
        return by_dir[key]
    if key.isdigit() and 1 <= int(key) <= len(steps):
        return int(key) - 1
    matches = [index for index, name in enumerate(names) if name == key]
    if len(matches) == 1:
        return matches[0]
    where = "no step" if not matches else f"{len(matches)} steps"
    raise OptionsError(f"--set {override}: {where} named {key!r}; use a number or one of "
                       f"{', '.join(by_dir)}")
