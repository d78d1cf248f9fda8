"""Command-line flags generated from the options models: one definition of each option.

A field of a `train.options` model becomes a typer option: its name gives the flag
(`grad_accum` -> `--grad-accum`), its description the help, its default the
`(default: ...)` note, and the value goes back through the same model (with `--config`
underneath), so flags, config files and code validate alike.
"""

from __future__ import annotations

import functools
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from curate.cli_support import Config
from curate.options import OptionsError, build_options

COMMON_PANEL = "Common options"

# Training options every training command takes, in the order `--help` lists them.
COMMON = ("max_steps", "epochs", "lr", "lr_scheduler", "warmup_ratio", "batch_size",
          "grad_accum", "max_length", "seed", "eval_split", "eval_data", "eval_steps",
          "logging_steps", "save_steps", "bf16", "gradient_checkpointing",
          "attn_implementation", "lora", "resume", "force", "overwrite", "report_to",
          "on_error", "chat_template", "push_to_hub", "hub_private")

_SHORT = {"output": "-o", "k": "-k"}
_SWITCHES = ("resume", "force", "overwrite")  # flags without a --no- form


def options_command(model: type[BaseModel], own: Sequence[str], *, common: Sequence[str] = (),
                    arguments: Sequence[str] = (), name: str | None = None) -> Callable:
    """Decorate `body(options)` into a typer command whose flags are `model`'s fields:
    `arguments` positional, then `own`, then `common` (in the "Common options" panel)."""

    def decorate(body: Callable[[Any], Any]) -> Callable[..., Any]:
        where = f"train {name or body.__name__}"
        parameters = [_parameter(model, name, argument=True) for name in arguments]
        parameters += [_parameter(model, name) for name in own]
        parameters.append(inspect.Parameter("config", inspect.Parameter.KEYWORD_ONLY,
                                            default=None, annotation=Config))
        parameters += [_parameter(model, name, panel=COMMON_PANEL) for name in common]

        @functools.wraps(body)
        def command(**values: Any) -> Any:
            config = values.pop("config", None)
            try:
                options = build_options(model, config=config, where=where, **values)
            except OptionsError as error:
                raise _named_flag(error, model, where) from None
            return body(options)

        command.__signature__ = inspect.Signature(parameters)  # what typer reads
        command.__annotations__ = {}
        del command.__wrapped__  # typer must see the generated signature, not body's
        return command

    return decorate


def _named_flag(error: OptionsError, model: type[BaseModel], where: str) -> OptionsError:
    """"field 'data': Field required" -> "--data is required": users type flags."""
    for name, field in model.model_fields.items():
        if field.is_required() and f"field '{name}': Field required" in str(error):
            return OptionsError(f"{where}: {flag(name)} is required")
    return error


def flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def _parameter(model: type[BaseModel], name: str, *, panel: str | None = None,
               argument: bool = False) -> inspect.Parameter:
    field = model.model_fields[name]
    kind = _cli_type(field.annotation)
    help_text = _help(field)
    if argument:
        info = typer.Argument(help=help_text, show_default=False)
        return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                                 annotation=Annotated[kind | None, info])
    if kind is bool:
        declarations = [flag(name)] if name in _SWITCHES else \
            [f"{flag(name)}/--no-{name.replace('_', '-')}"]
    else:
        declarations = [flag(name), *([_SHORT[name]] if name in _SHORT else [])]
    info = typer.Option(*declarations, help=help_text, show_default=False,
                        rich_help_panel=panel)
    return inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=None,
                             annotation=Annotated[kind | None, info])


def _help(field: FieldInfo) -> str:
    text = (field.description or "").strip()
    default = field.default
    if field.is_required() or default is None or isinstance(default, (dict, list, BaseModel)):
        return text
    shown = ("on" if default else "off") if isinstance(default, bool) else default
    return f"{text} (default: {shown})".strip()


def _cli_type(annotation: Any) -> type:
    """The type typer parses; pydantic validates the value afterwards. Unions of a path and a
    string, lists and nested models are given as strings (`--lora r=16,alpha=32`)."""
    union = isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union
    options = [a for a in typing.get_args(annotation) if a is not type(None)] if union \
        else [annotation]
    if len(options) == 1:
        (only,) = options
        if only in (bool, int, float, Path):
            return only
    return str
