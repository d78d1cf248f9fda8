"""Metrics on synthetic judgments whose biases are known by construction."""

from __future__ import annotations

import itertools

import krippendorff
import numpy as np
import polars as pl
import pytest
from sklearn.metrics import cohen_kappa_score

from labeling_app import metrics
from labeling_app.judgments import judgments_frame, judgments_frame_from

OTHER = {"a": "b", "b": "a"}


def _pairs(n: int, seed: int):
    """Equal-quality pairs: model `long` writes ~300 characters more than `short`, with
    enough spread that the shorter answer is sometimes A's."""
    rng = np.random.default_rng(seed)
    len_a = rng.normal(700, 300, n).clip(20).astype(int)
    len_b = rng.normal(400, 300, n).clip(20).astype(int)
    left = rng.choice(["a", "b"], n)
    return rng, len_a, len_b, left


def _rows(n: int, seed: int, vote, user: str = "u1") -> list[dict]:
    rng, len_a, len_b, left = _pairs(n, seed)
    return [{"item_id": f"i{i}", "user": user, "choice": vote(rng, len_a[i], len_b[i], left[i]),
             "left": left[i], "len_a": int(len_a[i]), "len_b": int(len_b[i]),
             "source_a": "long", "source_b": "short", "seconds": 10.0} for i in range(n)]


def _longer(rng, len_a, len_b, left):
    return "a" if len_a > len_b else "b"


def _coin(rng, len_a, len_b, left):
    return str(rng.choice(["a", "b", "tie"], p=[0.45, 0.45, 0.1]))


def _always_left(rng, len_a, len_b, left):
    return left


def test_length_driven_labeler_is_caught_and_controlled_for():
    frame = judgments_frame(_rows(2000, 0, _longer))
    bias = metrics.length_bias(frame)
    model = metrics.length_model(frame)
    assert bias["p"] == 1.0 and bias["ci"][0] > 0.99
    assert model["win_rate"]["long"] > 0.7  # the raw win rate is far from 50%
    assert model["lc_win_rate"]["long"] == pytest.approx(0.5, abs=0.06)
    assert model["lc_win_rate"]["long"] + model["lc_win_rate"]["short"] == pytest.approx(1)
    assert model["length_coef"] > 3
    curve = metrics.length_curve(frame)
    rates = [b["a_win_rate"] for b in curve]
    assert rates[0] < 0.05 and rates[-1] > 0.95 and rates == sorted(rates)


def test_length_independent_votes_show_no_length_bias():
    frame = judgments_frame(_rows(3000, 1, _coin))
    bias = metrics.length_bias(frame)
    model = metrics.length_model(frame)
    assert bias["p"] == pytest.approx(0.5, abs=0.04)
    assert bias["ci"][0] < 0.5 < bias["ci"][1]
    assert abs(model["length_coef"]) < 0.25
    assert model["lc_win_rate"]["long"] == pytest.approx(0.5, abs=0.05)


def test_always_left_labeler_is_flagged_and_others_are_not():
    rows = _rows(300, 2, _always_left, user="lefty") + _rows(300, 3, _coin, user="fair")
    frame = judgments_frame(rows)
    overall = metrics.position_bias(frame)
    labelers = {row["user"]: row for row in metrics.per_labeler(frame)}
    assert labelers["lefty"]["p_left_wins"] == 1.0
    assert "picks_left" in labelers["lefty"]["flags"]
    assert labelers["fair"]["p_left_wins"] == pytest.approx(0.5, abs=0.08)
    assert labelers["fair"]["flags"] == []
    assert 0.65 < overall["p"] < 0.85  # half the votes are always-left


def test_fast_and_length_flags():
    rows = _rows(200, 4, _longer, user="skimmer")
    for row in rows:
        row["seconds"] = 1.0
    labeler = metrics.per_labeler(judgments_frame(rows))[0]
    assert set(labeler["flags"]) == {"picks_longer", "fast"}
    assert labeler["median_seconds"] == 1.0
    newcomer = metrics.per_labeler(judgments_frame(rows[:3]))[0]  # too few votes to judge
    assert newcomer["median_seconds"] == 1.0 and newcomer["flags"] == []


