"""Bad input fails before any model loads, with file:line, the field, and exit code 1."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.train.conftest import sum_conversations, sum_pairs, write_jsonl
from train.cli import app

REWARDS = Path(__file__).parent / "rewards.py"
WIDE = {"COLUMNS": "400", "TERMINAL_WIDTH": "400"}  # help tables without truncated cells


def run(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_fails(result, *fragments: str) -> None:
    assert result.exit_code == 1, result.output
    message = " ".join(result.output.split())  # rich wraps long lines
    for fragment in fragments:
        assert fragment in message, (fragment, message)


def test_a_preference_file_passed_to_sft(tmp_path):
    data = write_jsonl(tmp_path / "pairs.jsonl", sum_pairs(3))
    result = run("sft", "--data", data, "-o", tmp_path / "run")
    assert_fails(result, f"{data}:1: field 'messages'", "a preference record",
                 "`train rm` / `train dpo`")
    assert not (tmp_path / "run").exists()


def test_a_conversation_file_passed_to_dpo(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(3))
    assert_fails(run("dpo", "--data", data, "-o", tmp_path / "run"),
                 f"{data}:1: field 'chosen'", "a conversation record")


def test_a_missing_model_path(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(3))
    result = run("sft", "--data", data, "--model", tmp_path / "no-such-model", "-o",
                 tmp_path / "run")
    assert_fails(result, "no-such-model: no such directory")
    assert not (tmp_path / "run").exists()


def test_a_missing_policy_for_ppo(tmp_path):
    data = write_jsonl(tmp_path / "p.jsonl", sum_pairs(2))
    assert_fails(run("ppo", "--prompts", data, "--policy", "./nowhere", "--reward-fn",
                     "x.py:f", "-o", tmp_path / "run"), "policy ./nowhere: no such directory")


def test_max_length_shorter_than_the_prompt(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(4))
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "sft", "--max-length", "5"),
                 "max_length 5 is too short: the shortest prompt has", "raise --max-length")
    # the half-made run directory (it held the tiny model) is gone: rerunning needs no flag
    assert not (tmp_path / "sft").exists()
    fixed = run("sft", "--data", data, "-o", tmp_path / "sft", "--max-length", "64",
                "--max-steps", "1", "--eval-split", "0")
    assert fixed.exit_code == 0, fixed.output
    pairs = write_jsonl(tmp_path / "pairs.jsonl", sum_pairs(4))
    assert_fails(run("dpo", "--data", pairs, "-o", tmp_path / "dpo", "--max-length", "5"),
                 "max_length 5 is too short: the shortest prompt has")
    assert_fails(run("rm", "--data", pairs, "-o", tmp_path / "rm", "--max-length", "5"),
                 "max_length 5 is too short: the shortest prompt has")
    prompts = write_jsonl(tmp_path / "prompts.jsonl", [{"prompt": "What is 1 plus 2?"}] * 2)
    assert_fails(run("ppo", "--prompts", prompts, "--policy", tmp_path / "sft", "--reward-fn",
                     f"{REWARDS}:says_yes", "-o", tmp_path / "ppo", "--max-length", "12",
                     "--response-length", "4", "--eval-split", "0"),
                 "max_length 12 is too short: the shortest prompt has",
                 "the response needs 4 more")
    assert not any((tmp_path / name).exists() for name in ("dpo", "rm", "ppo"))


def test_long_prompts_are_removed_with_a_reason(tmp_path):
    rows = sum_conversations(6, filler=False)
    rows[0]["messages"][0]["content"] = "word " * 400
    data = write_jsonl(tmp_path / "sft.jsonl", rows)
    result = run("sft", "--data", data, "-o", tmp_path / "run", "--max-length", "64",
                 "--max-steps", "1", "--eval-split", "0")
    assert result.exit_code == 0, result.output
    removed = read_jsonl(tmp_path / "run/removed.jsonl")
    assert [(r["reason"], r["record"]["id"]) for r in removed] == \
        [("prompt_longer_than_max_length", rows[0]["id"])]
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    assert summary["data"]["in"] == 6 and summary["data"]["train"] == 5


def test_an_empty_dataset(tmp_path):
    (tmp_path / "empty.jsonl").write_text("\n")
    assert_fails(run("sft", "--data", tmp_path / "empty.jsonl", "-o", tmp_path / "run"),
                 "empty dataset")


def test_a_missing_column(tmp_path):
    data = write_jsonl(tmp_path / "text.jsonl", [{"id": "a", "text": "just text"}])
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run"),
                 f"{data}:1: field 'messages': missing column")
    assert_fails(run("rm", "--data", data, "-o", tmp_path / "run"),
                 f"{data}:1: field 'chosen': missing column")


def test_a_bad_record_names_its_line_and_field(tmp_path):
    rows = sum_conversations(3)
    rows[1]["messages"][1]["role"] = "robot"
    data = write_jsonl(tmp_path / "sft.jsonl", rows)
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run"),
                 f"{data}:2: field 'messages[1].role'")


def test_skip_writes_bad_records_to_rejects(tmp_path):
    rows = sum_conversations(8, filler=False)
    data = tmp_path / "sft.jsonl"
    lines = [json.dumps(row) for row in rows]
    lines[2] = "{not json"
    data.write_text("\n".join(lines) + "\n")
    result = run("sft", "--data", data, "-o", tmp_path / "run", "--on-error", "skip",
                 "--max-steps", "1", "--eval-split", "0")
    assert result.exit_code == 0, result.output
    rejects = read_jsonl(tmp_path / "run/rejects.jsonl")
    assert [(r["line"], r["reason"]) for r in rejects] == [(3, "bad_json")]
    counts = json.loads((tmp_path / "run/summary.json").read_text())["data"]
    assert (counts["in"], counts["train"], counts["rejected"]) == (8, 7, 1)


@pytest.mark.parametrize(("template", "message"), [
    ("{% for m in messages %}{{ m.content }}{% endfor %}", "no {% generation %} markers"),
    (("{% for m in messages %}{% if m.role == 'user' %}{{ m.content }}{% endif %}{% endfor %}"
     "{% generation %}{% endgeneration %}"), "renders no assistant turn"),
    (("{% for m in messages %}{% if m.role == 'assistant' %}{% generation %}{{ m.content }}"
     "{% endgeneration %}<|im_end|>{% else %}{{ m.content }}{% endif %}{% endfor %}"),
     "would never learn to stop"),
])
def test_a_template_without_a_trained_assistant_turn(template, message, tmp_path):
    (tmp_path / "t.jinja").write_text(template)
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(3))
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--chat-template",
                     tmp_path / "t.jinja"), message)
    assert not (tmp_path / "run").exists()


def test_options_from_yaml_are_validated_and_flags_override_them(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(4, filler=False))
    (tmp_path / "bad.yaml").write_text("lr: -1\n")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "a", "--config",
                     tmp_path / "bad.yaml"), "field 'lr'")
    (tmp_path / "typo.yaml").write_text("max_step: 3\n")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "a", "--config",
                     tmp_path / "typo.yaml"), "field 'max_step'")
    (tmp_path / "ok.yaml").write_text(
        f"data: {data}\nmax_steps: 3\neval_split: 0\nbatch_size: 2\n"
        "trainer_args: {weight_decay: 0.1}\n")
    result = run("sft", "-o", tmp_path / "run", "--config", tmp_path / "ok.yaml",
                 "--max-steps", "2")
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "run/summary.json").read_text())
    config = (tmp_path / "run/config.yaml").read_text()
    assert summary["steps"] == 2 and "weight_decay: 0.1" in config and "batch_size: 2" in config
    (tmp_path / "unknown.yaml").write_text("trainer_args: {no_such_field: 1}\n")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "b", "--config",
                     tmp_path / "unknown.yaml"), "SFTConfig has no field 'no_such_field'")


def test_ppo_needs_exactly_one_reward(tmp_path):
    data = write_jsonl(tmp_path / "p.jsonl", sum_pairs(2))
    assert_fails(run("ppo", "--prompts", data, "--policy", tmp_path, "-o", tmp_path / "run"),
                 "exactly one of --reward-model or --reward-fn")


def test_every_command_has_help_with_an_example_and_the_common_flags():
    common = ("--max-steps", "--epochs", "--lr", "--batch-size", "--grad-accum", "--max-length",
              "--seed", "--eval-split", "--eval-data", "--eval-steps", "--save-steps",
              "--lr-scheduler", "--warmup-ratio", "--resume", "--report-to", "--config",
              "--bf16", "--gradient-checkpointing", "--attn-implementation", "--push-to-hub",
              "--lora", "--overwrite")
    for command in ("sft", "rm", "dpo", "ppo", "grpo"):
        result = CliRunner().invoke(app, [command, "--help"], env=WIDE)
        assert result.exit_code == 0
        assert "Example" in result.output and f"train {command}" in result.output
        for flag in common:
            assert f" {flag} " in result.output, (command, flag)
    for command in ("generate", "eval"):
        result = CliRunner().invoke(app, [command, "--help"], env=WIDE)
        assert result.exit_code == 0 and f"train {command}" in result.output
        for flag in ("-k", "--temperature", "--top-p", "--max-new-tokens", "--seed", "--backend"):
            assert f" {flag} " in result.output, (command, flag)


def test_help_and_defaults_come_from_the_options_model():
    """One definition: the flag's help text is the field's description, its default the
    field's default."""
    from train.options import TrainOptions

    result = CliRunner().invoke(app, ["sft", "--help"], env=WIDE)
    text = " ".join(result.output.split())
    for name in ("batch_size", "grad_accum", "warmup_ratio", "save_steps"):
        field = TrainOptions.model_fields[name]
        assert f"{field.description} (default: {field.default})" in text, name


