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
    """Write a report: removals by step and reason, length histograms before and after, score
    distributions with thresholds, and three removed examples per reason.

    .html gives one self-contained file; .md writes PNGs into NAME_files/ beside it.

    Example: curate report clean.stats.json -o report.html
    """
    from curate.report import write_report

    write_report(source, output)
    print(f"report: {output}", file=sys.stderr)
