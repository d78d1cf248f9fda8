"""Export: majority votes to `PreferencePair` records, accounting, length statistics."""

from __future__ import annotations

import pytest

from labeling_app.export import ExportOptions, preference_pairs, verdict
from schemas import PreferencePair
from schemas.labeling import Item


@pytest.mark.parametrize(("choices", "drop_ties", "winner", "reason", "agreement", "strength"), [
    (["a", "a_much", "b"], False, "a", None, 2 / 3, 1.5),
    (["b_much", "b_much", "b_much"], False, "b", None, 1.0, 2.0),
    (["a", "a", "tie"], False, "a", None, 2 / 3, 1.0),
    (["a", "a", "tie"], True, "a", None, 1.0, 1.0),
    (["a", "b"], False, None, "no_majority", 0.5, None),
    (["tie", "tie", "a"], False, None, "majority_tie", 2 / 3, None),
    (["tie", "tie"], True, None, "only_ties", None, None),
    (["both_bad", "both_bad", "a"], True, None, "majority_both_bad", 2 / 3, None),
])
def test_verdict(choices, drop_ties, winner, reason, agreement, strength):
    result = verdict(choices, drop_ties=drop_ties)
    assert (result.winner, result.reason, result.strength) == (winner, reason, strength)
    assert result.agreement == (pytest.approx(agreement) if agreement else None)


def _judge(store, votes_by_user):
    """Each user judges the items they are given, in order, with their listed choices
    (canonical, converted to the shown side here)."""
    from labeling_app.positions import to_shown

    for user, choices in votes_by_user.items():
        for choice in choices:
            assignment = store.next_assignment(user)
            store.submit(user, assignment.lease_id, to_shown(choice, assignment.left),
                         rationale="r", guideline_version="1")


def test_pairs_round_trip_to_train_format_with_meta(make_store):
    store = make_store(items=4, overlap=3, users=3)
    store.add_user("sim-01", simulated=True)
    _judge(store, {"user-00": ["a_much", "b", "tie", "a"],
                   "user-01": ["a", "b_much", "tie", "b"],
                   "user-02": ["b", "b", "a"]})
    _judge(store, {"sim-01": ["a"]})  # the 4th item's third vote is simulated
    items, rows = list(store.items()), store.judgment_rows()
    result = preference_pairs(items, rows, ExportOptions(include_simulated=True))
    assert len(result.kept) + len(result.removed) == len(items)  # nothing disappears
    pairs = {p["id"]: PreferencePair.model_validate(p) for p in result.kept}
    assert set(pairs) == {"item-000", "item-001", "item-003"}
    first = pairs["item-000"]
    item = items[0][0]
    assert first.chosen[0].content == item.response_a
    assert first.rejected[0].content == item.response_b
    assert first.prompt[0].model_dump() == {"role": "user", "content": item.prompt}
    meta = first.meta
    assert meta["strength"] == pytest.approx(1.5)  # a_much and a agree with the majority
    assert meta["votes"] == {"a_much": 1, "a": 1, "tie": 0, "b": 1, "b_much": 0, "both_bad": 0}
    assert meta["agreement"] == pytest.approx(2 / 3)
    assert (meta["item_id"], meta["source_chosen"], meta["source_rejected"]) == \
        ("item-000", "model-a", "model-b")
    assert meta["simulated"] is False
    assert pairs["item-001"].meta["strength"] == pytest.approx(4 / 3)
    assert pairs["item-003"].meta["simulated"] is True
    assert pairs["item-003"].meta["simulated_votes"] == 1
    removed = result.removed[0]
    assert (removed["reason"], removed["record"]["id"]) == ("majority_tie", "item-002")


def test_export_filters(make_store):
    store = make_store(items=3, overlap=2, users=2)
    store.add_user("sim-01", simulated=True)
    _judge(store, {"user-00": ["a", "a"], "user-01": ["a", "tie"], "sim-01": ["b"]})
    items, rows = list(store.items()), store.judgment_rows()

    def outcome(**options):
        result = preference_pairs(items, rows, ExportOptions(**options))
        return [p["id"] for p in result.kept], sorted(r["reason"] for r in result.removed)

    # item-000: a, a; item-001: a, tie; item-002: one simulated b (of 2 needed).
    sim = {"include_simulated": True}
    assert outcome(**sim) == (["item-000"], ["no_majority", "too_few_votes"])
    assert outcome(drop_ties=True, **sim) == (["item-000", "item-001"], ["too_few_votes"])
    assert outcome(min_votes=1, **sim) == (["item-000", "item-002"], ["no_majority"])
    assert outcome(min_votes=1) == (["item-000"], ["no_majority", "only_simulated_votes"])
    assert outcome(min_votes=1, min_agreement=0.6, **sim) == (["item-000", "item-002"],
                                                               ["no_majority"])
    assert outcome(min_votes=3, **sim) == ([], ["too_few_votes"] * 3)


def test_length_statistics_of_the_export(make_store):
    store = make_store(items=6, overlap=1, users=1)
    store_items = {item.id: item for item, _, _ in store.items()}
    # Always choose the longer response: the statistics must show it.
    for _ in range(6):
        assignment = store.next_assignment("user-00")
        item = store_items[assignment.item.id]
        longer_is_a = len(item.response_a) > len(item.response_b)
        longer_left = (assignment.left == "a") == longer_is_a
        store.submit("user-00", assignment.lease_id, "left" if longer_left else "right",
                     guideline_version="1")
    result = preference_pairs(store.items(), store.judgment_rows(), ExportOptions())
    lengths = result.extra["lengths"]
    assert lengths["n"] == 6 and lengths["chosen_longer_share"] == 1.0
    assert lengths["chosen_mean_chars"] > lengths["rejected_mean_chars"]