def test_position_bias_is_unknown_without_positions():
    rows = _rows(50, 5, _coin)
    for row in rows:
        row["left"] = None
    assert metrics.position_bias(judgments_frame(rows)) is None


# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 coders,
# 12 units, values 1-5, None for missing. Published: nominal 0.743, ordinal 0.815.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


def _long_format(matrix):
    units, values = [], []
    for coder in matrix:
        for unit, value in enumerate(coder):
            if value is not None:
                units.append(unit)
                values.append(value - 1)
    return np.array(units), np.array(values)


def _alpha_by_definition(units, values, level, n_values):
    """Krippendorff's alpha straight from its definition: 1 - D_o / D_e over all ordered
    pairs of values, pairs within a unit weighted 1 / (m_u - 1). Slow, obviously right."""
    by_unit = {}
    for unit, value in zip(units, values, strict=True):
        by_unit.setdefault(unit, []).append(value)
    pairable = [v for v in by_unit.values() if len(v) > 1]
    flat = [value for values_ in pairable for value in values_]
    counts = np.bincount(flat, minlength=n_values)

    def delta(c, k):
        if level == "nominal":
            return float(c != k)
        low, high = min(c, k), max(c, k)
        return (counts[low:high + 1].sum() - (counts[c] + counts[k]) / 2) ** 2

    observed = sum(delta(c, k) / (len(v) - 1) for v in pairable
                   for c, k in itertools.permutations(v, 2))
    expected = sum(delta(c, k) for c, k in itertools.permutations(flat, 2))
    return 1 - (len(flat) - 1) * observed / expected


def test_krippendorff_alpha_matches_the_published_example():
    units, values = _long_format(KRIPPENDORFF_2011)
    nominal = metrics.krippendorff_alpha(units, values, n_values=5)
    ordinal = metrics.krippendorff_alpha(units, values, n_values=5, level="ordinal")
    assert nominal == pytest.approx(0.743, abs=5e-4)
    assert ordinal == pytest.approx(0.815, abs=5e-4)


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("level", "n_values"), [("nominal", 3), ("ordinal", 5)])
def test_krippendorff_alpha_matches_its_definition_on_random_fixtures(seed, level, n_values):
    rng = np.random.default_rng(seed)
    truth = rng.integers(0, n_values, 40)
    units, values = [], []
    for unit in range(40):
        for _ in range(rng.integers(1, 5)):  # 1 to 4 ratings; singletons are not pairable
            noisy = truth[unit] if rng.random() < 0.7 else rng.integers(0, n_values)
            units.append(unit)
            values.append(int(noisy))
    units, values = np.array(units), np.array(values)
    expected = _alpha_by_definition(units, values, level, n_values)
    assert metrics.krippendorff_alpha(units, values, n_values=n_values, level=level) == \
        pytest.approx(expected, abs=1e-9)


def _dense(units, values, n_units, n_raters, rng):
    """The long-format ratings as the raters x units matrix (NaN = no rating) that the
    `krippendorff` package takes; each rating of a unit goes to a different rater."""
    matrix = np.full((n_raters, n_units), np.nan)
    for unit, value in zip(units, values, strict=True):
        free = np.flatnonzero(np.isnan(matrix[:, unit]))
        matrix[rng.choice(free), unit] = value
    return matrix


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize(("level", "n_values"), [("nominal", 3), ("ordinal", 5)])
def test_krippendorff_alpha_matches_the_krippendorff_package(seed, level, n_values):
    rng = np.random.default_rng(100 + seed)
    truth = rng.integers(0, n_values, 60)
    units, values = [], []
    for unit in range(60):
        for _ in range(rng.integers(1, 6)):  # 1 to 5 ratings; singletons are not pairable
            units.append(unit)
            values.append(int(truth[unit] if rng.random() < 0.6 else rng.integers(0, n_values)))
    units, values = np.array(units), np.array(values)
    reference = krippendorff.alpha(reliability_data=_dense(units, values, 60, 5, rng),
                                   level_of_measurement=level, value_domain=range(n_values))
    ours = metrics.krippendorff_alpha(units, values, n_values=n_values, level=level)
    assert ours == pytest.approx(reference, abs=1e-12)


