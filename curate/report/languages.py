"""The by-language breakdown of removals: does a rule hit one language harder than others?

A removed record's language is, in order: the `lang` its removal line carries (filter writes
it when it was scored), its `scores.lang`, or fastText's reading of the start of its text
here (at most `load.MAX_PROBES` records). The share of each language removed is given where
the step knows its input's languages (filter's `langs_seen`, or the kept records' scores);
otherwise the counts alone. A step whose removed records are all in one language gets one
line instead of a table.
"""

from __future__ import annotations

from collections import Counter, defaultdict

from curate.report.blocks import Section, Table, Text
from curate.report.load import StepRun

TOP_LANGUAGES = 8
UNKNOWN = "und"


def removed_languages(run: StepRun) -> dict[str, Counter[str]]:
    """Reason -> language -> removed records (every failing reason of a filter removal)."""
    from curate.filters.language import detect_language

    removed = run.removed
    by_reason: dict[str, Counter[str]] = defaultdict(Counter)
    for number, (reasons, lang) in enumerate(zip(removed.reasons, removed.langs)):
        if lang is None and number in removed.probes:
            lang = detect_language(removed.probes[number])[0]
        for reason in reasons:
            by_reason[reason][lang or UNKNOWN] += 1
    return dict(by_reason)


def input_languages(run: StepRun) -> Counter[str] | None:
    """Records in per language, when the step knows it (else `None`)."""
    seen = run.stats.get("langs_seen")
    used = run.stats.get("in", 0) - run.stats.get("rejected", 0)
    if seen and sum(seen.values()) == used:  # every record's language is known
        return Counter(seen)
    kept = run.kept.langs
    if not kept or None in kept or run.kept.truncated or run.removed.truncated:
        return None
    return Counter(kept) + Counter(lang or UNKNOWN for lang in run.removed.langs)


def languages_section(runs: list[StepRun]) -> Section | None:
    """One table per step: every removal reason across the languages of the data (`None`
    when nothing was removed)."""
    section = Section("Removed records by language")
    for run in runs:
        removed = removed_languages(run)
        if not removed:
            continue
        seen: Counter[str] = Counter()
        for counts in removed.values():
            seen.update(counts)
        if len(seen) == 1:
            section.blocks.append(Text(f"{run.name}: every removed record read is in "
                                       f"'{next(iter(seen))}'."))
            continue
        totals = input_languages(run)
        languages = [lang for lang, _ in (totals or seen).most_common(TOP_LANGUAGES)]
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
        section.blocks.append(Table(["step", "reason", *languages], rows))
    if not section.blocks:
        return None
    if any(isinstance(block, Table) for block in section.blocks):
        section.blocks.insert(0, Text("Records removed per reason and language (a record counts "
                                      "under every rule it broke); in brackets, the share of "
                                      "that language's records in the step's input."))
    return section
