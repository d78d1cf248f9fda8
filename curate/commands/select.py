"""`curate select`: s1-style selection of the k most valuable examples."""

from __future__ import annotations

from typing import Annotated

import typer

from curate.cli_support import (
    Config,
    EngineChoice,
    Inputs,
    OnError,
    OnErrorChoice,
    Output,
    Split,
    cli_errors,
    engine_options,
)

_Flag = typer.Option


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    k: Annotated[int | None, _Flag("-k", help="How many records to select.")] = None,
    seed: Annotated[int | None, _Flag(
        help="Seed of sampling, clustering and the random baseline (default: 0).")] = None,
    config: Config = None,
    prompt_field: Annotated[str | None, _Flag(
        help="Question column, e.g. problem (default: the user turns).")] = None,
    answer_field: Annotated[str | None, _Flag(
        help="Solution column, e.g. solution (default: the assistant turns).")] = None,
    reference_field: Annotated[str | None, _Flag(
        help="Final-answer column for model-solve (default: extracted from the solution: "
        "'#### N', \\boxed{...} or the last number).")] = None,
    quality: Annotated[bool | None, _Flag(
        "--quality/--no-quality", help="Quality stage: drop broken records (default: on).")] = None,
    quality_preset: Annotated[str | None, _Flag(
        help="Filter preset, name or YAML file (default: reasoning).")] = None,
    workers: Annotated[int | None, _Flag(
        help="Local worker processes (default: 1); the output is the same for any number.")] = None,
    difficulty: Annotated[list[str] | None, _Flag(
        "--difficulty", "-d", help="Difficulty signal, repeatable: column:NAME, column:-NAME, "
        "length, length:FIELD, model-loss, model-solve, labels:COLUMN, or none "
        "(default: length).")] = None,
    drop_solved: Annotated[bool | None, _Flag(
        "--drop-solved/--keep-solved", help="Drop questions the model (or labels) solved "
        "(default: keep).")] = None,
    tokenizer: Annotated[str | None, _Flag(
        help="Tokenizer for the length signal, path or hub id (default: words and "
        "punctuation marks, no download).")] = None,
    model: Annotated[str | None, _Flag(
        help="Causal LM for model-loss and model-solve, path or hub id.")] = None,
    attempts: Annotated[int | None, _Flag(
        help="Generations per question for model-solve (default: 4).")] = None,
    temperature: Annotated[float | None, _Flag(
        help="Sampling temperature, 0 = greedy (default: 0.7).")] = None,
    max_new_tokens: Annotated[int | None, _Flag(
        help="Tokens generated per attempt (default: 1024).")] = None,
    max_length: Annotated[int | None, _Flag(
        help="Token cap of question + solution for model-loss (default: 2048).")] = None,
    batch_size: Annotated[int | None, _Flag(
        help="Questions per model batch (default: 8).")] = None,
    diversity: Annotated[bool | None, _Flag(
        "--diversity/--no-diversity", help="Diversity stage: domains and the s1 loop "
        "(default: on).")] = None,
    domain_field: Annotated[str | None, _Flag(
        help="Domain column, e.g. subject (default: k-means clusters of the questions).")] = None,
    clusters: Annotated[int | None, _Flag(
        help="Number of k-means clusters (default: sqrt(n/2), at most 50).")] = None,
    embed_model: Annotated[str | None, _Flag(
        help="sentence-transformers model for the clustering (default: TF-IDF + SVD, "
        "offline).")] = None,
    domain_weights: Annotated[str | None, _Flag(
        help="uniform (s1), proportional, or a YAML/JSON file of weights with an optional "
        "'*' default (default: uniform).")] = None,
    domain_draw: Annotated[str | None, _Flag(
        help="stratified (each domain within one pick of its share) or iid (as s1's "
        "notebook) (default: stratified).")] = None,
    seed_set: Annotated[list[str] | None, _Flag(
        "--seed-set", help="Always select records matching FIELD=VALUE or FIELD~REGEX "
        "(repeatable).")] = None,
    report: Annotated[bool | None, _Flag(
        "--report/--no-report", help="Write OUT.select_report.html and .md (default: on).")] = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    engine: EngineChoice = "local",
) -> None:
    """Pick the k most valuable examples by quality, difficulty and diversity (s1).

    Quality drops broken records with the `reasoning` filter preset.
    Difficulty combines the signals into one score: the mean of their
    percentile ranks. Diversity assigns domains (a column or k-means clusters)
    and repeats: draw a domain, then a question with weight 2^-rank, hardest
    first, until k are chosen. The same seed gives the same output.

    Writes OUT (the selection; order, domain and scores in meta.select),
    OUT.removed.jsonl (the stage and reason of every other record),
    OUT.stats.json and OUT.select_report.html/.md (the selection against a
    random sample of the same k).

    Example: curate select math500.jsonl -o picked.jsonl -k 140 \\
    --prompt-field problem --answer-field solution --domain-field subject \\
    -d column:level -d length --seed 0
    """
    from curate.options import build_options
    from curate.select import SelectOptions

    options = build_options(
        SelectOptions, config=config, k=k, seed=seed, prompt_field=prompt_field,
        answer_field=answer_field, reference_field=reference_field, quality=quality,
        quality_preset=quality_preset, workers=workers, difficulty=difficulty or None,
        drop_solved=drop_solved, tokenizer=tokenizer, model=model, attempts=attempts,
        temperature=temperature, max_new_tokens=max_new_tokens, max_length=max_length,
        batch_size=batch_size, diversity=diversity, domain_field=domain_field,
        clusters=clusters, embed_model=embed_model, domain_weights=domain_weights,
        domain_draw=domain_draw, seed_set=seed_set or None, report=report)
    from curate.select.run import select_inputs

    select_inputs(sources, output, options, on_error=on_error.value, split=split,
                  engine=engine_options(1, engine))
