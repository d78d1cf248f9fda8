"""Run a recipe step by step under RUN_DIR, resuming from completion markers.

Each step writes `RUN_DIR/NN_step/out/` (shards of zstd JSON Lines and a manifest), its
sidecars `out.removed/`, `out.rejects/` (with `on_error: skip`) and `out.stats.json`,
committed as one output set, and then `done.json` with hashes of its config, its input
and its output. With `resume`, a step whose marker matches is skipped.

Nothing holds a whole dataset: a `read` step names the input files (they are not copied);
consecutive per-record steps run as one chain over the input splits, a batch at a time,
each writing its own output; a global step (dedup, select, pairs, OASST trees) reads the
previous step's output with its own multi-stage driver; `write` copies the records out.
"""

from __future__ import annotations

import re
import shutil
import sys
import time
from contextlib import ExitStack, nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curate.dataflow import Sharding, finish_output, formats_of
from curate.engine import (
    ChainStep,
    EngineOptions,
    StepRun,
    chain_tasks,
    run_tasks,
    step_stats,
)
from curate.io import write_json
from curate.io.outputs import OutputSet
from curate.io.sources import Split, input_files, plan_splits
from curate.options import OptionsError
from curate.recipes.markers import (
    MARKER,
    config_hash,
    file_hash,
    is_current,
    output_hash,
    read_marker,
    write_marker,
)
from curate.recipes.recipe import Recipe, Step

STEP_DIR = re.compile(r"^\d\d_[a-z_]+$")
OUTPUT = "out"
FORMAT = "jsonl.zst"  # intermediate outputs: zstd is 5x faster to write than gzip, and smaller


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


@dataclass
class Source:
    """What the next step reads: the input files of a `read`, or a step's output."""

    specs: list[str]
    split: str = "train"
    raw: bool = False  # files of a read step (bad lines already counted there)
    hash: str = ""


def run_recipe(recipe: Recipe, run_dir: str | Path, *, resume: bool = False,
               from_step: str | None = None, engine: str = "local", workers: int = 1,
               quiet: bool = False) -> list[StepReport]:
    """Run (or resume) `recipe` into `run_dir`; returns one report per step."""
    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    settings = EngineOptions(workers=workers, engine=engine)  # type: ignore[arg-type]
    if engine == "ray":
        from curate.on_ray import ray_data

        ray_data()  # start (or join) Ray before the first step, so its start is not a step's
    forced_from = _step_index(recipe, from_step) if from_step else len(recipe.steps) + 1
    _remove_stale_step_dirs(recipe, run_dir)
    runner = _Runner(recipe, run_dir, settings, resume or bool(from_step), forced_from, quiet)
    runner.run()
    write_json(run_dir / "run.json", {"recipe": str(recipe.path), "name": recipe.header.name,
                                      "engine": engine, "workers": workers,
                                      "steps": [asdict(r) for r in runner.reports],
                                      "output": runner.last_output})
    return runner.reports


