"""Shared CLI pieces of `curate`, `label` and `train`: option types, error handling, exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from curate.io import BadRecord
from curate.options import OptionsError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_BAD_INPUT = 1
EXIT_NOT_AVAILABLE = 2


class OnErrorChoice(str, Enum):
    raise_ = "raise"
    skip = "skip"


Output = Annotated[Path, typer.Option("--output", "-o", help="Output file: .jsonl, .jsonl.gz, .json or .parquet.")]
OnError = Annotated[OnErrorChoice, typer.Option(
    "--on-error", help="raise: stop at the first bad record (exit 1). skip: write bad records to OUT.rejects.jsonl.")]
Config = Annotated[Path | None, typer.Option("--config", help="YAML file of options; flags override it.")]
Split = Annotated[str, typer.Option("--split", help="Split to read from a saved or hub dataset.")]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print `error: message` on stderr and exit with `code`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def cli_errors(function: F) -> F:
    """Turn expected failures (bad input, bad options, missing files) into a clear message and exit 1."""

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (BadRecord, OptionsError, FileNotFoundError, ValueError) as exc:
            fail(str(exc))
        except KeyboardInterrupt:
            typer.secho("interrupted: no partial output was written", err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def not_yet_available(name: str) -> Callable[..., None]:
    """A placeholder command for a feature whose issue has not landed."""

    def command() -> None:
        fail(f"'{name}' is not yet available", EXIT_NOT_AVAILABLE)

    command.__doc__ = f"{name} (not yet available)."
    return command


def existing_file(path: Path) -> Path:
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such file or directory")
    return path
