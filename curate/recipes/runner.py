"""Run a recipe step by step under RUN_DIR, resuming from completion markers.

Each step writes `RUN_DIR/NN_step/out.jsonl` (+ `out.removed.jsonl`, `out.stats.json`,
`out.rejects.jsonl` with `on_error: skip`) and then `done.json`, holding hashes of
its config, its input and its output. With `resume`, a step whose marker matches
is skipped; the first step whose config or input changed reruns, and so does
every step after it whose input changed as a result.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curate.io import Rejects, read_records, write_json
from curate.options import OptionsError
from curate.recipes.context import StepContext, StepRun
from curate.recipes.markers import (
    MARKER,
    config_hash,
    file_hash,
    is_current,
    read_marker,
    write_marker,
)
from curate.recipes.recipe import Recipe, Step
from curate.recipes.steps import read_origins
from curate.step import StepOutput

STEP_DIR = re.compile(r"^\d\d_[a-z_]+$")
OUTPUT = "out.jsonl"


@dataclass
class StepReport:
    index: int
    step: str
    dir: str
    status: str  # "ran" or "cached"
    n_in: int
    n_out: int
    removed: int
    rejected: int
    seconds: float


def run_recipe(recipe: Recipe, run_dir: str | Path, *, resume: bool = False,
               from_step: str | None = None, engine: str = "local", quiet: bool = False) -> list[StepReport]:
    """Run (or resume) `recipe` into `run_dir`; returns one report per step."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    if engine == "ray":
        from curate.raydata import ray_data

        ray_data()  # start Ray before the first step, so its start-up is not a step's time
    forced_from = _step_index(recipe, from_step) if from_step else len(recipe.steps) + 1
    _remove_stale_step_dirs(recipe, run_dir)
    reports: list[StepReport] = []
    previous: Path | None = None
    previous_hash = ""
    previous_step: Step | None = None
    for step in recipe.steps:
        step_dir = run_dir / step.dir_name
        output = step_dir / OUTPUT
        config = config_hash(step.type, _portable_options(step), file_hash(step.files))
        input_hash = previous_hash
        marker = read_marker(step_dir)
        cached = bool(resume or from_step) and step.index < forced_from and step.spec.cacheable \
            and is_current(marker, config, input_hash, output)
        if not cached:
            _clear(step_dir)
            with _spinner(f"[{step.index:02d}/{len(recipe.steps):02d}] {step.type}", quiet):
                marker = _run_step(recipe, step, step_dir, previous, previous_step, engine)
            marker |= {"config_hash": config, "input_hash": input_hash}
            write_marker(step_dir, marker)
        assert marker is not None
        stats = marker["stats"]
        report = StepReport(step.index, step.type, step.dir_name, "cached" if cached else "ran",
                            stats["in"], stats["out"], stats["removed"], stats["rejected"],
                            0.0 if cached else stats["seconds"])
        reports.append(report)
        if not quiet:
            _print_report(report, len(recipe.steps))
        previous, previous_hash, previous_step = output, marker["output_hash"], step
    write_json(run_dir / "run.json", {"recipe": str(recipe.path), "name": recipe.header.name,
                                      "engine": engine, "steps": [asdict(r) for r in reports],
                                      "output": str(previous)})
    return reports


def _run_step(recipe: Recipe, step: Step, step_dir: Path, previous: Path | None,
              previous_step: Step | None, engine: str) -> dict[str, Any]:
    records = list(read_records(previous)) if previous and step.type != "read" else []
    rejects = Rejects(recipe.header.on_error)
    origins = read_origins(previous_step.options) if previous_step and \
        previous_step.type == "read" else None  # type: ignore[arg-type]
    context = StepContext(step_dir, rejects, previous, origins)
    started = time.perf_counter()
    with StepOutput(step.type, step_dir / OUTPUT, rejects=rejects, quiet=True,
                    inputs=[str(previous)] if previous else []) as output:
        run = _execute(step, records, context, engine)
        output.add(run.result)
        output.n_in, output.used = run.n_in, run.used
    assert output.stats is not None
    return {"step": step.type, "index": step.index, "engine": engine,
            "seconds": round(time.perf_counter() - started, 4),
            "output_hash": file_hash([step_dir / OUTPUT]),
            "stats": output.stats.model_dump(by_alias=True)}


def _execute(step: Step, records: list[dict[str, Any]], context: StepContext, engine: str) -> StepRun:
    if engine == "ray":
        from curate.recipes.ray_engine import run_on_ray

        return run_on_ray(step, records, context)
    return step.spec.run(records, step.options, context)


def _portable_options(step: Step) -> dict[str, Any]:
    """The resolved options (defaults included), with paths as written in the recipe, so a
    project moved elsewhere keeps its markers; the files' contents are hashed separately."""
    options = step.options.model_dump(mode="json")
    for name in (*step.spec.inputs, *step.spec.paths):
        if name in step.written:
            options[name] = step.written[name]
    return options


def _clear(step_dir: Path) -> None:
    """Before a step runs: no marker (it is written last) and no temp files of a killed run."""
    (step_dir / MARKER).unlink(missing_ok=True)
    for temp in step_dir.glob(".*.tmp"):
        temp.unlink()


def _step_index(recipe: Recipe, name: str) -> int:
    for step in recipe.steps:
        if name in (step.type, step.dir_name, str(step.index)):
            return step.index
    raise OptionsError(f"--from-step {name!r}: no such step; the steps are "
                       f"{', '.join(s.dir_name for s in recipe.steps)}")


def _remove_stale_step_dirs(recipe: Recipe, run_dir: Path) -> None:
    """Step directories of an earlier, different recipe would mislead the report."""
    current = {step.dir_name for step in recipe.steps}
    for path in run_dir.iterdir():
        if path.is_dir() and STEP_DIR.match(path.name) and path.name not in current:
            shutil.rmtree(path)


def _spinner(text: str, quiet: bool) -> AbstractContextManager[object]:
    """A spinner with the running step on stderr, when it is a terminal."""
    if quiet or not sys.stderr.isatty():
        return nullcontext()
    from rich.console import Console

    return Console(stderr=True).status(f"{text} running...")


def _print_report(report: StepReport, total: int) -> None:
    head = f"[{report.index:02d}/{total:02d}] {report.step:<9}"
    if report.status == "cached":
        print(f"{head} cached (in={report.n_in} out={report.n_out})", file=sys.stderr)
        return
    extra = "".join(f" {name}={value}" for name, value in
                    (("removed", report.removed), ("rejected", report.rejected)) if value)
    print(f"{head} in={report.n_in} out={report.n_out}{extra} {report.seconds:.2f}s", file=sys.stderr)
