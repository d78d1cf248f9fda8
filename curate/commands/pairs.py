"""`curate pairs`: labeling items from two models' outputs, from preference pairs, or from K
candidate responses per prompt."""

from __future__ import annotations

from typing import Annotated

import typer

from curate.cli_support import (
    Config,
    EngineChoice,
    OnError,
    OnErrorChoice,
    Output,
    Split,
    Workers,
    cli_errors,
    engine_options,
)


@cli_errors
def command(
    output: Output,
    inputs: Annotated[list[str] | None, typer.Argument(
        help="Two files of model outputs: model A's, then model B's.", show_default=False)] = None,
    from_preference: Annotated[str | None, typer.Option(
        "--from-preference", help="Preference pairs (chosen/rejected) to re-label blind, "
        "instead of two output files.")] = None,
    from_candidates: Annotated[str | None, typer.Option(
        "--from-candidates", help="K responses per prompt (from `train generate -k K`, or any "
        "file with a list of responses per prompt: responses, outputs, completions, ...), "
        "instead of two output files.")] = None,
    task: Annotated[str | None, typer.Option(
        help="With --from-candidates: pairwise (every pair of responses becomes an A/B item) "
        "or ranking (one item ranking all K responses, for `label import`) (default: "
        "pairwise).")] = None,
    join_on: Annotated[str | None, typer.Option(
        help="Join key of the two files: 'prompt' (the prompt text, whitespace-normalised) "
        "or a column such as id or meta.id (default: prompt).")] = None,
    source_a: Annotated[str | None, typer.Option(
        help="Name of model A (default: the records' generator/model field, else the file "
        "name).")] = None,
    source_b: Annotated[str | None, typer.Option(help="Name of model B (as --source-a).")] = None,
    seed: Annotated[int | None, typer.Option(
        help="Seed of the A/B sides and the gold draw with --from-preference (default: 0).")] = None,
    gold_fraction: Annotated[float | None, typer.Option(
        help="With --from-preference: share of items marked gold, the original label being "
        "the answer (default: 0).")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
) -> None:
    """Build items for `label import`: A/B items {id, prompt, response_a,
    response_b, source_a, source_b, meta}, or ranking items {id, prompt,
    responses, sources, meta}.

    Two output files are joined on the prompt: each prompt answered by both
    models gives one item. With --from-preference, each chosen/rejected pair
    becomes an item whose A side is drawn from the seed and the pair's id;
    the truth is kept in meta.truth. With --from-candidates, each prompt's K
    responses become all C(K,2) A/B items (--task pairwise) or one ranking
    item (--task ranking, K <= 9); each response keeps its source model.

    Writes OUT, OUT.removed.jsonl (unmatched, duplicate and identical
    records, with the reason), OUT.stats.json (and OUT.rejects.jsonl with
    --on-error skip).

    Example: curate pairs alpaca-7b_outputs.json
    llama-2-7b-chat-hf_outputs.json -o items.jsonl --join-on prompt

    Example: curate pairs --from-preference pairs.jsonl -o items.jsonl
    --seed 0 --gold-fraction 0.1

    Example: curate pairs --from-candidates candidates.jsonl -o ranking.jsonl
    --task ranking
    """
    from curate.options import build_options
    from curate.pairs import PairsOptions
    from curate.pairs_run import blind_pairs_inputs, candidates_inputs, pair_outputs_inputs

    inputs = inputs or []
    modes = bool(from_preference) + bool(from_candidates) + bool(inputs)
    if modes != 1 or (inputs and len(inputs) != 2):
        raise ValueError("give two output files (A then B), --from-preference FILE or "
                         "--from-candidates FILE")
    if task is not None and not from_candidates:
        raise ValueError("--task goes with --from-candidates")
    options = build_options(PairsOptions, config=config, join_on=join_on, source_a=source_a,
                            source_b=source_b, seed=seed, gold_fraction=gold_fraction, task=task)
    settings = engine_options(workers, engine)
    if from_candidates:
        candidates_inputs([from_candidates], output, options, on_error=on_error.value,
                          split=split, engine=settings)
    elif from_preference:
        blind_pairs_inputs([from_preference], output, options, on_error=on_error.value,
                           split=split, engine=settings)
    else:
        pair_outputs_inputs([inputs[0]], [inputs[1]], output, options, on_error=on_error.value,
                            split=split, engine=settings)