def test_agreement_on_judgments_matches_the_krippendorff_package():
    """The app's own path: choices -> 3 nominal classes and the 5-point ordinal scale."""
    rng = np.random.default_rng(11)
    choices = ["a_much", "a", "tie", "b", "b_much"]
    rows = []
    for item in range(80):
        truth = int(rng.integers(0, 5))
        for user in rng.choice(6, int(rng.integers(2, 5)), replace=False):
            scale = truth if rng.random() < 0.5 else int(rng.integers(0, 5))
            rows.append({"item_id": f"i{item}", "user": f"u{user}", "choice": choices[scale],
                         "len_a": 10, "len_b": 10})
    agreement = metrics.agreement(judgments_frame(rows))
    # Written out here, independently of the module: A side / tie / B side, and 0..4.
    nominal = {"a_much": 0, "a": 0, "tie": 1, "b": 2, "b_much": 2}
    ordinal = {"a_much": 0, "a": 1, "tie": 2, "b": 3, "b_much": 4}
    for key, mapping, level in (("krippendorff_alpha_nominal", nominal, "nominal"),
                                ("krippendorff_alpha_ordinal", ordinal, "ordinal")):
        matrix = np.full((6, 80), np.nan)
        for row in rows:
            matrix[int(row["user"][1:]), int(row["item_id"][1:])] = mapping[row["choice"]]
        reference = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level,
                                       value_domain=sorted(set(mapping.values())))
        assert agreement[key] == pytest.approx(reference, abs=1e-12), key


def test_alpha_is_undefined_without_pairs_or_variation():
    assert metrics.krippendorff_alpha(np.array([0, 1]), np.array([0, 1]), n_values=3) is None
    assert metrics.krippendorff_alpha(np.array([0, 0]), np.array([1, 1]), n_values=3) is None


def _two_labelers(choices_1, choices_2):
    rows = []
    for user, choices in (("u1", choices_1), ("u2", choices_2)):
        rows += [{"item_id": f"i{i}", "user": user, "choice": c, "len_a": 10, "len_b": 10}
                 for i, c in enumerate(choices)]
    return judgments_frame(rows)


def test_percent_agreement_with_and_without_ties():
    frame = _two_labelers(["a", "b", "tie", "a_much", "b"], ["a", "a", "tie", "a", "tie"])
    agreement = metrics.agreement(frame)
    assert agreement["percent"] == pytest.approx(3 / 5)  # a/a, tie/tie, a_much/a
    assert agreement["percent_without_ties"] == pytest.approx(2 / 3)  # both-sided pairs only


def test_cohen_kappa_matches_sklearn():
    rng = np.random.default_rng(7)
    options = ["a_much", "a", "tie", "b", "b_much", "both_bad"]
    first = list(rng.choice(options, 200))
    second = [c if rng.random() < 0.6 else str(rng.choice(options)) for c in first]
    kappa = metrics.agreement(_two_labelers(first, second))["cohen_kappa"]
    three = {"a_much": 0, "a": 0, "tie": 1, "both_bad": 1, "b": 2, "b_much": 2}
    expected = cohen_kappa_score([three[c] for c in first], [three[c] for c in second])
    assert len(kappa) == 1 and kappa[0]["n"] == 200
    assert kappa[0]["kappa"] == pytest.approx(expected, abs=1e-12)


