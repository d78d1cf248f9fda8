"""Agreement, length bias and position bias of pairwise judgments: pure functions.

Every function takes a judgments frame (see `labeling_app.judgments.FRAME_SCHEMA`):
one row per vote, skips already removed, with `winner` in a/b/tie/both_bad in
canonical (item) terms. "Both bad" counts as no preference: a tie for the 3-class
agreement and half a win in win rates, the middle of the 5-point scale.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

SMALL_CURVE = 200
"""Below this many votes the length curve says that it is too few to read a trend."""
_CLASS3 = {"a": 0, "tie": 1, "both_bad": 1, "b": 2}  # nominal classes for agreement
_A_SCORE = {"a": 1.0, "tie": 0.5, "both_bad": 0.5, "b": 0.0}  # A's share of a vote


@dataclass(frozen=True)
class Thresholds:
    """When a labeler is flagged. A flag needs `min_votes` votes (and, for the left and longer
    shares, a CI that excludes 0.5), so a short streak is not enough."""

    min_votes: int = 10
    left_share: float = 0.8
    longer_share: float = 0.85
    fast_seconds: float = 3.0
    gold_accuracy: float = 0.6


# -- intervals ------------------------------------------------------------------------------

def proportion_ci(successes: Any, trials: Any, *, level: float = 0.95, n_boot: int = 2000,
                  seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Percentile-bootstrap CIs of proportions (vectorised over arrays of counts).

    Resampling n 0/1 outcomes with replacement and averaging is exactly a
    Binomial(n, p̂)/n draw, so the resamples are drawn directly: O(n_boot) per
    proportion instead of O(n_boot · n), the same distribution.
    """
    successes = np.atleast_1d(np.asarray(successes, dtype=float))
    trials = np.atleast_1d(np.asarray(trials, dtype=float))
    rng = np.random.default_rng(seed)
    safe = np.maximum(trials, 1)
    draws = rng.binomial(safe.astype(np.int64)[:, None], (successes / safe)[:, None],
                         size=(len(trials), n_boot)) / safe[:, None]
    tail = (1 - level) / 2
    low, high = np.quantile(draws, [tail, 1 - tail], axis=1)
    empty = trials == 0
    return np.where(empty, np.nan, low), np.where(empty, np.nan, high)


def _share(successes: int, trials: int, seed: int) -> dict[str, Any]:
    if trials == 0:
        return {"p": None, "ci": None, "n": 0}
    low, high = proportion_ci(successes, trials, seed=seed)
    return {"p": successes / trials, "ci": [float(low[0]), float(high[0])], "n": int(trials)}


# -- agreement ------------------------------------------------------------------------------

def judgment_pairs(frame: pl.DataFrame) -> pl.DataFrame:
    """Every pair of votes by two labelers on the same item (`user < user_2`), by `unit`, in
    no particular order.

    Hand-written with numpy instead of a polars self-join on the item: rows are sorted by
    unit once and each row is paired with the next 1, 2, ... rows of its unit (an item has
    a handful of voters), then gathered: 5x faster than the join on 600k pair votes.
    """
    columns = ["unit", "user", "cls", "ordinal"]
    votes = frame.select("unit", "user", pl.col("winner").replace_strict(_CLASS3).alias("cls"),
                         "ordinal")
    key = votes["unit"].to_numpy()
    order = np.argsort(key, kind="stable")
    sorted_key = key[order]
    starts = np.flatnonzero(np.r_[True, sorted_key[1:] != sorted_key[:-1]]) if len(key) \
        else np.zeros(0, np.int64)
    sizes = np.diff(np.r_[starts, len(key)])
    group_end = np.repeat(starts + sizes, sizes)  # per sorted row: where its unit ends
    first, second = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)]
    for step in range(1, int(sizes.max(initial=1))):
        rows = np.flatnonzero(np.arange(len(key)) + step < group_end)
        first.append(order[rows])
        second.append(order[rows + step])
    first, second = np.concatenate(first), np.concatenate(second)
    users = votes["user"]
    rank = users.unique().sort().search_sorted(users).to_numpy()  # users in string order
    swap, keep = rank[first] > rank[second], rank[first] != rank[second]
    first, second = np.where(swap, second, first)[keep], np.where(swap, first, second)[keep]
    two = votes[second].select(columns[1:]).rename({c: f"{c}_2" for c in columns[1:]})
    return pl.concat([votes[first], two], how="horizontal")


