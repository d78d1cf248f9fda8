"""`curate stats`: what is in a dataset, before and after each step."""

from __future__ import annotations

import json
import tempfile
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from curate.cli_support import (
    EngineChoice,
    Inputs,
    OnError,
    OnErrorChoice,
    Split,
    Workers,
    cli_errors,
    engine_options,
)


@cli_errors
def command(
    sources: Inputs,
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
) -> None:
    """Record count, turns, roles, prompt/response length percentiles and languages.

    Any supported input format is read through the same converters as `curate convert`.

    Example: curate stats data/sft.jsonl --json
    """
    from curate.convert import ConvertOptions, resolve_format
    from curate.engine import ChainStep, StepRun, chain_tasks, run_tasks
    from curate.io.sources import plan_splits
    from curate.stats import finish_stats

    engine_settings = engine_options(workers, engine)
    splits = plan_splits(sources, split=split)
    options = resolve_format(splits, ConvertOptions())
    with tempfile.TemporaryDirectory(prefix="curate-stats-") as scratch:
        if options.source_format == "oasst":  # trees first (a global step), then the stats
            from curate.dataflow import Sharding
            from curate.oasst_convert import convert_oasst

            converted = convert_oasst(sources, splits, f"{scratch}/trees/", options,
                                      on_error=on_error.value, engine=engine_settings,
                                      sharding=Sharding(), quiet=True)
            rejected = converted.rejected
            splits, options = plan_splits(f"{scratch}/trees"), ConvertOptions(source_format="messages")
        else:
            rejected = 0
        steps = [ChainStep("convert", options, None, {}), ChainStep("stats", None, None, {})]
        runs = [StepRun("convert", options, None, sources), StepRun("stats", None, None, sources)]
        tasks = chain_tasks(splits, steps, on_error=on_error.value,
                            batch_size=engine_settings.batch_size)
        run_tasks(engine_settings.executor(), tasks, runs, prefix="curate stats")
    rejected += sum(runs[0].counts.rejected.values())
    partial = runs[1].counts.extra.get("stats")
    stats = finish_stats(partial) if partial else finish_stats(_empty())
    stats |= {"source": " ".join(sources), "rejected": rejected}
    if as_json:
        typer.echo(json.dumps(stats, ensure_ascii=False, indent=2))
    else:
        _print_table(stats)


def _empty() -> dict[str, Any]:
    from curate.stats import partial_stats

    return partial_stats([])


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
