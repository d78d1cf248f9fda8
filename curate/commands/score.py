"""`curate score`: add a `scores` object to every record (removes nothing).

Also home of `run_in_batches`, the streaming read -> step -> write loop that
`score`, `filter` and `decontam` share.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from enum import Enum
from pathlib import Path
from typing import Annotated, Any

import typer

from curate.cli_support import Config, OnError, OnErrorChoice, Output, Split, cli_errors
from curate.io import BadRecord, Rejects, read_rows
from curate.options import build_options
from curate.scoring import ScoreOptions, ScoreSummary, Unreadable, score_records, text_check
from curate.step import StepOutput, StepResult
from schemas import StepStats

BATCH = 2000


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


def run_in_batches(step: str, source: str, out: Path, apply: Callable[[list[dict]], StepResult], *,
                   check: Callable[[dict[str, Any]], None], on_error: str, split: str,
                   finish: Callable[[StepOutput], None] | None = None) -> StepStats:
    """Stream `source` through `apply` in batches and write OUT with its sidecars.

    `check(record)` raises `Unreadable` for a record the step cannot read; that record is a
    bad record (exit 1 naming file:line and field, or OUT.rejects.jsonl with --on-error skip).
    `finish(output)` may set step-specific stats once every batch is done.
    """
    rejects = Rejects(on_error)
    with StepOutput(step, out, rejects=rejects, inputs=[source]) as output, \
            _progress(step) as advance:
        rows = 0
        batch: list[dict[str, Any]] = []
        for loc, record in read_rows(source, rejects=rejects, split=split):
            rows += 1
            try:
                check(record)
            except Unreadable as exc:
                rejects(BadRecord(loc, exc.field, exc.message, reason=exc.reason, record=record))
                continue
            batch.append(record)
            if len(batch) >= BATCH:
                output.add(apply(batch))
                advance(len(batch))
                batch = []
        if batch:
            output.add(apply(batch))
            advance(len(batch))
        output.n_in = rows + rejects.by_reason["bad_json"]
        if finish:
            finish(output)
        if not rows:
            print(f"warning: {source} has no records; wrote an empty {out}", file=sys.stderr)
    assert output.stats is not None
    return output.stats


class _progress:
    """A rich counter of records done on stderr (only on a terminal)."""

    def __init__(self, step: str) -> None:
        from rich.console import Console
        from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

        self._bar = Progress(SpinnerColumn(), TextColumn(f"{step} {{task.completed:,}} records"),
                             TimeElapsedColumn(), console=Console(stderr=True), transient=True,
                             disable=not sys.stderr.isatty())
        self._task = self._bar.add_task(step, total=None)

    def __enter__(self) -> Callable[[int], None]:
        self._bar.start()
        return lambda n: self._bar.advance(self._task, n)

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()


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
    source: Annotated[str, typer.Argument(help="Input file, saved HF dataset dir, or hub id.")],
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
) -> None:
    """Add score columns to every record under `scores` (word, char, token counts, quality
    signals, toxicity, language, eval overlap); nothing is removed.

    Scores already present are kept, so scoring again is free. Writes OUT and OUT.stats.json.

    Example: curate score chats.jsonl -o scored.jsonl --view both --against math500_test.jsonl
    """
    options = build_options(ScoreOptions, config=config, view=view.value if view else None,
                            field=field,
                            prompt_field=prompt_field, response_field=response_field,
                            signals=signals, tokenizer=tokenizer, toxicity_model=toxicity_model,
                            against=against or None, ngram=ngram, recompute=recompute)
    summary = ScoreSummary()

    def apply(batch: list[dict]) -> StepResult:
        scored = score_records(batch, options)
        summary.add(scored)
        return StepResult(scored)

    run_in_batches("score", source, Path(output), apply, check=text_check(options),
                   on_error=on_error.value, split=split,
                   finish=lambda output: output.extra.update(scores=summary.as_dict()))
