"""`train ppo`: check prompts and models, build the PPO trainer, run it, write RUN_DIR."""

from __future__ import annotations

import json
import shutil
import time
from pathlib import Path
from typing import Any

from curate.io import write_json
from train.data import load_prompts
from train.fit import Measured, fit_to_max_length, prompt_ids
from train.models import check_model_exists, load_tokenizer
from train.options import PPOOptions
from train.ppo import PPOTrainer, load_reward_fn
from train.report import data_accounting, edge_means
from train.rundir import RunDir, removed_if_setup_fails
from train.runner import (
    Prepared,
    checkpointing,
    curves_drawn,
    plotter,
    prepare,
    publish,
)
from train.template import end_of_turn_id, resolve_template

TINY_LR, LR = 1e-4, 3e-6
STATE_FILE = "ppo_state.json"


def train_ppo(options: PPOOptions) -> dict[str, Any]:
    """Run `train ppo`; returns the summary also written to RUN_DIR/summary.json."""
    with removed_if_setup_fails(options.output):
        prepared, reward_fn = prepare_ppo(options)
        trainer = build_ppo_trainer(prepared, reward_fn)
    return run_ppo(prepared, trainer)


def prepare_ppo(options: PPOOptions) -> tuple[Prepared, Any]:
    """Everything that can fail on bad input, before any weights load."""
    for name in ("policy", "reward_model", "value_model"):
        if getattr(options, name):
            check_model_exists(getattr(options, name), what=name.replace("_", " "))
    reward_fn = load_reward_fn(options.reward_fn) if options.reward_fn else None
    if options.max_length <= options.response_length:
        raise ValueError(f"max_length {options.max_length} leaves no room for a prompt before "
                         f"{options.response_length} response tokens; raise --max-length")
    prepared = prepare("ppo", options, load_prompts, model=options.policy, data="prompts",
                       needs_markers=False)
    response_stop_id(prepared.tokenizer, options)
    tokenizer = prepared.tokenizer
    fit_to_max_length(prepared, lambda row: Measured(len(prompt_ids(tokenizer, row["prompt"])), 0),
                      room=options.response_length, what="response")
    _check_critic_vocabulary(prepared)
    return prepared, reward_fn


def response_stop_id(tokenizer: Any, options: PPOOptions) -> int:
    """The token that ends a response: `stop_token_id` if given, else the end-of-turn token the
    chat template trains (what `train sft` taught the policy to emit; a Llama 3 template
    ends turns with `<|eot_id|>`, not the EOS token), else EOS."""
    from trl.chat_template_utils import has_generation_markers

    if options.stop_token_id is not None:
        if options.stop_token_id >= len(tokenizer):
            raise ValueError(f"stop_token_id {options.stop_token_id}: not in the policy's "
                             f"vocabulary of {len(tokenizer)} tokens")
        return options.stop_token_id
    template = tokenizer.chat_template
    if isinstance(template, str) and has_generation_markers(template):
        return end_of_turn_id(tokenizer)
    return tokenizer.eos_token_id


def _check_critic_vocabulary(prepared: Prepared) -> None:
    """The critic reads the policy's tokens, so it must share the policy's vocabulary."""
    options: PPOOptions = prepared.options
    source = _value_source(options)
    if source == options.policy:
        return
    if load_tokenizer(source).get_vocab() != prepared.tokenizer.get_vocab():
        raise ValueError(f"value model {source}: its tokenizer differs from the policy's, but the "
                         f"critic reads policy tokens; pass --value-model {options.policy}")


def _value_source(options: PPOOptions) -> str:
    return options.value_model or options.reward_model or options.policy


