"""Votes to training data: majority-vote `PreferencePair`s, raw judgments, length statistics."""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from curate.io import atomic_path, sidecar, write_json, write_records
from curate.step import StepOutput, StepResult, removal
from schemas import Message, PreferencePair, StepStats
from schemas.labeling import STRENGTH, VOTES, WINNER, Item, as_messages, as_text

STEP = "label export"
_JUDGMENT_SCHEMA = {"item_id": str, "user": str, "choice": str, "winner": str, "strength": float,
                    "shown": str, "left": str, "seconds": float, "guideline_version": str,
                    "rationale": str, "simulated": bool, "created_at": float, "len_a": int,
                    "len_b": int, "source_a": str, "source_b": str, "gold": str}


class ExportOptions(BaseModel):
    """Options of `label export` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["dpo", "judgments"] = "dpo"
    min_agreement: float = Field(0.0, ge=0, le=1, description="Drop pairs whose majority has a "
                                 "smaller share of the votes.")
    drop_ties: bool = Field(False, description="Ignore tie votes when finding the majority and "
                            "its agreement (by default a tie counts against agreement).")
    min_votes: int | None = Field(None, ge=1, description="Votes an item needs; default: its "
                                  "overlap, so only complete items are exported.")
    simulated: bool = Field(True, description="Include simulated votes.")


@dataclass(frozen=True)
class Verdict:
    """The majority of one item's votes, or why there is none (`reason`)."""

    winner: str | None
    reason: str | None
    agreement: float | None
    strength: float | None


def verdict(choices: list[str], *, drop_ties: bool = False) -> Verdict:
    """Majority over sides (a, b, tie, both_bad); `strength` is the mean strength of the votes
    agreeing with it (1.0 "better", 2.0 "much better")."""
    sides = Counter(WINNER[c] for c in choices if not (drop_ties and c == "tie"))
    total = sum(sides.values())
    if not total:
        return Verdict(None, "only_ties", None, None)
    top = max(sides.values())
    leaders = [side for side, count in sides.items() if count == top]
    agreement = top / total
    if len(leaders) > 1:
        return Verdict(None, "no_majority", agreement, None)
    winner = leaders[0]
    if winner in ("tie", "both_bad"):
        return Verdict(None, f"majority_{winner}", agreement, None)
    strength = float(np.mean([STRENGTH[c] for c in choices if WINNER[c] == winner]))
    return Verdict(winner, None, agreement, strength)


def preference_pairs(items: Iterable[tuple[Item, int, int]], judgments: list[dict[str, Any]],
                     options: ExportOptions) -> StepResult:
    """One `PreferencePair` per item with a clear majority; every other item is removed
    with its reason (`unjudged`, `too_few_votes`, `only_ties`, `no_majority`,
    `majority_tie`, `majority_both_bad`, `low_agreement`)."""
    votes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in judgments:
        if row["choice"] != "skip" and (options.simulated or not row["simulated"]):
            votes[row["item_id"]].append(row)
    kept, removed = [], []
    for item, overlap, _ in items:
        rows = votes.get(item.id, [])
        choices = [row["choice"] for row in rows]
        counts = {choice: choices.count(choice) for choice in VOTES}
        needed = options.min_votes or overlap
        if not rows:
            removed.append(removal(item.model_dump(), "unjudged", STEP))
            continue
        if len(rows) < needed:
            removed.append(removal(item.model_dump(), "too_few_votes", STEP, votes=counts,
                                   needed=needed))
            continue
        result = verdict(choices, drop_ties=options.drop_ties)
        if result.winner is None or result.agreement < options.min_agreement:
            removed.append(removal(item.model_dump(), result.reason or "low_agreement", STEP,
                                   votes=counts, agreement=result.agreement))
            continue
        kept.append(_pair(item, result, counts, rows))
    return StepResult(kept, removed, {"lengths": length_stats(kept)})


def _pair(item: Item, result: Verdict, counts: dict[str, int],
          rows: list[dict[str, Any]]) -> dict[str, Any]:
    loser = "b" if result.winner == "a" else "a"
    simulated = sum(bool(row["simulated"]) for row in rows)
    pair = PreferencePair(
        id=item.id,
        prompt=as_messages(item.prompt, "user"),
        chosen=as_messages(getattr(item, f"response_{result.winner}"), "assistant"),
        rejected=as_messages(getattr(item, f"response_{loser}"), "assistant"),
        meta={"item_id": item.id, "strength": result.strength, "votes": counts,
              "n_votes": len(rows), "agreement": result.agreement, "chosen_side": result.winner,
              "source_chosen": getattr(item, f"source_{result.winner}"),
              "source_rejected": getattr(item, f"source_{loser}"),
              "simulated": simulated > 0, "simulated_votes": simulated, "gold": item.gold,
              "item_meta": item.meta})
    return pair.model_dump(exclude_none=False)


