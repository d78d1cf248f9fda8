"""Rankings and ratings exported: every decided pair of responses (counts and strengths
recomputed here from the stored votes), pairs by a stated ratings rule, per-criterion
reward-model data, raw judgments; whose votes count is stated."""

from __future__ import annotations

import csv
import itertools
import json
import random
from collections import Counter

import pytest
from typer.testing import CliRunner

from labeling_app.cli import app
from labeling_app.project import Project, ratings_project
from schemas import PreferencePair

from .test_multi_metrics import _in_screen_order, _items, _store

runner = CliRunner()


def _relation(ranks, i, j):
    return "a" if ranks[i] < ranks[j] else "b" if ranks[i] > ranks[j] else "tie"


def _expected_pairs(rows, min_agreement):
    """Majority per pair of responses, from the stored rankings (see the export's rule:
    a tie vote counts against agreement; a majority tie or a split decides nothing)."""
    by_item: dict[str, list[list[int]]] = {}
    for row in rows:
        by_item.setdefault(row["item_id"], []).append(row["value"])
    out = {}
    for item, rankings in by_item.items():
        for i, j in itertools.combinations(range(len(rankings[0])), 2):
            votes = Counter(_relation(r, i, j) for r in rankings)
            top = max(votes.values())
            leaders = [side for side, n in votes.items() if n == top]
            if len(leaders) > 1 or leaders[0] == "tie" or top / len(rankings) < min_agreement:
                continue
            winner = leaders[0]
            gaps = [abs(r[i] - r[j]) for r in rankings if _relation(r, i, j) == winner]
            chosen, rejected = (i, j) if winner == "a" else (j, i)
            out[f"{item}:{i}-{j}"] = (chosen, rejected, sum(gaps) / len(gaps), dict(votes))
    return out


def test_rankings_export_as_every_decided_pair_with_the_rank_gap_as_strength(tmp_path):
    rng = random.Random(9)
    truth = {f"q{n}": [rng.randint(1, 4) for _ in range(4)] for n in range(8)}
    votes = {f"u{u}": {item: _in_screen_order([r if rng.random() < 0.7 else rng.randint(1, 4)
                                               for r in ranks]) for item, ranks in truth.items()}
             for u in range(3)}
    store = _store(tmp_path, Project(task="ranking"), _items(8), votes)
    rows = store.judgments_of()
    store.close()
    out = tmp_path / "prefs.jsonl"
    result = runner.invoke(app, ["export", "-d", str(tmp_path / "x.sqlite"), "-o", str(out),
                                 "--min-agreement", "0.6"])
    assert result.exit_code == 0, result.output
    pairs = [PreferencePair.model_validate_json(line) for line in out.read_text().splitlines()]
    expected = _expected_pairs(rows, 0.6)
    assert {p.id for p in pairs} == set(expected) and len(pairs) == len(expected) > 10
    items = {item.id: item for item in _items(8)}
    for pair in pairs:
        chosen, rejected, gap, counts = expected[pair.id]
        item = items[pair.meta["item_id"]]
        assert pair.chosen[0].content == item.responses[chosen]
        assert pair.rejected[0].content == item.responses[rejected]
        assert pair.meta["strength"] == pair.meta["rank_gap"] == pytest.approx(gap)
        assert {k: v for k, v in pair.meta["votes"].items() if v} == counts
        assert (pair.meta["source_chosen"], pair.meta["source_rejected"]) == \
            (f"m{chosen}", f"m{rejected}")
        assert pair.meta["voters"] == ["human"]
    stats = json.loads((tmp_path / "prefs.stats.json").read_text())
    assert stats["in"] == 8 == stats["used"] + stats["removed"]
    assert sum(stats["pairs_left_out"].values()) == 8 * 6 - len(pairs)
    assert "human votes only" in result.output


