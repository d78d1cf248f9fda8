"""Rankings and ratings in the store: the order shown is drawn, stored and mapped back; leases,
overlap, the too-fast guard and the other refusals hold as for A/B items; AI judges fill no
labeler's slot; an adjudication becomes gold with its audit trail."""

from __future__ import annotations

import random
import re

import pytest

from labeling_app.project import Project, ratings_project
from labeling_app.store import Store, StoreError, VoteRejected
from schemas.labeling import Item, MultiItem


def multi_items(count: int, k: int = 4, prefix: str = "m") -> list[MultiItem]:
    """Items whose responses say their own index, so a test can read the order shown."""
    return [MultiItem(id=f"{prefix}{n:02d}", prompt=f"Question {n}?",
                      responses=[f"response {i} of {n}" + " more" * (3 * i) for i in range(k)],
                      sources=[f"model-{i % 2}" for i in range(k)]) for n in range(count)]


@pytest.fixture
def ranking(tmp_path, clock):
    store = Store(tmp_path / "ranking.sqlite", create=True, rng=random.Random(3), clock=clock)
    store.add_items(multi_items(6), overlap=2, project=Project(task="ranking"))
    for name in ("ann", "bob", "cid"):
        store.add_user(name)
    yield store
    store.close()


@pytest.fixture
def ratings(tmp_path, clock):
    store = Store(tmp_path / "ratings.sqlite", create=True, rng=random.Random(4), clock=clock)
    store.add_items(multi_items(3, k=3), overlap=1, project=ratings_project())
    store.add_user("ann")
    yield store
    store.close()


def _index(text: str) -> int:
    return int(text.split()[1])  # "response 2 of 5 ..." -> 2


def test_the_order_shown_is_drawn_stored_and_mapped_back(ranking):
    orders = set()
    for user in ("ann", "bob"):
        while (assignment := ranking.next_assignment(user)) is not None:
            shown = [_index(text) for text in assignment.shown_responses]
            assert shown == list(assignment.order)  # the panes follow the stored order
            orders.add(assignment.order)
            # The labeler ranks by what they see: the screen position is the rank.
            row = ranking.submit_multi(user, assignment.lease_id, [1, 2, 2, 4],
                                       guideline_version="g")
            expected = [0] * 4
            for position, index in enumerate(shown):  # written out without the code's helper
                expected[index] = [1, 2, 2, 4][position]
            stored = ranking.judgments_of(assignment.item.id)[-1]
            assert stored["value"] == expected and stored["shown_order"] == shown
            assert row["choice"] == "ranked"
    assert len(orders) > 3  # drawn per assignment, not fixed


def test_ratings_are_stored_in_item_order_with_flags(ratings):
    assignment = ratings.next_assignment("ann")
    shown = list(assignment.order)
    scores = {"helpful": [7, 4, 1], "truthful": [6, 5, 2], "harmless": [7, 7, 1]}
    flags = [[], ["hallucination"], ["unsafe", "refusal"]]
    ratings.submit_multi("ann", assignment.lease_id, {"scores": scores, "flags": flags},
                         guideline_version="g")
    stored = ratings.judgments_of(assignment.item.id)[0]["value"]
    for position, index in enumerate(shown):
        assert all(stored["scores"][name][index] == scores[name][position] for name in scores)
        assert stored["flags"][index] == sorted(flags[position])


@pytest.mark.parametrize(("value", "message"), [
    ([1, 2, None, 4], "rank every response (missing: response 3)"),
    ([1, 2, 3], "a rank for each of the 4"),
    ([1, 2, 3, 9], "ranks go from 1 (best) to 4"),
    (["x", 1, 1, 1], "whole numbers"),
    ([2.5, 1, 1, 1], "whole numbers"),  # not cut to 2
    ([True, 1, 1, 1], "whole numbers"),  # not taken for 1
    ({"scores": {}}, "a rank for each of the 4"),
    (7, "a ranking is a list of ranks"),
])
def test_incomplete_or_foreign_rankings_are_refused_and_nothing_is_written(ranking, value,
                                                                            message):
    assignment = ranking.next_assignment("ann")
    with pytest.raises(VoteRejected, match=re.escape(message)):
        ranking.submit_multi("ann", assignment.lease_id, value, guideline_version="g")
    assert ranking.judgments_of() == []
    assert ranking.next_assignment("ann").lease_id == assignment.lease_id  # still held


