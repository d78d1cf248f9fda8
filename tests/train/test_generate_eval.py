"""`train generate` and `train eval` end to end on tiny models, checked against answers
computed here directly with transformers and torch."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from transformers import (
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoTokenizer,
)
from typer.testing import CliRunner

from tests.train.conftest import number_prompts, user, write_jsonl
from train.cli import app
from train.template import conversation_ids, end_of_turn_id


def run(*args) -> None:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, result.output


def fails(*args) -> str:
    result = CliRunner().invoke(app, [str(a) for a in args])
    assert result.exit_code == 1, result.output
    return " ".join(result.output.split())


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def greedy_answers(model_dir: Path, prompts: list[str], max_new_tokens: int = 8) -> list[str]:
    """Greedy answers computed directly with transformers, one prompt at a time."""
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModelForCausalLM.from_pretrained(model_dir)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    answers = []
    for prompt in prompts:
        inputs = tokenizer.apply_chat_template([user(prompt)], add_generation_prompt=True,
                                               return_tensors="pt", return_dict=True)
        output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=False,
                                eos_token_id=end)
        answers.append(tokenizer.decode(output[0, inputs["input_ids"].shape[1]:],
                                        skip_special_tokens=True).strip())
    return answers


def test_generate_writes_k_candidates_per_prompt_in_the_agreed_shape(number_task, tmp_path):
    _, policy = number_task
    rows = number_prompts()[:12]
    rows[0]["meta"] = {"source": "toy", "generation": {"model": "earlier"}}
    data = write_jsonl(tmp_path / "prompts.jsonl", rows)
    out = tmp_path / "candidates.jsonl"
    run("generate", policy, "--prompts", data, "-o", out, "-k", 3, "--temperature", 1.0,
        "--top-p", 0.9, "--max-new-tokens", 8, "--seed", 7, "--batch-size", 5)

    lines = read_jsonl(out)
    assert [line["id"] for line in lines] == [row["id"] for row in rows]  # input order
    for line, row in zip(lines, rows, strict=True):
        assert set(line) == {"id", "prompt", "responses", "meta"}
        assert line["prompt"] == [user(row["prompt"])]
        assert len(line["responses"]) == 3
        assert all(set(r) == {"content", "source"} and r["source"] == "sft"
                   for r in line["responses"])
        assert line["meta"]["generation"] == {"temperature": 1.0, "top_p": 0.9,
                                              "max_new_tokens": 8, "seed": 7,
                                              "backend": "transformers", "model": str(policy)}
    assert lines[0]["meta"]["source"] == "toy"
    assert lines[0]["meta"]["generation_before"] == {"model": "earlier"}  # kept, not lost
    stats = json.loads((tmp_path / "candidates.stats.json").read_text())
    assert (stats["in"], stats["out"], stats["k"], stats["responses"]) == (12, 12, 3, 36)
    # the same seed samples the same completions; another seed others
    run("generate", policy, "--prompts", data, "-o", tmp_path / "again.jsonl", "-k", 3,
        "--temperature", 1.0, "--top-p", 0.9, "--max-new-tokens", 8, "--seed", 7,
        "--batch-size", 5)
    assert (tmp_path / "again.jsonl").read_text() == out.read_text()
    run("generate", policy, "--prompts", data, "-o", tmp_path / "other.jsonl", "-k", 3,
        "--temperature", 1.0, "--max-new-tokens", 8, "--seed", 8)
    assert [line["responses"] for line in read_jsonl(tmp_path / "other.jsonl")] != \
        [line["responses"] for line in lines]


def test_greedy_generation_is_what_transformers_generates(number_task, tmp_path):
    _, policy = number_task
    rows = number_prompts()[:6]
    data = write_jsonl(tmp_path / "prompts.jsonl", rows)
    run("generate", policy, "--prompts", data, "-o", tmp_path / "out.jsonl", "--temperature", 0,
        "--max-new-tokens", 8, "--batch-size", 4)
    expected = greedy_answers(policy, [row["prompt"] for row in rows])
    assert [line["responses"][0]["content"] for line in read_jsonl(tmp_path / "out.jsonl")] == \
        expected


def test_generate_removes_prompts_that_leave_no_room_and_fails_in_one_line(number_task,
                                                                          tmp_path):
    _, policy = number_task
    rows = number_prompts()[:2]
    data = write_jsonl(tmp_path / "prompts.jsonl", [*rows, dict(rows[0], id="again")])
    run("generate", policy, "--prompts", data, "-o", tmp_path / "out.jsonl",
        "--max-new-tokens", 4090)  # the tiny model's context is 4,096 tokens
    assert (tmp_path / "out.jsonl").read_text() == ""
    removed = read_jsonl(tmp_path / "out.removed.jsonl")
    assert sorted((line["record"]["id"], line["reason"]) for line in removed) == [
        ("again", "duplicate_prompt"), (rows[0]["id"], "prompt_longer_than_context"),
        (rows[1]["id"], "prompt_longer_than_context")]
    assert "model runs/nothing: no such directory" in fails(
        "generate", "runs/nothing", "--prompts", data, "-o", tmp_path / "x.jsonl")
    bad = write_jsonl(tmp_path / "bad.jsonl", [{"text": "no prompt here"}])
    assert f"{bad}:1: field 'prompt': missing column" in fails(
        "generate", policy, "--prompts", bad, "-o", tmp_path / "y.jsonl")
    assert "greedy decoding (temperature 0) gives the same answer k times" in fails(
        "generate", policy, "--prompts", data, "-o", tmp_path / "z.jsonl", "-k", 2,
        "--temperature", 0)


def test_eval_math_accuracy_is_the_share_of_right_final_answers(number_task, tmp_path):
    _, policy = number_task
    rows = number_prompts()[:16]
    rows[3]["answer"] = "#### 3"  # GSM8K's form of the same reference
    data = write_jsonl(tmp_path / "math.jsonl", rows)
    run("eval", policy, "--math", data, "-o", tmp_path / "eval", "--max-new-tokens", 8)

    answers = greedy_answers(policy, [row["prompt"] for row in rows])
    right = [answer == f"It is {row['prompt'][-2]}." for answer, row in zip(answers, rows,
                                                                              strict=True)]
    result = json.loads((tmp_path / "eval" / "eval.json").read_text())
    assert result["math"]["n"] == 16
    assert result["math"]["accuracy"] == pytest.approx(sum(right) / 16)
    details = read_jsonl(tmp_path / "eval" / "math.jsonl")
    assert [d["responses"][0] for d in details] == answers
    for artifact in ("eval.png", "eval.html"):
        assert (tmp_path / "eval" / artifact).stat().st_size > 0


@pytest.fixture(scope="module")
def preference_runs(toy_dir, tmp_path_factory) -> dict[str, Path]:
    """A reward model and a DPO model on the statement pairs, a few steps each."""
    from train.dpo import train_dpo
    from train.options import DPOOptions, RMOptions
    from train.rm import train_rm

    root = tmp_path_factory.mktemp("preference")
    train_rm(RMOptions(data=toy_dir / "pairs.jsonl", output=root / "rm", max_steps=20,
                       batch_size=16, eval_split=0))
    train_dpo(DPOOptions(data=toy_dir / "pairs.jsonl", output=root / "dpo", max_steps=10,
                         batch_size=16, eval_split=0))
    pairs = json.loads((toy_dir / "pairs.jsonl").read_text().splitlines()[0])
    held = [dict(pairs, id=f"h{i}", prompt=[user(f"What is {i} plus 10?")]) for i in range(6)]
    held[1]["rejected"] = [{"role": "assistant", "content": "Is it a much longer answer?"}]
    return {**{name: root / name for name in ("rm", "dpo")},
            "pairs": write_jsonl(root / "held.jsonl", held)}


def test_eval_pairs_with_a_reward_model_beside_the_length_baseline(preference_runs, tmp_path):
    pairs = read_jsonl(preference_runs["pairs"])
    run("eval", preference_runs["rm"], "--pairs", preference_runs["pairs"], "-o", tmp_path / "e")

    model = AutoModelForSequenceClassification.from_pretrained(preference_runs["rm"])
    tokenizer = AutoTokenizer.from_pretrained(preference_runs["rm"])
    end = end_of_turn_id(tokenizer)

    def score(messages):
        ids = torch.tensor([conversation_ids(tokenizer, messages, end)])
        with torch.no_grad():
            return model(input_ids=ids).logits[0, 0].item()

    right = [score(p["prompt"] + p["chosen"]) > score(p["prompt"] + p["rejected"]) for p in pairs]
    lengths = [(len(p["chosen"][0]["content"]), len(p["rejected"][0]["content"])) for p in pairs]
    longer = [1.0 if c > r else 0.5 if c == r else 0.0 for c, r in lengths]  # ties count half
    result = json.loads((tmp_path / "e" / "eval.json").read_text())["pairs"]
    assert result["scorer"] == "reward model" and result["n"] == 6
    assert result["accuracy"] == pytest.approx(sum(right) / 6)
    assert result["length_baseline_accuracy"] == pytest.approx(sum(longer) / 6)


def test_eval_pairs_with_dpos_implicit_reward(preference_runs, tmp_path):
    pairs = read_jsonl(preference_runs["pairs"])
    dpo = preference_runs["dpo"]
    run("eval", dpo, "--pairs", preference_runs["pairs"], "-o", tmp_path / "e")

    def answer_logprob(model_dir, prompt, answer):
        """Summed log-probs of the answer tokens, from full-vocabulary logits."""
        tokenizer = AutoTokenizer.from_pretrained(model_dir)
        model = AutoModelForCausalLM.from_pretrained(model_dir)
        start = len(tokenizer.apply_chat_template(prompt, add_generation_prompt=True,
                                                  tokenize=True, return_dict=True)["input_ids"])
        ids = tokenizer.apply_chat_template(prompt + answer, tokenize=True,
                                            return_dict=True)["input_ids"]
        with torch.no_grad():
            logprobs = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0], dim=-1)
        return sum(logprobs[i - 1, ids[i]].item() for i in range(start, len(ids)))

    def margin(pair, side):
        return (answer_logprob(dpo, pair["prompt"], pair[side])
                - answer_logprob(dpo / "base_model", pair["prompt"], pair[side]))

    details = read_jsonl(tmp_path / "e" / "pairs.jsonl")
    for pair, row in zip(pairs, details, strict=True):
        assert row["chosen_score"] == pytest.approx(margin(pair, "chosen"), abs=1e-3)
        assert row["rejected_score"] == pytest.approx(margin(pair, "rejected"), abs=1e-3)
    result = json.loads((tmp_path / "e" / "eval.json").read_text())["pairs"]
    assert result["scorer"].startswith("implicit reward (sigmoid, reference ")


def test_eval_against_another_model_with_a_judge(number_task, preference_runs, tmp_path):
    _, policy = number_task
    data = write_jsonl(tmp_path / "prompts.jsonl", number_prompts()[:10])
    run("eval", policy, "--against", policy / "base_model", "--judge", preference_runs["rm"],
        "--prompts", data, "-o", tmp_path / "e", "--max-new-tokens", 8)

    result = json.loads((tmp_path / "e" / "eval.json").read_text())["against"]
    rows = read_jsonl(tmp_path / "e" / "against.jsonl")
    wins = [1.0 if r["score_a"] > r["score_b"] else 0.5 if r["score_a"] == r["score_b"] else 0.0
            for r in rows]
    assert result["n"] == 10 and result["win_rate"] == pytest.approx(sum(wins) / 10)
    assert [r["response_a"] for r in rows] == greedy_answers(
        policy, [row["prompt"] for row in number_prompts()[:10]])
    assert result["lc_win_rate"] is None or 0 <= result["lc_win_rate"] <= 1
    assert {r["source_a"] for r in rows} == {"sft"} and {r["source_b"] for r in rows} == \
        {"base_model"}


def test_eval_writes_only_where_it_may(number_task, tmp_path):
    _, policy = number_task
    data = write_jsonl(tmp_path / "math.jsonl", number_prompts()[:2])
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me")
    assert "was not written by `train eval`" in fails("eval", policy, "--math", data, "-o",
                                                      tmp_path / "mine")
    assert (tmp_path / "mine" / "notes.txt").read_text() == "keep me"
    assert "nothing to evaluate" in fails("eval", policy)
    # a measure that fails (math problems are not pairs) leaves nothing behind
    assert "field 'chosen': missing column" in fails("eval", policy, "--math", data, "--pairs",
                                                     data, "-o", tmp_path / "none")
    assert not (tmp_path / "none").exists()
    assert "--against needs --judge" in fails("eval", policy, "--against", policy)
