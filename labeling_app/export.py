"""Votes to training data: majority-vote `PreferencePair`s, raw judgments, length statistics.

A/B items here; rankings and ratings in `labeling_app.multi_export`. Whose votes count is an
option (`voters`: human by default, or the AI judges, or all), said in every output."""

from __future__ import annotations

import re
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.io import atomic_path, sidecar, write_json, write_records
from curate.progress import progress
from curate.step import StepOutput, StepResult, removal
from schemas import Message, PreferencePair, StepStats, first_error
from schemas.labeling import STRENGTH, VOTES, WINNER, Item, as_messages, as_text

STEP = "label export"
_JUDGMENT_SCHEMA = {"item_id": str, "user": str, "choice": str, "winner": str, "strength": float,
                    "shown": str, "left": str, "seconds": float, "guideline_version": str,
                    "rationale": str, "simulated": bool, "created_at": float, "len_a": int,
                    "len_b": int, "source_a": str, "source_b": str, "gold": str, "kind": str}


class ExportOptions(BaseModel):
    """Options of `label export` (flags or `--config`)."""

    model_config = ConfigDict(extra="forbid")

    format: Literal["dpo", "judgments", "ratings"] = Field(
        "dpo", description="dpo: preference pairs; judgments: every raw judgment; ratings "
        "(ratings projects): per response, the mean score per criterion and flag shares.")
    min_agreement: float = Field(0.0, ge=0, le=1, description="Drop pairs whose majority has a "
                                 "smaller share of the votes.")
    drop_ties: bool = Field(False, description="Ignore tie votes when finding the majority and "
                            "its agreement (by default a tie counts against agreement).")
    min_votes: int | None = Field(None, ge=1, description="Votes an item needs; default: its "
                                  "overlap, so only complete items are exported.")
    include_simulated: bool = Field(False, description="Count votes of simulated labelers "
                                    "(`label simulate`); left out by default, so demo votes "
                                    "never reach training data by accident.")
    voters: Literal["human", "ai", "all"] = Field("human", description="Whose votes count: "
                                                  "labelers, AI judges (`label judge`) or both.")
    rule: str = Field("overall", description="Ratings to preferences: 'overall' (the mean of "
                      "the criteria, each rescaled to 0-1) or criteria in priority order, e.g. "
                      "'harmless,helpful' (harmlessness first, helpfulness breaks ties).")

    def counts(self, kind: str, simulated: bool) -> bool:
        """Whether a vote of this kind (and simulated or not) is counted."""
        return (self.voters == "all" or kind == self.voters) and \
            (self.include_simulated or not simulated)

    def voters_note(self) -> str:
        who = {"human": "human votes only", "ai": "AI judges' votes only",
               "all": "human and AI votes"}[self.voters]
        return who + ("" if self.include_simulated else ", simulated votes excluded")


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
                     options: ExportOptions,
                     advance: Callable[..., None] = lambda n=1: None) -> StepResult:
    """One `PreferencePair` per item with a clear majority; every other item is removed
    with its reason (`unjudged`, `only_simulated_votes`, `too_few_votes`, `only_ties`,
    `no_majority`, `majority_tie`, `majority_both_bad`, `low_agreement`), and so is a pair
    that would teach nothing or garbage (`identical_responses`: chosen equals rejected;
    `empty_response`: a side with no text)."""
    votes: dict[str, list[dict[str, Any]]] = defaultdict(list)
    simulated: Counter[str] = Counter()
    other_voters = 0
    for row in judgments:
        if row["choice"] == "skip":
            continue
        kind = row.get("kind", "human")
        if options.counts(kind, False) and not options.counts(kind, row["simulated"]):
            simulated[row["item_id"]] += 1
        elif options.counts(kind, row["simulated"]):
            votes[row["item_id"]].append(row)
        else:
            other_voters += 1
    kept, removed = [], []
    for item, overlap, _ in items:
        advance()
        rows = votes.get(item.id, [])
        choices = [row["choice"] for row in rows]
        counts = {choice: choices.count(choice) for choice in VOTES}
        needed = options.min_votes or overlap
        left_out = {"simulated_votes_left_out": simulated[item.id]} if simulated[item.id] else {}
        if not rows:
            reason = "only_simulated_votes" if left_out else "unjudged"
            removed.append(removal(item.model_dump(), reason, STEP, **left_out))
            continue
        if len(rows) < needed:
            removed.append(removal(item.model_dump(), "too_few_votes", STEP, votes=counts,
                                   needed=needed, **left_out))
            continue
        result = verdict(choices, drop_ties=options.drop_ties)
        if result.winner is None or result.agreement < options.min_agreement:
            removed.append(removal(item.model_dump(), result.reason or "low_agreement", STEP,
                                   votes=counts, agreement=result.agreement))
            continue
        try:
            pair = _pair(item, result, counts, rows)
        except ValidationError as exc:  # an item stored before import checked turn order
            field, message = first_error(exc)
            removed.append(removal(item.model_dump(), "invalid_pair", STEP, votes=counts,
                                   error=f"{field}: {message}"))
            continue
        degenerate = degenerate_reason(pair)
        if degenerate:
            removed.append(removal(item.model_dump(), degenerate, STEP, votes=counts))
            continue
        kept.append(pair)
    return StepResult(kept, removed, {"lengths": length_stats(kept),
                                      "simulated_votes_left_out": sum(simulated.values()),
                                      "voters": options.voters,
                                      "other_voters_votes_left_out": other_voters})