def build_ppo_trainer(prepared: Prepared, reward_fn: Any) -> PPOTrainer:
    """Load the models in the precision they run in and build the trainer.

    bf16: every model in bf16; the optimizer keeps fp32 master weights of the trained ones
    (`train.precision`), and LoRA adapters are fp32. fp16 (GPUs without bf16): trained
    models fp32 under autocast with loss scaling, frozen ones fp16. fp32: all fp32. With
    LoRA there is no reference copy: the policy with its adapter disabled is the reference."""
    import torch
    from accelerate import Accelerator
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    from train.runner import lora

    options: PPOOptions = prepared.options
    device = prepared.device
    log_with = None if options.report_to == "none" else options.report_to
    accelerator = Accelerator(cpu=device.name == "cpu", log_with=log_with,
                              project_dir=str(prepared.run_dir.path),
                              mixed_precision={"bf16": "bf16", "fp16": "fp16"}.get(
                                  device.precision, "no"))
    check_data_parallel(accelerator)
    torch.manual_seed(options.seed)
    frozen = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(device.precision, torch.float32)
    trained = frozen if options.lora or device.precision == "bf16" else torch.float32
    attention = {"attn_implementation": options.attn_implementation} \
        if options.attn_implementation else {}
    policy = AutoModelForCausalLM.from_pretrained(options.policy, dtype=trained, **attention)
    critic = AutoModelForSequenceClassification.from_pretrained(
        _value_source(options), num_labels=1, dtype=trained, **attention)
    if checkpointing(prepared):
        for model in (policy, critic):
            model.gradient_checkpointing_enable({"use_reentrant": False})
    ref_policy = None
    if options.lora:
        from peft import get_peft_model

        policy = get_peft_model(policy, lora(options, "CAUSAL_LM"))
        critic = get_peft_model(critic, lora(options, "SEQ_CLS"))
    else:
        ref_policy = AutoModelForCausalLM.from_pretrained(options.policy, dtype=frozen,
                                                          **attention)
        ref_policy.requires_grad_(False)
    reward_model = reward_tokenizer = reward_end_id = None
    if options.reward_model:
        reward_model = AutoModelForSequenceClassification.from_pretrained(
            options.reward_model, num_labels=1, dtype=frozen, **attention)
        reward_model.requires_grad_(False)
        reward_tokenizer = load_tokenizer(options.reward_model)
        if not reward_tokenizer.chat_template:
            resolve_template(reward_tokenizer, model_name=options.reward_model)
        reward_end_id = end_of_turn_id(reward_tokenizer)
    size = options.rollout_batch_size * accelerator.num_processes
    episodes = options.total_episodes or options.epochs * len(prepared.train)
    iterations = options.max_steps if options.max_steps > 0 else max(1, round(episodes / size))
    if log_with:
        accelerator.init_trackers("prefkit-ppo", config=options.model_dump(mode="json"))
    return PPOTrainer(
        options, policy=policy, ref_policy=ref_policy, critic=critic,
        tokenizer=prepared.tokenizer, prompts=[e.row["prompt"] for e in prepared.train],
        reward_model=reward_model, reward_tokenizer=reward_tokenizer, reward_end_id=reward_end_id,
        reward_fn=reward_fn, stop_token_id=response_stop_id(prepared.tokenizer, options),
        accelerator=accelerator, learning_rate=options.lr or (TINY_LR if prepared.tiny else LR),
        num_iterations=iterations)


def check_data_parallel(accelerator: Any) -> None:
    """Our PPO runs on one device or data-parallel (DDP: `accelerate launch --config_file
    train/configs/multi_gpu.yaml`, or torchrun). Rollouts sample from the whole policy on
    every process, which sharded weights (FSDP, ZeRO-3) do not allow, and DeepSpeed would
    take over the optimizer steps that PPO's minibatch loop makes itself."""
    from accelerate.utils import DistributedType

    if accelerator.distributed_type in (DistributedType.FSDP, DistributedType.DEEPSPEED):
        raise ValueError(f"train ppo runs data-parallel only, not under "
                         f"{accelerator.distributed_type.value}; launch it with "
                         "train/configs/multi_gpu.yaml (sft, rm, dpo and grpo take every "
                         "config)")


def run_ppo(prepared: Prepared, trainer: PPOTrainer) -> dict[str, Any]:
    from train.callbacks import StepProgress

    options: PPOOptions = prepared.options
    run_dir = prepared.run_dir
    accelerator = trainer.accelerator
    if options.resume:
        last = run_dir.last_checkpoint()
        accelerator.load_state(last)
        trainer.load_state(json.loads(Path(last, STATE_FILE).read_text(encoding="utf-8")))
    run_dir.write_config(_resolved_config(prepared, trainer))
    run_dir.write_removed(prepared.removed, prepared.data.rejects.records
                          if options.on_error == "skip" else None)
    held_out = [e.row["prompt"] for e in prepared.eval]

    def log(row: dict[str, Any]) -> None:
        run_dir.log_metrics(row)
        if accelerator.log_with:
            accelerator.log(row, step=row["step"])

    def save(iteration: int) -> None:
        save_checkpoint(trainer, run_dir, iteration, options.save_total_limit)

    bar = StepProgress("train ppo", trainer.num_iterations, trainer.iteration).start() \
        if run_dir.is_main else None

    def progress(iteration: int, stats: dict[str, Any]) -> None:
        if bar is not None:
            bar.update(iteration, f"reward={stats['mean_reward']:.3g} kl={stats['kl']:.3g}")

    with plotter(prepared) as plots:
        loop_started = time.perf_counter()
        try:
            trainer.train(log, save, progress,
                          evaluate=(lambda: evaluate(trainer, held_out)) if held_out else None)
        finally:
            if bar is not None:
                bar.stop()
        loop_s = time.perf_counter() - loop_started
        evaluation = evaluate(trainer, held_out)
        rows = run_dir.read_metrics()
        with curves_drawn(plots, prepared, rows, "ppo"):
            save_final(trainer, prepared)
    accelerator.end_training()
    summary = _summary(prepared, trainer, rows, evaluation, loop_s)
    publish(prepared, summary)
    return summary