class _Runner:
    def __init__(self, recipe: Recipe, run_dir: Path, engine: EngineOptions, resume: bool,
                 forced_from: int, quiet: bool) -> None:
        self.recipe, self.run_dir, self.engine = recipe, run_dir, engine
        self.resume, self.forced_from, self.quiet = resume, forced_from, quiet
        self.on_error = recipe.header.on_error
        self.reports: list[StepReport] = []
        self.last_output = ""

    # -- the plan ---------------------------------------------------------------------------

    def run(self) -> None:
        steps = self.recipe.steps
        source: Source | None = None
        position = 0
        while position < len(steps):
            step = steps[position]
            if step.type == "read":
                source = self._read_source(step)
                position += 1
                chain = self._chain_from(position)
                if self._cached(step, source.hash, source.hash):
                    self._report_cached(step)
                    continue
                # read is done by whoever reads next: fused into a chain, or counted alone
                if chain and not self._chain_cached(chain, source.hash):
                    source = self._run_chain([step, *chain], source)
                    position += len(chain)
                else:
                    self._run_chain([step], source)
                continue
            chain = self._chain_from(position)
            assert source is not None
            if chain:
                if self._cached(chain[0], source.hash, None):
                    source = self._report_cached(chain[0])
                    position += 1
                    continue
                source = self._run_chain(chain, source)
                position += len(chain)
            else:
                if self._cached(step, source.hash, None):
                    source = self._report_cached(step)
                else:
                    source = self._run_global(step, source)
                position += 1

    def _chain_from(self, position: int) -> list[Step]:
        """The record steps (and `write`s) starting at `position`."""
        chain = []
        for step in self.recipe.steps[position:]:
            kind = self._kind(step)
            if kind not in ("record", "write"):
                break
            chain.append(step)
        return chain

    def _kind(self, step: Step) -> str:
        kind = step.spec.kind
        if kind == "convert":
            return "global" if step.options.source_format == "oasst" else "record"  # type: ignore[attr-defined]
        return kind

    # -- markers ----------------------------------------------------------------------------

    def _config(self, step: Step) -> str:
        return config_hash(step.type, _portable_options(step), file_hash(step.files))

    def _cached(self, step: Step, input_hash: str, expected_output: str | None) -> bool:
        if not (self.resume and step.index < self.forced_from and step.spec.cacheable):
            return False
        marker = read_marker(self.run_dir / step.dir_name)
        return is_current(marker, self._config(step), input_hash,
                          self.run_dir / step.dir_name / OUTPUT, expected_output)

    def _chain_cached(self, chain: list[Step], input_hash: str) -> bool:
        return self._cached(chain[0], input_hash, None)

    def _report_cached(self, step: Step) -> Source:
        marker = read_marker(self.run_dir / step.dir_name)
        assert marker is not None
        self._report(step, "cached", marker["stats"])
        if step.type == "read":
            return Source([], raw=True, hash=marker["output_hash"])
        return Source([str(self.run_dir / step.dir_name / OUTPUT)], hash=marker["output_hash"])

    def _report(self, step: Step, status: str, stats: dict[str, Any]) -> None:
        report = StepReport(step.index, step.type, step.dir_name, status, stats["in"],
                            stats["out"], stats["removed"], stats["rejected"],
                            0.0 if status == "cached" else stats["seconds"])
        self.reports.append(report)
        if not self.quiet:
            _print_report(report, len(self.recipe.steps))

    # -- reading ----------------------------------------------------------------------------

    def _read_source(self, step: Step) -> Source:
        options = step.options
        specs = list(options.path)  # type: ignore[attr-defined]
        return Source(specs, options.split, raw=True,  # type: ignore[attr-defined]
                      hash=file_hash(input_files(specs)))

    def _splits(self, source: Source) -> list[Split]:
        if source.raw and not source.specs:  # a cached read: find its inputs again
            raise AssertionError("a cached read is always followed by its consumer's output")
        return plan_splits(source.specs, split=source.split)

    # -- running ----------------------------------------------------------------------------

    def _step_outset(self, step: Step, stack: ExitStack) -> OutputSet | None:
        step_dir = self.run_dir / step.dir_name
        step_dir.mkdir(parents=True, exist_ok=True)
        (step_dir / MARKER).unlink(missing_ok=True)
        if step.type == "write":
            options = step.options
            target = self.run_dir / options.path  # type: ignore[attr-defined]
            sharded = str(options.path).endswith("/") or bool(  # type: ignore[attr-defined]
                options.shards or options.shard_size)  # type: ignore[attr-defined]
            outset = OutputSet(target, sharded=sharded,
                               stats_path=step_dir / "out.stats.json")
        else:
            outset = OutputSet(step_dir / OUTPUT, sharded=True, fmt=FORMAT,
                               data=step.type != "read")
            outset.add("removed", outset.sidecar_path("removed"), is_dir=True)
        if self.on_error == "skip" and step.type != "write":
            outset.add("rejects", outset.sidecar_path("rejects"), is_dir=True)
        stack.enter_context(outset)
        return outset

    def _run_chain(self, chain: list[Step], source: Source) -> Source:
        """Per-record steps over the source's splits, one batch at a time, in one pass."""
        from curate.convert import resolve_per_file
        from curate.steps import record_step

        splits = self._splits(source)
        started = time.perf_counter()
        with ExitStack() as stack, self._spinner(chain):
            outsets = [self._step_outset(step, stack) for step in chain]
            steps, runs, first_options = [], [], None
            for step, outset in zip(chain, outsets):
                options = step.options
                if step.type == "convert":
                    per_split = resolve_per_file(splits, options)  # type: ignore[arg-type]
                    if step is chain[0]:
                        first_options = per_split
                    options = per_split[0] if per_split else options
                formats = formats_of(outset) if outset else {}
                if step.type == "read":
                    formats.pop("data", None)
                sharding = _write_sharding(step)
                loc_name = f"{outset.out}/part-{{task:05d}}.{outset.format}" if outset else ""
                steps.append(ChainStep(step.type, options, outset.staging / "parts", formats,
                                       loc_name=loc_name, shard_rows=sharding.rows))
                runs.append(StepRun(step.type, options, outset, list(source.specs)))
            tasks = chain_tasks(splits, steps, on_error=self.on_error,
                                batch_size=self.engine.batch_size,
                                skip_known_rejects=source.raw and chain[0].type != "read",
                                first_options=first_options)
            run_tasks(self.engine.executor(), tasks, runs, prefix="curate run")
            finished = []
            for step, run in zip(chain, runs):
                extra = record_step(step.type).finish(run.options, run.counts.extra, run.counts.n_in)
                finished.append((step, run, step_stats(run, extra)))
            source_hash = source.hash
            for number, (step, run, stats) in enumerate(finished):
                finish_output(run.outset, run, stats, sharding=_write_sharding(step))
                out_hash = source_hash if step.type == "read" else output_hash(run.outset)
                self._mark(step, stats, source_hash, out_hash, time.perf_counter() - started)
                source_hash = out_hash
        last = chain[-1]
        if last.type == "read":
            return Source(source.specs, source.split, raw=True, hash=source.hash)
        outset = runs[-1].outset
        return Source([str(outset.out) + ("/" if outset.sharded else "")], hash=source_hash)

    def _run_global(self, step: Step, source: Source) -> Source:
        step_dir = self.run_dir / step.dir_name
        step_dir.mkdir(parents=True, exist_ok=True)
        (step_dir / MARKER).unlink(missing_ok=True)
        driver = step.spec.run
        if step.type == "convert":
            from curate.oasst_convert import convert_oasst_inputs as driver
        assert driver is not None
        extra: dict[str, Any] = {}
        if step.type == "dedup" and step.options.clusters:  # type: ignore[attr-defined]
            extra["clusters"] = self.run_dir / step.options.clusters  # type: ignore[attr-defined]
        started = time.perf_counter()
        with self._spinner([step]):
            stats = driver(source.specs, f"{step_dir / OUTPUT}/", step.options,
                           on_error=self.on_error, engine=self.engine,
                           sharding=Sharding(format=FORMAT), known_rejects=source.raw,
                           split=source.split, quiet=True, **extra)
        out_hash = output_hash_of(step_dir / OUTPUT)
        self._mark(step, stats, source.hash, out_hash, time.perf_counter() - started)
        return Source([str(step_dir / OUTPUT) + "/"], hash=out_hash)

    def _mark(self, step: Step, stats: Any, input_hash: str, out_hash: str,
              seconds: float) -> None:
        dumped = stats.model_dump(by_alias=True)
        write_marker(self.run_dir / step.dir_name, {
            "step": step.type, "index": step.index, "engine": self.engine.engine,
            "seconds": round(seconds, 4), "config_hash": self._config(step),
            "input_hash": input_hash, "output_hash": out_hash, "stats": dumped})
        self._report(step, "ran", dumped)
        if step.type == "write":
            self.last_output = str(self.run_dir / step.options.path)  # type: ignore[attr-defined]
        elif step.type != "read" or not self.last_output:
            self.last_output = str(self.run_dir / step.dir_name / OUTPUT)

    def _spinner(self, steps: list[Step]) -> Any:
        if self.quiet or not sys.stderr.isatty():
            return nullcontext()
        from rich.console import Console

        names = " + ".join(f"{s.index:02d} {s.type}" for s in steps)
        return Console(stderr=True).status(f"[{names}] running...")