def krippendorff_alpha(units: np.ndarray, values: np.ndarray, *, n_values: int,
                       level: str = "nominal", scale: np.ndarray | None = None,
                       dense_units: bool = False) -> float | None:
    """Krippendorff's alpha from long-format ratings (unit index, value index per rating).

    Hand-written because reference implementations take a dense raters × units matrix,
    which is mostly empty when each item has K of many labelers; the coincidence matrix
    is built here straight from the long format in O(ratings).
    `level` is `nominal`, `ordinal` (values 0..n_values-1 in rank order) or `interval`
    (value c stands for the number `scale[c]`, by default c itself). `dense_units`: the
    units are already numbered 0..U-1 (no sort needed). None when undefined: fewer than two
    pairable values, or no variation at all.
    """
    if level not in ("nominal", "ordinal", "interval"):
        raise ValueError(f"level must be 'nominal', 'ordinal' or 'interval', not {level!r}")
    unit_index = units if dense_units else np.unique(units, return_inverse=True)[1]
    counts = np.bincount(unit_index * n_values + values,
                         minlength=(unit_index.max(initial=-1) + 1) * n_values)
    counts = counts.reshape(-1, n_values).astype(float)
    per_unit = counts.sum(axis=1)
    counts, per_unit = counts[per_unit >= 2], per_unit[per_unit >= 2]
    if not len(per_unit):
        return None
    weighted = counts / (per_unit - 1)[:, None]
    coincidence = weighted.T @ counts - np.diag(weighted.sum(axis=0))
    marginals = coincidence.sum(axis=1)
    total = marginals.sum()
    if level == "nominal":
        distance = 1.0 - np.eye(n_values)
    elif level == "interval":
        numbers = np.arange(n_values, dtype=float) if scale is None else \
            np.asarray(scale, dtype=float)
        distance = np.subtract.outer(numbers, numbers) ** 2
    else:
        cumulative = np.concatenate([[0.0], np.cumsum(marginals)])
        low, high = np.minimum.outer(np.arange(n_values), np.arange(n_values)), \
            np.maximum.outer(np.arange(n_values), np.arange(n_values))
        between = cumulative[high + 1] - cumulative[low]
        distance = (between - (marginals[:, None] + marginals[None, :]) / 2) ** 2
    expected = (np.outer(marginals, marginals) * distance).sum()
    if expected == 0:
        return None
    return float(1 - (total - 1) * (coincidence * distance).sum() / expected)


def agreement(frame: pl.DataFrame, *, min_shared: int = 5,
              pairs: pl.DataFrame | None = None) -> dict[str, Any] | None:
    """Inter-labeler agreement; None when no item has two labelers.

    Percent agreement over pairs of votes on the same item, with ties (3 classes) and
    without (pairs where both picked a side); Cohen's kappa per labeler pair sharing at
    least `min_shared` items; Krippendorff's alpha, nominal on 3 classes and ordinal on
    the 5-point scale (when the votes have a strength). `pairs`: `judgment_pairs(frame)`,
    when already computed.
    """
    pairs = judgment_pairs(frame) if pairs is None else pairs
    if pairs.is_empty():
        return None
    same = pl.col("cls") == pl.col("cls_2")
    decisive = pairs.filter((pl.col("cls") != 1) & (pl.col("cls_2") != 1))
    classes = frame["winner"].replace_strict(_CLASS3).to_numpy()
    ordinal = frame.filter(pl.col("ordinal").is_not_null())
    return {
        "n_pairs": pairs.height,
        "n_items": pairs["unit"].n_unique(),
        "percent": float(pairs.select(same.mean()).item()),
        "percent_without_ties": float(decisive.select(same.mean()).item())
        if decisive.height else None,
        "krippendorff_alpha_nominal": krippendorff_alpha(
            frame["unit"].to_numpy(), classes, n_values=3),
        "krippendorff_alpha_ordinal": krippendorff_alpha(
            ordinal["unit"].to_numpy(), ordinal["ordinal"].to_numpy(),
            n_values=5, level="ordinal") if ordinal.height else None,
        "cohen_kappa": cohen_kappa_pairs(pairs, min_shared=min_shared),
    }


