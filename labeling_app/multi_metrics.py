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
from functools import cached_property
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa
from scipy.stats import rankdata

from labeling_app import metrics
from labeling_app.judgments import FRAME_SCHEMA, judgments_frame_from
from labeling_app.kway import Rule, value_numbers
from labeling_app.project import Project

_VOTES = {"item": pl.String, "user": pl.String, "value": pl.String, "shown_order": pl.String,
          "seconds": pl.Float64, "simulated": pl.Boolean, "numbers": pl.Binary}
_WINNER = ("a", "b", "tie")
EPSILON = 1e-9
"""Keys closer than this are equal (an overall score is a mean of fractions)."""


@dataclass(frozen=True)
class MultiVotes:
    """The K-way judgments of a database (no skips) and its items' facts."""

    votes: pl.DataFrame  # item, user, value (JSON, only where numbers is missing),
    #                      shown_order, seconds, simulated, kind, numbers (the value as
    #                      float64 bytes: `kway.value_numbers`)
    facts: pl.DataFrame  # item, lengths, sources, gold (lists), k
    project: Project

    def where(self, mask: pl.Expr) -> MultiVotes:
        return MultiVotes(self.votes.filter(mask), self.facts, self.project)

    @cached_property
    def groups(self) -> list[tuple[int, pl.DataFrame]]:
        """The votes by K (the item's number of responses), each with its row number."""
        votes = self.votes.with_row_index("row").join(
            self.facts.select("item", "k"), on="item", how="left", maintain_order="left")
        return [(int(k), group) for (k,), group in votes.group_by("k", maintain_order=True)
                if k is not None]


def load_multi(store: Any) -> MultiVotes:
    votes = pl.from_arrow(store.multi_vote_table())
    votes.columns = list(_VOTES)
    votes = votes.with_columns(  # a column NULL in every row came untyped
        pl.lit(None, dtype).alias(name) for name, dtype in _VOTES.items()
        if votes[name].null_count() == votes.height).cast(_VOTES)
    project = store.project()
    if votes["numbers"].null_count():  # a judgment written into the database by hand
        votes = votes.with_columns(pl.Series("numbers", [
            numbers if numbers is not None else value_numbers(json.loads(value), project)
            for value, numbers in votes.select("value", "numbers").iter_rows()], pl.Binary))
    votes = votes.with_columns(pl.col("user").replace_strict(
        store.user_kinds(), default="human", return_dtype=pl.String).alias("kind"))
    facts = pl.DataFrame(store.multi_item_facts(), orient="row",
                         schema={"item": pl.String, "lengths": pl.String, "sources": pl.String,
                                 "gold": pl.String})
    facts = facts.with_columns(pl.col("lengths").str.json_decode(pl.List(pl.Int64)),
                               pl.col("sources").str.json_decode(pl.List(pl.String)),
                               pl.col("gold").str.json_decode(pl.List(pl.Float64)))
    facts = facts.with_columns(pl.col("lengths").list.len().alias("k"))
    return MultiVotes(votes, facts, project)


# -- votes as keys: higher is better ---------------------------------------------------------

def _dense_index(ids: pl.Series) -> tuple[int, np.ndarray]:
    """The number of distinct ids and each one's index 0..n-1 (in sorted order; 5x faster
    than np.unique on Python strings)."""
    index = ids.rank("dense").to_numpy().astype(np.int64) - 1
    return int(index.max(initial=-1)) + 1, index


def _array(values: pl.Series, k: int) -> np.ndarray:
    return values.str.json_decode(pl.List(pl.Float64)).list.to_array(k).to_numpy()


def _numbers(votes: pl.DataFrame, *shape: int) -> np.ndarray:
    """The votes' numbers as one (votes, *shape) array; an error naming the first judgment
    whose numbers do not fit."""
    expected = 8 * int(np.prod(shape))
    wrong = votes.filter(pl.col("numbers").bin.size() != expected)
    if wrong.height:
        item, user, size = wrong.select("item", "user", pl.col("numbers").bin.size()).row(0)
        raise ValueError(f"judgments: item {item!r}, user {user!r}: numbers: {size} bytes, "
                         f"expected {expected} (written outside prefkit?)")
    if not votes.height:
        return np.empty((0, *shape))
    # The Arrow column's one data buffer, not a bytes object per vote joined (3x slower).
    column = votes["numbers"].to_arrow().cast(pa.large_binary())
    offsets = np.frombuffer(column.buffers()[1], np.int64)[column.offset:][:len(column) + 1]
    data = np.frombuffer(column.buffers()[2], np.uint8)[offsets[0]:offsets[-1]]
    return data.view("<f8").reshape(len(votes), *shape)


