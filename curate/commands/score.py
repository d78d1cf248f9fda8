"""`curate score`: add a `scores` object to every record (removes nothing)."""

from __future__ import annotations

from enum import Enum
from typing import Annotated

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


class View(str, Enum):
    response = "response"
    prompt = "prompt"
    both = "both"


Field = Annotated[str | None, typer.Option(
    help="Main text: auto (the answer, else the `text` column), a view (response, prompt, all, "
    "text) or a column such as solution or meta.body.")]
PromptField = Annotated[str | None, typer.Option(
    help="The prompt: the prompt view (default) or a column such as problem.")]
ResponseField = Annotated[str | None, typer.Option(
    help="The answer when --field is auto: the response view (default) or a column.")]
Tokenizer = Annotated[str | None, typer.Option(
    help="Hugging Face tokenizer (local path, or hub id when online) for token counts.")]
ToxicityModel = Annotated[str | None, typer.Option(
    help="profanity-check (default, offline) or a HF text-classification model path or id.")]
Against = Annotated[list[str] | None, typer.Option(
    help="Eval set to measure overlap with (repeatable), e.g. math500_test.jsonl.")]


def _list_signals(show: bool) -> None:
    if not show:
        return
    from curate.filters import FAMILIES

    for family in FAMILIES.values():
        typer.secho(f"{family.name}: {family.doc}", bold=True)
        for signal in family.signals:
            default = signal.default
            rule = ("removes when true" if default is True else "reported only" if default is False
                    else ", ".join(f"{k} {v}" for k, v in default.items()) if default else "no default")
            typer.echo(f"  {signal.name:22s} [{rule}] {' '.join(signal.doc.split())}")
    raise typer.Exit(0)


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    view: Annotated[View | None, typer.Option(
        help="Score the answer (response, default), the prompt, or both; prompt scores get a "
        "prompt_ prefix.")] = None,
    field: Field = None,
    prompt_field: PromptField = None,
    response_field: ResponseField = None,
    signals: Annotated[str | None, typer.Option(
        help="Comma-separated families: counts, tokens, gopher_quality, gopher_repetition, c4, "
        "fineweb, instruction, toxicity, language, eval_overlap. Default: all that need no "
        "extra input.")] = None,
    tokenizer: Tokenizer = None,
    toxicity_model: ToxicityModel = None,
    against: Against = None,
    ngram: Annotated[int | None, typer.Option(help="Words per eval n-gram (default 13).")] = None,
    recompute: Annotated[bool | None, typer.Option(
        "--recompute/--keep-existing", help="Recompute scores already present (default: keep).")] = None,
    list_signals: Annotated[bool, typer.Option(
        "--list-signals", help="Print every score: name, default rule, meaning; then exit.",
        is_eager=True, callback=_list_signals)] = False,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
    shards: Shards = None,
    shard_size: ShardSize = None,
) -> None:
    """Add score columns to every record under `scores` (word, char, token counts, quality
    signals, toxicity, language, eval overlap); nothing is removed.

    Scores already present are kept, so scoring again is free. Writes OUT and OUT.stats.json.

    Example: curate score chats.jsonl -o scored.jsonl --view both --against math500_test.jsonl
    """
    from curate.dataflow import run_record_step
    from curate.options import build_options
    from curate.scoring import ScoreOptions

    options = build_options(ScoreOptions, config=config, view=view.value if view else None,
                            field=field,
                            prompt_field=prompt_field, response_field=response_field,
                            signals=signals, tokenizer=tokenizer, toxicity_model=toxicity_model,
                            against=against or None, ngram=ngram, recompute=recompute)
    run_record_step("score", options, sources, output, on_error=on_error.value, split=split,
                    engine=engine_options(workers, engine), sharding=sharding(shards, shard_size))