@pytest.mark.parametrize(("value", "message"), [
    ({"scores": {"helpful": [1, 2, 3], "truthful": [1, 2, 3]}, "flags": [[], [], []]},
     "rate every response on 'harmless'"),
    ({"scores": {"helpful": [1, 2, 8], "truthful": [1, 2, 3], "harmless": [1, 1, 1]},
      "flags": [[], [], []]}, "helpful: scores go from 1 to 7"),
    ({"scores": {"helpful": [1, 2, 3], "truthful": [1, 2, 3], "harmless": [1, 1, 1]},
      "flags": [["rude"], [], []]}, "unknown flags: rude"),
    ({"scores": {"helpful": [1, 2, True], "truthful": [1, 2, 3], "harmless": [1, 1, 1]},
      "flags": [[], [], []]}, "helpful: scores must be numbers"),
    ({"scores": {"helpful": [1, 2, "nan"], "truthful": [1, 2, 3], "harmless": [1, 1, 1]},
      "flags": [[], [], []]}, "helpful: scores must be numbers"),
    ({"scores": {"helpful": [1, 2, 3], "truthful": [1, 2, 3], "harmless": [1, 1, 1]},
      "flags": [{"unsafe": 1}, [], []]}, "flags: a list of flag names per response"),
    ({"scores": {"helpful": [1, 2, 3], "truthful": [1, 2, 3], "harmless": [1, 1, 1],
                 "funny": [1, 1, 1]}, "flags": [[], [], []]}, "unknown criteria: funny"),
])
def test_incomplete_or_foreign_ratings_are_refused(ratings, value, message):
    assignment = ratings.next_assignment("ann")
    with pytest.raises(VoteRejected, match=re.escape(message)):
        ratings.submit_multi("ann", assignment.lease_id, value, guideline_version="g")
    assert ratings.judgments_of() == []


def test_leases_overlap_too_fast_and_skips_hold_for_rankings(ranking, clock):
    first = ranking.next_assignment("ann")
    with pytest.raises(VoteRejected, match="too fast"):
        ranking.submit_multi("ann", first.lease_id, [1, 2, 3, 4], guideline_version="g",
                             min_seconds=3)
    with pytest.raises(VoteRejected, match="Skip needs a rationale"):
        ranking.submit_multi("ann", first.lease_id, None, skip=True, guideline_version="g")
    clock.advance(4)
    ranking.submit_multi("ann", first.lease_id, None, skip=True, rationale="off topic",
                         guideline_version="g", min_seconds=3)
    with pytest.raises(VoteRejected, match="no live lease"):  # the lease ended with the skip
        ranking.submit_multi("ann", first.lease_id, [1, 2, 3, 4], guideline_version="g")
    # Overlap 2: the two other labelers fill every item; a third holder never appears.
    counts: dict[str, int] = {}
    for user in ("bob", "cid", "ann"):
        while (assignment := ranking.next_assignment(user)) is not None:
            ranking.submit_multi(user, assignment.lease_id, [4, 3, 2, 1], guideline_version="g")
            counts[assignment.item.id] = counts.get(assignment.item.id, 0) + 1
    assert counts == {f"m{n:02d}": 2 for n in range(6)}
    assert ranking.item_counts() == (6, 6)
    skipped = [row for row in ranking.judgments_of() if row["choice"] == "skip"]
    assert [(row["user"], row["rationale"]) for row in skipped] == [("ann", "off topic")]


def test_an_expired_lease_returns_its_slot(ranking, clock):
    held = ranking.next_assignment("ann")
    clock.advance(ranking.lease_ttl + 1)
    with pytest.raises(VoteRejected, match="no live lease"):
        ranking.submit_multi("ann", held.lease_id, [1, 1, 1, 1], guideline_version="g")
    assert ranking.next_assignment("bob").item.id == held.item.id


def test_ai_judgments_fill_no_labeler_slot_and_keep_their_kind(ranking):
    ranking.add_user("ai-judge", kind="ai")
    for item, _, _ in ranking.items():
        ranking.add_ai_judgment("ai-judge", item.id, choice="ranked", value=[1, 2, 3, 4],
                                detail={"consistency": 1.0, "units": 6}, guideline_version="g")
    assert ranking.item_counts() == (0, 6)
    assert ranking.next_assignment("ann") is not None  # every item still open to people
    with pytest.raises(StoreError, match="not an AI judge"):
        ranking.add_ai_judgment("ann", "m00", choice="ranked", value=[1, 2, 3, 4], detail={},
                                guideline_version="g")
    with pytest.raises(ValueError, match="kind"):
        ranking.add_user("ai-2", kind="ai", password="long enough password")
    assert {u["name"]: u["kind"] for u in ranking.users()}["ai-judge"] == "ai"
    assert len(ranking.ai_details()) == 6
    assert ranking.remove_user("ai-judge", save=lambda rows: None) == 6
    assert ranking.item_counts() == (0, 6)  # removing the judge reopens nothing


