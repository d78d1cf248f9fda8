"""`curate run`: run a recipe, resumably."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.cli_support import EngineChoice, Workers, cli_errors


@cli_errors
def command(
    recipe_path: Annotated[Path, typer.Argument(help="Recipe YAML: a list of steps.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Run directory (default: the recipe's `output`, else runs/<name>).")] = None,
    resume: Annotated[bool, typer.Option(
        "--resume", help="Skip steps whose completion marker matches their config and input.")] = False,
    from_step: Annotated[str | None, typer.Option(
        "--from-step", help="Rerun from this step (name, NN_name or number), reusing earlier ones.")] = None,
    engine: EngineChoice = "local",
    workers: Workers = 1,
    overrides: Annotated[list[str] | None, typer.Option(
        "--set", help="Override an option: STEP.FIELD=VALUE, e.g. filter.max_toxicity=0.3 or "
        "read.path=data.jsonl (repeatable).")] = None,
) -> None:
    """Run a curation recipe: read, convert, dedup, decontam, score, filter, select, pairs, write.

    Each step writes RUN_DIR/NN_step/: out/ (shards and a manifest), out.removed/,
    out.stats.json and done.json; per-record steps in a row run as one pass over the data.
    With --engine ray, RAY_ADDRESS picks the cluster and RUN_DIR must be on storage every
    node sees.

    Example: curate run recipes/sft_from_alpaca.yaml -o runs/alpaca --resume --set filter.max_words=800
    """
    from curate.recipes import load_recipe, run_recipe

    if engine not in ("local", "ray"):
        raise ValueError(f"--engine must be local or ray, not {engine!r}")
    recipe = load_recipe(recipe_path, overrides)
    run_dir = output or (recipe.directory / recipe.header.output if recipe.header.output
                         else Path("runs") / (recipe.header.name or recipe_path.stem))
    reports = run_recipe(recipe, run_dir, resume=resume, from_step=from_step, engine=engine,
                         workers=workers)
    written = [str(run_dir / step.options.path) for step in recipe.steps  # type: ignore[attr-defined]
               if step.type == "write"] or [str(run_dir / reports[-1].dir / "out")]
    typer.secho(f"run: {len(reports)} steps, {sum(r.status == 'ran' for r in reports)} ran; "
                f"output {', '.join(written)}", err=True)
