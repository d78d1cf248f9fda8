"""What a report reads: each step's stats, its removed lines and (a sample of) its output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any

from curate.io import read_records, sidecar

MAX_RECORDS = 200_000  # records read per file for histograms; counts always come from stats


@dataclass
class StepRun:
    """One step's outcome, as written by `StepOutput`."""

    stats_path: Path
    stats: dict[str, Any]
    kept: list[dict[str, Any]] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)

    @property
    def step(self) -> str:
        return str(self.stats.get("step", self.stats_path.name))

    @property
    def name(self) -> str:
        """The step, or a recipe step's folder (`03_dedup`), which also gives its place."""
        folder = self.stats_path.parent.name
        return folder if folder.endswith(f"_{self.step}") else self.step


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


def read_sample(path: Path) -> list[dict[str, Any]]:
    """Up to MAX_RECORDS records of a file or shard directory (none if it is missing)."""
    if not path.exists():
        return []
    return list(islice(read_records(str(path)), MAX_RECORDS))


_read = read_sample


def removed_path(stats: dict[str, Any], output: Path) -> Path:
    """Where a step's removed lines are: from its output set, else beside its output."""
    files = (stats.get("output_set") or {}).get("files") or {}
    if "removed" in files:
        path = Path(files["removed"]["path"])
        return path if path.exists() else output.with_name(path.name)
    return sidecar(output, "removed.jsonl")


def load_run(stats_path: Path) -> StepRun:
    """A step's stats, with its output and removed sidecar when they are beside it."""
    try:
        stats = json.loads(stats_path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{stats_path}: not a stats file ({exc.msg})") from None
    if not isinstance(stats, dict) or "step" not in stats:
        raise ValueError(f"{stats_path}: not a step's stats file (no 'step')")
    output = Path(stats["output"]) if stats.get("output") else None
    if output is not None and not output.exists():  # the run directory was moved
        output = stats_path.with_name(output.name)
    kept = _read(output) if output else []
    removed = _read(removed_path(stats, output)) if output else []
    return StepRun(stats_path, stats, kept, removed)


def load_runs(source: Path) -> Iterator[StepRun]:
    for path in stats_files(source):
        yield load_run(path)
