"""`curate report`: an HTML or Markdown report of a step's or a run's results."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from curate.cli_support import Output, cli_errors


@cli_errors
def command(
    source: Annotated[Path, typer.Argument(
        help="A run directory (every *.stats.json in it), a step's OUT.stats.json, or its OUT file.")],
    output: Output,
) -> None:
    """Write a report: counts and a funnel of records through the steps, removals by step,
    reason and language, and for each step that removed or rejected records the lengths of
    what it kept and removed, its score distributions with thresholds, and its first three
    removed records of each reason, as text.

    .html gives one self-contained file; .md writes PNGs into NAME_files/ beside it.

    Example: curate report clean.stats.json -o report.html
    """
    from curate.report import write_report

    write_report(source, output)
    print(f"report: {output}", file=sys.stderr)