def test_export_file_loads_in_train_as_preference_pairs(make_store, tmp_path):
    """The round trip to training: `train rm` / `train dpo` read the exported file as is,
    with the vote strength becoming the pair's margin."""
    from curate.io import Rejects, write_records
    from train.data import load_pairs

    store = make_store(items=3, overlap=2, users=2)
    _judge(store, {"user-00": ["a_much", "b", "a"], "user-01": ["a_much", "b_much", "a"]})
    result = preference_pairs(store.items(), store.judgment_rows(), ExportOptions())
    path = tmp_path / "prefs.jsonl"
    write_records(path, result.kept)
    data = load_pairs(str(path), Rejects(), margin_scale=0.5)
    assert data.kind == "preference" and len(data.rejects) == 0
    items = {item.id: item for item, _, _ in store.items()}
    chosen_side = {"item-000": "a", "item-001": "b", "item-002": "a"}
    assert [example.id for example in data.examples] == list(chosen_side)
    for example in data.examples:
        item, side = items[example.id], chosen_side[example.id]
        other = "b" if side == "a" else "a"
        assert example.row["prompt"] == [{"role": "user", "content": item.prompt}]
        assert example.row["chosen"] == [{"role": "assistant",
                                          "content": getattr(item, f"response_{side}")}]
        assert example.row["rejected"] == [{"role": "assistant",
                                            "content": getattr(item, f"response_{other}")}]
    assert [example.row["margin"] for example in data.examples] == [1.0, 0.75, 0.5]


def test_degenerate_pairs_are_removed_with_a_reason(make_store):
    """chosen == rejected, or a side with no text, never reaches training data."""

    store = make_store(users=1)
    # Turns whose assistant contents are all blank pass the item check (the pane shows the
    # role names) but would train on an empty answer.
    blank = [{"role": "assistant", "content": ""}, {"role": "user", "content": "and?"},
             {"role": "assistant", "content": " "}]
    store.add_items([Item(id="same", prompt="q", response_a="The same words.",
                          response_b="The same words."),
                     Item(id="fine", prompt="q", response_a="one", response_b="two"),
                     Item(id="empty", prompt="q", response_a=blank, response_b="text")],
                    overlap=1)
    _judge(store, {"user-00": ["a", "a", "a"]})
    result = preference_pairs(store.items(), store.judgment_rows(), ExportOptions())
    assert [pair["id"] for pair in result.kept] == ["fine"]
    reasons = {line["record"]["id"]: line["reason"] for line in result.removed}
    assert reasons == {"same": "identical_responses", "empty": "empty_response"}


def test_export_stats_count_degenerate_pairs(make_store, tmp_path):
    import json

    from labeling_app.export import export_database

    store = make_store(users=1)
    store.add_items([Item(id="same", prompt="q", response_a="x y", response_b="x y")], overlap=1)
    _judge(store, {"user-00": ["a_much"]})
    out = tmp_path / "prefs.jsonl"
    export_database(store.path, out, ExportOptions(), quiet=True)
    stats = json.loads((tmp_path / "prefs.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["removed"]) == (1, 0, 1)
    assert stats["removed_by_reason"] == {"identical_responses": 1}
    assert out.read_text() == ""


def test_simulated_votes_are_left_out_unless_included_and_say_so(make_store):
    store = make_store(items=2, overlap=1, users=1)
    store.add_user("sim-01", simulated=True)
    _judge(store, {"user-00": ["a"], "sim-01": ["b"]})
    default = preference_pairs(store.items(), store.judgment_rows(), ExportOptions())
    assert [p["id"] for p in default.kept] == ["item-000"]
    assert default.removed[0]["reason"] == "only_simulated_votes"
    assert default.removed[0]["simulated_votes_left_out"] == 1
    assert default.extra["simulated_votes_left_out"] == 1
    included = preference_pairs(store.items(), store.judgment_rows(),
                                ExportOptions(include_simulated=True))
    flagged = {p["id"]: p["meta"]["simulated"] for p in included.kept}
    assert flagged == {"item-000": False, "item-001": True}


def test_an_item_that_cannot_form_a_pair_is_refused_at_import_and_removed_at_export(
        make_store, tmp_path):
    """Two assistant turns in a row pass the item check but not `PreferencePair`'s: import
    refuses such an item, and an older database holding one exports without crashing."""
    import json

    from typer.testing import CliRunner

    from labeling_app.cli import app

    doubled = [{"role": "assistant", "content": "one"}, {"role": "assistant", "content": "two"}]
    items = tmp_path / "items.jsonl"
    items.write_text(json.dumps({"id": "x", "prompt": "q", "response_a": doubled,
                                 "response_b": "b"}) + "\n")
    result = CliRunner().invoke(app, ["import", str(items), "-d", str(tmp_path / "l.sqlite")])
    assert result.exit_code == 1
    assert "items.jsonl:1: field 'response_a': does not continue the prompt: messages[2]" \
        in result.output
    store = make_store(users=1)
    store.add_items([Item.model_validate({"id": "x", "prompt": "q", "response_a": doubled,
                                          "response_b": "b"})], overlap=1)  # as before
    _judge(store, {"user-00": ["a"]})
    result = preference_pairs(store.items(), store.judgment_rows(), ExportOptions())
    assert result.kept == [] and result.removed[0]["reason"] == "invalid_pair"
