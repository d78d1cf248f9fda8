"""Left/right to A/B: the mapping table, and position randomisation end to end in the store."""

from __future__ import annotations

import pytest

from labeling_app.positions import panes, to_canonical, to_shown
from schemas.labeling import CHOICES, SHOWN

# Written out by hand, independently of the module's tables.
EXPECTED = {
    ("left_much", "a"): "a_much", ("left", "a"): "a", ("tie", "a"): "tie", ("right", "a"): "b",
    ("right_much", "a"): "b_much", ("both_bad", "a"): "both_bad", ("skip", "a"): "skip",
    ("left_much", "b"): "b_much", ("left", "b"): "b", ("tie", "b"): "tie", ("right", "b"): "a",
    ("right_much", "b"): "a_much", ("both_bad", "b"): "both_bad", ("skip", "b"): "skip",
}


@pytest.mark.parametrize(("shown", "left"), list(EXPECTED))
def test_shown_choice_maps_to_canonical(shown, left):
    assert to_canonical(shown, left) == EXPECTED[shown, left]
    assert to_shown(EXPECTED[shown, left], left) == shown


def test_every_canonical_choice_is_reachable_from_either_side():
    for left in "ab":
        assert sorted(to_canonical(s, left) for s in SHOWN) == sorted(CHOICES)


def test_panes_follow_the_left_side():
    assert panes("a") == ("response_a", "response_b")
    assert panes("b") == ("response_b", "response_a")


def test_unknown_values_are_refused():
    with pytest.raises(ValueError, match="unknown choice"):
        to_canonical("a", "a")
    with pytest.raises(ValueError, match="left must be"):
        to_canonical("left", "left")


def _label(store, user, pick):
    """Judge everything available to `user`; `pick(assignment)` returns the shown choice."""
    while (assignment := store.next_assignment(user)) is not None:
        store.submit(user, assignment.lease_id, pick(assignment), guideline_version="1")


def _canonical_a_share(store, user):
    rows = [r for r in store.judgment_rows() if r["user"] == user]
    return sum(r["choice"] == "a" for r in rows) / len(rows), rows


def test_always_a_labeler_gives_canonical_a_every_time(make_store):
    store = make_store(items=400, overlap=1, users=1)
    # Clicks whichever pane shows response A, wherever it was placed.
    _label(store, "user-00", lambda a: "left" if a.left_text == a.item.response_a else "right")
    share, rows = _canonical_a_share(store, "user-00")
    assert len(rows) == 400
    assert share == 1.0
    lefts = sum(r["left"] == "a" for r in rows) / len(rows)
    assert 0.42 < lefts < 0.58  # both placements were really used


def test_always_left_labeler_gives_canonical_a_about_half_the_time(make_store):
    store = make_store(items=400, overlap=1, users=1, seed=1)
    _label(store, "user-00", lambda a: "left")
    share, rows = _canonical_a_share(store, "user-00")
    assert 0.42 < share < 0.58
    # Each stored judgment is consistent with what was on the left.
    assert all(r["choice"] == ("a" if r["left"] == "a" else "b") for r in rows)