def test_an_unknown_choice_names_the_option(tmp_path):
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(3))
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--attn-implementation",
                     "flash"), "field 'attn_implementation'")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--attn-implementation",
                     "flash_attention_2"), "--attn-implementation flash_attention_2: needs a "
                                           "CUDA GPU")
    assert_fails(run("sft", "-o", tmp_path / "run"), "train sft: --data is required")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--bf16"),
                 "precision: bf16 needs a GPU")
    assert not (tmp_path / "run").exists()


def test_a_tracker_that_is_not_installed(tmp_path, monkeypatch):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "wandb" else real(name, *a))
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(3))
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--report-to", "wandb"),
                 "--report-to wandb: the `wandb` package is not installed (pip install wandb)")
    assert_fails(run("sft", "--data", data, "-o", tmp_path / "run", "--report-to", "mlflow"),
                 "field 'report_to'")


def test_a_trl_1_12_ppo_config_moves_across(tmp_path):
    from curate.options import build_options
    from train.options import PPOOptions

    (tmp_path / "ppo.yaml").write_text(
        "sft_model_path: runs/sft\nreward_model_path: runs/rm\noutput_dir: runs/ppo\n"
        "learning_rate: 3.0e-6\nper_device_train_batch_size: 4\ngradient_accumulation_steps: 2\n"
        "num_ppo_epochs: 2\nnum_mini_batches: 2\nkl_coef: 0.1\nkl_estimator: k3\n"
        "cliprange: 0.1\nvf_coef: 0.2\ncliprange_value: 0.3\ngamma: 0.99\nlam: 0.9\n"
        "whiten_rewards: true\nresponse_length: 40\ntemperature: 0.9\nmissing_eos_penalty: 2.0\n"
        "total_episodes: 1000\nstop_token: eos\nlocal_rollout_forward_batch_size: 16\n")
    options = build_options(PPOOptions, config=tmp_path / "ppo.yaml", prompts="p.jsonl",
                            batch_size=8)
    assert (options.policy, options.reward_model, str(options.output)) == \
        ("runs/sft", "runs/rm", "runs/ppo")
    assert (options.lr, options.batch_size, options.grad_accum, options.total_episodes) == \
        (3e-6, 8, 2, 1000)  # the flag (batch_size=8) overrides the file
    assert options.rollout_batch_size == 8 * 2 * 2
    assert (options.kl_estimator, options.stop_token, options.whiten_rewards) == ("k3", "eos", True)


def test_an_interrupted_run_says_how_to_go_on(tmp_path, monkeypatch):
    """Found by an outsider: Ctrl-C in `train sft` said "nothing was committed (outputs are
    as they were before this run)", while the run directory stays, unfinished, for --resume."""
    import train.sft

    def interrupted(options):
        raise KeyboardInterrupt

    monkeypatch.setattr(train.sft, "train_sft", interrupted)
    data = write_jsonl(tmp_path / "sft.jsonl", sum_conversations(4))
    result = run("sft", "--data", data, "-o", tmp_path / "run")
    assert result.exit_code == 130
    assert "interrupted: the run is not finished (no summary.json); rerun with --resume" in \
        " ".join(result.output.split())
    assert "nothing was committed" not in result.output