def scores(votes: pl.DataFrame, project: Project, k: int) -> dict[str, np.ndarray]:
    """Ratings votes (all of K responses) as one (votes, K) array per criterion."""
    by_criterion = _ratings_numbers(votes, project, k)[:, :len(project.criteria)]
    return {c.name: by_criterion[:, n, :] for n, c in enumerate(project.criteria)}


def raised(votes: pl.DataFrame, project: Project, k: int) -> np.ndarray:
    """Ratings votes' flags as a (votes, flags, K) array: 1 where the flag (in the project's
    order) was raised on the response."""
    return _ratings_numbers(votes, project, k)[:, len(project.criteria):]


def flags(votes: pl.DataFrame, project: Project, k: int) -> list[list[list[str]]]:
    """Ratings votes' flags: per vote, per response, the names of the flags raised (sorted,
    as stored)."""
    names = project.flags
    return [[sorted(names[f] for f in np.flatnonzero(response)) for response in vote.T]
            for vote in raised(votes, project, k)]


def _ratings_numbers(votes: pl.DataFrame, project: Project, k: int) -> np.ndarray:
    return _numbers(votes, len(project.criteria) + len(project.flags), k)


def ranks(votes: pl.DataFrame, k: int) -> np.ndarray:
    """Ranking votes (all of K responses) as a (votes, K) array of ranks (1 = best)."""
    return _numbers(votes, k)


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
    item_index = _dense_index(mv.votes["item"])[1]
    most = int(mv.facts["k"].max() or 0)  # unit: (item, i, j) as one number
    for k, group in mv.groups:
        key = keys(group, mv.project, k, rule)
        units = item_index[group["row"].to_numpy()] * most * most
        shown = positions(group["shown_order"], k)
        group = group.drop("value", "numbers", "k").join(mv.facts, on="item", how="left",
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
                pl.Series("unit", units + i * most + j),
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
    for k, group in mv.groups:
        mid = rankdata(ranks(group, k), axis=1)  # ties get their mid-rank
        n_items, index = _dense_index(group["item"])
        m = np.bincount(index, minlength=n_items).astype(float)
        sums = np.zeros((n_items, k))
        np.add.at(sums, index, mid)
        equal = (mid[:, :, None] == mid[:, None, :]).sum(axis=2)
        ties = np.bincount(index, weights=(equal ** 2 - 1).sum(axis=1), minlength=n_items)
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
    for k, group in mv.groups:
        n_items, index = _dense_index(group["item"])
        units.append((offset + index[:, None] * k + np.arange(k)[None, :]).ravel())
        offset += n_items * k  # units are numbered 0..U-1 across groups
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
        index = value.astype(np.int64) - criterion.low  # whole points: no sort needed
        if np.array_equal(index + criterion.low, value) and \
                0 <= index.min(initial=0) <= index.max(initial=0) <= criterion.high - criterion.low:
            distinct = np.arange(criterion.low, criterion.high + 1, dtype=float)
        else:
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
    counts = np.zeros(len(mv.project.flags))
    rated = 0
    for k, group in mv.groups:
        rated += len(group) * k
        counts += raised(group, mv.project, k).sum(axis=(0, 2))
    return {name: (float(count) / rated if rated else None)
            for name, count in zip(mv.project.flags, counts, strict=True)}

# -- the whole summary ----------------------------------------------------------------------

def summarize_multi(mv: MultiVotes, *, rule: Rule = Rule(), min_diff: int = 30,
                    seed: int = 0, pairs: pl.DataFrame | None = None) -> dict[str, Any]:
    """The A/B summary of the pair votes (`metrics.summarize`) with counts of judgments and
    items rather than pair votes; the task's own agreement (`task_agreement`) is added by
    the caller. `pairs`: `pair_frame(mv, rule)` when the caller has it already (it is most
    of the cost)."""
    frame = pair_frame(mv, rule) if pairs is None else pairs
    summary = metrics.summarize(frame, min_diff=min_diff, seed=seed)
    judged = mv.votes.group_by("user").len()
    judgments = dict(judged.iter_rows())
    for row in summary["labelers"]:
        row["pair_votes"], row["votes"] = row["votes"], judgments.get(row["user"], 0)
    summary.update({"task": mv.project.task, "n_pairs": frame.height,
                    "n_judgments": mv.votes.height, "n_items": mv.votes["item"].n_unique(),
                    "n_labelers": mv.votes["user"].n_unique(), "rule": str(rule)})
    return summary


def task_agreement(mv: MultiVotes) -> dict[str, Any]:
    """Kendall's W (rankings), or per criterion alpha and the flag shares (ratings)."""
    if mv.project.task == "ranking":
        return {"kendall_w": kendall_w(mv)}
    return {"criteria": criteria_summary(mv), "flags": flag_shares(mv)}
