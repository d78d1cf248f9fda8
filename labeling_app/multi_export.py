"""Rankings and ratings to training data.

* `preference_pairs`: every pair of an item's responses that the votes decide becomes a
  `PreferencePair` (InstructGPT's use of a K-way ranking: all C(K,2) comparisons). Per pair,
  each vote prefers i, j or neither (a ranking by its ranks; ratings by the stated `rule`);
  the majority decides, as for A/B items (`export.verdict`), and the strength is the mean
  rank gap (rankings) or score gap (ratings) of the votes that agree with it.
* `ratings_records`: per rated response, the mean score on each criterion, the share of
  votes raising each flag and every vote's scores: data for a per-criterion reward model
  (HelpSteer's shape).
* `judgment_records`: every raw K-way judgment, its value in item order and the order shown.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
import polars as pl
from pydantic import ValidationError

from curate.step import StepResult, removal
from labeling_app.export import (
    STEP,
    ExportOptions,
    degenerate_reason,
    length_stats,
    verdict,
)
from labeling_app.kway import Rule
from labeling_app.multi_metrics import MultiVotes, flags, pair_frame, scores
from schemas import PreferencePair, first_error
from schemas.labeling import MultiItem, as_messages

JUDGMENT_SCHEMA = {"item_id": str, "user": str, "kind": str, "choice": str, "value": str,
                   "shown_order": str, "seconds": float, "guideline_version": str,
                   "rationale": str, "simulated": bool, "created_at": float, "detail": str}


def counted(mv: MultiVotes, options: ExportOptions) -> tuple[MultiVotes, dict[str, int]]:
    """The votes `options` counts, and how many were left out (simulated, other voters)."""
    voters = pl.lit(True) if options.voters == "all" else pl.col("kind") == options.voters
    simulated = pl.col("simulated") & pl.lit(not options.include_simulated)
    left_out = {"simulated_votes_left_out": mv.votes.filter(voters & simulated).height,
                "other_voters_votes_left_out": mv.votes.filter(~voters).height}
    return mv.where(voters & ~simulated), left_out


def preference_pairs(items: Iterable[tuple[MultiItem, int, int]], mv: MultiVotes,
                     options: ExportOptions,
                     advance: Callable[..., None] = lambda n=1: None) -> StepResult:
    """Pairs decided by the counted votes of each item (see the module docstring). An item
    that gives no pair is removed with its reason: `unjudged`, `only_simulated_votes`,
    `too_few_votes` or `no_decided_pair` (with why each pair was left out: `only_ties`,
    `no_majority`, `majority_tie`, `low_agreement`, `identical_responses`,
    `empty_response`). `used` counts the items that gave pairs."""
    rule = Rule.parse(options.rule, mv.project)
    counted_votes, left_out = counted(mv, options)
    frame = pair_frame(counted_votes, rule)
    votes_per_item = dict(counted_votes.votes.group_by("item").len().iter_rows())
    by_pair: dict[str, dict[tuple[int, int], list[tuple[str, float, str, bool]]]] = \
        defaultdict(lambda: defaultdict(list))
    for item, i, j, winner, gap, kind, simulated in frame.select(
            "item", "i", "j", "winner", "strength", "kind", "simulated").iter_rows():
        by_pair[item][(i, j)].append((winner, gap, kind, simulated))
    simulated_items = set(mv.votes.filter(pl.col("simulated"))["item"].to_list())
    kept, removed, pair_reasons = [], [], Counter()
    used = 0
    gap_name = "rank_gap" if mv.project.task == "ranking" else "score_gap"
    for item, overlap, _ in items:
        advance()
        n_votes = votes_per_item.get(item.id, 0)
        needed = options.min_votes or overlap
        if n_votes == 0:
            reason = "only_simulated_votes" if item.id in simulated_items and \
                not options.include_simulated else "unjudged"
            removed.append(removal(item.model_dump(), reason, STEP))
            continue
        if n_votes < needed:
            removed.append(removal(item.model_dump(), "too_few_votes", STEP, votes=n_votes,
                                   needed=needed))
            continue
        made, reasons = [], Counter()
        for (i, j), votes in sorted(by_pair[item.id].items()):
            pair, reason = _pair(item, i, j, votes, options, gap_name)
            if pair is None:
                reasons[reason] += 1
            else:
                made.append(pair)
        pair_reasons.update(reasons)
        if not made:
            removed.append(removal(item.model_dump(), "no_decided_pair", STEP, votes=n_votes,
                                   pairs_left_out=dict(reasons)))
            continue
        used += 1
        kept.extend(made)
    return StepResult(kept, removed, {"lengths": length_stats(kept), "voters": options.voters,
                                      "rule": str(rule) if mv.project.task == "ratings" else None,
                                      "pairs_left_out": dict(pair_reasons), **left_out},
                      used=used)


def _pair(item: MultiItem, i: int, j: int, votes: list[tuple[str, float, str, bool]],
          options: ExportOptions, gap_name: str) -> tuple[dict[str, Any] | None, str | None]:
    winners = [winner for winner, *_ in votes]
    result = verdict(winners, drop_ties=options.drop_ties)
    if result.winner is None or result.agreement < options.min_agreement:
        return None, result.reason or "low_agreement"
    better, worse = (i, j) if result.winner == "a" else (j, i)
    gap = float(np.mean([g for w, g, *_ in votes if w == result.winner]))
    counts = {"a": winners.count("a"), "b": winners.count("b"), "tie": winners.count("tie")}
    simulated = sum(bool(s) for *_, s in votes)
    try:
        pair = PreferencePair(
            id=f"{item.id}:{i}-{j}", prompt=as_messages(item.prompt, "user"),
            chosen=as_messages(item.responses[better], "assistant"),
            rejected=as_messages(item.responses[worse], "assistant"),
            meta={"item_id": item.id, "pair": [i, j], "chosen_index": better,
                  "rejected_index": worse, "k": len(item.responses), "strength": gap,
                  gap_name: gap,
                  "votes": counts, "n_votes": len(votes), "agreement": result.agreement,
                  "voters": sorted({kind for _, _, kind, _ in votes}),
                  "source_chosen": item.source(better), "source_rejected": item.source(worse),
                  "simulated": simulated > 0, "simulated_votes": simulated,
                  "item_meta": item.meta}).model_dump(exclude_none=False)
    except ValidationError as exc:  # an item stored before import checked turn order
        field, message = first_error(exc)
        return None, f"invalid_pair ({field}: {message})"
    reason = degenerate_reason(pair)
    return (None, reason) if reason else (pair, None)


def ratings_records(items: Iterable[tuple[MultiItem, int, int]], mv: MultiVotes,
                    options: ExportOptions) -> StepResult:
    """Per response of each item with enough counted votes: `{id, prompt, response, scores:
    {criterion: mean}, flags: {flag: share of votes}, n_votes, source, meta}` with every
    vote's scores and flags in `meta.votes`. Items without enough votes are removed
    (`unjudged`, `too_few_votes`)."""
    counted_votes, left_out = counted(mv, options)
    per_item: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for k in sorted(set(counted_votes.facts["k"].to_list())):
        group = counted_votes.votes.join(counted_votes.facts.filter(pl.col("k") == k)
                                         .select("item"), on="item", how="semi")
        if group.is_empty():
            continue
        by_criterion = scores(group, mv.project, k)
        raised = flags(group, mv.project, k)
        for n, (item, user, kind) in enumerate(group.select("item", "user", "kind").iter_rows()):
            per_item[item].append({"user": user, "kind": kind,
                                   "scores": {name: array[n].tolist()
                                              for name, array in by_criterion.items()},
                                   "flags": raised[n]})
    kept, removed = [], []
    for item, overlap, _ in items:
        votes = per_item.get(item.id, [])
        needed = options.min_votes or overlap
        if len(votes) < needed:
            removed.append(removal(item.model_dump(), "too_few_votes" if votes else "unjudged",
                                   STEP, votes=len(votes), needed=needed))
            continue
        for index, response in enumerate(item.responses):
            kept.append({
                "id": f"{item.id}:{index}", "prompt": [m.model_dump() for m in
                                                       as_messages(item.prompt, "user")],
                "response": [m.model_dump() for m in as_messages(response, "assistant")],
                "scores": {c.name: float(np.mean([v["scores"][c.name][index] for v in votes]))
                           for c in mv.project.criteria},
                "flags": {flag: sum(flag in (v["flags"][index] or []) for v in votes) / len(votes)
                          for flag in mv.project.flags},
                "n_votes": len(votes), "source": item.source(index),
                "meta": {"item_id": item.id, "index": index, "k": len(item.responses),
                         "voters": sorted({v["kind"] for v in votes}),
                         "votes": [{"user": v["user"], "kind": v["kind"],
                                    "scores": {name: s[index] for name, s in v["scores"].items()},
                                    "flags": v["flags"][index]} for v in votes],
                         "item_meta": item.meta}})
    return StepResult(kept, removed, {"voters": options.voters, **left_out},
                      used=len({line["meta"]["item_id"] for line in kept}))


def judgment_records(rows: list[dict[str, Any]], options: ExportOptions) -> list[dict[str, Any]]:
    """Raw K-way judgments (skips included) that `options` counts; value, order and detail
    stay JSON values (`write_judgments` encodes them for a CSV)."""
    return [{name: row.get(name) for name in JUDGMENT_SCHEMA} for row in rows
            if options.counts(row["kind"], row["simulated"])]

