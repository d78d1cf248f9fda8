"""Metrics of rankings and ratings against hand-worked examples, published values, the
`krippendorff` package and computations from the definitions written here."""

from __future__ import annotations

import itertools
import random

import krippendorff
import numpy as np
import polars as pl
import pytest

from labeling_app import metrics, multi_metrics
from labeling_app.kway import Rule, parse_ranking, ranking_text, ranks_from_pairs
from labeling_app.multi_metrics import kendall_w, load_multi, pair_frame
from labeling_app.project import Project, ratings_project
from labeling_app.store import Store
from labeling_app.summary import database_summary
from schemas.labeling import MultiItem

from .test_metrics import KRIPPENDORFF_2011, _long_format


def _store(tmp_path, project, items, votes, *, name="x.sqlite", seed=0):
    """A database whose `votes` ({user: {item_id: value in screen order}}) are cast through
    the store, so each vote has a drawn order; returns it open."""
    store = Store(tmp_path / name, create=True, rng=random.Random(seed))
    store.add_items(items, overlap=max(len(votes), 1), project=project)
    for user, by_item in votes.items():
        store.add_user(user)
        while (assignment := store.next_assignment(user)) is not None:
            store.submit_multi(user, assignment.lease_id, by_item[assignment.item.id](assignment),
                               guideline_version="g")
    return store


def _items(count, k=4, lengths=None):
    lengths = lengths or [10 * (i + 1) for i in range(k)]
    return [MultiItem(id=f"q{n}", prompt=f"prompt {n}",
                      responses=[chr(97 + i) * lengths[i] for i in range(k)],
                      sources=[f"m{i}" for i in range(k)]) for n in range(count)]


def _in_screen_order(ranks):
    """A vote that gives response i (item order) the rank `ranks[i]`, whatever the order."""
    return lambda assignment: [ranks[index] for index in assignment.order]


# -- Kendall's W --------------------------------------------------------------------------

def _w_by_definition(rankings):
    """Kendall's W of one item from its m rank vectors, with mid-ranks and the tie correction,
    written from the definition."""
    def mid_ranks(ranks):
        ordered = sorted(ranks)
        return [sum(i + 1 for i, r in enumerate(ordered) if r == x) / ordered.count(x)
                for x in ranks]

    m, n = len(rankings), len(rankings[0])
    mids = [mid_ranks(r) for r in rankings]
    totals = [sum(row[i] for row in mids) for i in range(n)]
    spread = sum((t - m * (n + 1) / 2) ** 2 for t in totals)
    ties = sum(sum(c ** 3 - c for c in (r.count(x) for x in set(r))) for r in rankings)
    return 12 * spread / (m ** 2 * (n ** 3 - n) - m * ties)


def test_kendall_w_matches_hand_worked_examples(tmp_path):
    # No ties: raters 1>2>3, 1>3>2, 2>1>3 give rank sums 4, 6, 8 and W = 12*8/(9*24) = 4/9.
    store = _store(tmp_path, Project(task="ranking"), _items(1, k=3), {
        "u1": {"q0": _in_screen_order([1, 2, 3])}, "u2": {"q0": _in_screen_order([1, 3, 2])},
        "u3": {"q0": _in_screen_order([2, 1, 3])}})
    assert kendall_w(load_multi(store))["mean"] == pytest.approx(4 / 9)
    store.close()
    # One tie: mid-ranks (1.5, 1.5, 3) and (1, 2, 3): S = 6.5, T = 6, W = 78/84.
    store = _store(tmp_path, Project(task="ranking"), _items(1, k=3), {
        "u1": {"q0": _in_screen_order([1, 1, 2])}, "u2": {"q0": _in_screen_order([1, 2, 3])}},
        name="ties.sqlite")
    assert kendall_w(load_multi(store))["mean"] == pytest.approx(78 / 84)
    store.close()


def test_kendall_w_matches_its_definition_on_random_rankings(tmp_path):
    rng = random.Random(5)
    truth = {f"q{n}": [rng.randint(1, 4) for _ in range(4)] for n in range(15)}
    votes = {f"u{u}": {item: _in_screen_order([r if rng.random() < 0.6 else rng.randint(1, 4)
                                               for r in ranks]) for item, ranks in truth.items()}
             for u in range(3)}
    store = _store(tmp_path, Project(task="ranking"), _items(15), votes)
    by_item: dict[str, list[list[int]]] = {}
    for row in store.judgments_of():
        by_item.setdefault(row["item_id"], []).append(row["value"])
    expected = [_w_by_definition(r) for r in by_item.values()
                if any(len(set(v)) > 1 for v in r)]
    assert kendall_w(load_multi(store)) == pytest.approx(
        {"mean": np.mean(expected), "median": np.median(expected), "n_items": len(expected)})
    store.close()