def length_stats(pairs: list[dict[str, Any]]) -> dict[str, Any]:
    """Chosen vs rejected lengths (characters): the length bias about to be trained in."""
    if not pairs:
        return {"n": 0}
    chosen = np.array([_chars(p["chosen"]) for p in pairs])
    rejected = np.array([_chars(p["rejected"]) for p in pairs])
    differs = chosen != rejected
    return {"n": len(pairs), "chosen_mean_chars": float(chosen.mean()),
            "rejected_mean_chars": float(rejected.mean()),
            "chosen_median_chars": float(np.median(chosen)),
            "rejected_median_chars": float(np.median(rejected)),
            "mean_diff_chars": float((chosen - rejected).mean()),
            "chosen_longer_share": float((chosen > rejected)[differs].mean())
            if differs.any() else None}


def _chars(turns: list[dict[str, Any]]) -> int:
    """Characters as the labeler saw them (`as_text`, as the store measures items)."""
    return len(as_text([Message.model_validate(turn) for turn in turns]))


def length_line(stats: dict[str, Any]) -> str:
    """The one-line length report printed after an export."""
    if not stats.get("n"):
        return "lengths: no pairs"
    share = stats["chosen_longer_share"]
    longer = f"chosen is longer in {share:.0%} of pairs" if share is not None else "equal lengths"
    return (f"lengths: {longer}; mean chosen {stats['chosen_mean_chars']:,.0f} vs rejected "
            f"{stats['rejected_mean_chars']:,.0f} chars")


def write_judgments(path: str | Path, records: list[dict[str, Any]]) -> None:
    """Raw judgments to .csv (via polars) or any record format, atomically."""
    if str(path).lower().endswith(".csv"):
        import polars as pl

        with atomic_path(path) as temp:
            pl.from_dicts(records, schema=_JUDGMENT_SCHEMA).write_csv(temp)
    else:
        write_records(path, records)


def judgment_records(rows: list[dict[str, Any]], options: ExportOptions) -> list[dict[str, Any]]:
    """Raw judgments (skips included) with `winner` and `strength` spelled out."""
    return [row | {"winner": WINNER.get(row["choice"]), "strength": STRENGTH.get(row["choice"])}
            for row in rows if options.simulated or not row["simulated"]]


def export_database(db: Path, output: Path, options: ExportOptions) -> list[str]:
    """Run `label export`: write OUT and its sidecars; return the summary lines."""
    from labeling_app.store import Store

    with Store(db) as store:
        rows = store.judgment_rows()
        items = list(store.items())
    if options.format == "dpo":
        result = preference_pairs(items, rows, options)
        with StepOutput(STEP, output, inputs=[str(db)], quiet=True) as step:
            step.n_in = len(items)
            step.add(result)
        return [step.stats.summary_line(), length_line(result.extra["lengths"])]
    started = time.perf_counter()
    kept = judgment_records(rows, options)
    removed = [removal(row, "simulated", STEP) for row in rows
               if row["simulated"] and not options.simulated]
    write_judgments(output, kept)
    write_records(_sidecar(output, "removed.jsonl"), removed)
    seconds = time.perf_counter() - started
    stats = StepStats(step=STEP, n_in=len(rows), n_out=len(kept), removed=len(removed),
                      removed_by_reason={"simulated": len(removed)} if removed else {},
                      seconds=round(seconds, 4), inputs=[str(db)], output=str(output),
                      docs_per_s=round(len(rows) / seconds, 1) if seconds else 0.0)
    write_json(_sidecar(output, "stats.json"), stats.model_dump(by_alias=True))
    return [stats.summary_line()]


def _sidecar(output: Path, kind: str) -> Path:
    """`sidecar`, also for .csv (judgments.csv -> judgments.stats.json)."""
    return output.with_suffix(f".{kind}") if output.suffix.lower() == ".csv" \
        else sidecar(output, kind)
