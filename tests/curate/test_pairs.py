"""`curate pairs`: A/B items from two models' outputs, or blind from preference pairs."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from curate.cli import app
from curate.io import BadRecord, Loc, Rejects
from curate.pairs import PairsOptions, blind_pairs, pair_outputs
from schemas.labeling import Item

runner = CliRunner()


def _rows(records, name="f.jsonl"):
    return [(Loc(name, i + 1), r) for i, r in enumerate(records)]


def _write(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return str(path)


def _pair(i, chosen="good answer", rejected="bad answer"):
    return {"id": f"p{i}", "prompt": [{"role": "user", "content": f"question {i}"}],
            "chosen": [{"role": "assistant", "content": f"{chosen} {i}"}],
            "rejected": [{"role": "assistant", "content": f"{rejected} {i}"}],
            "meta": {"source": "test"}}


def test_outputs_are_joined_on_the_prompt_and_everything_else_is_accounted_for():
    model_a = [{"instruction": "Say hi", "output": "hi", "generator": "m1"},
               {"instruction": "Add  2+2", "output": "4", "generator": "m1"},
               {"instruction": "Only in A", "output": "x", "generator": "m1"},
               {"instruction": "Say hi", "output": "hello again", "generator": "m1"},
               {"instruction": "Same", "output": "same text", "generator": "m1"}]
    model_b = [{"instruction": "Add 2+2", "output": "four", "generator": "m2"},
               {"instruction": "Say hi", "output": "hello", "generator": "m2"},
               {"instruction": "Same", "output": "same text ", "generator": "m2"},
               {"instruction": "Only in B", "output": "y", "generator": "m2"}]
    result = pair_outputs(_rows(model_a), _rows(model_b), PairsOptions(), names=("a", "b"),
                          rejects=Rejects())
    items = [Item.model_validate(item) for item in result.kept]
    assert [(i.prompt, i.response_a, i.response_b) for i in items] == \
        [("Say hi", "hi", "hello"), ("Add  2+2", "4", "four")]  # whitespace-normalised key
    assert {(i.source_a, i.source_b) for i in items} == {("m1", "m2")}
    reasons = sorted(r["reason"] for r in result.removed)
    assert reasons == ["duplicate_key", "identical_responses", "identical_responses",
                       "unmatched", "unmatched"]
    assert len(model_a) + len(model_b) == 2 * len(items) + len(result.removed)
    again = pair_outputs(_rows(model_a), _rows(model_b), PairsOptions(), names=("a", "b"),
                         rejects=Rejects())
    assert again.kept == result.kept  # ids and order are deterministic


def test_chat_records_split_at_the_last_assistant_turn():
    conversation = {"id": "c1", "messages": [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "hello"}]}
    other = {"id": "c1", "messages": conversation["messages"][:2] +
             [{"role": "assistant", "content": "hey there"}]}
    result = pair_outputs(_rows([conversation]), _rows([other]), PairsOptions(join_on="id"),
                          names=("x", "y"), rejects=Rejects())
    item = Item.model_validate(result.kept[0])
    assert [m.role for m in item.prompt] == ["system", "user"]
    assert (item.response_a, item.response_b, item.source_a) == ("hello", "hey there", "x")


def test_bad_output_records_name_file_line_and_field():
    rows = _rows([{"instruction": "q", "output": "a"}, {"instruction": "q2"}], name="out.json")
    try:
        pair_outputs(rows, rows, PairsOptions(), names=("a", "b"), rejects=Rejects())
    except BadRecord as error:
        assert str(error).startswith("out.json:2: field 'response'")
    else:
        raise AssertionError("a record without a response was accepted")


def test_from_preference_randomises_sides_with_the_seed_and_keeps_the_truth():
    rows = _rows([_pair(i) for i in range(400)])
    result = blind_pairs(rows, PairsOptions(seed=3), rejects=Rejects())
    items = [Item.model_validate(item) for item in result.kept]
    assert len(items) == 400
    a_share = sum(i.meta["truth"] == "a" for i in items) / len(items)
    assert 0.42 < a_share < 0.58
    for item, (_, record) in zip(items, rows, strict=True):
        truth, other = item.meta["truth"], "b" if item.meta["truth"] == "a" else "a"
        assert getattr(item, f"response_{truth}")[0].content == record["chosen"][0]["content"]
        assert getattr(item, f"response_{other}")[0].content == record["rejected"][0]["content"]
        assert getattr(item, f"source_{truth}") == "chosen"
        assert item.meta["pair_meta"] == {"source": "test"} and item.gold is None
    same = blind_pairs(rows, PairsOptions(seed=3), rejects=Rejects())
    other_seed = blind_pairs(rows, PairsOptions(seed=4), rejects=Rejects())
    assert same.kept == result.kept
    assert [i["meta"]["truth"] for i in other_seed.kept] != [i.meta["truth"] for i in items]
    # A pair's side does not depend on its neighbours: filtering keeps the draw stable.
    subset = blind_pairs(rows[::2], PairsOptions(seed=3), rejects=Rejects())
    assert subset.kept == result.kept[::2]


def test_gold_fraction_marks_a_seeded_share_with_the_known_answer():
    result = blind_pairs(_rows([_pair(i) for i in range(500)]),
                         PairsOptions(gold_fraction=0.2), rejects=Rejects())
    gold = [i for i in result.kept if "gold" in i]
    assert 70 < len(gold) < 130 and result.extra["gold"] == len(gold)
    assert all(i["gold"] == i["meta"]["truth"] for i in gold)


def test_from_preference_removes_duplicates_and_identical_sides_and_rejects_bad_records():
    rows = _rows([_pair(0), _pair(0), _pair(1, chosen="same", rejected="same"),
                  {"id": "bad", "prompt": [], "chosen": [], "rejected": []}])
    rejects = Rejects("skip")
    result = blind_pairs(rows, PairsOptions(), rejects=rejects)
    assert len(result.kept) == 1
    assert sorted(r["reason"] for r in result.removed) == ["duplicate_id", "identical_chosen_rejected"]
    assert rejects.records[0]["line"] == 4 and rejects.records[0]["field"] == "prompt"


def test_cli_accounts_for_every_record(tmp_path):
    model_a = _write(tmp_path / "m1_outputs.jsonl",
                     [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(5)])
    model_b = _write(tmp_path / "m2_outputs.jsonl",
                     [{"instruction": f"q{i}", "output": f"b{i}"} for i in range(1, 6)])
    out = tmp_path / "items.jsonl"
    result = runner.invoke(app, ["pairs", model_a, model_b, "-o", str(out)])
    assert result.exit_code == 0, result.output
    stats = json.loads((tmp_path / "items.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["used"], stats["removed"]) == (10, 4, 8, 2)
    assert stats["removed_by_reason"] == {"unmatched": 2}
    item = json.loads(out.read_text().splitlines()[0])
    assert (item["source_a"], item["source_b"]) == ("m1", "m2")  # from the file names
    assert len((tmp_path / "items.removed.jsonl").read_text().splitlines()) == 2


def test_cli_errors_and_skip_mode(tmp_path):
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(json.dumps(_pair(0)) + "\n{broken\n" + json.dumps(_pair(1)) + "\n")
    out = tmp_path / "items.jsonl"
    failed = runner.invoke(app, ["pairs", "--from-preference", str(pairs), "-o", str(out)])
    assert failed.exit_code == 1 and f"{pairs}:2" in failed.output and not out.exists()
    skipped = runner.invoke(app, ["pairs", "--from-preference", str(pairs), "-o", str(out),
                                  "--on-error", "skip", "--seed", "1"])
    assert skipped.exit_code == 0, skipped.output
    stats = json.loads((tmp_path / "items.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["rejected"]) == (3, 2, 1)
    both = runner.invoke(app, ["pairs", str(pairs), "--from-preference", str(pairs), "-o",
                               str(out)])
    assert both.exit_code == 1 and "two output files" in both.output
    help_text = runner.invoke(app, ["pairs", "--help"]).output
    assert "Example: curate pairs" in help_text


def test_alpaca_eval_outputs_pair_up(shared_data, tmp_path):
    folder = shared_data / "alpaca_eval"
    out = tmp_path / "items.jsonl"
    result = runner.invoke(app, ["pairs", str(folder / "alpaca-7b_outputs.json"),
                                 str(folder / "llama-2-7b-chat-hf_outputs.json"), "-o", str(out),
                                 "--join-on", "prompt"])
    assert result.exit_code == 0, result.output
    items = [Item.model_validate_json(line) for line in out.read_text().splitlines()]
    stats = json.loads((tmp_path / "items.stats.json").read_text())
    assert stats["in"] == 1610 and len(items) == stats["out"] > 800
    assert stats["in"] == stats["used"] + stats["removed"]
    assert {(i.source_a, i.source_b) for i in items} == {("alpaca-7b", "llama-2-7b-chat-hf")}
