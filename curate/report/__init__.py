"""`curate report`: an HTML or Markdown report of a step or a run directory.

Sections are functions (see `sections`): an overview with a funnel, removals by step and
reason, removals by language (`languages`), then, for each step that removed or rejected
records, the lengths and scores of what it kept and removed and examples per reason. Records
are read once per file, in a streaming pass that keeps only what is shown (`load`).
"""

from __future__ import annotations

from pathlib import Path

from curate.io import atomic_path
from curate.report.blocks import Section
from curate.report.languages import languages_section
from curate.report.load import StepRun, load_runs, measure_step
from curate.report.render import to_html, to_markdown
from curate.report.sections import overview_section, removals_section, step_section


def build_sections(runs: list[StepRun], base: Path | None = None) -> list[Section]:
    """The report of one or more steps, in order (sections with nothing to say left out)."""
    sections = [overview_section(runs, base), removals_section(runs),
                languages_section(runs), *(step_section(run) for run in runs)]
    return [section for section in sections if section is not None]


def write_report(source: str | Path, out: str | Path) -> Path:
    """Write the report of `source` (a run dir, a stats file, or a step's output) to `out`
    (.html: self-contained; .md: with PNGs in a `<name>_files/` folder beside it)."""
    source, out = Path(source), Path(out)
    if out.suffix.lower() not in (".html", ".htm", ".md"):
        raise ValueError(f"{out}: a report is .html or .md")
    runs = list(load_runs(source))
    title = f"Curation report: {source.name}"
    sections = build_sections(runs, source if source.is_dir() else source.parent)
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
    run = measure_step(Path(f"{name}.stats.json"), stats, kept, removed)
    out.write_text(to_html(f"Curation report: {name}", build_sections([run])), encoding="utf-8")
    return out
