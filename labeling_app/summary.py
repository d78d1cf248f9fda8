"""The metrics summary of a labeling database, whatever its task: what `label report -d`,
the admin tab and the review queue read.

Which votes count is explicit: simulated votes are left out unless included, and the
voters are chosen (`human` by default, `ai` or `all`); the summary says both. The AI judges'
bias report is computed from every (non-simulated) vote, since it compares judges with
people on the same items.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import polars as pl

from labeling_app import metrics
from labeling_app.judge_bias import judge_bias
from labeling_app.judgments import store_frame
from labeling_app.kway import Rule
from labeling_app.multi_metrics import (
    MultiVotes,
    load_multi,
    pair_frame,
    summarize_multi,
    task_agreement,
)

VOTERS = ("human", "ai", "all")


def simulated_filter(frame: pl.DataFrame, include: bool) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The frame without simulated votes unless `include`, and what was done (for the
    `simulated` line of every report)."""
    count = int(frame["simulated"].sum()) if frame.height else 0
    kept = frame if include or not count else frame.filter(~pl.col("simulated"))
    return kept, {"votes": count, "included": bool(include and count)}


def voters_filter(frame: pl.DataFrame, voters: str) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The votes of `voters` (human, ai or all), and how many of the others were left out."""
    if voters not in VOTERS:
        raise ValueError(f"voters: one of {', '.join(VOTERS)}, not {voters!r}")
    ai = int((frame["kind"] == "ai").sum()) if frame.height else 0
    theirs = {"all": frame.height, "ai": ai, "human": frame.height - ai}[voters]
    counted = frame if theirs == frame.height else frame.filter(pl.col("kind") == voters)
    return counted, {"counted": voters, "ai_votes": ai, "human_votes": frame.height - ai,
                     "left_out": frame.height - counted.height}


def frames(store: Any, rule: str = "overall") -> tuple[pl.DataFrame, Any, Rule]:
    """Every vote as pair votes (A/B votes as they are), the K-way votes (or None) and the
    ratings rule."""
    mv, parsed = _k_way_votes(store, rule)
    return (store_frame(store) if mv is None else pair_frame(mv, parsed)), mv, parsed


def _k_way_votes(store: Any, rule: str) -> tuple[MultiVotes | None, Rule]:
    if store.task == "pairwise":
        return None, Rule()
    mv = load_multi(store)
    return mv, Rule.parse(rule, mv.project) if mv.project.task == "ratings" else Rule()


def database_summary(store: Any, *, include_simulated: bool = False, voters: str = "human",
                     rule: str = "overall", min_diff: int = 30, seed: int = 0) -> dict[str, Any]:
    mv, parsed = _k_way_votes(store, rule)
    with ThreadPoolExecutor(1) as pool:
        if mv is not None:  # the task's own agreement meanwhile, from the votes counted
            kinds = [voters] if voters != "all" else ["human", "ai"]
            mv_counted = mv.where(pl.col("kind").is_in(kinds)
                                  & (pl.lit(include_simulated) | ~pl.col("simulated")))
            own = pool.submit(task_agreement, mv_counted)
        full = store_frame(store) if mv is None else pair_frame(mv, parsed)
        frame, simulated = simulated_filter(full, include_simulated)
        counted, voters_info = voters_filter(frame, voters)
        if mv is None:
            summary = metrics.summarize(counted, min_diff=min_diff, seed=seed)
            summary["task"] = "pairwise"
        else:
            summary = summarize_multi(mv_counted, rule=parsed, min_diff=min_diff, seed=seed,
                                      pairs=counted)  # the same votes, already as pair votes
            summary.update(own.result())
    summary["simulated"] = simulated
    summary["voters"] = voters_info
    if mv is not None:  # for K-way projects, say it in judgments, not pair votes
        counted_units = mv.votes.filter(~pl.col("simulated") | pl.lit(include_simulated))
        ai = int((counted_units["kind"] == "ai").sum())
        summary["voters"].update({"ai_votes": ai, "human_votes": counted_units.height - ai,
                                  "left_out": counted_units.height - summary["n_judgments"]})
    summary["ai_judges"] = judge_bias(frame, store.ai_details(), min_diff=min_diff, seed=seed)
    return summary


def item_agreement(frame: pl.DataFrame) -> pl.DataFrame:
    """Per item with two or more voters: the share of agreeing vote pairs over its pairs of
    responses (3 classes: a, b, tie), and its number of voters. Lowest first."""
    pairs = metrics.judgment_pairs(frame).join(frame.select("unit", "item").unique(),
                                               on="unit", how="left")
    if pairs.is_empty():
        return pl.DataFrame(schema={"item": pl.String, "agreement": pl.Float64,
                                    "voters": pl.UInt32})
    voters = frame.group_by("item").agg(pl.col("user").n_unique().alias("voters"))
    return (pairs.group_by("item").agg((pl.col("cls") == pl.col("cls_2")).mean()
                                       .alias("agreement"))
            .join(voters, on="item").sort("agreement", "item"))
