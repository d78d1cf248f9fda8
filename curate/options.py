"""Command options: a YAML file validated by pydantic, overridden by flags.

Each command (and each recipe step) has one pydantic model of options, so a
flag, a `--config` file and a recipe step all go through the same validation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from schemas import first_error

Options = TypeVar("Options", bound=BaseModel)


class OptionsError(ValueError):
    """Invalid options, naming where they came from and the field."""


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML mapping, with a clear error for anything else."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise OptionsError(f"{path}: config file not found") from None
    except yaml.YAMLError as exc:
        raise OptionsError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise OptionsError(f"{path}: expected a mapping of options, got {type(data).__name__}")
    return data


def build_options(model: type[Options], /, *, config: str | Path | None = None,
                  where: str | None = None, **flags: Any) -> Options:
    """Validate `model` from the config file, then flags that are not None on top."""
    values = load_yaml(config) if config else {}
    values.update({key: value for key, value in flags.items() if value is not None})
    return validate_options(model, values, where=where or (str(config) if config else "options"))


def validate_options(model: type[Options], values: dict[str, Any], *, where: str) -> Options:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        field, message = first_error(exc)
        named = f"field '{field}': " if field != "<record>" else ""  # a whole-model check
        raise OptionsError(f"{where}: {named}{message}") from None