def test_ratings_export_pairs_by_the_rule_and_per_criterion_data(tmp_path):
    project = ratings_project()
    given = {"u1": {"helpful": [7, 3, 5], "truthful": [6, 6, 2], "harmless": [1, 7, 7]},
             "u2": {"helpful": [6, 2, 5], "truthful": [6, 5, 3], "harmless": [2, 7, 6]}}
    flags = {"u1": [["unsafe"], [], []], "u2": [["unsafe"], [], ["hallucination"]]}

    def vote(user):
        return lambda a: {"scores": {n: [s[i] for i in a.order] for n, s in given[user].items()},
                          "flags": [flags[user][i] for i in a.order]}

    store = _store(tmp_path, project, _items(1, k=3),
                   {user: {"q0": vote(user)} for user in given})
    store.close()
    db = str(tmp_path / "x.sqlite")
    harmless_first = tmp_path / "harmless.jsonl"
    assert runner.invoke(app, ["export", "-d", db, "-o", str(harmless_first), "--rule",
                               "harmless,helpful"]).exit_code == 0
    pairs = [json.loads(line) for line in harmless_first.read_text().splitlines()]
    # Harmless first: 0 loses to 1 and 2 for both; 1 vs 2: u1 ties harmless then helpful
    # 3 < 5 (2 wins), u2 harmless 7 > 6 (1 wins): split, no pair.
    assert sorted((p["meta"]["chosen_index"], p["meta"]["rejected_index"]) for p in pairs) == \
        [(1, 0), (2, 0)]
    gaps = {p["meta"]["chosen_index"]: p["meta"]["score_gap"] for p in pairs}
    assert gaps == {1: pytest.approx((6 + 5) / 2), 2: pytest.approx((6 + 4) / 2)}  # harmless
    helpful = tmp_path / "helpful.jsonl"
    assert runner.invoke(app, ["export", "-d", db, "-o", str(helpful), "--rule",
                               "helpful"]).exit_code == 0
    assert sorted((p["meta"]["chosen_index"], p["meta"]["rejected_index"]) for p in
                  map(json.loads, helpful.read_text().splitlines())) == [(0, 1), (0, 2), (2, 1)]
    bad = runner.invoke(app, ["export", "-d", db, "-o", str(helpful), "--rule", "kindness"])
    assert bad.exit_code == 1 and "'overall' or criteria" in bad.output
    ratings = tmp_path / "ratings.jsonl"
    assert runner.invoke(app, ["export", "-d", db, "-o", str(ratings), "--format",
                               "ratings"]).exit_code == 0
    records = [json.loads(line) for line in ratings.read_text().splitlines()]
    assert [r["id"] for r in records] == ["q0:0", "q0:1", "q0:2"]
    for index, record in enumerate(records):
        for name in given["u1"]:
            assert record["scores"][name] == pytest.approx(
                (given["u1"][name][index] + given["u2"][name][index]) / 2)
        assert record["flags"]["unsafe"] == (1.0 if index == 0 else 0.0)
        assert record["flags"]["hallucination"] == (0.5 if index == 2 else 0.0)
        assert record["response"] == [{"role": "assistant", "content": _items(1, 3)[0]
                                       .responses[index]}]
        assert record["n_votes"] == 2 and len(record["meta"]["votes"]) == 2


def test_ai_votes_are_left_out_unless_asked_and_raw_judgments_keep_the_order(tmp_path):
    store = _store(tmp_path, Project(task="ranking"), _items(2, k=3),
                   {"u1": dict.fromkeys(("q0", "q1"), _in_screen_order([1, 2, 3]))})
    store.add_user("ai-x", kind="ai")
    for item in ("q0", "q1"):
        store.add_ai_judgment("ai-x", item, choice="ranked", value=[3, 2, 1],
                              detail={"consistency": 1.0, "units": 3}, guideline_version="g")
    store.close()
    db = str(tmp_path / "x.sqlite")
    out = tmp_path / "prefs.jsonl"
    human = runner.invoke(app, ["export", "-d", db, "-o", str(out), "--min-votes", "1"])
    assert "AI judges' votes: 2 left out (--voters all counts them)" in human.output
    assert {json.loads(line)["meta"]["chosen_index"] for line in out.read_text().splitlines()} \
        == {0, 1}
    ai = runner.invoke(app, ["export", "-d", db, "-o", str(out), "--min-votes", "1",
                             "--voters", "ai"])
    assert "AI judges' votes only" in ai.output and "human votes: 2 left out" in ai.output
    assert all(json.loads(line)["meta"]["voters"] == ["ai"]
               for line in out.read_text().splitlines())
    both = runner.invoke(app, ["export", "-d", db, "-o", str(out), "--min-votes", "1",
                               "--voters", "all"])
    assert both.exit_code == 0 and out.read_text() == ""  # 1 vs 1 on every pair: no majority
    votes = tmp_path / "votes.csv"
    raw = runner.invoke(app, ["export", "-d", db, "-o", str(votes), "--format", "judgments"])
    assert raw.exit_code == 0, raw.output
    rows = list(csv.DictReader(votes.open()))
    assert [(r["user"], r["kind"], r["choice"]) for r in rows] == [("u1", "human", "ranked")] * 2
    assert all(json.loads(r["value"]) == [1, 2, 3] and len(json.loads(r["shown_order"])) == 3
               for r in rows)
    stats = json.loads((tmp_path / "votes.stats.json").read_text())
    assert stats["removed_by_reason"] == {"other_voters": 2}


def test_export_of_a_project_with_only_ai_votes_says_so_instead_of_failing(tmp_path):
    """A ranking project judged by an AI judge only (the README's order): the human export
    has no votes to count; every item is `unjudged` and the judge's votes are named."""
    store = _store(tmp_path, Project(task="ranking"), _items(2, k=3), {})
    store.add_user("ai-x", kind="ai")
    for item in ("q0", "q1"):
        store.add_ai_judgment("ai-x", item, choice="ranked", value=[3, 2, 1],
                              detail={"consistency": 1.0, "units": 3}, guideline_version="g")
    store.close()
    out = tmp_path / "prefs.jsonl"
    result = runner.invoke(app, ["export", "-d", str(tmp_path / "x.sqlite"), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "AI judges' votes: 2 left out" in result.output
    assert out.read_text() == ""
    stats = json.loads((tmp_path / "prefs.stats.json").read_text())
    assert stats["removed_by_reason"] == {"unjudged": 2}
