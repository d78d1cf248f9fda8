"""What a report reads: each step's stats, and one streaming pass over its kept and removed
records that keeps only what the report shows (lengths, thresholded scores, languages, a few
examples), so memory stays small whatever the data's size.

A step's files are found through its stats' `output_set` (recipe steps write `NN_step/out/`
shard directories and `out.removed/`; commands write OUT and `OUT.removed.jsonl`). A step
that wrote no data (a recipe's `read`) or no removed sidecar (`write`) simply has none.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np

from curate.io import read_records, sidecar
from curate.report.texts import measured_text

MAX_RECORDS = 100_000  # records measured per file (plots); counts always come from the stats
EXAMPLES_PER_REASON = 3
MAX_PROBES = 20_000  # removed records without a language whose text is kept to detect it
PROBE_CHARS = 400  # fastText decides on the first 400 characters (curate.filters.language)
_BATCH = 2_000


@dataclass
class Measured:
    """Kept or removed records, as columns: one entry per record read."""

    lengths: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    scores: dict[str, list[float]] = field(default_factory=dict)  # thresholded scores only
    langs: list[str | None] = field(default_factory=list)  # scores.lang (or the removal's)
    truncated: bool = False  # stopped at MAX_RECORDS

    def __len__(self) -> int:
        return len(self.lengths)


@dataclass
class Removals(Measured):
    """Removed lines: the measured columns plus each line's reasons, a text to detect the
    language of when nothing carries it, and the first lines of each reason in full."""

    reasons: list[list[str]] = field(default_factory=list)
    probes: dict[int, str] = field(default_factory=dict)  # line number -> start of its text
    examples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class StepRun:
    """One step's outcome: its stats, its kept and removed records (measured), its rejects'
    examples, and the kept records the examples name (a duplicate's survivor)."""

    stats_path: Path
    stats: dict[str, Any]
    kept: Measured = field(default_factory=Measured)
    removed: Removals = field(default_factory=Removals)
    rejects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    survivors: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def step(self) -> str:
        return str(self.stats.get("step", self.stats_path.name))

    @property
    def name(self) -> str:
        """The step, or a recipe step's folder (`03_dedup`), which also gives its place."""
        folder = self.stats_path.parent.name
        return folder if folder.endswith(f"_{self.step}") else self.step

    @property
    def thresholds(self) -> dict[str, dict[str, float]]:
        return (self.stats.get("rules") or {}).get("thresholds") or {}


def stats_files(source: Path) -> list[Path]:
    """The stats files behind a run directory, a stats file, or a step's output file."""
    if source.is_dir():  # a folder of step outputs, or a recipe run (`NN_step/out.stats.json`)
        found = sorted(source.glob("*.stats.json"), key=lambda path: path.stat().st_mtime) or \
            sorted(source.glob("*/*.stats.json"))
        if not found:
            raise FileNotFoundError(f"{source}: no *.stats.json files in this directory "
                                    "or its step folders")
        return found
    if source.name.endswith(".stats.json"):
        if not source.exists():
            raise FileNotFoundError(f"{source}: no such file")
        return [source]
    stats = sidecar(source, "stats.json")
    if not stats.exists():
        raise FileNotFoundError(f"{source}: neither a run directory nor a stats file, and "
                                f"{stats} does not exist")
    return [stats]


def step_files(stats: dict[str, Any], stats_path: Path) -> dict[str, Path]:
    """The step's files that exist, by role (`data`, `removed`, `rejects`, reports...): from
    its output set, else (stats written before output sets) OUT and its sidecars."""
    listed = {role: entry["path"] for role, entry in
              ((stats.get("output_set") or {}).get("files") or {}).items()
              if isinstance(entry, dict) and entry.get("path")}
    if not listed and stats.get("output"):
        output = Path(stats["output"])
        listed = {"data": str(output), "removed": str(sidecar(output, "removed.jsonl")),
                  "rejects": str(sidecar(output, "rejects.jsonl"))}
    found = {}
    for role, path in listed.items():
        located = _locate(Path(path), stats_path)
        if located is not None:
            found[role] = located
    return found


def _locate(path: Path, stats_path: Path) -> Path | None:
    """`path` as written, or beside the stats file (the run directory was moved or the
    command ran elsewhere), or one folder up (a recipe's `write` output)."""
    for candidate in (path, stats_path.parent / path.name, stats_path.parent.parent / path.name):
        if candidate.exists():
            return candidate
    return None


def load_run(stats_path: Path) -> StepRun:
    """A step's stats, with its records measured when it removed or rejected any."""
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{stats_path}: not a stats file ({exc.msg})") from None
    if not isinstance(stats, dict) or "step" not in stats:
        raise ValueError(f"{stats_path}: not a step's stats file (no 'step')")
    files = step_files(stats, stats_path)
    return measure_step(stats_path, stats, files.get("data"), files.get("removed"),
                        files.get("rejects"))


def measure_step(stats_path: Path, stats: dict[str, Any], kept: Path | None,
                 removed: Path | None, rejects: Path | None = None) -> StepRun:
    """Read what the report needs of a step's files. A step that removed nothing needs no
    pass over its records: its counts are in the stats."""
    run = StepRun(stats_path, stats)
    if stats.get("removed") and removed is not None:
        names = list(run.thresholds)
        run.removed = measure_removed(_records(removed), names)
        if kept is not None:
            wanted = {str(line["duplicate_of"]) for lines in run.removed.examples.values()
                      for line in lines if line.get("duplicate_of") is not None}
            run.kept = measure(_records(kept), names, wanted, run.survivors)
    if stats.get("rejected") and rejects is not None:
        run.rejects = first_per_reason(islice(_records(rejects), MAX_RECORDS))
    return run


def _records(path: Path) -> Iterator[dict[str, Any]]:
    return read_records(str(path))


def measure(records: Iterable[dict[str, Any]], names: list[str], wanted: set[str] | None = None,
            found: dict[str, dict[str, Any]] | None = None) -> Measured:
    """Lengths, the named scores and languages of up to MAX_RECORDS records; records whose id
    is in `wanted` are put into `found` whole."""
    out = Measured(scores={name: [] for name in names})
    lengths = []
    for batch in _batches(records, out):
        texts = []
        for record in batch:
            texts.append(measured_text(record))
            scores = record.get("scores") or {}
            _add_scores(out.scores, scores)
            out.langs.append(scores.get("lang"))
            if wanted and str(record.get("id")) in wanted and found is not None:
                found[str(record["id"])] = record
        lengths.append(count_units(texts))
    out.lengths = np.concatenate(lengths) if lengths else out.lengths
    return out


def measure_removed(lines: Iterable[dict[str, Any]], names: list[str]) -> Removals:
    """What `measure` gives, for removal lines (whose record is under `record`), plus their
    reasons, language probes and the first EXAMPLES_PER_REASON lines of each reason."""
    out = Removals(scores={name: [] for name in names})
    lengths = []
    for batch in _batches(lines, out):
        texts = []
        for line in batch:
            record = line.get("record") if isinstance(line.get("record"), dict) else {}
            text = measured_text(record) if record else ""
            texts.append(text)
            scores = dict(record.get("scores") or {})
            if line.get("score") in out.scores and isinstance(line.get("value"), (int, float)):
                scores.setdefault(line["score"], line["value"])
            _add_scores(out.scores, scores)
            lang = line.get("lang") or scores.get("lang")
            out.langs.append(lang)
            reason = str(line.get("reason", "?"))
            out.reasons.append([str(r) for r in line.get("reasons") or [reason]])
            if lang is None and len(out.probes) < MAX_PROBES:
                out.probes[len(out.reasons) - 1] = _probe(record) or text[:PROBE_CHARS]
            examples = out.examples.setdefault(reason, [])
            if len(examples) < EXAMPLES_PER_REASON:
                examples.append(line)
        lengths.append(count_units(texts))
    out.lengths = np.concatenate(lengths) if lengths else out.lengths
    return out


def first_per_reason(lines: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    found: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in lines:
        reason = str(line.get("reason", "?"))
        if len(found[reason]) < EXAMPLES_PER_REASON:
            found[reason].append(line)
    return dict(found)


def count_units(texts: list[str]) -> np.ndarray:
    """Words per text, as the length rules count them (`curate.text.units`: a word in
    scripts with spaces, a character in Chinese, Japanese, Thai...), in one polars pass."""
    import polars as pl

    from curate.text.units import PATTERNS

    counts = pl.Series(texts, dtype=pl.String).str.count_matches(PATTERNS["auto"])
    return counts.fill_null(0).to_numpy().astype(np.int64)


def _batches(records: Iterable[Any], out: Measured) -> Iterator[list[Any]]:
    iterator, read = iter(records), 0
    while batch := list(islice(iterator, min(_BATCH, MAX_RECORDS - read))):
        read += len(batch)
        yield batch
        if read >= MAX_RECORDS:
            out.truncated = next(iterator, None) is not None
            return


def _add_scores(columns: dict[str, list[float]], scores: dict[str, Any]) -> None:
    for name, values in columns.items():
        value = scores.get(name)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            values.append(float(value))


def _probe(record: dict[str, Any]) -> str:
    """The start of the text a language is read from: the answer, where there is one."""
    from curate.views import text_view

    for view in ("response", "text"):
        try:
            return text_view(record, view)[:PROBE_CHARS]
        except (KeyError, TypeError):
            continue
    return ""


def load_runs(source: Path) -> Iterator[StepRun]:
    for path in stats_files(source):
        yield load_run(path)
