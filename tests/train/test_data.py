"""Reading training data: formats, implicit prompts, held-out splits, and their errors."""

from __future__ import annotations

import json

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


def grouped_pairs() -> list[dict]:
    """30 prompts with 1 to 4 pairs each, as OASST's ranked siblings give."""
    rows = []
    for prompt in range(30):
        for answer in range(1 + prompt % 4):
            rows.append({"id": f"{prompt}-{answer}", "prompt": [user(f"Question {prompt}?")],
                         "chosen": [assistant(f"Good answer {answer}.")],
                         "rejected": [assistant(f"Bad answer {answer}.")]})
    return rows


def test_eval_split_holds_out_whole_prompts_reproducibly(tmp_path):
    examples = load_pairs(write_jsonl(tmp_path / "p.jsonl", grouped_pairs()), Rejects()).examples
    assert len(examples) == 73  # 7 x (1 + 2 + 3 + 4) + 1 + 2
    train, held = split_eval(examples, 0.1, seed=0)

    def prompts(part):
        return {e.row["prompt"][0]["content"] for e in part}

    assert prompts(train).isdisjoint(prompts(held))
    assert len(train) + len(held) == 73 and 7 <= len(held) <= 7 + 3  # whole groups, >= 10%
    held_ids = {e.id for e in held}
    for question in prompts(held):  # every pair of a held-out prompt is held out
        number = int(question.split()[1].rstrip("?"))
        assert {f"{number}-{a}" for a in range(1 + number % 4)} <= held_ids
    assert [e.id for e in split_eval(examples, 0.1, seed=0)[1]] == [e.id for e in held]
    assert [e.id for e in split_eval(examples, 0.1, seed=1)[1]] != [e.id for e in held]
    assert len(split_eval(examples, 7, seed=0)[1]) >= 7
    assert len(split_eval(examples, 0, seed=0)[1]) == 0
    with pytest.raises(ValueError, match="leaves no training records"):
        split_eval(examples, 73, seed=0)
    one_prompt = [e for e in examples if e.row["prompt"][0]["content"] == "Question 3?"]
    with pytest.raises(ValueError, match="1 distinct prompts"):
        split_eval(one_prompt, 0.5, seed=0)


def test_no_oasst_prompt_is_both_trained_on_and_held_out(shared_data, tmp_path):
    """The reported bug: a random pair-level split put 68 of 75 held-out OASST pairs next to
    training pairs of the same prompt."""
    from typer.testing import CliRunner

    from curate.cli import app

    pairs = tmp_path / "pairs.jsonl"
    result = CliRunner().invoke(app, ["convert", str(shared_data / "oasst_en_100_trees.jsonl"),
                                      "-o", str(pairs), "--to", "preference"])
    assert result.exit_code == 0, result.output
    examples = load_pairs(pairs, Rejects()).examples
    train, held = split_eval(examples, 0.1, seed=0)
    trained = {json.dumps(e.row["prompt"]) for e in train}
    assert len(held) >= 0.1 * len(examples)
    assert sum(json.dumps(e.row["prompt"]) in trained for e in held) == 0


def test_degenerate_pairs_are_removed_with_a_reason(tmp_path):
    rows = grouped_pairs()[:4]
    rows[1]["rejected"] = [assistant("Good  answer 0. ")]  # = chosen, up to whitespace
    rows[1]["chosen"] = [assistant("Good answer 0.")]
    rows[2]["chosen"] = [assistant("  ")]
    rows[3]["rejected"] = [assistant("")]  # an empty rejected answer is a fair lesson
    loaded = load_pairs(write_jsonl(tmp_path / "p.jsonl", rows), Rejects())
    assert [e.id for e in loaded.examples] == [rows[0]["id"], rows[3]["id"]]
    assert [(e.id, reason) for e, reason in loaded.removed] == [
        (rows[1]["id"], "chosen_equals_rejected"), (rows[2]["id"], "empty_chosen")]


def test_prompts_with_reference_answers(tmp_path):
    rows = [{"id": "g", "question": "Tom has 3 apples.", "answer": "3 + 0 = 3\n#### 3"},
            {"id": "m", "problem": "Half of 1?", "solution": "It is $\\boxed{\\frac{1}{2}}$."},
            {"id": "p", "prompt": "Say 7.", "answer": "7", "meta": {"source": "toy"}},
            {"id": "a", "instruction": "Add.", "input": "2 and 2", "answer": 4}]
    loaded = load_prompts(write_jsonl(tmp_path / "m.jsonl", rows), Rejects(),
                          template="{prompt} Answer in \\boxed{}.")
    assert [e.row["answer"] for e in loaded.examples] == ["3", "\\frac{1}{2}", "7", "4"]
    assert loaded.examples[0].row["prompt"] == [user("Tom has 3 apples. Answer in \\boxed{}.")]
    assert loaded.examples[3].row["prompt"] == [user("Add.\n\n2 and 2 Answer in \\boxed{}.")]
    assert loaded.examples[2].meta == {"source": "toy"}
    with pytest.raises(BadRecord, match="field 'answer': missing reference answer"):
        load_prompts(write_jsonl(tmp_path / "n.jsonl", [{"prompt": "Hi"}]), Rejects(),
                     need_answers=True)
