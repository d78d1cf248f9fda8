"""`curate dedup`: exact and MinHash-LSH near-duplicate removal."""

from __future__ import annotations

import sys
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from curate.cli_support import Config, OnError, OnErrorChoice, Output, Split, cli_errors
from curate.io import Loc, Rejects, read_rows, write_records
from curate.options import build_options
from curate.step import StepOutput, StepResult
from schemas import StepStats

if TYPE_CHECKING:
    from curate.dedup import DedupOptions


class Method(str, Enum):
    exact = "exact"
    minhash = "minhash"
    both = "both"


@cli_errors
def command(
    source: Annotated[str, typer.Argument(help="Input file, saved HF dataset dir, or hub id.")],
    output: Output,
    method: Annotated[Method | None, typer.Option(
        help="exact: same normalised text. minhash: verified near-duplicates. both (default): "
        "minhash, with identical texts reported as exact_duplicate.")] = None,
    field: Annotated[str | None, typer.Option(
        help="Text compared: all (default), prompt (user turns), response (assistant turns), "
        "text, or any column (meta.title reaches inside).")] = None,
    threshold: Annotated[float | None, typer.Option(
        help="Jaccard similarity of word n-gram sets that makes a duplicate (default 0.8).")] = None,
    num_perm: Annotated[int | None, typer.Option(help="MinHash permutations (default 128).")] = None,
    ngram: Annotated[int | None, typer.Option(help="Words per shingle (default 5).")] = None,
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
        help="Processes computing signatures (default 1).")] = None,
    against: Annotated[list[str] | None, typer.Option(
        help="Reference dataset (repeatable): remove records that duplicate any of its records; "
        "the reference itself is not deduplicated.")] = None,
    config: Config = None,
    on_error: OnError = OnErrorChoice.raise_,
    split: Split = "train",
) -> None:
    """Remove exact and near-duplicate records (MinHash-LSH, exact Jaccard check).

    Texts are normalised first: lowercase; every character that is not a
    letter, mark or digit becomes a space; whitespace collapsed; digits read
    as 0 with --fold-digits. Near-duplicates are judged by the Jaccard
    similarity of their word n-gram sets (a text shorter than n words is one
    n-gram).

    Writes OUT (kept records), OUT.removed.jsonl (reason, cluster_id,
    duplicate_of, similarity), OUT.stats.json, and OUT.rejects.jsonl with
    --on-error skip. Records keep their id; a record without one gets its
    0-based input row (its line in a JSONL file) as id.

    Example: curate dedup answers.jsonl -o unique.jsonl --field response --keep longest
    """
    from curate.dedup import DedupOptions  # numpy and polars load only when deduplicating

    options = build_options(
        DedupOptions, config=config, method=method.value if method else None, field=field,
        threshold=threshold, num_perm=num_perm, ngram=ngram, bands=bands, rows=rows,
        verify=verify, keep=keep, fold_digits=fold_digits, seed=seed,
        clusters=str(clusters) if clusters else None, workers=workers, against=against or None)
    dedup_file(source, Path(output), options, on_error=on_error.value, split=split)


def dedup_file(source: str, out: Path, options: DedupOptions, *, on_error: str = "raise",
               split: str = "train") -> StepStats:
    """Read `source`, deduplicate, and write OUT with its sidecar files (and the clusters file)."""
    from curate.dedup import run_dedup
    from curate.dedup.progress import RichPhases

    rejects = Rejects(on_error)
    with StepOutput("dedup", out, rejects=rejects, inputs=[source], quiet=True) as output, \
            RichPhases() as phases:
        locs: list[Loc] = []
        records: list[dict[str, Any]] = []
        rows: list[int] = []  # 0-based input row of each record, counting malformed rows
        with phases.phase("read") as advance:
            for loc, record in read_rows(source, rejects=rejects, split=split):
                locs.append(loc)
                records.append(record)
                rows.append(len(records) - 1 + len(rejects))
                if len(records) % 10_000 == 0:
                    advance(10_000)
            advance(len(records) % 10_000)
        run = run_dedup(records, options, rejects=rejects, locs=locs, phases=phases,
                        row_numbers=rows)
        output.n_in = len(records) + rejects.by_reason["bad_json"]
        kept = run.result.kept
        output.add(StepResult([], run.result.removed, run.result.extra))
        with phases.phase("write", len(kept)) as advance:
            for start in range(0, len(kept), 10_000):
                chunk = kept[start:start + 10_000]
                for record in chunk:
                    output.keep(record)
                advance(len(chunk))
        output.extra.update(kept=len(kept), against=options.against)
        if options.clusters:
            write_records(options.clusters, run.clusters)
        if not records:
            print(f"warning: {source} has no records; wrote an empty {out}", file=sys.stderr)
    stats = output.stats
    assert stats is not None
    rejected = f" rejected={stats.rejected}" if stats.rejected else ""
    print(f"dedup: in={stats.n_in} kept={stats.n_out} removed={stats.removed} "
          f"clusters={run.result.extra['clusters']}{rejected} {stats.seconds:.2f}s "
          f"({stats.docs_per_s:,.0f} docs/s)", file=sys.stderr)
    return stats
