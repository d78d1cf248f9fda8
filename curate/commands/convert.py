"""`curate convert`: any supported input format to canonical or another output format."""

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
    Shards,
    ShardSize,
    Split,
    Workers,
    cli_errors,
    engine_options,
    sharding,
)


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    source_format: Annotated[str | None, typer.Option(
        "--from", help="alpaca|sharegpt|messages|oasst|hh|columns (default: detect).")] = None,
    to: Annotated[str | None, typer.Option(
        "--to", help="messages|prompt-completion|alpaca|sharegpt|preference "
        "(default: messages for conversations, preference for pairs).")] = None,
    oasst_mode: Annotated[str | None, typer.Option(
        "--oasst-mode", help="OASST SFT threads: best (rank-0 path) or all (every leaf).")] = None,
    pairs: Annotated[str | None, typer.Option(
        "--pairs", help="OASST preference pairs: all (every ranked sibling pair) or extremes.")] = None,
    lang: Annotated[list[str] | None, typer.Option(
        "--lang", help="OASST: keep only this language (repeatable; pt matches pt-BR).")] = None,
    unranked: Annotated[str | None, typer.Option(
        "--unranked", help="OASST best thread where sibling replies have no rank: first (take "
        "the first listed, counted in stats) or skip (end the thread there).")] = None,
    tree_state: Annotated[list[str] | None, typer.Option(
        "--tree-state", help="OASST: keep only trees in this state, e.g. ready_for_export "
        "(repeatable).")] = None,
    drop_synthetic: Annotated[bool | None, typer.Option(
        "--drop-synthetic/--keep-synthetic", help="OASST: drop synthetic messages.")] = None,
    prompt_field: Annotated[str | None, typer.Option(help="Columns format: prompt column.")] = None,
    response_field: Annotated[str | None, typer.Option(help="Columns format: response column.")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    workers: Workers = 1,
    engine: EngineChoice = "local",
    shards: Shards = None,
    shard_size: ShardSize = None,
) -> None:
    """Convert between Alpaca, ShareGPT, messages, OASST trees, HH transcripts and TRL formats.

    Writes OUT, OUT.stats.json, OUT.removed.jsonl (and OUT.rejects.jsonl with --on-error skip).
    OASST trees repeated in an export are kept once (the rest removed, reason
    oasst_duplicate_tree); degenerate preference pairs (chosen equal to rejected, or an empty
    side) are removed with their reason.

    Example: curate convert oasst_trees.jsonl -o pairs.jsonl --to preference --pairs all
    """
    from curate.convert import ConvertOptions, convert_inputs
    from curate.options import build_options

    options = build_options(
        ConvertOptions, config=config, source_format=source_format, to=to, oasst_mode=oasst_mode,
        pairs=pairs, lang=lang or None, drop_synthetic=drop_synthetic, prompt_field=prompt_field,
        response_field=response_field, unranked=unranked, tree_state=tree_state or None)
    convert_inputs(sources, output, options, on_error=on_error.value, split=split,
                   engine=engine_options(workers, engine), sharding=sharding(shards, shard_size))
