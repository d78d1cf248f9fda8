"""The s1 sampling loop: 2^-rank within a domain, domain draws, weights, determinism."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from scipy.stats import chisquare

from curate.select.sampling import domain_weights, s1_sample, truncated_geometric
from curate.select.signals import combine, parse_signal, percentile_ranks

SIZE = 6
SEEDS = range(3000)
TWO_TO_MINUS_RANK = np.array([2.0 ** -r for r in range(1, SIZE + 1)]) / (1 - 2.0 ** -SIZE)


def _rank_counts(picks_per_run: int, which: int) -> np.ndarray:
    """How often the `which`-th pick had each rank among the items still left."""
    difficulty = np.array([3.0, 9.0, 1.0, 7.0, 5.0, 11.0])  # distinct, in shuffled order
    hardest_first = list(np.argsort(-difficulty))
    counts = np.zeros(SIZE - which, dtype=int)
    for seed in SEEDS:
        picks = s1_sample(["d"] * SIZE, difficulty, picks_per_run, np.random.default_rng(seed))
        left = [p for p in hardest_first if p not in picks[:which]]
        counts[left.index(picks[which])] += 1
    return counts


def test_first_pick_follows_two_to_minus_rank():
    counts = _rank_counts(1, 0)
    assert chisquare(counts, TWO_TO_MINUS_RANK * len(SEEDS)).pvalue > 1e-3
    # the law is strongly skewed: a uniform or 3^-rank law would be rejected by the same test
    assert chisquare(counts, np.full(SIZE, len(SEEDS) / SIZE)).pvalue < 1e-10
    three = np.array([3.0 ** -r for r in range(1, SIZE + 1)])
    assert chisquare(counts, three / three.sum() * len(SEEDS)).pvalue < 1e-10


def test_later_picks_rerank_the_remaining_items():
    counts = _rank_counts(2, 1)  # the second pick, ranked among the 5 items left
    expected = np.array([2.0 ** -r for r in range(1, SIZE)]) / (1 - 2.0 ** -(SIZE - 1))
    assert chisquare(counts, expected * len(SEEDS)).pvalue > 1e-3


@pytest.mark.parametrize("draw", ["stratified", "iid"])
def test_rank_law_holds_inside_a_domain_drawn_among_others(draw):
    """Two other domains interleave their picks; domain "d" still follows 2^-rank."""
    difficulty = np.array([3.0, 9.0, 1.0, 7.0, 5.0, 11.0] + [2.0] * 4 + [4.0] * 5)
    domains = ["d"] * SIZE + ["e"] * 4 + ["f"] * 5
    hardest_first = list(np.argsort(-difficulty[:SIZE]))
    first, second = np.zeros(SIZE, dtype=int), np.zeros(SIZE - 1, dtype=int)
    for seed in range(1500):
        picks = s1_sample(domains, difficulty, len(domains), np.random.default_rng(seed),
                          draw=draw)
        in_d = [p for p in picks if domains[p] == "d"]
        first[hardest_first.index(in_d[0])] += 1
        second[[p for p in hardest_first if p != in_d[0]].index(in_d[1])] += 1
    assert chisquare(first, TWO_TO_MINUS_RANK * 1500).pvalue > 1e-3
    expected = np.array([2.0 ** -r for r in range(1, SIZE)]) / (1 - 2.0 ** -(SIZE - 1))
    assert chisquare(second, expected * 1500).pvalue > 1e-3


def test_truncated_geometric_stays_in_range():
    rng = np.random.default_rng(0)
    assert {truncated_geometric(rng, 1) for _ in range(50)} == {1}
    assert {truncated_geometric(rng, 3) for _ in range(500)} == {1, 2, 3}


def test_sampling_is_without_replacement_and_exhausts_domains():
    domains = ["a"] * 3 + ["b"] * 10
    picks = s1_sample(domains, np.arange(13.0), 13, np.random.default_rng(0))
    assert sorted(picks) == list(range(13))
    assert len(s1_sample(domains, np.arange(13.0), 50, np.random.default_rng(0))) == 13


def test_ties_are_broken_at_random_but_reproducibly():
    level = np.zeros(20)
    first = {s1_sample(["d"] * 20, level, 1, np.random.default_rng(seed))[0] for seed in range(200)}
    assert len(first) > 10  # no positional bias towards one record
    assert s1_sample(["d"] * 20, level, 5, np.random.default_rng(7)) == \
        s1_sample(["d"] * 20, level, 5, np.random.default_rng(7))


def test_stratified_draw_keeps_each_domain_within_one_of_its_share():
    domains = [name for name, size in (("a", 50), ("b", 200), ("c", 90)) for _ in range(size)]
    for seed in range(20):
        picks = s1_sample(domains, np.zeros(len(domains)), 31, np.random.default_rng(seed))
        counts = Counter(domains[p] for p in picks)
        assert all(abs(counts[name] - 31 / 3) < 1 for name in "abc")


def test_iid_draw_is_uniform_over_domains_on_average():
    domains = ["a"] * 100 + ["b"] * 400
    counts = Counter()
    for seed in range(300):
        picks = s1_sample(domains, np.zeros(500), 10, np.random.default_rng(seed), draw="iid")
        counts.update(domains[p] for p in picks)
    assert chisquare([counts["a"], counts["b"]]).pvalue > 1e-3
    spread = [Counter(domains[p] for p in s1_sample(domains, np.zeros(500), 10,
                                                   np.random.default_rng(s), draw="iid"))["a"]
              for s in range(50)]
    assert len(set(spread)) > 3  # unlike the stratified draw, counts vary from run to run


def test_weights_steer_the_domain_draw(tmp_path: Path):
    domains = ["a"] * 300 + ["b"] * 300
    sizes = Counter(domains)
    file = tmp_path / "weights.yaml"
    file.write_text("a: 3\n'*': 1\n")
    weights = domain_weights(str(file), sizes)
    assert weights == {"a": 3.0, "b": 1.0}
    picks = s1_sample(domains, np.zeros(600), 100, np.random.default_rng(0), weights)
    assert Counter(domains[p] for p in picks) == {"a": 75, "b": 25}
    assert domain_weights("proportional", Counter({"a": 5, "b": 1})) == {"a": 5.0, "b": 1.0}


def test_zero_weight_domains_are_never_drawn():
    domains = ["a"] * 10 + ["b"] * 10
    picks = s1_sample(domains, np.zeros(20), 15, np.random.default_rng(0), {"a": 1.0, "b": 0.0})
    assert {domains[p] for p in picks} == {"a"} and len(picks) == 10


def test_weights_file_errors_name_the_problem(tmp_path: Path):
    file = tmp_path / "weights.json"
    file.write_text('{"a": 1}')
    with pytest.raises(ValueError, match="no weight for domain.*'b'"):
        domain_weights(str(file), Counter({"a": 1, "b": 1}))
    file.write_text('{"a": -1, "b": 1}')
    with pytest.raises(ValueError, match="must be a number >= 0"):
        domain_weights(str(file), Counter({"a": 1, "b": 1}))
    with pytest.raises(ValueError, match="uniform, proportional or a file"):
        domain_weights("nonsense", Counter({"a": 1}))


def test_combination_rule_is_the_mean_percentile_rank():
    level = np.array([1.0, 5.0, 5.0, 3.0])
    length = np.array([400.0, 100.0, 300.0, 200.0])
    signals = [parse_signal("column:level"), parse_signal("length")]
    score = combine(signals, {"column:level": level, "length": length}, 4)
    assert percentile_ranks(level).tolist() == [0.25, 0.875, 0.875, 0.5]
    assert score.tolist() == pytest.approx([(0.25 + 1.0) / 2, (0.875 + 0.25) / 2,
                                            (0.875 + 0.75) / 2, (0.5 + 0.5) / 2])
    # pass rates are easier when higher: the rank is reversed
    solve = combine([parse_signal("column:-pass_rate")], {"column:-pass_rate": level}, 4)
    assert solve.tolist() == [1.0, 0.375, 0.375, 0.75]
    assert combine([], {}, 3).tolist() == [0.5, 0.5, 0.5]


@pytest.mark.parametrize("spec", ["colum:level", "column:", "labels", "model-loss:x", "column:-"])
def test_bad_signals_are_rejected(spec):
    with pytest.raises(ValueError, match="difficulty signal"):
        parse_signal(spec)


def test_signal_specs_parse_into_kind_field_and_direction():
    assert parse_signal("column:-pass_rate") == parse_signal(" column:-pass_rate ")
    parsed = parse_signal("column:-pass_rate")
    assert (parsed.kind, parsed.field, parsed.easier_when_higher) == ("column", "pass_rate", True)
    assert parse_signal("length:trace").field == "trace"
    assert parse_signal("labels:solved_by").easier_when_higher
