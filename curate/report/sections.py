"""Report sections, one function each, so reports can be composed per step or per run.

Only what says something is shown: a step that removed and rejected nothing is a row of the
overview, not three empty sections; a score that is the same for every record is a sentence,
not a plot.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from curate.report import charts
from curate.report.blocks import Example, Heading, Image, Section, Table, Text, slug
from curate.report.load import MAX_RECORDS, StepRun
from curate.report.texts import parts, shown_text

PREVIEW_CHARS = 1200
TITLE_CHARS = 90
LENGTH_LABEL = "words per record, all turns"
LENGTH_NOTE = ("Words in every turn (or text column, or message of an OpenAssistant tree); in Chinese, "
               "Japanese or Thai text each character counts as a word, as in the length rules.")


def chart(name: str, figure: Any, alt: str) -> Image:
    """A chart as an image; its alt text says which axes are on a log scale."""
    axes = figure.axes[0]
    logs = [label for label, scale in (("x", axes.get_xscale()), ("counts", axes.get_yscale()))
            if scale != "linear"]
    if logs:
        alt += f" ({' and '.join(logs)} on a log scale)"
    return Image(name, charts.png(figure), alt)


def overview_section(runs: list[StepRun], base: Path | None = None) -> Section:
    """Counts per step (in, out, removed, rejected, time, output) and, for several steps, a
    funnel of records through them."""
    shared = _shared_passes(runs)
    rows = []
    for run, note in zip(runs, shared, strict=True):
        stats = run.stats
        n_in, removed = stats.get("in", 0), stats.get("removed", 0)
        share = f" ({removed / n_in:.1%})" if removed and n_in else ""
        rows.append([run.name, f"{n_in:,}", f"{stats.get('out', 0):,}", f"{removed:,}{share}",
                     f"{stats.get('rejected', 0):,}", f"{stats.get('seconds', 0):.1f} s{note}",
                     _relative(stats.get("output"), base)])
    section = Section("Overview", [Table(["step", "in", "out", "removed", "rejected", "time",
                                          "output"], rows)])
    if any(shared):
        section.blocks.append(Text("* Steps marked with the same letter ran as one pass over "
                                   "the data (one batch through every step in turn); the time "
                                   "is that pass's."))
    for run in runs:
        for role, path in sorted(((run.stats.get("output_set") or {}).get("files") or {}).items()):
            if role != "data" and str(path.get("path", "")).endswith(".html"):
                section.blocks.append(Text(f"{run.name} also wrote {_relative(path['path'], base)}"
                                           f" ({role.replace('_', ' ')})."))
    if len(runs) > 1:
        section.blocks.append(chart("funnel", charts.funnel(
            [run.name for run in runs], [run.stats.get("out", 0) for run in runs],
            [run.stats.get("removed", 0) for run in runs],
            [run.stats.get("rejected", 0) for run in runs]),
            "records out of each step, with those it removed and rejected"))
    return section


def _shared_passes(runs: list[StepRun]) -> list[str]:
    """A mark per step that ran in one pass with its neighbours (a recipe chain gives each
    of its steps the pass's time): consecutive steps with the same time, over 0."""
    marks = [""] * len(runs)
    letter = 0
    position = 0
    while position < len(runs):
        seconds = runs[position].stats.get("seconds")
        end = position + 1
        while end < len(runs) and seconds and runs[end].stats.get("seconds") == seconds:
            end += 1
        if end - position > 1:
            for index in range(position, end):
                marks[index] = f" *{chr(ord('a') + letter % 26)}"
            letter += 1
        position = end
    return marks


def _relative(path: Any, base: Path | None) -> str:
    if not path:
        return "-"
    text = str(path)
    if base is not None:
        try:
            return str(Path(text).resolve().relative_to(base.resolve()))
        except ValueError:
            pass
    return text


def removals_section(runs: list[StepRun]) -> Section:
    """Records removed and rejected, by step and reason: the first failing reason, and every
    record that broke the rule."""
    rows, totals = [], defaultdict(int)
    for run in runs:
        n_in = max(1, run.stats.get("in", 0))
        any_failing = run.stats.get("failed_by_rule", {})
        reasons = dict(run.stats.get("removed_by_reason", {}))
        for reason in any_failing:
            reasons.setdefault(reason, 0)
        for reason, count in sorted(reasons.items(), key=lambda item: -item[1]):
            rows.append([run.name, reason, "removed", f"{count:,}", f"{count / n_in:.1%}",
                         f"{any_failing[reason]:,}" if reason in any_failing else "-"])
            totals[f"{run.name}: {reason}" if len(runs) > 1 else reason] += count
        for reason, count in sorted(run.stats.get("rejected_by_reason", {}).items(),
                                    key=lambda item: -item[1]):
            rows.append([run.name, reason, "rejected", f"{count:,}", f"{count / n_in:.1%}", "-"])
    section = Section("Removed records by reason")
    if not rows:
        section.blocks.append(Text("Nothing was removed or rejected."))
        return section
    section.blocks.append(Text("'records' counts each removed record under its first failing "
                               "reason; 'failing' counts every record that broke the rule. "
                               "Rejected records are input that could not be read."))
    section.blocks.append(Table(["step", "reason", "kind", "records", "% of in", "failing"],
                                rows))
    if any(totals.values()):
        section.blocks.append(chart("removed-by-reason", charts.reason_bars(dict(totals)),
                                    "records removed per reason"))
    return section


def step_section(run: StepRun) -> Section | None:
    """What one step removed and rejected: lengths and scores of the kept and removed records,
    and examples per reason (`None` for a step that removed and rejected nothing)."""
    removed, rejected = run.stats.get("removed", 0), run.stats.get("rejected", 0)
    if not removed and not rejected:
        return None
    n_in = max(1, run.stats.get("in", 0))
    section = Section(f"{run.name}: what was removed")
    section.blocks.append(Text(f"{removed:,} of {run.stats.get('in', 0):,} records removed "
                               f"({removed / n_in:.1%}), {rejected:,} rejected."))
    if removed and not len(run.removed):
        section.blocks.append(Text("The removed records are not beside the stats file, so "
                                   "there are no plots or examples."))
    if len(run.removed):
        section.blocks += _lengths(run) + _scores(run) + _examples(run)
    section.blocks += _rejects(run)
    return section


def _lengths(run: StepRun) -> list[Any]:
    kept, removed = run.kept.lengths, run.removed.lengths
    blocks: list[Any] = [Heading("Lengths"), Text(LENGTH_NOTE)]
    if run.kept.truncated or run.removed.truncated:
        blocks.append(Text(f"Plots use the first {MAX_RECORDS:,} kept and removed records; "
                           "the counts above are exact."))
    if not len(kept):
        blocks.append(Text("The kept records are not beside the stats file; the plot shows the "
                           "removed ones only."))
    blocks.append(chart(f"lengths-{slug(run.name)}", charts.distribution(kept, removed,
                                                                         LENGTH_LABEL),
                        "word counts of kept and removed records"))
    blocks.append(Table(["", "records", "median words", "mean words"], [
        [label, f"{len(values):,}", f"{np.median(values):,.0f}" if len(values) else "-",
         f"{values.mean():,.1f}" if len(values) else "-"]
        for label, values in (("kept", kept), ("removed", removed))]))
    return blocks


def _scores(run: StepRun) -> list[Any]:
    """The distribution of each thresholded score that some record broke, over kept and
    removed records; one line for a threshold nothing came near."""
    blocks: list[Any] = []
    for name, rule in run.thresholds.items():
        kept_values = run.kept.scores.get(name, [])
        removed_values = run.removed.scores.get(name, [])
        values = np.asarray(kept_values + removed_values, float)
        if not len(values):
            continue
        low, high = rule.get("min"), rule.get("max")
        broke = int(np.sum(values < low) if low is not None else 0) + \
            int(np.sum(values > high) if high is not None else 0)
        if not broke:
            spread = (f"every record scored {_format(float(values[0]))}"
                      if values.min() == values.max() else
                      f"the scores run from {_format(float(values.min()))} to "
                      f"{_format(float(values.max()))} (99% at most "
                      f"{_format(float(np.percentile(values, 99)))})")
            blocks.append(Text(f"{name}: no record broke {_bounds(low, high)}; {spread}."))
            continue
        blocks.append(chart(f"score-{slug(run.name)}-{slug(name)}", charts.distribution(
            kept_values, removed_values, name, low=low, high=high), f"distribution of {name}"))
    if blocks:
        blocks.insert(0, Heading("Scores and thresholds"))
    return blocks


def _bounds(low: float | None, high: float | None) -> str:
    return " and ".join(f"{name} {bound:g}" for name, bound in (("min", low), ("max", high))
                        if bound is not None)


def _examples(run: StepRun) -> list[Any]:
    """The first removed records of each reason: their text, and why they went."""
    counts = run.stats.get("removed_by_reason", {})
    blocks: list[Any] = []
    for reason in sorted(run.removed.examples, key=lambda r: -counts.get(r, 0)):
        lines = run.removed.examples[reason]
        total = counts.get(reason, len(lines))
        blocks.append(Heading(f"Removed for {reason}: {_records(total)}"
                              + (f", the first {len(lines)}" if total > len(lines) else "")))
        for line in lines:
            record = line.get("record")
            related = []
            survivor = run.survivors.get(str(line.get("duplicate_of")))
            if survivor is not None:
                related.append((f"kept: the record it duplicates ({_id(survivor)})",
                                _preview(shown_text(survivor))))
            blocks.append(Example(_title(record), _details(line, record),
                                  _preview(shown_text(record)), related))
    return blocks


def _rejects(run: StepRun) -> list[Any]:
    blocks: list[Any] = []
    for reason, lines in sorted(run.rejects.items()):
        total = run.stats.get("rejected_by_reason", {}).get(reason, len(lines))
        blocks.append(Heading(f"Rejected for {reason}: {_records(total)}"
                              + (f", the first {len(lines)}" if total > len(lines) else "")))
        for line in lines:
            where = f"{line.get('file', '?')}:{line.get('line', '?')}"
            field = f"field '{line['field']}': " if line.get("field") else ""
            record = line.get("record")
            body = shown_text(record) if isinstance(record, dict) else str(record)
            blocks.append(Example(where, f"{field}{line.get('error', '')}", _preview(body)))
    return blocks


def _records(count: int) -> str:
    return f"{count:,} record" + ("" if count == 1 else "s")


def _title(record: Any) -> str:
    """The start of the record's text, on one line."""
    start = " ".join(" ".join(text for _, text in parts(record)).split())
    if not start:
        return f"(no text) {_id(record)}"
    return start if len(start) <= TITLE_CHARS else start[:TITLE_CHARS].rstrip() + "..."


def _id(record: Any) -> str:
    return f"id {record['id']}" if isinstance(record, dict) and record.get("id") is not None \
        else "no id"


def _preview(text: str) -> str:
    """The whole text, or its start and its end (where truncation and stray tokens show)."""
    if len(text) <= PREVIEW_CHARS:
        return text
    head, tail = PREVIEW_CHARS * 2 // 3, PREVIEW_CHARS // 3
    return f"{text[:head]}\n[... {len(text) - head - tail:,} characters ...]\n{text[-tail:]}"


def _details(line: dict[str, Any], record: Any) -> str:
    """Why a record went, in words: the failing score and threshold, the other rules it broke,
    the matched text, the duplicate it lost to, the eval item it shares words with."""
    details = {key: value for key, value in line.items()
               if key not in ("record", "reason", "step", "script") and value is not None}
    found = [_id(record)]
    if "score" in details:
        name = details.pop("score")
        value, threshold = details.pop("value", None), details.pop("threshold", None)
        if not isinstance(value, bool):
            found.append(f"{name} = {_format(value)} (threshold {_format(threshold)})")
            if name == "lang":
                details.pop("lang", None)
    others = [r for r in details.pop("reasons", []) if r != line.get("reason")]
    if others:
        found.append("also broke " + ", ".join(others))
    evidence = details.pop("evidence", None)
    if isinstance(evidence, dict) and evidence.get("match") is not None:
        found.append(f"matched {json.dumps(evidence['match'], ensure_ascii=False)[:120]}"
                     + (f" in the {evidence['in']}" if evidence.get("in") else ""))
    if "duplicate_of" in details:
        similarity = details.pop("similarity", None)
        found.append(f"duplicate of {details.pop('duplicate_of')}"
                     + (f" (similarity {_format(similarity)})" if similarity is not None else ""))
    for item in details.pop("eval_items", None) or []:
        found.append(f"shares \"{item.get('ngram', '')}\" with {item.get('eval', 'an eval set')} "
                     f"item {item.get('item', '?')}")
    found += [f"{key} {_format(value)}" for key, value in details.items()]
    return "; ".join(found)


def _format(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return ", ".join(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)[:300]
    return str(value)
