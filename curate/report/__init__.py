"""`curate report`: an HTML or Markdown report of a step or a run directory.

Sections are functions (see `sections`): an overview, removals by step and
reason, removals by language (`languages`), then per step the length histograms before and after, the score
distributions with their thresholds, and example removed records.
"""

from __future__ import annotations

from pathlib import Path

from curate.io import atomic_path
from curate.report.blocks import Section
from curate.report.languages import languages_section
from curate.report.load import StepRun, load_runs
from curate.report.render import to_html, to_markdown
from curate.report.sections import overview_section, removals_section, step_sections


def build_sections(runs: list[StepRun]) -> list[Section]:
    """The report of one or more steps, in order."""
    sections = [overview_section(runs), removals_section(runs), languages_section(runs)]
    for run in runs:
        sections += step_sections(run)
    return sections


def write_report(source: str | Path, out: str | Path) -> Path:
    """Write the report of `source` (a run dir, a stats file, or a step's output) to `out`
    (.html: self-contained; .md: with PNGs in a `<name>_files/` folder beside it)."""
    source, out = Path(source), Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".md"):
        raise ValueError(f"{out}: a report is .html or .md")
    runs = list(load_runs(source))
    title = f"Curation report: {source.name}"
    sections = build_sections(runs)
    with atomic_path(out) as temp:
        if out.suffix.lower() == ".md":
            text = to_markdown(title, sections, out.with_name(f"{out.stem}_files"))
        else:
            text = to_html(title, sections)
        temp.write_text(text, encoding="utf-8")
    return out


def write_step_report(stats: dict, kept: Path, removed: Path, out: Path, *, name: str) -> Path:
    """The report of one step from its (staged) files, before they are committed: written
    with them as one output set."""
    from curate.report.load import read_sample

    run = StepRun(Path(f"{name}.stats.json"), stats, read_sample(kept), read_sample(removed))
    text = to_html(f"Curation report: {name}", build_sections([run]))
    out.write_text(text, encoding="utf-8")
    return out
