"""Rankings and ratings of K responses: as votes on pairs of responses, and their agreement.

Every ranking or ratings vote becomes C(K,2) pair votes (`pair_frame`), in the same frame
the A/B metrics read (`labeling_app.judgments.FRAME_SCHEMA`): response i is side `a`, j is
side `b`; `left` is the one shown earlier on the page; `gold` comes from the item's gold
ranking. So length bias, position bias, win rates per model (raw and length-controlled),
pairwise agreement, Cohen's kappa, gold accuracy and the labeler table work unchanged.

On top: Kendall's W per item for rankings (with the correction for ties), and, for
ratings, Krippendorff's alpha (interval and ordinal) per criterion, mean scores and how
often each flag is raised. Computed with numpy over all votes of the same K at once: 100k
votes of 4 responses take well under a second.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl
from scipy.stats import rankdata

from labeling_app import metrics
from labeling_app.judgments import FRAME_SCHEMA, judgments_frame_from
from labeling_app.kway import Rule
from labeling_app.project import Project

_VOTES = {"item": pl.String, "user": pl.String, "choice": pl.String, "value": pl.String,
          "shown_order": pl.String, "seconds": pl.Float64, "simulated": pl.Boolean}
_WINNER = ("a", "b", "tie")
EPSILON = 1e-9
"""Keys closer than this are equal (an overall score is a mean of fractions)."""


@dataclass(frozen=True)
class MultiVotes:
    """The K-way judgments of a database (no skips) and its items' facts."""

    votes: pl.DataFrame  # item, user, choice, value, shown_order, seconds, simulated, kind,
    #                      parsed (the value decoded once: a list of ranks, or a struct)
    facts: pl.DataFrame  # item, lengths, sources, gold (lists), k
    project: Project

    def where(self, mask: pl.Expr) -> MultiVotes:
        return MultiVotes(self.votes.filter(mask), self.facts, self.project)


def load_multi(store: Any) -> MultiVotes:
    votes = pl.DataFrame(store.multi_vote_rows(), orient="row", schema=_VOTES)
    project = store.project()
    votes = votes.with_columns(pl.col("user").replace_strict(
        store.user_kinds(), default="human", return_dtype=pl.String).alias("kind"),
        pl.col("value").str.json_decode(_value_dtype(project)).alias("parsed"))
    facts = pl.DataFrame(store.multi_item_facts(), orient="row",
                         schema={"item": pl.String, "lengths": pl.String, "sources": pl.String,
                                 "gold": pl.String})
    facts = facts.with_columns(pl.col("lengths").str.json_decode(pl.List(pl.Int64)),
                               pl.col("sources").str.json_decode(pl.List(pl.String)),
                               pl.col("gold").str.json_decode(pl.List(pl.Float64)))
    facts = facts.with_columns(pl.col("lengths").list.len().alias("k"))
    return MultiVotes(votes, facts, project)


def _value_dtype(project: Project) -> pl.DataType:
    """A vote's value as polars reads it: the ranks, or the scores per criterion (flags are
    read when asked for: decoding them too doubles the time)."""
    if project.task != "ratings":
        return pl.List(pl.Float64)
    return pl.Struct({"scores": pl.Struct({c.name: pl.List(pl.Float64)
                                           for c in project.criteria})})


# -- votes as keys: higher is better ---------------------------------------------------------

def _groups(mv: MultiVotes) -> list[tuple[int, pl.DataFrame]]:
    """The votes by K (the item's number of responses), each with its row number."""
    votes = mv.votes.with_row_index("row").join(mv.facts.select("item", "k"), on="item",
                                                 how="left", maintain_order="left")
    return [(int(k), group) for (k,), group in votes.group_by("k", maintain_order=True)
            if k is not None]


def _array(values: pl.Series, k: int) -> np.ndarray:
    return values.str.json_decode(pl.List(pl.Float64)).list.to_array(k).to_numpy()


def scores(votes: pl.DataFrame, project: Project, k: int) -> dict[str, np.ndarray]:
    """Ratings votes (all of K responses) as one (votes, K) array per criterion."""
    decoded = votes["parsed"].struct.field("scores")
    return {c.name: decoded.struct.field(c.name).list.to_array(k).to_numpy()
            for c in project.criteria}


def flags(votes: pl.DataFrame, k: int) -> pl.Series:
    """Ratings votes' flags: per vote, per response, the flags raised."""
    dtype = pl.Struct({"flags": pl.List(pl.List(pl.String))})
    return votes["value"].str.json_decode(dtype).struct.field("flags")


def ranks(votes: pl.DataFrame, k: int) -> np.ndarray:
    """Ranking votes (all of K responses) as a (votes, K) array of ranks (1 = best)."""
    return votes["parsed"].list.to_array(k).to_numpy()