def evaluate(trainer: PPOTrainer, prompts: list[list[dict[str, str]]]) -> dict[str, float]:
    """Mean reward (with and without the EOS penalty), KL, length and EOS fraction of fresh
    samples on held-out prompts."""
    if not prompts:
        return {}
    size = trainer.options.rollout_batch_size
    totals: dict[str, float] = {}
    batches = 0
    for start in range(0, len(prompts), size):
        stats = trainer.rollout(prompts[start:start + size]).stats
        for key in ("mean_reward", "mean_score", "kl", "response_length", "eos_fraction"):
            totals[key] = totals.get(key, 0.0) + stats[key]
        batches += 1
    return {key: value / batches for key, value in totals.items()}


def save_checkpoint(trainer: PPOTrainer, run_dir: RunDir, iteration: int, keep: int) -> None:
    """Models, optimizer, scheduler and RNG states (accelerate), plus the iteration count."""
    path = run_dir.checkpoints / f"checkpoint-{iteration}"
    trainer.accelerator.save_state(str(path))
    if run_dir.is_main:
        write_json(path / STATE_FILE, trainer.state())
        old = sorted(run_dir.checkpoints.glob("checkpoint-*"),
                     key=lambda p: int(p.name.rsplit("-", 1)[1]))
        for stale in old[:-keep]:
            shutil.rmtree(stale, ignore_errors=True)


def save_final(trainer: PPOTrainer, prepared: Prepared) -> None:
    """The policy (and tokenizer) at RUN_DIR, the critic in RUN_DIR/value_model; with LoRA,
    merged, and the policy's adapter in RUN_DIR/adapter."""
    from train.models import merged

    model = trainer.accelerator.unwrap_model(trainer.model)
    trainer.accelerator.wait_for_everyone()
    run_dir = prepared.run_dir
    if run_dir.is_main and prepared.options.lora:
        model.policy.save_pretrained(run_dir.path / "adapter")
    run_dir.save_model(merged(model.policy), prepared.tokenizer)
    if run_dir.is_main:
        merged(model.critic).save_pretrained(run_dir.path / "value_model")


def _summary(prepared: Prepared, trainer: PPOTrainer, rows: list[dict[str, Any]],
             evaluation: dict[str, float], loop_s: float) -> dict[str, Any]:
    from train.models import count_parameters

    def series(key: str) -> list[float]:
        return [row[key] for row in rows if key in row]

    first_loss, last_loss = edge_means(series("loss"))
    first_reward, last_reward = edge_means(series("mean_reward"))
    first_score, last_score = edge_means(series("mean_score"))
    kls = series("kl")
    tokens = sum(row.get("num_tokens", 0) for row in rows)
    policy = trainer.accelerator.unwrap_model(trainer.model).policy
    options: PPOOptions = prepared.options
    return {
        "command": "train ppo",
        "first_loss": first_loss,
        "last_loss": last_loss,
        "eval": evaluation,
        "tokens_per_s": round(tokens / loop_s, 1) if loop_s else 0.0,
        "wall_s": round(time.perf_counter() - prepared.started, 2),
        "train_s": round(loop_s, 2),
        "num_tokens": tokens,
        "first_mean_reward": first_reward,
        "last_mean_reward": last_reward,
        "first_mean_score": first_score,
        "last_mean_score": last_score,
        "mean_kl": sum(kls) / len(kls) if kls else None,
        "steps": trainer.iteration,
        "episodes": trainer.episodes,
        "data": data_accounting(prepared),
        "policy": options.policy,
        "reward": options.reward_model or options.reward_fn,
        "value_model": _value_source(options),
        "kl_estimator": options.kl_estimator,
        "parameters": count_parameters(policy),
        "trainable_parameters": sum(p.numel() for p in trainer.model.parameters()
                                    if p.requires_grad),
        "device": prepared.device.name,
        "precision": prepared.device.precision,
        "chat_template": prepared.template_origin,
        "warnings": prepared.notes,
        "run_dir": str(prepared.run_dir.path),
    }


def _resolved_config(prepared: Prepared, trainer: PPOTrainer) -> dict[str, Any]:
    import torch
    import transformers

    group = trainer.optimizer.param_groups[0]
    return {
        "command": "train ppo",
        "options": prepared.options.model_dump(mode="json"),
        "resolved": {"device": prepared.device.name, "precision": prepared.device.precision,
                     "chat_template": prepared.template_origin,
                     "learning_rate": group.get("initial_lr", group["lr"]),
                     "iterations": trainer.num_iterations,
                     "optimizer_steps": trainer.updates,
                     "rollout_batch_size": prepared.options.rollout_batch_size,
                     "value_model": _value_source(prepared.options),
                     "reference": "policy with its LoRA adapter disabled"
                     if trainer.ref_policy is None else prepared.options.policy,
                     "gradient_checkpointing": checkpointing(prepared),
                     "stop_token": prepared.tokenizer.convert_ids_to_tokens(
                         trainer.stop_token_id)},
        "trainer": "train.ppo.PPOTrainer",
        "versions": {"torch": str(torch.__version__), "transformers": transformers.__version__},
    }