def degenerate_reason(pair: dict[str, Any]) -> str | None:
    """Why a pair must not be trained on: a side whose assistant turns hold no text
    (`empty_response`), or the same turns on both sides (`identical_responses`)."""
    def text(turns: list[dict[str, Any]]) -> str:
        return "\x1e".join(f"{turn['role']}\x1f{turn['content']}" for turn in turns)

    if any(not any(turn["role"] == "assistant" and (turn["content"] or "").strip()
                   for turn in pair[side]) for side in ("chosen", "rejected")):
        return "empty_response"
    if text(pair["chosen"]) == text(pair["rejected"]):
        return "identical_responses"
    return None


def reason_counts(removed: list[dict[str, Any]]) -> Counter[str]:
    return Counter(line["reason"] for line in removed)


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
              "voters": sorted({row.get("kind", "human") for row in rows}),
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


# A spreadsheet runs a cell starting with one of these as a formula (CSV injection): text
# cells get a leading ' (OWASP's advice). A cell already starting with 's before one of them
# gets one more, so `csv_unescape` restores every value exactly.
_FORMULA = re.compile(r"'*[=+\-@\t\r]")


def csv_escape(value: str | None) -> str | None:
    return "'" + value if value and _FORMULA.match(value) else value


def csv_unescape(value: str | None) -> str | None:
    return value[1:] if value and value[0] == "'" and _FORMULA.match(value[1:]) else value


def write_judgments(path: str | Path, records: list[dict[str, Any]],
                    schema: dict[str, type] | None = None) -> None:
    """Raw judgments to .csv (via polars; text cells escaped with `csv_escape`, JSON values
    as JSON text) or any record format, atomically."""
    schema = schema or _JUDGMENT_SCHEMA
    if str(path).lower().endswith(".csv"):
        import json

        import polars as pl

        rows = [{name: json.dumps(value) if isinstance(value, dict | list) else value
                 for name, value in record.items()} for record in records]
        frame = pl.from_dicts(rows, schema=schema)
        text = [name for name, kind in schema.items() if kind is str]
        frame = frame.with_columns(pl.col(text).map_elements(csv_escape, return_dtype=pl.String))
        with atomic_path(path) as temp:
            frame.write_csv(temp)
    else:
        write_records(path, records)


def judgment_records(rows: list[dict[str, Any]], options: ExportOptions) -> list[dict[str, Any]]:
    """Raw A/B judgments (skips included) with `winner` and `strength` spelled out."""
    return [row | {"winner": WINNER.get(row["choice"]), "strength": STRENGTH.get(row["choice"])}
            for row in rows if options.counts(row.get("kind", "human"), row["simulated"])]


