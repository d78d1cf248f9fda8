"""The `curate` command: one Typer app, one module per subcommand."""

from __future__ import annotations

import importlib

import typer

_COMMANDS = ("convert", "stats", "schema", "dedup", "score", "filter", "decontam", "select",
             "pairs", "run", "report")

app = typer.Typer(
    name="curate",
    help="Curate instruction and preference data: convert, inspect, dedup, filter, select.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

for _name in _COMMANDS:
    app.command(_name)(importlib.import_module(f"curate.commands.{_name}").command)

if __name__ == "__main__":
    app()
