"""The `curate` command: one Typer app, one module per subcommand."""

from __future__ import annotations

import typer

from curate.commands import (
    convert,
    decontam,
    dedup,
    filter,
    pairs,
    report,
    run,
    schema,
    score,
    select,
    stats,
)

app = typer.Typer(
    name="curate",
    help="Curate instruction and preference data: convert, inspect, dedup, filter, select.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

app.command("convert")(convert.command)
app.command("stats")(stats.command)
app.command("schema")(schema.command)
app.command("dedup")(dedup.command)
app.command("score")(score.command)
app.command("filter")(filter.command)
app.command("decontam")(decontam.command)
app.command("select")(select.command)
app.command("pairs")(pairs.command)
app.command("run")(run.command)
app.command("report")(report.command)

if __name__ == "__main__":
    app()