@dataclass
class Computed:
    """An export before it is written: OUT's records, the removed lines, the stats' extra
    fields, the inputs counted (items, or judgments for raw judgments)."""

    format: str
    records: list[dict[str, Any]]
    removed: list[dict[str, Any]]
    extra: dict[str, Any]
    n_in: int
    used: int | None = None
    schema: dict[str, type] | None = None  # raw judgments: the CSV columns

    def write(self, path: Path) -> None:
        if self.format == "judgments":
            write_judgments(path, self.records, self.schema)
        else:
            write_records(path, self.records)

    def lines(self, options: ExportOptions) -> list[str]:
        """What to say after the summary line: lengths, pairs left out, votes left out."""
        lines = [length_line(self.extra["lengths"])] if "lengths" in self.extra else []
        if self.extra.get("pairs_left_out"):
            lines.append("pairs left out: " + ", ".join(
                f"{count} {reason}" for reason, count in
                sorted(self.extra["pairs_left_out"].items())))
        simulated = self.extra.get("simulated_votes_left_out", 0)
        if simulated:
            lines.append(f"simulated votes: {simulated:,} left out (--include-simulated counts "
                         "them)")
        others = self.extra.get("other_voters_votes_left_out", 0)
        if others:
            other = "AI judges'" if options.voters == "human" else "human"
            lines.append(f"{other} votes: {others:,} left out (--voters all counts them)")
        return lines


def compute(store: Any, options: ExportOptions,
            advance: Callable[..., None] = lambda n=1: None) -> Computed:
    """The export `options` asks for, from an open store, for any task."""
    from labeling_app import multi_export
    from labeling_app.multi_metrics import load_multi

    task = store.task
    if options.format == "ratings" and task != "ratings":
        raise ValueError(f"--format ratings: {store.path} is a {task} project, not a ratings one")
    if options.format == "judgments":
        if task == "pairwise":
            rows, schema = store.judgment_rows(), _JUDGMENT_SCHEMA
            kept = judgment_records(rows, options)
        else:
            rows, schema = store.judgments_of(), multi_export.JUDGMENT_SCHEMA
            kept = multi_export.judgment_records(rows, options)
        removed = []
        for row in rows:
            kind = row.get("kind", "human")
            if not options.counts(kind, False):
                removed.append(removal(row, "other_voters", STEP))
            elif not options.counts(kind, row["simulated"]):
                removed.append(removal(row, "simulated", STEP))
        reasons = Counter(line["reason"] for line in removed)
        return Computed("judgments", kept, removed,
                        {"voters": options.voters, "simulated_votes_left_out":
                         reasons["simulated"], "other_voters_votes_left_out":
                         reasons["other_voters"]}, len(rows), schema=schema)
    items = list(store.items())
    if task == "pairwise":
        result = preference_pairs(items, store.judgment_rows(), options, advance)
    elif options.format == "ratings":
        result = multi_export.ratings_records(items, load_multi(store), options)
    else:
        result = multi_export.preference_pairs(items, load_multi(store), options, advance)
    return Computed(options.format, result.kept, result.removed, result.extra, len(items),
                    used=result.used)


def export_database(db: Path, output: Path, options: ExportOptions, *,
                    quiet: bool = False) -> list[str]:
    """Run `label export`: write OUT and its sidecars; return the summary lines."""
    from labeling_app.store import Store

    if Path(output).resolve() == Path(db).resolve():
        raise ValueError(f"{output}: is the database itself; write the export elsewhere")
    started = time.perf_counter()
    with Store(db) as store:
        total = sum(1 for _ in store.items()) if options.format != "judgments" else 0
        with progress(STEP, "pairs", total, unit="items", quiet=quiet) as advance:
            computed = compute(store, options, advance)
    note = f" ({options.voters_note()})"
    if computed.format != "judgments":
        with StepOutput(STEP, output, inputs=[str(db)], quiet=True) as step:
            step.n_in = computed.n_in
            step.add(StepResult(computed.records, computed.removed, computed.extra))
            step.used = computed.used
        return [step.stats.summary_line() + note] + computed.lines(options)
    computed.write(output)
    write_records(_sidecar(output, "removed.jsonl"), computed.removed)
    seconds = time.perf_counter() - started
    reasons = Counter(line["reason"] for line in computed.removed)
    stats = StepStats(step=STEP, n_in=computed.n_in, n_out=len(computed.records),
                      removed=len(computed.removed), removed_by_reason=dict(reasons),
                      voters=options.voters, seconds=round(seconds, 4), inputs=[str(db)],
                      output=str(output),
                      docs_per_s=round(computed.n_in / seconds, 1) if seconds else 0.0)
    write_json(_sidecar(output, "stats.json"), stats.model_dump(by_alias=True))
    return [stats.summary_line() + note] + computed.lines(options)


def _sidecar(output: Path, kind: str) -> Path:
    """`sidecar`, also for .csv (judgments.csv -> judgments.stats.json)."""
    return output.with_suffix(f".{kind}") if output.suffix.lower() == ".csv" \
        else sidecar(output, kind)