def cohen_kappa_pairs(pairs: pl.DataFrame, *, min_shared: int = 5) -> list[dict[str, Any]]:
    """Cohen's kappa (3 classes) for each labeler pair with `min_shared` items or more.

    Computed with one group-by over all pairs (sklearn's `cohen_kappa_score` gives the
    same numbers, one pair per call: too slow for hundreds of labeler pairs).
    """
    marginals = [agg for k in range(3) for agg in
                 ((pl.col("cls") == k).mean().alias(f"p{k}"),
                  (pl.col("cls_2") == k).mean().alias(f"q{k}"))]
    table = (pairs.group_by("user", "user_2")
             .agg(pl.len().alias("n"), (pl.col("cls") == pl.col("cls_2")).mean().alias("po"),
                  *marginals)
             .filter(pl.col("n") >= min_shared)
             .with_columns(sum(pl.col(f"p{k}") * pl.col(f"q{k}") for k in range(3)).alias("pe"))
             .with_columns(pl.when(pl.col("pe") < 1)
                           .then((pl.col("po") - pl.col("pe")) / (1 - pl.col("pe")))
                           .alias("kappa"))
             .sort("user", "user_2"))
    return [{"user_1": row["user"], "user_2": row["user_2"], "n": row["n"],
             "kappa": row["kappa"]} for row in table.iter_rows(named=True)]


# -- length bias ----------------------------------------------------------------------------

def length_bias(frame: pl.DataFrame, *, min_diff: int = 30, seed: int = 0) -> dict[str, Any]:
    """P(the longer response wins) over decisive votes whose lengths differ by > `min_diff`
    characters, with a bootstrap CI."""
    diff = pl.col("len_a") - pl.col("len_b")
    counted = frame.filter(pl.col("winner").is_in(["a", "b"]) & (diff.abs() > min_diff))
    longer_won = counted.select(((pl.col("winner") == "a") == (diff > 0)).sum()).item() \
        if counted.height else 0
    return _share(int(longer_won), counted.height, seed) | {"min_diff": min_diff}