def test_single_judge_has_no_agreement():
    assert metrics.agreement(judgments_frame(_rows(20, 6, _coin))) is None


def test_gold_accuracy():
    rows = [{"item_id": f"i{i}", "user": "u", "choice": c, "gold": g, "len_a": 5, "len_b": 5}
            for i, (c, g) in enumerate([("a", "a"), ("b_much", "b"), ("tie", "a"),
                                        ("a", None)])]
    assert metrics.gold_accuracy(judgments_frame(rows)) == {"n": 3, "accuracy": 2 / 3}


def test_proportion_ci_covers_the_estimate_and_narrows_with_n():
    low, high = metrics.proportion_ci([30, 3000], [100, 10000], seed=0)
    assert low[0] < 0.3 < high[0] and low[1] < 0.3 < high[1]
    assert (high[1] - low[1]) < (high[0] - low[0]) / 5
    assert np.isnan(metrics.proportion_ci([0], [0])[0][0])


def test_summary_has_the_report_keys_and_survives_an_empty_frame():
    summary = metrics.summarize(judgments_frame(_rows(100, 8, _coin)))
    for key in ("n_pairs", "p_longer_wins", "p_longer_wins_ci", "length_coef", "lc_win_rate",
                "p_left_wins", "agreement"):
        assert key in summary
    assert summary["n_pairs"] == 100
    empty = metrics.summarize(judgments_frame([]))
    assert empty["n_pairs"] == 0 and empty["p_longer_wins"] is None
    assert empty["agreement"] is None and empty["labelers"] == []


@pytest.mark.parametrize("separation", [0.5, 8.0])
def test_the_logistic_fit_is_scikit_learns_optimum(separation):
    """Newton's method and scikit-learn (lbfgs to a tight tolerance) find the same L2
    logistic model, weights and near-separable data included."""
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(7)
    x = np.column_stack([np.tanh(rng.normal(size=4000)), rng.choice([-1.0, 0.0, 1.0],
                                                                    size=(4000, 3))])
    y = (rng.random(4000) < 1 / (1 + np.exp(-separation * x[:, 0] - x[:, 1]))).astype(float)
    weight = rng.choice([0.5, 1.0], size=4000)
    reference = LogisticRegression(C=1.0, fit_intercept=False, tol=1e-12, max_iter=10_000)
    reference.fit(x, y, sample_weight=weight)
    assert metrics.logistic_fit(x, y, weight) == pytest.approx(reference.coef_[0], abs=1e-5)


def test_judgment_pairs_are_every_pair_of_labelers_on_an_item():
    """Against a brute-force pairing: items with 1 to 6 voters, users in any order."""
    rng = np.random.default_rng(3)
    rows = []
    choices = ["a_much", "a", "tie", "b", "b_much"]
    for i in range(60):
        for user in rng.choice(40, rng.integers(1, 7), replace=False):
            rows.append({"item_id": f"i{i}", "user": f"u{user}",
                         "choice": choices[int(rng.integers(0, 5))]})
    rng.shuffle(rows)
    cls = {"a_much": 0, "a": 0, "tie": 1, "b": 2, "b_much": 2}
    ordinal = {"a_much": 0, "a": 1, "tie": 2, "b": 3, "b_much": 4}
    expected = sorted((x["item_id"], x["user"], cls[x["choice"]], ordinal[x["choice"]],
                       y["user"], cls[y["choice"]], ordinal[y["choice"]])
                      for x, y in itertools.permutations(rows, 2)
                      if x["item_id"] == y["item_id"] and x["user"] < y["user"])
    frame = judgments_frame_from(pl.DataFrame(rows))
    pairs = metrics.judgment_pairs(frame).join(frame.select("unit", "item_id").unique(),
                                               on="unit")
    assert sorted(pairs.select("item_id", "user", "cls", "ordinal", "user_2", "cls_2",
                               "ordinal_2").rows()) == expected
    assert len(expected) > 250
