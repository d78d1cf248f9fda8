"""`train ppo`: reward rises on a toy task with finite KL; a trained reward model drives it from
the CLI; rewards are read at the end-of-sequence token; runs resume."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from transformers import AutoModelForCausalLM
from typer.testing import CliRunner

from tests.train.conftest import ANIMALS, assistant, user, write_jsonl
from train.cli import app
from train.options import PPOOptions, RMOptions
from train.ppo import score_sequences
from train.ppo_run import build_ppo_trainer, prepare_ppo, train_ppo
from train.rm import train_rm

SAYS_YES = f"{Path(__file__).parent / 'rewards.py'}:says_yes"


def metrics(run: Path) -> list[dict]:
    return [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]


def test_mean_reward_rises_and_kl_stays_finite(toy_dir, tiny_sft, tmp_path):
    run = tmp_path / "ppo"
    summary = train_ppo(PPOOptions(prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft),
                                   reward_fn=SAYS_YES, output=run, max_steps=16, batch_size=16,
                                   response_length=6, eval_split=0))

    rows = metrics(run)
    rewards = [row["mean_reward"] for row in rows]
    assert len(rows) == 16
    assert sum(rewards[-3:]) / 3 > sum(rewards[:3]) / 3 + 0.3
    assert all(math.isfinite(row["kl"]) and math.isfinite(row["approx_kl"]) for row in rows)
    for key in ("entropy", "clip_fraction", "value_loss", "policy_loss", "eos_fraction"):
        assert all(math.isfinite(row[key]) for row in rows), key
    assert summary["last_mean_reward"] > summary["first_mean_reward"]
    assert math.isfinite(summary["mean_kl"]) and summary["mean_kl"] > 0
    assert AutoModelForCausalLM.from_pretrained(run).config.prefkit_tiny


def test_ppo_with_a_trained_reward_model_from_the_cli(tiny_sft, tmp_path):
    pairs = [{"id": str(i), "prompt": [user(f"Do you like {animal}?")],
              "chosen": [assistant("Yes.")], "rejected": [assistant(other)]}
             for i, (animal, other) in enumerate((a, o) for a in ANIMALS
                                                  for o in ("No.", "Maybe.", "Sure."))]
    data = write_jsonl(tmp_path / "pairs.jsonl", pairs)
    rm_run = tmp_path / "rm"
    train_rm(RMOptions(data=data, model=str(tiny_sft), output=rm_run, max_steps=30,
                       batch_size=8, eval_split=0))

    run = tmp_path / "ppo"
    result = CliRunner().invoke(app, [
        "ppo", "--prompts", str(data), "--policy", str(tiny_sft), "--reward-model", str(rm_run),
        "-o", str(run), "--max-steps", "3", "--batch-size", "8", "--response-length", "6",
        "--kl-estimator", "k3", "--eval-split", "2"])

    assert result.exit_code == 0, result.output
    summary = json.loads((run / "summary.json").read_text())
    for key in ("first_loss", "last_loss", "eval", "tokens_per_s", "wall_s",
                "first_mean_reward", "last_mean_reward", "mean_kl"):
        assert summary[key] is not None, key
    assert set(summary["eval"]) >= {"mean_reward", "kl", "eos_fraction"}
    assert summary["value_model"] == str(rm_run) and summary["kl_estimator"] == "k3"
    data_counts = summary["data"]
    assert data_counts["removed_by_reason"] == {"duplicate_prompt": len(pairs) - len(ANIMALS)}
    assert data_counts["in"] == data_counts["train"] + data_counts["eval"] + data_counts["removed"]
    for artifact in ("config.yaml", "metrics.jsonl", "loss.png", "rewards.png", "removed.jsonl",
                     "value_model/config.json", "model.safetensors"):
        assert (run / artifact).exists(), artifact


def test_scores_ignore_padding_and_missing_eos_is_penalised(toy_dir, tiny_sft, tmp_path):
    prepared, reward_fn = prepare_ppo(PPOOptions(
        prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft), reward_fn=SAYS_YES,
        output=tmp_path / "ppo", batch_size=2, response_length=4, eval_split=0,
        missing_eos_penalty=0.75))
    trainer = build_ppo_trainer(prepared, reward_fn)
    tokenizer = prepared.tokenizer
    eos, pad = tokenizer.eos_token_id, tokenizer.pad_token_id
    yes = tokenizer.encode("Yes.")
    finished = yes + [eos] + [pad] * (4 - len(yes) - 1)
    unfinished = (yes * 4)[:4]
    trainer.generate = lambda queries: torch.tensor([finished, unfinished])

    rollout = trainer.rollout([[user("Do you like owls?")]] * 2)
    assert rollout.mask.tolist()[0] == [1] * (len(yes) + 1) + [0] * (4 - len(yes) - 1)
    assert rollout.stats["mean_reward"] == pytest.approx((1.0 + 1.0 - 0.75) / 2)
    assert rollout.stats["eos_fraction"] == 0.5

    critic = trainer.accelerator.unwrap_model(trainer.model).critic
    short, long = [1, 7, 9, 2], [1, 7, 9, 11, 12, 13, 2]
    with torch.no_grad():
        alone = score_sequences(critic, [short], pad, "cpu")
        padded = score_sequences(critic, [short, long], pad, "cpu")
    torch.testing.assert_close(padded[:1], alone, atol=1e-5, rtol=1e-5)


def test_resumed_ppo_continues_the_same_run(toy_dir, tiny_sft, tmp_path):
    common = {"prompts": toy_dir / "yes_no.jsonl", "policy": str(tiny_sft),
              "reward_fn": SAYS_YES, "batch_size": 4, "response_length": 4, "eval_split": 0,
              "save_steps": 2, "lr_scheduler": "constant", "lr": 1e-3}
    train_ppo(PPOOptions(output=tmp_path / "whole", max_steps=5, **common))
    train_ppo(PPOOptions(output=tmp_path / "split", max_steps=3, **common))
    summary = train_ppo(PPOOptions(output=tmp_path / "split", max_steps=5, resume=True, **common))

    def curve(run):
        return [(row["step"], round(row["mean_reward"], 4), round(row["loss"], 4))
                for row in metrics(run)]

    assert summary["steps"] == 5 and summary["episodes"] == 5 * 4
    assert curve(tmp_path / "split") == curve(tmp_path / "whole")


def test_rollouts_sample_plain_temperature_whatever_the_models_generation_settings(
        toy_dir, tiny_sft, tmp_path):
    prepared, reward_fn = prepare_ppo(PPOOptions(
        prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft), reward_fn=SAYS_YES,
        output=tmp_path / "ppo", batch_size=16, response_length=6, eval_split=0))
    trainer = build_ppo_trainer(prepared, reward_fn)
    policy = trainer.accelerator.unwrap_model(trainer.model).policy
    # a model whose own settings forbid the stop token: PPO's log-probs assume plain sampling
    policy.generation_config.suppress_tokens = [trainer.stop_token_id]

    rollout = trainer.rollout([[user(f"Do you like {animal}?")] for animal in ANIMALS] * 2)
    assert rollout.stats["eos_fraction"] > 0.5
    assert policy.generation_config.suppress_tokens == [trainer.stop_token_id]  # restored


def test_the_stop_token_is_the_templates_end_of_turn_token(tiny_sft):
    from transformers import AutoTokenizer

    from train.ppo_run import response_stop_id

    tokenizer = AutoTokenizer.from_pretrained(tiny_sft)
    options = PPOOptions(prompts="p.jsonl", policy=str(tiny_sft), reward_fn=SAYS_YES,
                         output="run")
    end_of_turn = tokenizer.convert_tokens_to_ids("<|im_end|>")
    tokenizer.eos_token = "<|endoftext|>"  # as in base models whose template ends turns otherwise
    assert response_stop_id(tokenizer, options) == end_of_turn
    assert response_stop_id(tokenizer, options.model_copy(update={"stop_token_id": 7})) == 7
    with pytest.raises(ValueError, match="not in the policy's vocabulary"):
        response_stop_id(tokenizer, options.model_copy(update={"stop_token_id": 10**6}))
    tokenizer.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    assert response_stop_id(tokenizer, options) == tokenizer.eos_token_id  # no markers: EOS


def test_each_ppo_epoch_visits_every_rollout_once_in_minibatches(toy_dir, tiny_sft, tmp_path):
    prepared, reward_fn = prepare_ppo(PPOOptions(
        prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft), reward_fn=SAYS_YES,
        output=tmp_path / "ppo", batch_size=2, grad_accum=2, num_mini_batches=2,
        num_ppo_epochs=3, response_length=4, eval_split=0))
    trainer = build_ppo_trainer(prepared, reward_fn)
    micro_batches, steps = [], []
    losses, step = trainer._losses, trainer.optimizer.step

    def recorded_losses(rollout, part):
        micro_batches.append(part.tolist())
        return losses(rollout, part)

    def recorded_step(*args, **kwargs):
        steps.append(len(micro_batches))
        return step(*args, **kwargs)

    trainer._losses, trainer.optimizer.step = recorded_losses, recorded_step

    rollout = trainer.rollout([[user(f"Do you like {animal}?")] for animal in ANIMALS])
    stats = trainer.update(rollout)

    # rollout batch 8 = 2 minibatches of 4 = 2 micro-batches of 2 (gradient accumulation)
    assert [len(part) for part in micro_batches] == [2] * 12
    assert steps == [2, 4, 6, 8, 10, 12]  # one optimizer step per minibatch
    for epoch in range(3):
        visited = [index for part in micro_batches[4 * epoch:4 * epoch + 4] for index in part]
        assert sorted(visited) == list(range(8))
    assert math.isfinite(stats["value_loss"]) and 0 <= stats["clip_fraction"] <= 1


def test_chunked_logprobs_and_entropies_equal_the_full_computation(tiny_sft):
    """Chunks of 3 positions give what full-vocabulary log-softmax gives, values and
    gradients (the backward pass recomputes each chunk)."""
    from train.logprobs import response_logprobs

    torch.manual_seed(0)
    ids = torch.randint(0, 200, (2, 11))
    mask = torch.ones_like(ids)
    positions = torch.arange(11).expand(2, 11)
    model = AutoModelForCausalLM.from_pretrained(tiny_sft)

    logits = model(input_ids=ids).logits[:, 4:-1].float() / 0.7
    full = torch.log_softmax(logits, dim=-1)
    expected = full.gather(2, ids[:, 5:].unsqueeze(-1)).squeeze(-1)
    expected_entropy = -(full.exp() * full).sum(-1)
    (expected.sum() + expected_entropy.sum()).backward()
    expected_grads = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()

    logprobs, entropy = response_logprobs(model, ids, mask, positions, context=5,
                                          temperature=0.7, chunk_tokens=6, entropy=True)
    (logprobs.sum() + entropy.sum()).backward()
    torch.testing.assert_close(logprobs, expected, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(entropy, expected_entropy, atol=1e-5, rtol=1e-5)
    for got, want in zip((p.grad for p in model.parameters()), expected_grads, strict=True):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-4)


@pytest.fixture
def fresh_accelerator_state():
    """accelerate keeps one state per process; a bf16 run in the test process needs its own."""
    from accelerate.state import AcceleratorState

    AcceleratorState._reset_state(reset_partial_state=True)
    yield
    AcceleratorState._reset_state(reset_partial_state=True)


def test_bf16_policy_starts_at_zero_kl_and_trains_on_fp32_master_weights(
        toy_dir, tiny_sft, tmp_path, fresh_accelerator_state):
    """In bf16 every model is bf16 (the policy computes what the bf16 reference computes: KL
    0 at the start, where an fp32 policy under autocast drifts from a bf16 reference), and
    the optimizer steps fp32 masters of the bf16 weights."""
    from train.models import Device
    from train.precision import MasterWeightsAdamW

    prepared, reward_fn = prepare_ppo(PPOOptions(
        prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft), reward_fn=SAYS_YES,
        output=tmp_path / "ppo", batch_size=8, response_length=6, eval_split=0, lr=1e-3))
    prepared.device = Device("cpu", "bf16")  # CPU autocast runs bf16 too
    trainer = build_ppo_trainer(prepared, reward_fn)
    policy = trainer.accelerator.unwrap_model(trainer.model).policy
    assert trainer.ref_policy.dtype == policy.dtype == torch.bfloat16
    assert isinstance(trainer.optimizer.optimizer, MasterWeightsAdamW)

    rollout = trainer.rollout([[user(f"Do you like {animal}?")] for animal in ANIMALS])
    assert rollout.stats["kl"] == 0.0

    before = {name: p.detach().clone() for name, p in policy.named_parameters()}
    trainer.update(rollout)
    masters = trainer.optimizer.optimizer.masters
    assert all(m.dtype == torch.float32 for m in masters)
    changed = [name for name, p in policy.named_parameters() if not torch.equal(p, before[name])]
    assert changed  # the rounded masters were written back into the bf16 weights
    for param, master in zip(trainer.optimizer.optimizer.model_params, masters, strict=True):
        assert torch.equal(param, master.to(torch.bfloat16))


def test_ppo_with_lora_uses_the_base_as_reference(toy_dir, tiny_sft, tmp_path):
    run = tmp_path / "ppo"
    summary = train_ppo(PPOOptions(prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft),
                                   reward_fn=SAYS_YES, output=run, max_steps=3, batch_size=8,
                                   response_length=6, eval_split=0, lora="r=4,alpha=8",
                                   lr=1e-3))
    rows = metrics(run)
    assert rows[0]["kl"] == 0.0  # a fresh adapter changes nothing: policy == reference
    assert summary["trainable_parameters"] < summary["parameters"] / 5
    config = (run / "config.yaml").read_text()
    assert "reference: policy with its LoRA adapter disabled" in config
    assert (run / "adapter" / "adapter_config.json").exists()
    merged = AutoModelForCausalLM.from_pretrained(run)
    base = AutoModelForCausalLM.from_pretrained(tiny_sft)
    changed = [name for name, weight in merged.state_dict().items()
               if not torch.equal(weight, base.state_dict()[name])]
    assert changed and all("proj" in name for name in changed)
    assert (run / "value_model" / "config.json").exists()


def test_ppo_logs_every_logging_steps_and_evaluates_every_eval_steps(toy_dir, tiny_sft,
                                                                     tmp_path):
    run = tmp_path / "ppo"
    summary = train_ppo(PPOOptions(prompts=toy_dir / "yes_no.jsonl", policy=str(tiny_sft),
                                   reward_fn=SAYS_YES, output=run, max_steps=5, batch_size=4,
                                   response_length=4, eval_split=2, logging_steps=2,
                                   eval_steps=2, missing_eos_penalty=0.5))
    rows = metrics(run)
    assert [row["step"] for row in rows if "loss" in row] == [2, 4, 5]
    assert [row["step"] for row in rows if "eval_mean_reward" in row] == [2, 4]
    for row in (row for row in rows if "loss" in row):
        # the reward PPO optimises is the score minus the penalty for each missing EOS
        assert row["mean_reward"] == pytest.approx(
            row["mean_score"] - 0.5 * (1 - row["eos_fraction"]), abs=1e-5)
    assert summary["first_mean_score"] is not None and "mean_score" in summary["eval"]
