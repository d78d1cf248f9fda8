"""Report sections, one function each, so reports can be composed per step or per run."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from typing import Any

from curate.filters.text import Doc
from curate.report import charts
from curate.report.blocks import Example, Image, Section, Table, Text
from curate.report.load import MAX_RECORDS, StepRun
from curate.views import text_view

EXAMPLES_PER_REASON = 3
PREVIEW_CHARS = 600


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def _text(record: dict[str, Any]) -> str:
    try:
        return text_view(record, "all")
    except KeyError:
        return json.dumps(record, ensure_ascii=False)


def words(record: dict[str, Any]) -> int:
    """A record's length in words, every turn included (the `words` score's definition)."""
    return len(Doc(_text(record)).words)


def overview_section(runs: list[StepRun]) -> Section:
    """Counts per step (in, out, removed, rejected, time) and, for several steps, a funnel."""
    rows = [[run.name, f"{run.stats.get('in', 0):,}", f"{run.stats.get('out', 0):,}",
             f"{run.stats.get('removed', 0):,}", f"{run.stats.get('rejected', 0):,}",
             f"{run.stats.get('seconds', 0):.1f} s", str(run.stats.get("output", ""))]
            for run in runs]
    section = Section("Overview", [Table(["step", "in", "out", "removed", "rejected", "time",
                                          "output"], rows)])
    if len(runs) > 1:
        section.blocks.append(Image("funnel", charts.funnel(
            [run.name for run in runs], [run.stats.get("in", 0) for run in runs],
            [run.stats.get("out", 0) for run in runs]), "records in and out of each step"))
    return section


def removals_section(runs: list[StepRun]) -> Section:
    """Records removed, by step and reason: first failing reason, and every failing rule."""
    rows, totals = [], defaultdict(int)
    for run in runs:
        n_in = max(1, run.stats.get("in", 0))
        any_failing = run.stats.get("failed_by_rule", {})
        reasons = dict(run.stats.get("removed_by_reason", {}))
        for reason in any_failing:
            reasons.setdefault(reason, 0)
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            rows.append([run.name, reason, f"{count:,}", f"{count / n_in:.1%}",
                         f"{any_failing[reason]:,}" if reason in any_failing else "-"])
            totals[f"{run.name}: {reason}" if len(runs) > 1 else reason] += count
    section = Section("Removed records by reason")
    if not rows:
        section.blocks.append(Text("Nothing was removed."))
        return section
    section.blocks.append(Text("'removed' counts each record under its first failing reason; "
                               "'failing' counts every record that broke the rule."))
    section.blocks.append(Table(["step", "reason", "removed", "% of in", "failing"], rows))
    section.blocks.append(Image("removed-by-reason", charts.reason_bars(dict(totals)),
                                "records removed per reason"))
    return section


def lengths_section(run: StepRun) -> Section:
    """Word-length histograms of the step's records before and after it."""
    section = Section(f"Lengths before and after: {run.name}")
    after = [words(record) for record in run.kept]
    before = after + [words(line["record"]) for line in run.removed if "record" in line]
    if not before:
        section.blocks.append(Text("No records to measure (the output files are not beside "
                                   "the stats file)."))
        return section
    if MAX_RECORDS in (len(run.kept), len(run.removed)):
        section.blocks.append(Text(f"Histograms use the first {MAX_RECORDS:,} kept and removed "
                                   "records; the counts above are exact."))
    section.blocks.append(Image(f"lengths-{_slug(run.name)}",
                                charts.length_histogram(before, after, "words per record, all turns"),
                                "word counts before and after"))
    section.blocks.append(Table(["", "records", "median words", "mean words"], [
        [label, f"{len(values):,}", f"{_median(values):,.0f}", f"{_mean(values):,.1f}"]
        for label, values in (("before", before), ("after", after))]))
    return section


def scores_section(run: StepRun) -> Section:
    """Each thresholded score's distribution (kept vs removed), thresholds marked."""
    section = Section(f"Score distributions: {run.name}")
    thresholds = (run.stats.get("rules") or {}).get("thresholds") or {}
    removed = [line["record"] for line in run.removed if "record" in line]
    for name, rule in thresholds.items():
        kept_values = _values(run.kept, name)
        removed_values = _values(removed, name)
        if not kept_values and not removed_values:
            continue
        section.blocks.append(Image(f"score-{_slug(run.name)}-{_slug(name)}", charts.score_histogram(
            kept_values, removed_values, name, rule.get("min"), rule.get("max")),
            f"distribution of {name}"))
    if not section.blocks:
        section.blocks.append(Text("No thresholded scores in this step."))
    return section


def examples_section(run: StepRun) -> Section:
    """Up to three removed records per reason, with the failing score and a preview."""
    section = Section(f"Examples of removed records: {run.name}")
    by_reason: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in run.removed:
        if len(by_reason[line["reason"]]) < EXAMPLES_PER_REASON:
            by_reason[line["reason"]].append(line)
    for reason in sorted(by_reason):
        for line in by_reason[reason]:
            record = line.get("record") or {}
            details = {key: value for key, value in line.items()
                       if key not in ("record", "reason", "step")}
            preview = _text(record)
            if len(preview) > PREVIEW_CHARS:
                preview = preview[:PREVIEW_CHARS] + " [...]"
            section.blocks.append(Example(f"{reason} - {_label(record)}", _details(details),
                                          preview))
    if not section.blocks:
        section.blocks.append(Text("Nothing was removed."))
    return section


def _label(record: dict[str, Any]) -> str:
    """The record's id, or the start of its text when it has none."""
    if record.get("id") is not None:
        return f"id {record['id']}"
    start = " ".join(_text(record).split())
    return f'"{start[:60]}..."' if len(start) > 60 else f'"{start}"'


def _details(details: dict[str, Any]) -> str:
    parts = []
    if "score" in details:
        parts.append(f"{details.pop('score')} = {_format(details.pop('value', None))} "
                     f"(threshold {_format(details.pop('threshold', None))})")
    parts += [f"{key}: {_format(value)}" for key, value in details.items()]
    return "; ".join(parts)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:300]
    return str(value)


def _values(records: list[dict[str, Any]], name: str) -> list[float]:
    values = ((record.get("scores") or {}).get(name) for record in records)
    return [float(value) for value in values if isinstance(value, (int, float))]


def _median(values: list[int]) -> float:
    ordered = sorted(values)
    return float(ordered[len(ordered) // 2]) if ordered else 0.0


def _mean(values: list[int]) -> float:
    return sum(values) / len(values) if values else 0.0


def step_sections(run: StepRun) -> list[Section]:
    """Every per-step section for one step."""
    return [lengths_section(run), scores_section(run), examples_section(run)]
