"""`curate dedup`: exact and MinHash-LSH near-duplicate removal, out of core."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
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
    cli_errors,
    engine_options,
    sharding,
)


class Method(str, Enum):
    exact = "exact"
    minhash = "minhash"
    both = "both"


@cli_errors
def command(
    sources: Inputs,
    output: Output,
    method: Annotated[Method | None, typer.Option(
        help="exact: same normalised text. minhash: verified near-duplicates. both (default): "
        "minhash, with identical texts reported as exact_duplicate.")] = None,
    field: Annotated[str | None, typer.Option(
        help="Text compared. auto (default): every turn; for preference pairs the prompt, "
        "chosen and rejected answers, each of which must match, so pairs differing in the "
        "rejected answer are kept. Or one text: prompt, response, chosen, rejected, all, text, "
        "or any column (meta.title reaches inside).")] = None,
    threshold: Annotated[float | None, typer.Option(
        help="Jaccard similarity of word n-gram sets that makes a duplicate (default 0.8).")] = None,
    num_perm: Annotated[int | None, typer.Option(help="MinHash permutations (default 128).")] = None,
    ngram: Annotated[int | None, typer.Option(help="Words per shingle (default 5).")] = None,
    shingle: Annotated[str | None, typer.Option(
        help="Shingle units: auto (default: words, and single characters in Chinese, Japanese, "
        "Thai, Lao, Khmer, Myanmar), word, or char.")] = None,
    char_ngram: Annotated[int | None, typer.Option(
        help="Characters per shingle in text without spaces (default 3: measured recall >= 0.9 "
        "on Chinese and Japanese near-duplicates).")] = None,
    fold_case: Annotated[bool | None, typer.Option(
        "--fold-case/--no-fold-case", help="Fold case in every script (default: yes).")] = None,
    bands: Annotated[int | None, typer.Option(
        help="LSH bands; with --rows. Default: derived from --threshold and --num-perm.")] = None,
    rows: Annotated[int | None, typer.Option(help="Signature rows per LSH band; with --bands.")] = None,
    verify: Annotated[bool | None, typer.Option(
        "--verify/--no-verify", help="Check LSH candidates by exact Jaccard (default) or only "
        "by the MinHash estimate.")] = None,
    keep: Annotated[str | None, typer.Option(
        help="Survivor of a cluster: first (default), longest, shortest, or a numeric column "
        "(highest wins). Ties go to the earliest record.")] = None,
    fold_digits: Annotated[bool | None, typer.Option(
        "--fold-digits/--no-fold-digits", help="Compare texts with every digit read as 0.")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of the MinHash permutations.")] = None,
    clusters: Annotated[Path | None, typer.Option(
        help="Also write one line per cluster: id, members, survivor, min/max similarity.")] = None,
    workers: Annotated[int | None, typer.Option(
        help="Local worker processes (default 1); the output is the same for any number.")] = None,
    against: Annotated[list[str] | None, typer.Option(
        help="Reference dataset (repeatable): remove records that duplicate any of its records; "
        "the reference itself is not deduplicated.")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
    engine: EngineChoice = "local",
    shards: Shards = None,
    shard_size: ShardSize = None,
) -> None:
    """Remove exact and near-duplicate records (MinHash-LSH, exact Jaccard check).

    Texts are normalised first: Unicode NFKC (full-width forms folded),
    zero-width characters, soft hyphens and bidi controls removed, case folded;
    every character that is not a letter, mark or digit becomes a space;
    digits read as 0 with --fold-digits. Near-duplicates are judged by the
    Jaccard similarity of their shingle sets: word n-grams, and character
    n-grams in scripts written without spaces (a text shorter than n units is
    one shingle). A text with no words (emoji, ASCII art, a formula) is kept and
    matches only its exact copies. Memory holds keys, not texts: inputs of any
    size and any number of shards work.

    Writes OUT (kept records), OUT.removed.jsonl (reason, cluster_id,
    duplicate_of, similarity), OUT.stats.json, and OUT.rejects.jsonl with
    --on-error skip. Records keep their id; a record without one gets its
    0-based input row (its line in a JSONL file) as id.

    Example: curate dedup answers.jsonl -o unique.jsonl --field response --keep longest
    """
    from curate.dedup import DedupOptions  # numpy and polars load only when deduplicating
    from curate.options import build_options

    options = build_options(
        DedupOptions, config=config, method=method.value if method else None, field=field,
        threshold=threshold, num_perm=num_perm, ngram=ngram, shingle=shingle,
        char_ngram=char_ngram, fold_case=fold_case, bands=bands, rows=rows,
        verify=verify, keep=keep, fold_digits=fold_digits, seed=seed,
        clusters=str(clusters) if clusters else None, workers=workers, against=against or None)
    from curate.dedup import dedup_inputs

    dedup_inputs(sources, output, options, on_error=on_error.value, split=split,
                 engine=engine_options(workers or 1, engine), sharding=sharding(shards, shard_size))
