"""`curate filter`: remove records whose scores break a threshold; write why, and a report."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from curate.cli_support import (
    Config,
    EngineChoice,
    Inputs,
    OnError,
    OnErrorChoice,
    Output,
    Shards,
    ShardSize,
    Split,
    Workers,
    cli_errors,
    engine_options,
    sharding,
)
from curate.commands.score import Field, PromptField, ResponseField, Tokenizer, ToxicityModel
from curate.options import OptionsError
from curate.presets import preset_names, preset_path


def _show_preset(name: str | None) -> None:
    if name:
        try:
            typer.echo(preset_path(name).read_text(encoding="utf-8"), nl=False)
        except OptionsError as exc:
            typer.secho(f"error: {exc}", fg=typer.colors.RED, err=True)
            raise typer.Exit(1) from None
        raise typer.Exit(0)


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    preset: Annotated[list[str] | None, typer.Option(
        help=f"Rule preset (repeatable, applied in order): {', '.join(preset_names())}, or a "
        "YAML file. Print one with `curate filter --show-preset NAME`.")] = None,
    min_words: Annotated[int | None, typer.Option(help="Remove answers with fewer words.")] = None,
    max_words: Annotated[int | None, typer.Option(help="Remove answers with more words.")] = None,
    min_tokens: Annotated[int | None, typer.Option(
        help="Remove answers with fewer tokens (needs --tokenizer).")] = None,
    max_tokens: Annotated[int | None, typer.Option(
        help="Remove answers with more tokens (needs --tokenizer).")] = None,
    tokenizer: Tokenizer = None,
    max_toxicity: Annotated[float | None, typer.Option(
        help="Remove answers more toxic than this (0..1).")] = None,
    toxicity_model: ToxicityModel = None,
    lang: Annotated[str | None, typer.Option(
        help="Keep only these languages (comma-separated ISO codes, e.g. en or en,de).")] = None,
    min_lang_score: Annotated[float | None, typer.Option(
        help="Remove records whose language confidence is lower (0..1).")] = None,
    against: Annotated[list[str] | None, typer.Option(
        help="Eval set (repeatable): remove records sharing a 13-word n-gram with it "
        "(reason eval_overlap_above_max; see also curate decontam).")] = None,
    field: Field = None,
    prompt_field: PromptField = None,
    response_field: ResponseField = None,
    strip_scores: Annotated[bool | None, typer.Option(
        "--strip-scores/--keep-scores", help="Drop the scores object from kept records "
        "(default: keep it, so refiltering is free).")] = None,
    report: Annotated[bool | None, typer.Option(
        "--report/--no-report", help="Write OUT.report.html (default: yes).")] = None,
    show_preset: Annotated[str | None, typer.Option(
        help="Print a preset's YAML (to copy and edit) and exit.", is_eager=True,
        callback=_show_preset)] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
    shards: Shards = None,
    shard_size: ShardSize = None,
) -> None:
    """Remove records whose scores break a threshold, computing only missing scores.

    Writes OUT (kept records, with their scores), OUT.removed.jsonl (the record, its first
    failing `reason`, all failing `reasons`, the score, its value and the threshold),
    OUT.stats.json and OUT.report.html.

    Example: curate filter chats.jsonl -o clean.jsonl --preset sft-default --max-words 2000 --lang en
    """
    from curate.filtering import FilterOptions
    from curate.options import build_options

    options = build_options(
        FilterOptions, config=config, preset=preset or None, min_words=min_words,
        max_words=max_words, min_tokens=min_tokens, max_tokens=max_tokens, tokenizer=tokenizer,
        max_toxicity=max_toxicity, toxicity_model=toxicity_model, lang=lang,
        min_lang_score=min_lang_score, against=against or None, field=field,
        prompt_field=prompt_field, response_field=response_field, strip_scores=strip_scores,
        report=report)
    if not options.flags and not options.thresholds and not options.lang:
        raise ValueError("no rules: give --preset, a threshold flag, or --config with rules")
    filter_inputs(sources, output, options, on_error=on_error.value, split=split,
                  engine=engine_options(workers, engine), sharding=sharding(shards, shard_size))


def filter_inputs(inputs: list[str], out: str | Path, options: Any, *, on_error: str = "raise",
                  split: str = "train", engine: Any = None, sharding: Any = None) -> Any:
    """Filter `inputs` into `out` with its sidecars and (unless disabled) the report, which
    is committed with them."""
    from curate.dataflow import Sharding, run_record_step
    from curate.engine import EngineOptions


    def add_report(outset: Any, stats: Any) -> None:
        from curate.report import write_step_report

        final = outset.sidecar_path("report.html", data=False)
        staged = outset.add("report", final)
        kept = outset.staged("data")
        removed = outset.staged("removed")
        write_step_report(stats.model_dump(by_alias=True), kept, removed, staged,
                          name=Path(str(out)).name)
        print(f"report: {final}", file=sys.stderr)

    return run_record_step("filter", options, inputs, out, on_error=on_error, split=split,
                           engine=engine or EngineOptions(), sharding=sharding or Sharding(),
                           extra_inputs=[*options.against],
                           before_commit=add_report if options.report else None)