# -- Krippendorff's alpha, interval --------------------------------------------------------

def test_krippendorff_alpha_interval_matches_the_published_example():
    units, values = _long_format(KRIPPENDORFF_2011)  # published: interval 0.849
    alpha = metrics.krippendorff_alpha(units, values, n_values=5, level="interval")
    assert alpha == pytest.approx(0.849, abs=5e-4)


@pytest.mark.parametrize("seed", range(3))
def test_alpha_per_criterion_matches_the_krippendorff_package(tmp_path, seed):
    rng = random.Random(seed)
    project = ratings_project()
    votes = {}
    for u in range(3):
        def vote(assignment, rng=rng):
            return {"scores": {c.name: [min(7, max(1, 4 + (int(assignment.item.id[1:]) + i) % 3
                                                   + rng.choice([-1, 0, 0, 1])))
                                        for i in assignment.order] for c in project.criteria},
                    "flags": [[] for _ in assignment.order]}
        votes[f"u{u}"] = dict.fromkeys((f"q{n}" for n in range(12)), vote)
    store = _store(tmp_path, project, _items(12, k=3), votes, seed=seed)
    summary = database_summary(store)
    rows = store.judgments_of()
    users = sorted({row["user"] for row in rows})
    for criterion in project.criteria:
        # Dense raters x units matrix, unit = (item, response), as the package takes it.
        units = sorted({(row["item_id"], i) for row in rows for i in range(3)})
        matrix = np.full((len(users), len(units)), np.nan)
        for row in rows:
            for i in range(3):
                matrix[users.index(row["user"]), units.index((row["item_id"], i))] = \
                    row["value"]["scores"][criterion.name][i]
        for level in ("interval", "ordinal"):
            expected = krippendorff.alpha(reliability_data=matrix, level_of_measurement=level)
            assert summary["criteria"][criterion.name][f"alpha_{level}"] == \
                pytest.approx(expected, abs=1e-9)
    store.close()


# -- pair votes ----------------------------------------------------------------------------

def test_a_ranking_becomes_its_pair_votes_with_positions_lengths_and_gold(tmp_path):
    store = _store(tmp_path, Project(task="ranking"), _items(1), {
        "u1": {"q0": _in_screen_order([2, 1, 3, 3])}})
    store.add_user("boss", role="admin")
    store.adjudicate("q0", "boss", [1, 2, 3, 4])
    [row] = store.judgments_of()
    frame = pair_frame(load_multi(store)).sort("i", "j")
    # Written out by hand from the ranks 2, 1, 3, 3 and the gold 1, 2, 3, 4.
    assert frame.select("i", "j", "winner", "strength", "gold").rows() == [
        (0, 1, "b", 1.0, "a"), (0, 2, "a", 1.0, "a"), (0, 3, "a", 1.0, "a"),
        (1, 2, "a", 2.0, "a"), (1, 3, "a", 2.0, "a"), (2, 3, "tie", 0.0, "a")]
    position = {index: p for p, index in enumerate(row["shown_order"])}
    assert frame["left"].to_list() == ["a" if position[i] < position[j] else "b"
                                       for i, j in frame.select("i", "j").rows()]
    assert frame["len_a"].to_list() == [10 * (i + 1) for i, _ in frame.select("i", "j").rows()]
    assert set(frame["source_a"]) | set(frame["source_b"]) == {"m0", "m1", "m2", "m3"}
    store.close()


def test_ratings_become_pair_votes_by_the_stated_rule(tmp_path):
    project = ratings_project()
    scores = {"helpful": [7, 3, 5], "truthful": [6, 6, 2], "harmless": [1, 7, 7]}
    store = _store(tmp_path, project, _items(1, k=3), {"u1": {"q0": lambda a: {
        "scores": {name: [s[i] for i in a.order] for name, s in scores.items()},
        "flags": [[], [], []]}}})
    mv = load_multi(store)

    def winners(rule):
        return pair_frame(mv, Rule.parse(rule, project)).sort("i", "j")["winner"].to_list()

    # overall = mean of (score - 1) / 6: response 0 = 11/18, 1 = 13/18, 2 = 11/18.
    assert winners("overall") == ["b", "tie", "a"]
    assert winners("harmless,helpful") == ["b", "b", "b"]  # 1 < 7; then helpful 3 < 5
    assert winners("helpful") == ["a", "a", "b"]
    assert winners("truthful,harmless") == ["b", "a", "a"]
    with pytest.raises(ValueError, match="'overall' or criteria"):
        Rule.parse("kindness", project)
    store.close()