def test_an_adjudication_becomes_gold_and_keeps_the_audit_trail(ranking, clock):
    ranking.add_user("boss", role="admin")
    with pytest.raises(StoreError, match="not an admin"):
        ranking.adjudicate("m00", "ann", [1, 2, 3, 4])
    with pytest.raises(StoreError, match="rank every response"):
        ranking.adjudicate("m00", "boss", [1, None, 3, 4])
    ranking.adjudicate("m00", "boss", [2, 1, 3, 3], note="B is the only correct one")
    clock.advance(60)
    ranking.adjudicate("m00", "boss", [2, 1, 4, 3], note="C is worse than D")
    assert ranking.item("m00").gold == [2, 1, 4, 3]
    trail = ranking.adjudications("m00")
    assert [(t["admin"], t["decision"], t["previous"], t["note"]) for t in trail] == [
        ("boss", [2, 1, 3, 3], None, "B is the only correct one"),
        ("boss", [2, 1, 4, 3], [2, 1, 3, 3], "C is worse than D")]
    assert trail[1]["created_at"] - trail[0]["created_at"] == 60


def test_a_pairwise_adjudication_sets_the_gold_side(make_store):
    store = make_store(items=2, overlap=1, users=1)
    store.add_user("boss", role="admin")
    with pytest.raises(StoreError, match="a, b or tie"):
        store.adjudicate("item-000", "boss", [1, 2])
    store.adjudicate("item-000", "boss", "b")
    assert store.item("item-000").gold == "b"


def test_a_project_keeps_its_task_and_items_their_kind(ranking, tmp_path):
    with pytest.raises(StoreError, match="ranking project; its task cannot become ratings"):
        ranking.set_project(ratings_project())
    with pytest.raises(StoreError, match="an A/B item in a ranking project"):
        ranking.add_items([Item(id="ab", prompt="q", response_a="a", response_b="b")], overlap=1)
    assert ranking.add_items(multi_items(6), overlap=2) == ["unchanged"] * 6
    changed = multi_items(1)[0].model_copy(update={"responses": ["x", "y", "z", "w"]})
    assert ranking.add_items([changed], overlap=2) == ["conflict"]
    fresh = Store(tmp_path / "fresh.sqlite", create=True)
    fresh.set_project(ratings_project())
    other = Project(task="ratings", criteria=ratings_project().criteria[:1])
    fresh.set_project(other)  # criteria may change before anyone judged
    assert fresh.project() == other
    fresh.close()



def test_simulated_labelers_rank_and_rate_k_way_items(ranking, ratings):
    """Found by an outsider: `label simulate` on a ranking database ended in a traceback (it
    knew A/B items only) and left its users and a live lease behind. Expected values by hand:
    `multi_items` makes response i longer than response i-1, so by length the item-order
    ranking of 4 responses is [4, 3, 2, 1], and on a 1-7 scale 3 responses score [1, 4, 7]."""
    from labeling_app.simulate import simulate, streams

    votes = simulate(ranking, labelers=3, policy="length", rng=streams(0)[1])
    assert sum(votes.values()) == 6 * 2  # every item, to its overlap of 2
    stored = [j for j in ranking.judgments_of() if j["user"].startswith("sim-")]
    assert len(stored) == 12 and all(j["simulated"] for j in stored)
    assert all(j["value"] == [4, 3, 2, 1] for j in stored)
    votes = simulate(ratings, labelers=2, policy="length", rng=streams(0)[1])
    stored = ratings.judgments_of()
    assert sum(votes.values()) == len(stored) == 3
    assert all(j["value"]["scores"] == {c: [1, 4, 7] for c in j["value"]["scores"]}
               for j in stored)


def test_simulated_labelers_rank_as_the_gold_says_or_as_shown(tmp_path, clock):
    store = Store(tmp_path / "gold.sqlite", create=True, rng=random.Random(5), clock=clock)
    items = [item.model_copy(update={"gold": [2, 1, 4, 3]}) for item in multi_items(5)]
    store.add_items(items, overlap=1, project=Project(task="ranking"))
    from labeling_app.simulate import simulate, streams

    simulate(store, labelers=1, policy="quality", accuracy=1.0, rng=streams(1)[1])
    assert [j["value"] for j in store.judgments_of()] == [[2, 1, 4, 3]] * 5
    store.close()
    store = Store(tmp_path / "left.sqlite", create=True, rng=random.Random(6), clock=clock)
    store.add_items(multi_items(5), overlap=1, project=Project(task="ranking"))
    simulate(store, labelers=1, policy="left", rng=streams(1)[1])
    for judgment in store.judgments_of():  # rank p+1 for the response shown at p
        shown = judgment["shown_order"]
        assert [judgment["value"][index] for index in shown] == [1, 2, 3, 4]
    assert len({tuple(j["shown_order"]) for j in store.judgments_of()}) > 1
    store.close()
