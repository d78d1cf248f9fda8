"""AI judges against people, on the same items: the bias report of `label report` and the
admin tab.

Per judge (a user of kind `ai`, see `label judge`), over the pair votes of the metrics
frame (A/B votes, or the C(K,2) pair votes of rankings and ratings):

* **agreement with humans**: the share of (judge vote, human vote) pairs on the same pair of
  responses that agree (3 classes: a, b, tie), beside the same share between two humans;
* **length**: the judge's P(longer wins) with its bootstrap CI, beside the humans' on the
  same pairs of responses;
* **position consistency**: how often the judge gave the same verdict in both orders
  (recorded by `label judge` per item: the share of its pairs, or of its scores, that
  did not change when the order was reversed);
* **self-preference**, when the judge's own model wrote one side: how often that side wins
  by the judge, beside how often it wins by the humans on the same pairs.

Flags, with at least `Thresholds.min_votes` votes behind them: `prefers_longer` (P(longer
wins) at least 0.85 with its CI above 0.5, as for labelers), `longer_than_humans` (15 points
or more above the humans on the same pairs), `position_inconsistent` (under 80% consistent),
`self_preference` (its own model wins 10 points or more often than by the humans).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from labeling_app.metrics import Thresholds, judgment_pairs, length_bias

CONSISTENCY_FLOOR = 0.8
SELF_MARGIN = 0.10
LONGER_MARGIN = 0.15


def _decisive_share(frame: pl.DataFrame, won: pl.Expr) -> tuple[float | None, int]:
    counted = frame.filter(pl.col("winner").is_in(["a", "b"]))
    if counted.is_empty():
        return None, 0
    return float(counted.select(won.mean()).item()), counted.height


def judge_bias(frame: pl.DataFrame, details: list[tuple[str, str, dict[str, Any]]], *,
               min_diff: int = 30, seed: int = 0,
               thresholds: Thresholds = Thresholds()) -> list[dict[str, Any]]:
    """One row per AI judge in `frame` (which holds human and AI votes; see the module
    docstring). `details`: `Store.ai_details()`."""
    judges = sorted(frame.filter(pl.col("kind") == "ai")["user"].unique().to_list())
    humans = frame.filter(pl.col("kind") == "human")
    by_judge: dict[str, list[dict[str, Any]]] = {}
    for _, user, detail in details:
        by_judge.setdefault(user, []).append(detail)
    out = []
    for judge in judges:
        own = frame.filter(pl.col("user") == judge)
        keys = own.select("item_id")
        peers = humans.join(keys, on="item_id", how="semi")
        ai_length = length_bias(own, min_diff=min_diff, seed=seed)
        human_length = length_bias(peers, min_diff=min_diff, seed=seed)
        row = {"judge": judge, "votes": own.height, "items": own["item"].n_unique(),
               "agreement_with_humans": _agreement(pl.concat([own, peers]), judge),
               "human_agreement": _agreement(peers, None),
               "p_longer_wins": ai_length["p"], "p_longer_wins_ci": ai_length["ci"],
               "n_length_pairs": ai_length["n"], "human_p_longer_wins": human_length["p"],
               "human_n_length_pairs": human_length["n"]}
        row.update(_consistency(by_judge.get(judge, [])))
        row.update(_self_preference(own, peers, by_judge.get(judge, [])))
        row["flags"] = _flags(row, thresholds)
        out.append(row)
    return out


def _agreement(frame: pl.DataFrame, judge: str | None) -> dict[str, Any]:
    """Share of agreeing vote pairs on the same pair of responses: the judge with each human
    (`judge` given), or human with human."""
    pairs = judgment_pairs(frame)
    if judge is not None:
        pairs = pairs.filter((pl.col("user") == judge) ^ (pl.col("user_2") == judge))
    if pairs.is_empty():
        return {"share": None, "n": 0}
    return {"share": float(pairs.select((pl.col("cls") == pl.col("cls_2")).mean()).item()),
            "n": pairs.height}


def _consistency(details: list[dict[str, Any]]) -> dict[str, Any]:
    units = sum(d.get("units", 0) for d in details)
    same = sum(d.get("consistency", 0.0) * d.get("units", 0) for d in details)
    return {"position_consistency": same / units if units else None,
            "n_consistency": units}


def _self_preference(own: pl.DataFrame, peers: pl.DataFrame,
                     details: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the side written by the judge's own model wins, by the judge and by the
    humans on the same pairs (only pairs where exactly one side is the judge's model)."""
    source = next((d.get("judge_source") for d in details if d.get("judge_source")), None)
    empty = {"judge_source": source, "p_own_wins": None, "human_p_own_wins": None,
             "n_own_pairs": 0, "human_n_own_pairs": 0}
    if source is None:
        return empty
    mine = (pl.col("source_a") == source) ^ (pl.col("source_b") == source)
    own_won = pl.when(pl.col("source_a") == source).then(pl.col("winner") == "a") \
        .otherwise(pl.col("winner") == "b")
    p_own, n_own = _decisive_share(own.filter(mine.fill_null(False)), own_won)
    p_human, n_human = _decisive_share(peers.filter(mine.fill_null(False)), own_won)
    return {**empty, "p_own_wins": p_own, "human_p_own_wins": p_human, "n_own_pairs": n_own,
            "human_n_own_pairs": n_human}


def _flags(row: dict[str, Any], limits: Thresholds) -> list[str]:
    flags = []
    enough = row["n_length_pairs"] >= limits.min_votes
    if enough and row["p_longer_wins"] >= limits.longer_share and row["p_longer_wins_ci"][0] > 0.5:
        flags.append("prefers_longer")
    if enough and row["human_p_longer_wins"] is not None and \
            row["human_n_length_pairs"] >= limits.min_votes and \
            row["p_longer_wins"] - row["human_p_longer_wins"] >= LONGER_MARGIN:
        flags.append("longer_than_humans")
    if row["n_consistency"] >= limits.min_votes and \
            row["position_consistency"] < CONSISTENCY_FLOOR:
        flags.append("position_inconsistent")
    if row["n_own_pairs"] >= limits.min_votes and row["human_p_own_wins"] is not None and \
            row["human_n_own_pairs"] >= limits.min_votes and \
            row["p_own_wins"] - row["human_p_own_wins"] >= SELF_MARGIN:
        flags.append("self_preference")
    return flags


def judges_table(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """The bias rows, rounded for reading (the admin tab and the HTML report)."""
    def pct(value: float | None) -> str:
        return "" if value is None else f"{value:.1%}"

    schema = {name: pl.String for name in (
        "judge", "votes", "flags", "agrees_with_humans", "humans_agree", "p_longer_wins",
        "human_p_longer_wins", "position_consistency", "own_model", "p_own_wins",
        "human_p_own_wins")}
    table = [{"judge": r["judge"], "votes": str(r["votes"]), "flags": ", ".join(r["flags"]),
              "agrees_with_humans": pct(r["agreement_with_humans"]["share"]),
              "humans_agree": pct(r["human_agreement"]["share"]),
              "p_longer_wins": pct(r["p_longer_wins"]),
              "human_p_longer_wins": pct(r["human_p_longer_wins"]),
              "position_consistency": pct(r["position_consistency"]),
              "own_model": r["judge_source"] or "", "p_own_wins": pct(r["p_own_wins"]),
              "human_p_own_wins": pct(r["human_p_own_wins"])} for r in rows]
    return pl.DataFrame(table, schema=schema) if table else pl.DataFrame(schema=schema)