def test_gold_accuracy_follows_an_adjudication(tmp_path):
    """Per labeler: the share of pairs of responses ordered as the gold ranking orders them,
    computed here from the stored rankings."""
    rng = random.Random(2)
    votes = {f"u{u}": {f"q{n}": _in_screen_order([rng.randint(1, 4) for _ in range(4)])
                       for n in range(6)} for u in range(3)}
    store = _store(tmp_path, Project(task="ranking"), _items(6), votes)
    store.add_user("boss", role="admin")
    assert database_summary(store)["gold"] is None
    store.adjudicate("q2", "boss", [1, 2, 3, 4])
    store.adjudicate("q4", "boss", [2, 2, 1, 3])

    def relation(ranks, i, j):
        return "a" if ranks[i] < ranks[j] else "b" if ranks[i] > ranks[j] else "tie"

    gold = {"q2": [1, 2, 3, 4], "q4": [2, 2, 1, 3]}
    expected = {}
    for row in store.judgments_of():
        if row["item_id"] in gold:
            hits = [relation(row["value"], i, j) == relation(gold[row["item_id"]], i, j)
                    for i, j in itertools.combinations(range(4), 2)]
            expected.setdefault(row["user"], []).extend(hits)
    labelers = {r["user"]: r for r in database_summary(store)["labelers"]}
    for user, hits in expected.items():
        assert labelers[user]["gold_accuracy"] == pytest.approx(sum(hits) / len(hits))
        assert labelers[user]["gold_n"] == len(hits) == 12
    store.close()


# -- ranking text and Copeland ranks -------------------------------------------------------

def test_ranking_text_round_trips_and_copeland_ties_what_is_undecided():
    for ranks in ([1, 2, 3], [2, 1, 2, 3], [1, 1, 1], [3, 1, 2, 2]):
        assert parse_ranking(ranking_text(ranks), len(ranks)) == \
            [sorted(set(ranks)).index(r) + 1 for r in ranks]  # dense ranks
    assert parse_ranking("B > A = C", 3, letters=True) == [2, 1, 2]
    # 0 beats 2 and 1 beats 2; 0 vs 1 undecided: 0 and 1 tie at the top.
    assert ranks_from_pairs(3, [(0, 1, "tie", 0), (0, 2, "a", 1), (1, 2, "a", 1)]) == [1, 1, 2]


@pytest.mark.parametrize("flags", [["unsafe", "refusal", "hallucination"],
                                   ["unsafe", "refusal", "helpful"]])  # a criterion's name too
def test_flag_shares_count_every_raised_flag(tmp_path, flags):
    """Two items of 3 responses rated by two labelers: 12 rated responses. Hand count:
    unsafe 3, refusal 1, the third flag 2."""
    base = ratings_project()
    project = base.model_copy(update={"flags": flags})
    third = flags[2]
    raised = {"u0": {"q0": [["unsafe"], [], ["unsafe", "refusal"]], "q1": [[], [third], []]},
              "u1": {"q0": [[], [third], []], "q1": [["unsafe"], [], []]}}

    def vote(user, item):
        return lambda assignment: {
            "scores": {c.name: [4] * 3 for c in project.criteria},
            "flags": [raised[user][item][i] for i in assignment.order]}

    votes = {user: {item: vote(user, item) for item in ("q0", "q1")} for user in raised}
    store = _store(tmp_path, project, _items(2, k=3), votes)
    assert database_summary(store)["flags"] == {"unsafe": 3 / 12, "refusal": 1 / 12,
                                                third: 2 / 12}


# -- the numbers beside each value --------------------------------------------------------

def _two_raters(tmp_path):
    """One item of 2 responses rated by two labelers (scores in item order, hand-written)."""
    project = ratings_project()  # helpful, truthful, harmless; unsafe, hallucination, refusal
    given = {"u0": {"helpful": [1, 7], "truthful": [2, 6], "harmless": [3, 5.5],
                    "flags": [["unsafe"], ["refusal", "unsafe"]]},
             "u1": {"helpful": [4, 4], "truthful": [4, 4], "harmless": [4, 4],
                    "flags": [[], ["hallucination"]]}}

    def vote(user):
        return lambda assignment: {
            "scores": {name: [given[user][name][i] for i in assignment.order]
                       for name in ("helpful", "truthful", "harmless")},
            "flags": [given[user]["flags"][i] for i in assignment.order]}

    return _store(tmp_path, project, _items(1, k=2), {u: {"q0": vote(u)} for u in given})


