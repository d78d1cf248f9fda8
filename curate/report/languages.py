"""The by-language breakdown of removals: does a rule hit one language harder than others?

A removed record's language is, in order: the `lang` its removal line carries (filter writes
it when it was scored), its `scores.lang`, or fastText's reading of its text here (at most
`MAX_DETECTED` records). The share of each language removed is given where the
step knows its input's languages (filter's `langs_seen`, or the kept records' scores);
otherwise the counts alone.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from typing import Any

from curate.report.blocks import Section, Table, Text
from curate.report.load import StepRun

MAX_DETECTED = 20_000  # removed records whose language is read here when nothing carries it
TOP_LANGUAGES = 8
UNKNOWN = "und"


def _record_text(record: dict[str, Any]) -> str:
    from curate.views import text_view

    for view in ("response", "text", "all"):
        try:
            return text_view(record, view)
        except KeyError:
            continue
    return ""


def removed_languages(run: StepRun) -> dict[str, Counter[str]]:
    """Reason -> language -> removed records (every failing reason of a filter removal)."""
    from curate.filters.language import detect_language

    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    detected = 0
    for line in run.removed:
        record = line.get("record") or {}
        lang = line.get("lang") or (record.get("scores") or {}).get("lang")
        if lang is None and detected < MAX_DETECTED:
            lang, detected = detect_language(_record_text(record))[0], detected + 1
        for reason in line.get("reasons") or [line.get("reason", "?")]:
            by_reason[reason][lang or UNKNOWN] += 1
    return dict(by_reason)


def input_languages(run: StepRun, removed: dict[str, Counter[str]]) -> Counter[str] | None:
    """Records in per language, when the step knows it (else `None`)."""
    seen = run.stats.get("langs_seen")
    used = run.stats.get("in", 0) - run.stats.get("rejected", 0)
    if seen and sum(seen.values()) == used:  # every record's language is known
        return Counter(seen)
    kept = [(record.get("scores") or {}).get("lang") for record in run.kept]
    if not kept or None in kept:
        return None
    first = Counter(kept)
    for line in run.removed:
        lang = line.get("lang") or ((line.get("record") or {}).get("scores") or {}).get("lang")
        first[lang or UNKNOWN] += 1
    return first


def languages_section(runs: list[StepRun]) -> Section:
    """One table per step: every removal reason across the languages of the data."""
    section = Section("Removed records by language")
    for run in runs:
        removed = removed_languages(run)
        if not removed:
            continue
        totals = input_languages(run, removed)
        seen = Counter()
        for counts in removed.values():
            seen.update(counts)
        languages = [lang for lang, _ in (totals or seen).most_common(TOP_LANGUAGES)]
        header = ["step", "reason", *languages]
        rows = []
        for reason, counts in sorted(removed.items(), key=lambda item: -sum(item[1].values())):
            cells = []
            for lang in languages:
                count = counts.get(lang, 0)
                share = f" ({count / totals[lang]:.0%})" if totals and totals.get(lang) else ""
                cells.append(f"{count:,}{share}")
            rows.append([run.name, reason, *cells])
        if totals:
            rows.append([run.name, "records in", *[f"{totals[lang]:,}" for lang in languages]])
        section.blocks.append(Table(header, rows))
    if not section.blocks:
        section.blocks.append(Text("Nothing was removed."))
    else:
        section.blocks.insert(0, Text("Records removed per reason and language (a record counts "
                                      "under every rule it broke); in brackets, the share of "
                                      "that language's records in the step's input."))
    return section
