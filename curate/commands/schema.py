"""`curate schema NAME`: the JSON Schema of a record type."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from curate.cli_support import fail
from schemas.registry import SCHEMAS


def command(name: Annotated[str, typer.Argument(help=f"One of: {', '.join(SCHEMAS)}.")]) -> None:
    """Print the JSON Schema of a record type (for validators in other languages).

    Example: curate schema preference-pair > preference-pair.schema.json
    """
    if name not in SCHEMAS:
        fail(f"unknown schema {name!r}; choose from {', '.join(SCHEMAS)}")
    typer.echo(json.dumps(SCHEMAS[name].model_json_schema(by_alias=True), indent=2))