def keys(votes: pl.DataFrame, project: Project, k: int, rule: Rule) -> np.ndarray:
    """(votes, K, m) keys compared element by element (see `kway.Rule`)."""
    if project.task == "ranking":
        return -ranks(votes, k)[:, :, None]
    by_criterion = scores(votes, project, k)
    if rule.priority:
        return np.stack([by_criterion[name] for name in rule.priority], axis=2)
    scaled = [(by_criterion[c.name] - c.low) / (c.high - c.low) for c in project.criteria]
    return np.mean(scaled, axis=0)[:, :, None]


def positions(orders: pl.Series, k: int) -> np.ndarray | None:
    """Per vote, the screen position of each response (NaN for votes shown in no single
    order: AI judges saw both)."""
    known = orders.is_not_null()
    out = np.full((len(orders), k), np.nan)
    if known.any():
        order = _array(orders.filter(known), k).astype(int)
        where = np.empty_like(order)
        np.put_along_axis(where, order, np.arange(k)[None, :].repeat(len(order), 0), axis=1)
        out[known.to_numpy()] = where
    return out


# -- the pair frame ------------------------------------------------------------------------

def pair_frame(mv: MultiVotes, rule: Rule = Rule()) -> pl.DataFrame:
    """Every vote as its C(K,2) pair votes, in the A/B metrics frame (see module docstring).
    Each vote meets its item's facts once, before it becomes C(K,2) rows."""
    chunks = []
    for k, group in _groups(mv):
        key = keys(group, mv.project, k, rule)
        shown = positions(group["shown_order"], k)
        group = group.drop("value", "parsed", "k").join(mv.facts, on="item", how="left",
                                                          maintain_order="left")
        for i, j in itertools.combinations(range(k), 2):
            diff = key[:, i, :] - key[:, j, :]
            nonzero = np.abs(diff) > EPSILON
            decided = nonzero.any(axis=1)
            first = diff[np.arange(len(diff)), nonzero.argmax(axis=1)]
            # Codes, not strings: numpy strings become polars strings slowly (0.2 s at 600k).
            code = np.where(decided, np.where(first > 0, 0, 1), 2).astype(np.int8)
            left = np.where(np.isnan(shown[:, i]), -1, shown[:, i] > shown[:, j]).astype(np.int8)
            gold_i, gold_j = pl.col("gold").list.get(i), pl.col("gold").list.get(j)
            chunks.append(group.select(
                pl.concat_str([pl.col("item"), pl.lit(f"|{i}-{j}")]).alias("item_id"),
                "item", "user", pl.Series("winner", code), pl.Series("strength",
                                                                     np.abs(first) * decided),
                pl.Series("left", left), "seconds", "simulated", "kind",
                pl.lit(i, pl.Int64).alias("i"), pl.lit(j, pl.Int64).alias("j"),
                pl.col("lengths").list.get(i).alias("len_a"),
                pl.col("lengths").list.get(j).alias("len_b"),
                pl.col("sources").list.get(i, null_on_oob=True).alias("source_a"),
                pl.col("sources").list.get(j, null_on_oob=True).alias("source_b"),
                pl.when(gold_i < gold_j).then(pl.lit("a")).when(gold_i > gold_j)
                .then(pl.lit("b")).when(gold_i == gold_j).then(pl.lit("tie")).alias("gold")))
    if not chunks:  # no votes: the same columns, no rows
        return judgments_frame_from(pl.DataFrame(schema=FRAME_SCHEMA)).with_columns(
            pl.Series("i", [], pl.Int64), pl.Series("j", [], pl.Int64))
    frame = pl.concat(chunks).with_columns(
        pl.col("winner").replace_strict(dict(enumerate(_WINNER)), return_dtype=pl.String),
        pl.col("left").replace_strict({0: "a", 1: "b"}, default=None, return_dtype=pl.String))
    return judgments_frame_from(frame).with_columns(frame["i"], frame["j"])


# -- agreement of rankings and ratings ------------------------------------------------------

