"""`curate stats`: what is in a dataset, before and after each step."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from curate.cli_support import OnError, OnErrorChoice, Split, cli_errors
from curate.convert import ConvertOptions, convert_rows
from curate.io import Rejects, read_rows
from curate.stats import dataset_stats


@cli_errors
def command(
    source: Annotated[str, typer.Argument(help="Input file, saved HF dataset dir, or hub id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
) -> None:
    """Record count, turns, roles, prompt/response length percentiles and languages.

    Any supported input format is read through the same converters as `curate convert`.

    Example: curate stats data/sft.jsonl --json
    """
    rejects = Rejects(on_error.value)

    def records() -> Iterator[dict[str, Any]]:
        rows = read_rows(source, rejects=rejects, split=split)
        for outcome in convert_rows(rows, ConvertOptions(), rejects):
            yield from outcome.records

    stats = dataset_stats(records()) | {"source": source, "rejected": len(rejects)}
    if as_json:
        typer.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        _print_table(stats)


def _print_table(stats: dict[str, Any]) -> None:
    console = Console()
    console.print(f"[bold]{stats['source']}[/]: {stats['records']:,} records {stats['kinds']}"
                  + (f", {stats['rejected']} rejected" if stats["rejected"] else ""))
    console.print(f"roles: {stats['roles']}")
    table = Table("length", "min", "p5", "p25", "p50", "p75", "p95", "max", "mean")
    for name, row in [("turns", stats["turns"]), *stats["lengths"].items()]:
        if row.get("n"):
            table.add_row(name, *(f"{row[k]:,.0f}" for k in ("min", "p5", "p25", "p50", "p75", "p95",
                                                             "max")), f"{row['mean']:,.1f}")
    console.print(table)
    if stats["languages"]:
        console.print(f"languages: {stats['languages']}")
