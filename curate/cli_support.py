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


Output = Annotated[str, typer.Option(
    "--output", "-o", help="Output file (.jsonl, .jsonl.gz, .jsonl.zst, .json, .parquet), or a "
    "directory of shards when it ends in '/' (part-NNNNN.jsonl.gz; 'DIR.parquet/' for parquet "
    "shards) with OUT/_manifest.json.")]
OnError = Annotated[OnErrorChoice, typer.Option(
    "--on-error", help="raise: stop at the first bad record (exit 1). skip: set bad records "
    "aside in OUT.rejects and go on.")]
Config = Annotated[Path | None, typer.Option("--config", help="YAML file of options; flags override it.")]
Split = Annotated[str, typer.Option("--split", help="Split to read from a saved or hub dataset.")]
Inputs = Annotated[list[str], typer.Argument(
    help="Inputs: files (.jsonl, .jsonl.gz, .jsonl.zst, .json, .parquet), globs in quotes "
    "('data/*.jsonl.gz'), directories of shards, saved HF dataset dirs, or hub ids.",
    show_default=False)]
Workers = Annotated[int, typer.Option(
    "--workers", min=1, help="Local worker processes; the output is the same for any number.")]
EngineChoice = Annotated[str, typer.Option(
    "--engine", help="local, or ray (joins RAY_ADDRESS when set, else starts Ray here).")]
Shards = Annotated[int | None, typer.Option(
    "--shards", min=1, help="Write exactly N shards (implies a sharded output directory).")]
ShardSize = Annotated[int | None, typer.Option(
    "--shard-size", min=1, help="At most ROWS records per shard (implies a sharded output).")]


def fail(message: str, code: int = EXIT_BAD_INPUT) -> None:
    """Print `error: message` on stderr and exit with `code`."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


INTERRUPTED = "interrupted: nothing was committed (outputs are as they were before this run)"


def cli_errors(function: F | None = None, *, interrupted: str = INTERRUPTED) -> Any:
    """Turn expected failures (bad input, bad options, missing files) into a clear message and
    exit 1; Ctrl-C into `interrupted` and exit 130. `@cli_errors` or
    `@cli_errors(interrupted=...)`."""
    if function is None:
        return functools.partial(cli_errors, interrupted=interrupted)

    @functools.wraps(function)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return function(*args, **kwargs)
        except (BadRecord, OptionsError, FileNotFoundError, ValueError) as exc:
            fail(one_line(exc))
        except OSError as exc:
            fail(os_error(exc))
        except KeyboardInterrupt:
            typer.secho(interrupted, err=True)
            sys.exit(130)

    return wrapper  # type: ignore[return-value]


def one_line(exc: BaseException) -> str:
    """An exception's message on one line (pydantic and others write several). A pydantic
    `ValidationError` (options built in code, not through `curate.options`) becomes
    `Model: field 'x': message`, never its multi-line dump with input values and URLs."""
    from pydantic import ValidationError

    if isinstance(exc, ValidationError):
        from schemas import first_error

        field, message = first_error(exc)
        where = f"field '{field}': " if field != "<record>" else ""
        more = exc.error_count() - 1
        text = f"{exc.title}: {where}{message}" + (f" (and {more} more errors)" if more else "")
    else:
        text = str(exc)
    text = " ".join(text.split()) or type(exc).__name__
    return text if len(text) <= 2000 else text[:2000] + " ..."


def os_error(exc: OSError) -> str:
    """`path: reason` for a file system error (no space, no permission, ...)."""
    import errno

    reason = {errno.ENOSPC: "no space left on the device",
              errno.EACCES: "permission denied", errno.EROFS: "read-only file system",
              errno.EISDIR: "is a directory", errno.ENOTDIR: "not a directory",
              errno.EDQUOT: "disk quota exceeded"}.get(exc.errno or 0, exc.strerror or str(exc))
    where = exc.filename or ""
    return f"{where}: {reason}" if where else reason


def engine_options(workers: int = 1, engine: str = "local") -> Any:
    """Validated engine settings from the shared flags."""
    from curate.engine import EngineOptions

    if engine not in ("local", "ray"):
        raise OptionsError(f"--engine {engine!r}: choose local or ray")
    return EngineOptions(workers=workers, engine=engine)  # type: ignore[arg-type]


def sharding(shards: int | None = None, shard_size: int | None = None) -> Any:
    from curate.dataflow import Sharding

    if shards and shard_size:
        raise OptionsError("--shards and --shard-size: give one or the other")
    return Sharding(rows=shard_size, count=shards)


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