def kendall_w(mv: MultiVotes) -> dict[str, Any]:
    """Kendall's W per ranked item with two or more votes, corrected for ties:
    W = 12 S / (m^2 (n^3 - n) - m sum T), with mid-ranks and T = sum over tie groups of
    t^3 - t. 1 is full agreement, 0 none. Summarised over items (mean, median, n)."""
    values = []
    for k, group in _groups(mv):
        mid = rankdata(ranks(group, k), axis=1)  # ties get their mid-rank
        items, index = np.unique(group["item"].to_numpy(), return_inverse=True)
        m = np.bincount(index, minlength=len(items)).astype(float)
        sums = np.zeros((len(items), k))
        np.add.at(sums, index, mid)
        equal = (mid[:, :, None] == mid[:, None, :]).sum(axis=2)
        ties = np.bincount(index, weights=(equal ** 2 - 1).sum(axis=1), minlength=len(items))
        spread = ((sums - (m * (k + 1) / 2)[:, None]) ** 2).sum(axis=1)
        denominator = m ** 2 * (k ** 3 - k) - m * ties
        usable = (m >= 2) & (denominator > 0)
        values.extend((12 * spread[usable] / denominator[usable]).tolist())
    if not values:
        return {"mean": None, "median": None, "n_items": 0}
    return {"mean": float(np.mean(values)), "median": float(np.median(values)),
            "n_items": len(values)}


def criteria_summary(mv: MultiVotes) -> dict[str, dict[str, Any]]:
    """Per criterion: Krippendorff's alpha (interval and ordinal) over (item, response)
    units, the mean score and the number of scores."""
    columns: dict[str, list[np.ndarray]] = {c.name: [] for c in mv.project.criteria}
    units: list[np.ndarray] = []
    offset = 0
    for k, group in _groups(mv):
        items, index = np.unique(group["item"].to_numpy(), return_inverse=True)
        units.append((offset + index[:, None] * k + np.arange(k)[None, :]).ravel())
        offset += len(items) * k  # units are numbered 0..U-1 across groups
        for name, array in scores(group, mv.project, k).items():
            columns[name].append(array.ravel())
    out = {}
    for criterion in mv.project.criteria:
        if not units:
            out[criterion.name] = {"alpha_interval": None, "alpha_ordinal": None, "mean": None,
                                   "n": 0}
            continue
        unit = np.concatenate(units)
        value = np.concatenate(columns[criterion.name])
        distinct, index = np.unique(value, return_inverse=True)
        alpha = {level: metrics.krippendorff_alpha(unit, index, n_values=len(distinct),
                                                   level=level, scale=distinct,
                                                   dense_units=True)  # numbered above
                 for level in ("interval", "ordinal")}
        out[criterion.name] = {
            "alpha_interval": alpha["interval"], "alpha_ordinal": alpha["ordinal"],
            "mean": float(value.mean()), "n": len(value)}
    return out


def flag_shares(mv: MultiVotes) -> dict[str, float | None]:
    """Share of rated responses each flag was raised on."""
    names = list(mv.project.flags)
    counts = dict.fromkeys(names, 0)
    rated = 0
    # Flag names are plain (`[a-z0-9_]+`), so `"name"` occurs in a vote's value only among
    # its flags unless a criterion or key has that name; then counting it in the text is
    # exact, and 10x faster than decoding.
    textual = not {"scores", "flags", *(c.name for c in mv.project.criteria)} & set(names)
    for k, group in _groups(mv):
        rated += len(group) * k
        if textual:
            for name in names:
                counts[name] += int(group["value"].str.count_matches(
                    json.dumps(name), literal=True).sum())
            continue
        raised = flags(group, k).explode().explode().drop_nulls().value_counts()
        for name, count in raised.iter_rows():
            counts[name] = counts.get(name, 0) + count
    return {name: (count / rated if rated else None) for name, count in counts.items()}


# -- the whole summary ----------------------------------------------------------------------

def summarize_multi(mv: MultiVotes, *, rule: Rule = Rule(), min_diff: int = 30,
                    seed: int = 0, pairs: pl.DataFrame | None = None) -> dict[str, Any]:
    """The A/B summary of the pair votes (`metrics.summarize`) plus the task's own agreement,
    with counts of judgments and items rather than pair votes. `pairs`: `pair_frame(mv,
    rule)` when the caller has it already (it is most of the cost)."""
    frame = pair_frame(mv, rule) if pairs is None else pairs
    summary = metrics.summarize(frame, min_diff=min_diff, seed=seed)
    judged = mv.votes.group_by("user").len()
    judgments = dict(judged.iter_rows())
    for row in summary["labelers"]:
        row["pair_votes"], row["votes"] = row["votes"], judgments.get(row["user"], 0)
    summary.update({"task": mv.project.task, "n_pairs": frame.height,
                    "n_judgments": mv.votes.height, "n_items": mv.votes["item"].n_unique(),
                    "n_labelers": mv.votes["user"].n_unique(), "rule": str(rule)})
    if mv.project.task == "ranking":
        summary["kendall_w"] = kendall_w(mv)
    else:
        summary["criteria"] = criteria_summary(mv)
        summary["flags"] = flag_shares(mv)
    return summary