def length_curve(frame: pl.DataFrame, *, bins: int | None = None,
                 seed: int = 0) -> list[dict[str, Any]]:
    """A's win rate (ties count half) in quantile bins of len(A) - len(B). By default about
    30 votes a bin, 3 to 10 bins: a bin of a handful of votes only draws noise."""
    rows = frame.filter(pl.col("winner").is_in(list(_A_SCORE)))
    if rows.is_empty():
        return []
    bins = bins or min(10, max(3, rows.height // 30))
    diff = (rows["len_a"] - rows["len_b"]).to_numpy().astype(float)
    score = rows["winner"].replace_strict(_A_SCORE).to_numpy()
    edges = np.unique(np.quantile(diff, np.linspace(0, 1, bins + 1)))
    which = np.clip(np.searchsorted(edges, diff, side="right") - 1, 0, max(len(edges) - 2, 0))
    n = np.bincount(which, minlength=len(edges))
    wins = np.bincount(which, weights=score, minlength=len(edges))
    low, high = proportion_ci(wins, n, seed=seed)
    return [{"low": float(edges[b]), "high": float(edges[min(b + 1, len(edges) - 1)]),
             "center": float(np.median(diff[which == b])), "n": int(n[b]),
             "a_win_rate": float(wins[b] / n[b]), "ci": [float(low[b]), float(high[b])]}
            for b in range(len(n)) if n[b]]


def length_model(frame: pl.DataFrame, *, regularization: float = 1.0) -> dict[str, Any]:
    """A logistic model of the vote on tanh(length difference / sd) plus source-model terms,
    and per-source win rates raw and length-controlled.

    AlpacaEval's length control: fit `P(A wins) = σ(θ_A - θ_B + β·tanh(Δlen / sd))`, then
    predict with the length term set to zero. Ties count half a win for each side. Without
    at least two source models only β is fitted. Votes with the same length difference and
    models share one row of the fit (their count as weight, A's share of wins as target):
    the same likelihood, as the loss is linear in the target.
    """
    rows = frame.filter(pl.col("winner").is_in(list(_A_SCORE)))
    result: dict[str, Any] = {"length_coef": None, "win_rate": {}, "lc_win_rate": {},
                              "models": []}
    if rows.height < 2:
        return result
    spread = float((rows["len_a"] - rows["len_b"]).cast(pl.Float64).std(ddof=0))
    models = _source_models(rows)
    index = {name: i for i, name in enumerate(models)}
    sides = [pl.col(c).replace_strict(index, return_dtype=pl.Int64) if models else pl.lit(0)
             for c in ("source_a", "source_b")]
    columns = rows.select((pl.col("len_a") - pl.col("len_b")).alias("diff"), sides[0].alias("a"),
                          sides[1].alias("b"), pl.col("winner").replace_strict(_A_SCORE))
    # One integer key per (diff, a, b), ordered as they are: the groups in a fixed order (the
    # same sums, the same fit); np.unique on one key is 3x faster than a 3-key group-by.
    m, low = max(len(models), 1), int(columns["diff"].min())
    key = ((columns["diff"].to_numpy() - low) * m + columns["a"].to_numpy()) * m \
        + columns["b"].to_numpy()
    distinct, which = np.unique(key, return_inverse=True)
    n = np.bincount(which).astype(float)
    wins = np.bincount(which, weights=columns["winner"].to_numpy())
    diff = (distinct // (m * m) + low).astype(float)
    length_term = np.tanh(diff / spread) if spread > 0 else np.zeros_like(diff)
    side = np.zeros((len(distinct), len(models)))  # +1 for A's model, -1 for B's
    if models:
        a, b = (distinct // m) % m, distinct % m
        both = np.arange(len(distinct))[a != b]
        side[both, a[a != b]] = 1.0
        side[both, b[a != b]] = -1.0
    if wins.sum() in (0, n.sum()):  # one class only: nothing to fit
        return result
    coef = logistic_fit(np.column_stack([length_term, side]), wins / n, n,
                        regularization=regularization)
    result["length_coef"] = float(coef[0]) if spread > 0 else None
    theta = coef[1:]
    for name, column in zip(models, side.T, strict=True):
        involved = column != 0
        if not involved.any():
            continue
        # σ(θ_name - θ_opponent): the vote's model term oriented to `name`, length term at 0.
        lc = 1 / (1 + np.exp(-column[involved] * (side[involved] @ theta)))
        votes = n[involved]
        won = np.where(column[involved] > 0, wins[involved], votes - wins[involved])
        row = {"model": name, "n": int(votes.sum()), "win_rate": float(won.sum() / votes.sum()),
               "lc_win_rate": float((lc * votes).sum() / votes.sum())}
        result["models"].append(row)
        result["win_rate"][name] = row["win_rate"]
        result["lc_win_rate"][name] = row["lc_win_rate"]
    return result


def logistic_fit(x: np.ndarray, y: np.ndarray, weight: np.ndarray, *,
                 regularization: float = 1.0, tol: float = 1e-9,
                 max_iter: int = 100) -> np.ndarray:
    """The coefficients of an L2-regularised logistic regression without intercept, as
    scikit-learn's `LogisticRegression(C=regularization, fit_intercept=False)` defines it:
    minimise sum_i w_i logloss_i + |theta|^2 / (2 C).

    Hand-written Newton's method because the models here have a handful of features and
    up to millions of rows (every pair vote of 100k rankings): each step is one pass over
    the rows and a tiny solve, and it converges in about 6 steps; scikit-learn's lbfgs
    takes 13+ gradient passes to a looser tolerance (0.5 s against 0.1 s on 600k rows).
    """
    def objective(theta: np.ndarray, z: np.ndarray) -> float:  # z = x @ theta
        return float(weight @ (np.logaddexp(0, z) - y * z) + theta @ theta / (2 * regularization))

    theta, z = np.zeros(x.shape[1]), np.zeros(len(x))
    ridge = np.eye(x.shape[1]) / regularization
    current = objective(theta, z)
    for _ in range(max_iter):
        p = 1 / (1 + np.exp(-z))
        gradient = x.T @ (weight * (p - y)) + theta / regularization
        hessian = (x * (weight * p * (1 - p))[:, None]).T @ x + ridge
        step = np.linalg.solve(hessian, gradient)
        for _ in range(30):  # halve a step that would not lower the objective
            moved = theta - step
            z_moved = x @ moved
            candidate = objective(moved, z_moved)
            if candidate <= current:
                break
            step /= 2
        theta, z, current = moved, z_moved, min(candidate, current)
        if np.abs(step).max() < tol:
            break
    return theta


def _source_models(rows: pl.DataFrame) -> list[str]:
    names = pl.concat([rows["source_a"], rows["source_b"]]).drop_nulls().unique().sort()
    if rows["source_a"].null_count() or rows["source_b"].null_count() or len(names) < 2:
        return []
    return names.to_list()


# -- position bias and labelers -------------------------------------------------------------

def position_bias(frame: pl.DataFrame, *, seed: int = 0) -> dict[str, Any] | None:
    """P(the response shown on the left wins) over decisive votes; None when unknown."""
    known = frame.filter(pl.col("left").is_not_null() & pl.col("winner").is_in(["a", "b"]))
    if known.is_empty():
        return None
    return _share(int((known["winner"] == known["left"]).sum()), known.height, seed)


def gold_accuracy(frame: pl.DataFrame) -> dict[str, Any] | None:
    """Share of votes on gold items matching the known answer; None without gold items."""
    gold = frame.filter(pl.col("gold").is_not_null())
    if gold.is_empty():
        return None
    return {"n": gold.height, "accuracy": float((gold["winner"] == gold["gold"]).mean())}


def per_labeler(frame: pl.DataFrame, *, min_diff: int = 30, seed: int = 0,
                thresholds: Thresholds = Thresholds(),
                pairs: pl.DataFrame | None = None) -> list[dict[str, Any]]:
    """One row per labeler: counts, speed, left and longer shares with CIs, agreement with
    the others, gold accuracy, and flags for the labeler who always picks left or longer."""
    if frame.is_empty():
        return []
    decisive = pl.col("winner").is_in(["a", "b"])
    longer_counted = decisive & ((pl.col("len_a") - pl.col("len_b")).abs() > min_diff)
    longer_won = (pl.col("winner") == "a") == (pl.col("len_a") > pl.col("len_b"))
    table = frame.group_by("user").agg(
        pl.len().alias("votes"),
        (pl.col("winner") == "tie").mean().alias("tie_share"),
        (pl.col("winner") == "both_bad").mean().alias("both_bad_share"),
        pl.col("seconds").median().alias("median_seconds"),
        pl.col("simulated").any().alias("simulated"),
        (decisive & pl.col("left").is_not_null()).sum().alias("left_n"),
        (decisive & (pl.col("winner") == pl.col("left"))).sum().alias("left_wins"),
        longer_counted.sum().alias("longer_n"),
        (longer_counted & longer_won).sum().alias("longer_wins"),
        pl.col("gold").is_not_null().sum().alias("gold_n"),
        (pl.col("gold").is_not_null() & (pl.col("winner") == pl.col("gold"))).sum()
        .alias("gold_right"),
    ).sort("user")
    pairs = judgment_pairs(frame) if pairs is None else pairs
    same = (pairs["cls"] == pairs["cls_2"]).cast(pl.Float64)
    with_others = (pl.concat([pl.DataFrame({"user": pairs["user"], "same": same}),
                              pl.DataFrame({"user": pairs["user_2"], "same": same})])
                   .group_by("user").agg(pl.col("same").mean().alias("agreement")))
    table = table.join(with_others, on="user", how="left")
    left_low, left_high = proportion_ci(table["left_wins"], table["left_n"], seed=seed)
    long_low, long_high = proportion_ci(table["longer_wins"], table["longer_n"], seed=seed + 1)
    rows = []
    for i, row in enumerate(table.iter_rows(named=True)):
        p_left = row["left_wins"] / row["left_n"] if row["left_n"] else None
        p_longer = row["longer_wins"] / row["longer_n"] if row["longer_n"] else None
        gold = row["gold_right"] / row["gold_n"] if row["gold_n"] else None
        out = {"user": row["user"], "votes": row["votes"], "simulated": row["simulated"],
               "median_seconds": row["median_seconds"], "tie_share": row["tie_share"],
               "both_bad_share": row["both_bad_share"],
               "p_left_wins": p_left, "p_left_wins_ci": _ci(left_low[i], left_high[i]),
               "p_longer_wins": p_longer, "p_longer_wins_ci": _ci(long_low[i], long_high[i]),
               "agreement": row["agreement"], "gold_n": row["gold_n"], "gold_accuracy": gold}
        out["flags"] = _flags(out, row, thresholds)
        rows.append(out)
    return rows


def _ci(low: float, high: float) -> list[float] | None:
    return None if math.isnan(low) else [float(low), float(high)]


def _flags(out: dict[str, Any], counts: dict[str, Any], limits: Thresholds) -> list[str]:
    flags = []

    def lopsided(p: float | None, ci: list[float] | None, n: int, share: float) -> int:
        if p is None or ci is None or n < limits.min_votes:
            return 0
        if p >= share and ci[0] > 0.5:
            return 1
        if p <= 1 - share and ci[1] < 0.5:
            return -1
        return 0

    side = lopsided(out["p_left_wins"], out["p_left_wins_ci"], counts["left_n"], limits.left_share)
    if side:
        flags.append("picks_left" if side > 0 else "picks_right")
    longer = lopsided(out["p_longer_wins"], out["p_longer_wins_ci"], counts["longer_n"],
                      limits.longer_share)
    if longer:
        flags.append("picks_longer" if longer > 0 else "picks_shorter")
    if out["median_seconds"] is not None and out["median_seconds"] < limits.fast_seconds \
            and out["votes"] >= limits.min_votes and not out["simulated"]:
        flags.append("fast")
    if out["gold_accuracy"] is not None and out["gold_n"] >= limits.min_votes \
            and out["gold_accuracy"] < limits.gold_accuracy:
        flags.append("low_gold_accuracy")
    return flags


# -- the whole report -----------------------------------------------------------------------

def summarize(frame: pl.DataFrame, *, min_diff: int = 30, seed: int = 0,
              thresholds: Thresholds = Thresholds()) -> dict[str, Any]:
    """Every metric in one JSON-ready dict (the `label report --json` object). The length
    and position metrics are computed in a second thread meanwhile (numpy and polars release
    the GIL), agreement and the labeler table in this one."""
    with ThreadPoolExecutor(1) as pool:
        fitted = pool.submit(length_model, frame)
        curve = pool.submit(length_curve, frame, seed=seed)
        length = pool.submit(length_bias, frame, min_diff=min_diff, seed=seed)
        position = pool.submit(position_bias, frame, seed=seed)
        pairs = judgment_pairs(frame)
        agreed = agreement(frame, pairs=pairs)
        labelers = per_labeler(frame, min_diff=min_diff, seed=seed, thresholds=thresholds,
                               pairs=pairs)
        model, longer, left = fitted.result(), length.result(), position.result()
    return {
        "n_pairs": frame.height,
        "n_items": frame["unit"].n_unique(),
        "n_labelers": frame["user"].n_unique(),
        "winners": {k: int(v) for k, v in frame["winner"].value_counts().iter_rows()},
        "p_longer_wins": longer["p"],
        "p_longer_wins_ci": longer["ci"],
        "n_length_pairs": longer["n"],
        "min_length_diff": min_diff,
        "length_coef": model["length_coef"],
        "win_rate": model["win_rate"],
        "lc_win_rate": model["lc_win_rate"],
        "p_left_wins": left["p"] if left else None,
        "p_left_wins_ci": left["ci"] if left else None,
        "agreement": agreed,
        "gold": gold_accuracy(frame),
        "length_curve": curve.result(),
        "labelers": labelers,
    }
