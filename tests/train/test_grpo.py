"""`train grpo`: the tiny model learns a verifiable task (answer with the number in the
prompt); the rewards score hand-checked completions as the papers define them; the run
refuses set-ups that would silently train nothing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.train.conftest import assistant, user, write_jsonl
from train import rewards
from train.cli import app
from train.options import GRPOOptions

REWARDS = Path(__file__).parent / "rewards.py"


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_grpo_raises_the_share_of_right_answers(number_task, tmp_path):
    prompts, policy = number_task
    run = tmp_path / "grpo"
    result = CliRunner().invoke(app, [
        "grpo", "--prompts", str(prompts), "--model", str(policy), "-o", str(run),
        "--rewards", "accuracy,format", "--max-steps", "40", "--batch-size", "32",
        "--num-generations", "4", "--max-completion-length", "8"])
    assert result.exit_code == 0, result.output

    rows = [row for row in metrics(run) if "reward" in row and "loss" in row]
    accuracy = [row["rewards/accuracy/mean"] for row in rows]
    assert len(rows) == 40
    first, last = sum(accuracy[:8]) / 8, sum(accuracy[-8:]) / 8
    assert last > first + 0.2, accuracy
    summary = json.loads((run / "summary.json").read_text())
    assert summary["rewards"] == ["accuracy", "format"]
    assert summary["last_mean_reward"] > summary["first_mean_reward"]
    assert summary["data"]["eval"] == 8 and summary["data"]["eval_prompts_in_train"] == 0
    assert 0 <= summary["eval"]["accuracy"] <= 1 and "format" in summary["eval"]
    for artifact in ("rewards.png", "loss.png", "README.md", "model.safetensors", "config.yaml"):
        assert (run / artifact).stat().st_size > 0, artifact


def test_accuracy_checks_answers_like_curate_select():
    completions = [[assistant("So she has 3 + 4 = 7 apples.\n#### 7")],   # GSM8K marker
                   [assistant("The answer is $\\boxed{\\frac{1}{2}}$.")],  # LaTeX = 0.5
                   [assistant("I get 0.5, or maybe 6.")],                  # last number: 6
                   [assistant("No idea.")],                                # no answer at all
                   [assistant("x = \\boxed{\\sqrt{4}}")]]                  # Math-Verify: 2
    assert rewards.accuracy(completions, answer=["7", "0.5", "0.5", "3", "2"]) == \
        [1.0, 1.0, 0.0, 0.0, 1.0]
    assert rewards.accuracy(completions[:1], answer=[None]) == [None]  # no reference: no score


def test_format_and_length_rewards_by_hand():
    texts = ["#### 12", "so \\boxed{3}", "it is 3", "####"]
    assert rewards.format_reward([[assistant(t)] for t in texts]) == [1.0, 1.0, 0.0, 0.0]
    # DAPO: max 10 tokens, cache 4 -> free up to 6, then (6 - L) / 4 down to -1
    length = rewards.length_reward(10, 4)
    assert length(completion_ids=[[0] * n for n in (3, 6, 7, 8, 10)]) == \
        [0.0, 0.0, -0.25, -0.5, -1.0]


def test_reward_model_and_function_rewards(number_task, tmp_path):
    from train.options import RMOptions
    from train.rm import train_rm

    prompts, policy = number_task
    pairs = [{"id": str(n), "prompt": [user(f"Round 0: say the number {n}.")],
              "chosen": [assistant(f"It is {n}.")],
              "rejected": [assistant(f"It is {(n + 1) % 4}.")]} for n in range(4)]
    train_rm(RMOptions(data=write_jsonl(tmp_path / "p.jsonl", pairs), model=str(policy),
                       output=tmp_path / "rm", max_steps=2, eval_split=0))
    result = CliRunner().invoke(app, [
        "grpo", "--prompts", str(prompts), "--model", str(policy), "-o", str(tmp_path / "g"),
        "--reward-model", str(tmp_path / "rm"), "--reward-fn", f"{REWARDS}:says_yes",
        "--reward-weights", "1,0.5", "--max-steps", "2", "--batch-size", "8",
        "--num-generations", "4", "--max-completion-length", "6", "--eval-split", "0"])
    assert result.exit_code == 0, result.output
    row = metrics(tmp_path / "g")[0]
    assert {"rewards/reward_model/mean", "rewards/reward_fn/mean"} <= set(row)
    assert row["rewards/reward_fn/mean"] == 0.0  # nobody says yes: says_yes scores 0
    # the total is the weighted sum of the two
    assert row["reward"] == pytest.approx(row["rewards/reward_model/mean"], abs=1e-5)


@pytest.mark.parametrize(("args", "message"), [
    (("--batch-size", "6", "--num-generations", "4"),
     "6 completions per step, not a multiple of num_generations 4"),
    (("--batch-size", "400", "--num-generations", "4"),
     "72 training prompts, but each step samples 100"),
    (("--rewards", "accuracy,style"), "unknown reward 'style'"),
    (("--reward-weights", "1,2"), "2 weights for 1 rewards"),
])
def test_set_ups_that_cannot_train_fail_clearly(number_task, tmp_path, args, message):
    prompts, policy = number_task
    result = CliRunner().invoke(app, ["grpo", "--prompts", str(prompts), "--model", str(policy),
                                      "-o", str(tmp_path / "g"), *args])
    assert result.exit_code == 1
    assert message in " ".join(result.output.split())
    assert not (tmp_path / "g").exists()


def test_accuracy_needs_reference_answers(number_task, tmp_path):
    _, policy = number_task
    data = write_jsonl(tmp_path / "q.jsonl", [{"id": "1", "prompt": "Say 1."}])
    result = CliRunner().invoke(app, ["grpo", "--prompts", str(data), "--model", str(policy),
                                      "-o", str(tmp_path / "g")])
    assert result.exit_code == 1
    assert f"{data}:1: field 'answer': missing reference answer" in " ".join(result.output.split())


def test_grpo_options_default_to_accuracy_unless_another_reward_is_given():
    assert GRPOOptions(prompts="p", model="m", output="o").reward_names == ["accuracy"]
    assert GRPOOptions(prompts="p", model="m", output="o",
                       reward_model="rm").reward_names == ["reward_model"]