def output_hash_of(out: Path) -> str:
    from curate.recipes.markers import manifest_hash

    return manifest_hash(out)


def _write_sharding(step: Step) -> Sharding:
    if step.type != "write":
        return Sharding()
    options = step.options
    return Sharding(rows=options.shard_size, count=options.shards)  # type: ignore[attr-defined]


def _portable_options(step: Step) -> dict[str, Any]:
    """The resolved options (defaults included), with paths as written in the recipe, so a
    project moved elsewhere keeps its markers; the files' contents are hashed separately."""
    options = step.options.model_dump(mode="json")
    for name in (*step.spec.inputs, *step.spec.paths):
        if name in step.written:
            options[name] = step.written[name]
    return options


def _step_index(recipe: Recipe, name: str) -> int:
    for step in recipe.steps:
        if name in (step.type, step.dir_name, str(step.index)):
            return step.index
    raise OptionsError(f"--from-step {name!r}: no such step; the steps are "
                       f"{', '.join(s.dir_name for s in recipe.steps)}")


def _remove_stale_step_dirs(recipe: Recipe, run_dir: Path) -> None:
    """Step directories of an earlier, different recipe would mislead the report (they are
    ours: a step directory holds a marker or a stats file we wrote)."""
    current = {step.dir_name for step in recipe.steps}
    for path in run_dir.iterdir():
        if path.is_dir() and STEP_DIR.match(path.name) and path.name not in current and \
                ((path / MARKER).exists() or (path / "out.stats.json").exists()):
            shutil.rmtree(path)


def _print_report(report: StepReport, total: int) -> None:
    head = f"[{report.index:02d}/{total:02d}] {report.step:<9}"
    if report.status == "cached":
        print(f"{head} cached (in={report.n_in} out={report.n_out})", file=sys.stderr)
        return
    extra = "".join(f" {name}={value}" for name, value in
                    (("removed", report.removed), ("rejected", report.rejected)) if value)
    print(f"{head} in={report.n_in} out={report.n_out}{extra} {report.seconds:.2f}s",
          file=sys.stderr)
