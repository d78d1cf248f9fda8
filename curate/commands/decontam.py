"""`curate decontam`: remove training records that share a long n-gram with an eval set."""

from __future__ import annotations

import sys
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

SHOWN_HITS = 10  # eval items listed on stderr; the stats file has them all


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    against: Annotated[list[str] | None, typer.Option(
        help="Eval set (repeatable): e.g. math500_test.jsonl, aime24_test.jsonl, GSM8K test.")] = None,
    ngram: Annotated[int | None, typer.Option(
        help="Words in a shared n-gram that marks contamination (default 13).")] = None,
    char_ngram: Annotated[int | None, typer.Option(
        help="Characters in a shared n-gram, for text without spaces (Chinese, Japanese, "
        "Thai...; default: 13).")] = None,
    shingle: Annotated[str | None, typer.Option(
        help="Units: auto (default: words, characters in scripts without spaces), word or "
        "char.")] = None,
    field: Annotated[str | None, typer.Option(
        help="Training text checked: all (default: every turn), prompt, response, text, or a "
        "column.")] = None,
    eval_field: Annotated[str | None, typer.Option(
        help="Eval text indexed: prompt (default: the problem/question), all, or a column.")] = None,
    min_eval_words: Annotated[int | None, typer.Option(
        help="Skip eval items with fewer words (default 8); shorter than --ngram are matched "
        "whole.")] = None,
    boilerplate: Annotated[int | None, typer.Option(
        help="Ignore n-grams found in this many eval items or more: template text such as "
        "AIME's answer-format sentence (default 3).")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
    shards: Shards = None,
    shard_size: ShardSize = None,
) -> None:
    """Remove training records that share a word n-gram (13 by default) with any eval record.

    Case, punctuation and whitespace are ignored. Writes OUT, OUT.removed.jsonl (with the eval
    items each record hit) and OUT.stats.json, whose `hits` list every eval item that was hit.

    Example: curate decontam train.jsonl -o clean.jsonl --against math500_test.jsonl --against aime24_test.jsonl
    """
    from curate.dataflow import run_record_step
    from curate.decontam import DecontamOptions, eval_index
    from curate.io import sidecar
    from curate.options import build_options

    options = build_options(DecontamOptions, config=config, against=against or None, ngram=ngram,
                            char_ngram=char_ngram, shingle=shingle,
                            field=field, eval_field=eval_field, min_eval_words=min_eval_words,
                            boilerplate=boilerplate)
    index = eval_index(options)
    print(f"decontam: indexed {len(index):,} eval items ({index.skipped} too short to match)",
          file=sys.stderr)

    stats = run_record_step("decontam", options, sources, output, on_error=on_error.value,
                            split=split, engine=engine_options(workers, engine),
                            sharding=sharding(shards, shard_size),
                            extra_inputs=list(options.against))
    extra = stats.model_extra or {}
    print(f"decontam: eval items hit: {extra.get('eval_items_hit') or 'none'}", file=sys.stderr)
    for hit in extra.get("hits", [])[:SHOWN_HITS]:
        print(f"  {hit['eval']} {hit['item']} ({hit['records']} records): {hit['preview'][:80]}",
              file=sys.stderr)
    if len(extra.get("hits", [])) > SHOWN_HITS:
        print(f"  ... every hit is listed under 'hits' in {sidecar(output, 'stats.json')}",
              file=sys.stderr)
