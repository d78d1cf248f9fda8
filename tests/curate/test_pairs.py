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


# -- --from-candidates ----------------------------------------------------------------------

def _generated(i, texts, sources=None):
    """A line of `train generate` (see train/generate.py on wt-train): one prompt, K responses."""
    sources = sources or ["dpo"] * len(texts)
    return {"id": f"g{i}", "prompt": [{"role": "user", "content": f"question {i}"}],
            "responses": [{"content": t, "source": s} for t, s in zip(texts, sources, strict=True)],
            "meta": {"generation": {"temperature": 1.0, "seed": 0}}}


def test_candidates_become_every_pair_with_sources_kept_per_response(tmp_path):
    records = [_generated(0, ["a", "bb", "ccc", "dddd"], ["m1", "m2", "m1", "m3"]),
               _generated(1, ["same", "same", "other"]),   # one identical pair
               _generated(2, ["x", "", "y"]),              # two pairs with an empty side
               _generated(3, ["only one"])]
    out = tmp_path / "pairs.jsonl"
    result = runner.invoke(app, ["pairs", "--from-candidates",
                                 _write(tmp_path / "cands.jsonl", records), "-o", str(out)])
    assert result.exit_code == 0, result.output
    items = [Item.model_validate_json(line) for line in out.read_text().splitlines()]
    # Counted by hand: C(4,2)=6; C(3,2)=3 minus 1 identical; 3 minus 2 empty; none from K=1.
    assert len(items) == 6 + 2 + 1
    first = [i for i in items if i.meta["candidates_id"] == "g0"]
    assert [(i.response_a, i.response_b, i.source_a, i.source_b) for i in first] == [
        ("a", "bb", "m1", "m2"), ("a", "ccc", "m1", "m1"), ("a", "dddd", "m1", "m3"),
        ("bb", "ccc", "m2", "m1"), ("bb", "dddd", "m2", "m3"), ("ccc", "dddd", "m1", "m3")]
    assert first[0].meta["candidates_meta"] == {"generation": {"temperature": 1.0, "seed": 0}}
    assert len({i.id for i in items}) == len(items)
    stats = json.loads((tmp_path / "pairs.stats.json").read_text())
    assert (stats["in"], stats["used"], stats["removed"]) == (4, 3, 1)
    assert (stats["identical_pairs"], stats["empty_pairs"]) == (1, 2)
    assert stats["removed_by_reason"] == {"fewer_than_two_responses": 1}


def test_candidates_become_one_ranking_item_per_prompt(tmp_path):
    from schemas.labeling import MultiItem

    records = [_generated(0, ["a", "bb", "ccc", "dddd"], ["m1", "m2", "m1", "m3"]),
               _generated(1, [str(n) for n in range(10)]),  # K=10: too many to rank
               _generated(0, ["again", "twice"])]            # a repeated id
    out = tmp_path / "ranking.jsonl"
    result = runner.invoke(app, ["pairs", "--from-candidates",
                                 _write(tmp_path / "cands.jsonl", records), "-o", str(out),
                                 "--task", "ranking"])
    assert result.exit_code == 0, result.output
    [item] = [MultiItem.model_validate_json(line) for line in out.read_text().splitlines()]
    assert item.responses == ["a", "bb", "ccc", "dddd"]
    assert item.sources == ["m1", "m2", "m1", "m3"]
    assert item.prompt[0].content == "question 0"
    removed = [json.loads(line) for line in (tmp_path / "ranking.removed.jsonl").read_text()
               .splitlines()]
    assert [r["reason"] for r in removed] == ["too_many_responses", "duplicate_id"]


def test_any_list_of_responses_per_prompt_is_read_and_anything_else_is_a_clear_error(tmp_path):
    records = [{"prompt": "Say hi", "responses": ["hi", "hello"]},
               {"instruction": "Add", "input": "2+2", "outputs": ["4", "four"],
                "generator": "llama"},
               {"question": "Why?", "completions": [{"text": "because", "model": "m9"},
                                                     [{"role": "assistant", "content": "why not"}]]}]
    out = tmp_path / "items.jsonl"
    ok = runner.invoke(app, ["pairs", "--from-candidates", _write(tmp_path / "c.jsonl", records),
                             "-o", str(out)])
    assert ok.exit_code == 0, ok.output
    items = [Item.model_validate_json(line) for line in out.read_text().splitlines()]
    assert [(i.prompt, i.source_a, i.source_b) for i in items] == [
        ("Say hi", "c", "c"), ("Add\n\n2+2", "llama", "llama"), ("Why?", "m9", "c")]
    assert items[2].response_b[0].content == "why not"
    for record, message in [
            ({"prompt": "x", "answer": "a"}, "c.jsonl:1: field 'responses': no list of responses"),
            ({"prompt": "x", "outputs": "a"}, "field 'outputs': must be a list"),
            ({"prompt": "x", "responses": ["a", 3]}, "field 'responses[1]': a response is text"),
            ({"prompt": "x", "responses": [{"score": 1}, "b"]}, "field 'responses[0]': an object"),
            ({"responses": ["a", "b"]}, "field 'prompt': no prompt"),
            ({"prompt": "x", "responses": [[{"role": "user", "content": "u"}], "b"]},
             "field 'responses[0]'")]:
        bad = runner.invoke(app, ["pairs", "--from-candidates",
                                  _write(tmp_path / "c.jsonl", [record]), "-o", str(out)])
        assert bad.exit_code == 1 and message in bad.output, (record, bad.output)
        assert "Traceback" not in bad.output


def test_candidates_keep_input_order_across_shuffle_partitions(tmp_path, monkeypatch):
    from curate import shuffle
    from curate.pairs import PairsOptions as Options
    from curate.pairs_run import candidates_inputs

    monkeypatch.setattr(shuffle, "PARTITION_BYTES", 2_000)  # many partitions for a small file
    records = [_generated(i, [f"r{i}-{n}" for n in range(3)]) for i in range(300)]
    source = _write(tmp_path / "c.jsonl", records)
    out = tmp_path / "items.jsonl"
    stats = candidates_inputs([source], out, Options(), quiet=True)
    assert stats.n_in == 300 and shuffle.partitions_for(
        __import__("curate.io.sources", fromlist=["plan_splits"]).plan_splits([source])) > 10
    ids = [json.loads(line)["id"] for line in out.read_text().splitlines()]
    assert ids == [f"g{i}:{a}-{b}" for i in range(300) for a, b in ((0, 1), (0, 2), (1, 2))]