def test_a_ratings_vote_is_stored_with_its_numbers_in_item_and_project_order(tmp_path):
    store = _two_raters(tmp_path)
    blob = store._conn().execute("SELECT numbers FROM judgments WHERE user = 'u0'").fetchone()[0]
    # helpful, truthful, harmless (2 responses each), then unsafe, hallucination, refusal.
    assert np.frombuffer(blob, "<f8").tolist() == [1, 7, 2, 6, 3, 5.5, 1, 1, 0, 0, 0, 1]


def test_a_version_4_database_gets_numbers_and_reads_the_same(tmp_path):
    """The migration to version 5 fills in the numbers from the JSON values; a judgment
    written by hand without numbers is read from its JSON. Hand-worked: helpful mean
    (1 + 7 + 4 + 4) / 4 = 4, harmless (3 + 5.5 + 4 + 4) / 4 = 4.125; unsafe on 2 of 4 rated
    responses, hallucination and refusal on 1."""
    store = _two_raters(tmp_path)
    path = store.path
    expected = {"helpful": 4.0, "truthful": 4.0, "harmless": 4.125}
    flags = {"unsafe": 0.5, "hallucination": 0.25, "refusal": 0.25}
    before = database_summary(store, min_diff=0)
    store._conn().executescript("ALTER TABLE judgments DROP COLUMN numbers; "
                                "PRAGMA user_version = 4;")
    store.close()
    with Store(path) as migrated:
        rows = migrated._conn().execute("SELECT numbers FROM judgments").fetchall()
        assert all(row[0] for row in rows)
        migrated._conn().execute("UPDATE judgments SET numbers = NULL WHERE user = 'u1'")
        after = database_summary(migrated, min_diff=0)
    for summary in (before, after):
        assert {n: c["mean"] for n, c in summary["criteria"].items()} == expected
        assert summary["flags"] == flags
    assert after["criteria"] == before["criteria"]


def test_numbers_of_the_wrong_size_are_named_not_misread(tmp_path):
    store = _two_raters(tmp_path)
    store._conn().execute("UPDATE judgments SET numbers = substr(numbers, 1, 10) "
                          "WHERE user = 'u1'")
    with pytest.raises(ValueError, match=r"item 'q0', user 'u1': numbers: 10 bytes, "
                                         r"expected 96"):
        database_summary(store)


def test_votes_are_read_in_columns_from_any_path_with_or_without_numbers(tmp_path):
    """The dashboard reads the judgments through ADBC on a URI of the database's path: a
    folder name with a space, `#` and `?` must not cut it. With every judgment's numbers
    removed (all written by hand), the values are read from their JSON, and the ranks are
    the hand-given ones in item order."""
    given = {"ann": [1, 2, 3], "bea": [3, 1, 2]}
    folder = tmp_path / "a b#c?d"
    folder.mkdir()
    store = _store(folder, Project(task="ranking"), _items(1, k=3),
                   {user: {"q0": _in_screen_order(ranks)} for user, ranks in given.items()})
    for strip in (False, True):
        if strip:
            store._conn().execute("UPDATE judgments SET numbers = NULL")
        votes = load_multi(store).votes
        assert votes["user"].to_list() == ["ann", "bea"]
        assert database_summary(store)["n_judgments"] == 2
        [(k, group)] = load_multi(store).groups
        assert multi_metrics.ranks(group, k).tolist() == [given["ann"], given["bea"]]
    store.close()


def test_the_numbers_of_a_slice_of_votes_are_its_own():
    """`_numbers` reads the Arrow buffer of the numbers column: a slice (an offset into that
    buffer) must give its own votes' numbers, hand-written here."""
    ranks = [[1, 2, 3], [3, 1, 2], [2, 3, 1], [1, 1, 2]]
    votes = pl.DataFrame({"item": ["q"] * 4, "user": list("abcd"),
                          "numbers": [np.asarray(r, "<f8").tobytes() for r in ranks]})
    assert multi_metrics.ranks(votes, 3).tolist() == ranks
    assert multi_metrics.ranks(votes.slice(1, 2), 3).tolist() == ranks[1:3]
    assert multi_metrics.ranks(votes.filter(pl.col("user") != "b"), 3).tolist() == \
        [ranks[0], ranks[2], ranks[3]]
    assert multi_metrics.ranks(votes.head(0), 3).shape == (0, 3)
