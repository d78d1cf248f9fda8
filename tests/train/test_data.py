"""Reading training data: formats, implicit prompts, held-out splits, and their errors."""

from __future__ import annotations

import pytest

from curate.io import BadRecord, Rejects
from tests.train.conftest import assistant, sum_conversations, sum_pairs, user, write_jsonl
from train.data import load_pairs, load_prompts, load_sft, split_eval


def test_string_prompt_completion_becomes_a_user_and_an_assistant_turn(tmp_path):
    data = write_jsonl(tmp_path / "pc.jsonl", [{"prompt": "Hi", "completion": "Hello."}])
    loaded = load_sft(data, Rejects())
    assert loaded.kind == "prompt_completion"
    assert loaded.rows() == [{"prompt": [user("Hi")], "completion": [assistant("Hello.")]}]
    assert loaded.examples[0].id == f"{data}:1"  # no id: the location stands in


def test_pairs_without_a_prompt_share_their_leading_turns(tmp_path):
    data = write_jsonl(tmp_path / "implicit.jsonl", [{
        "id": "x", "chosen": [user("Q?"), assistant("Good.")],
        "rejected": [user("Q?"), assistant("Bad.")]}])
    (row,) = load_pairs(data, Rejects()).rows()
    assert row == {"prompt": [user("Q?")], "chosen": [assistant("Good.")],
                   "rejected": [assistant("Bad.")]}


def test_one_format_per_file(tmp_path):
    rows = sum_conversations(2) + [{"id": "pc", "prompt": "Hi", "completion": "Hello."}]
    data = write_jsonl(tmp_path / "mixed.jsonl", rows)
    with pytest.raises(BadRecord, match=r"mixed.jsonl:3: .*a prompt_completion record in a file "
                                        r"of messages records \(first at .*mixed.jsonl:1\)"):
        load_sft(data, Rejects())


def test_prompts_come_from_any_file_and_repeats_are_removed(tmp_path):
    conversations = write_jsonl(tmp_path / "c.jsonl", [{"id": "1", "messages": [
        user("A"), assistant("B"), user("C"), assistant("D")]}])
    assert load_prompts(conversations, Rejects()).rows() == [
        {"prompt": [user("A"), assistant("B"), user("C")]}]
    pairs = write_jsonl(tmp_path / "p.jsonl", sum_pairs(30))
    loaded = load_prompts(pairs, Rejects())
    assert len(loaded.examples) == 9  # 3 x 3 distinct sums questions
    assert len(loaded.removed) == 21 and {r for _, r in loaded.removed} == {"duplicate_prompt"}
    with pytest.raises(BadRecord, match="field 'prompt': missing column"):
        load_prompts(write_jsonl(tmp_path / "t.jsonl", [{"text": "x"}]), Rejects())


def test_label_strength_must_be_a_number(tmp_path):
    pairs = sum_pairs(2)
    pairs[1]["meta"] = {"strength": "much"}
    rejects = Rejects("skip")
    loaded = load_pairs(write_jsonl(tmp_path / "p.jsonl", pairs), rejects, margin_scale=1.0)
    assert len(loaded.examples) == 1
    assert rejects.records[0]["field"] == "meta.strength" and rejects.records[0]["line"] == 2


def test_eval_split_is_a_fraction_or_a_count_and_reproducible(tmp_path):
    examples = load_sft(write_jsonl(tmp_path / "s.jsonl", sum_conversations(50)),
                        Rejects()).examples
    train, held = split_eval(examples, 0.1, seed=0)
    assert (len(train), len(held)) == (45, 5)
    assert [e.id for e in split_eval(examples, 0.1, seed=0)[1]] == [e.id for e in held]
    assert [e.id for e in split_eval(examples, 0.1, seed=1)[1]] != [e.id for e in held]
    assert len(split_eval(examples, 7, seed=0)[1]) == 7
    assert len(split_eval(examples, 0, seed=0)[1]) == 0
    with pytest.raises(ValueError, match="leaves no training records"):
        split_eval(examples, 50, seed=0)
