"""`train ppo`: check prompts and models, build the PPO trainer, run it, write RUN_DIR."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from curate.io import Rejects, write_json
from train.data import Example, load_prompts, split_eval
from train.models import check_model_exists, load_tokenizer, pick_device, process_state
from train.options import PPOOptions
from train.ppo import PPOTrainer, load_reward_fn
from train.report import data_accounting, plot_curves, summary_line
from train.rundir import RunDir, removed_if_setup_fails
from train.runner import Prepared, check_report_to, configure_libraries, use_one_thread_for_tiny
from train.template import end_of_turn_id, resolve_template
from train.tiny import is_tiny_model

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
    configure_libraries()
    started = time.perf_counter()
    if options.lora is not None:
        raise ValueError("lora: train ppo trains full weights (LoRA is not supported for PPO yet)")
    check_model_exists(options.policy, what="policy")
    for name in ("reward_model", "value_model"):
        if getattr(options, name):
            check_model_exists(getattr(options, name), what=name.replace("_", " "))
    reward_fn = load_reward_fn(options.reward_fn) if options.reward_fn else None
    if options.max_length <= options.response_length:
        raise ValueError(f"max_length {options.max_length} leaves no room for a prompt before "
                         f"{options.response_length} response tokens; raise --max-length")
    device = pick_device(options.precision)
    run_dir = RunDir(options.output, state=process_state(device))
    run_dir.check(resume=options.resume, overwrite=options.overwrite)
    check_report_to(options.report_to, run_dir)
    data = load_prompts(options.prompts, Rejects(options.on_error))
    train, held = split_eval(data.examples, options.eval_split, options.seed)
    tokenizer = load_tokenizer(options.policy)
    if options.chat_template is not None or not tokenizer.chat_template:
        origin = resolve_template(tokenizer, options.chat_template, model_name=options.policy)
    else:
        origin = f"{options.policy}'s chat template"
    response_stop_id(tokenizer, options)
    prepared = Prepared("ppo", options, run_dir, data, train, held, options.policy, tokenizer,
                        origin, device, is_tiny_model(options.policy), started=started)
    use_one_thread_for_tiny(prepared)
    _fit_prompts(prepared)
    _check_critic_vocabulary(prepared)
    run_dir.create(resume=options.resume, overwrite=options.overwrite)
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


def _fit_prompts(prepared: Prepared) -> None:
    options: PPOOptions = prepared.options
    budget = options.max_length - options.response_length
    shortest: int | None = None

    def keep(example: Example) -> str | None:
        nonlocal shortest
        tokens = len(prepared.tokenizer.apply_chat_template(
            example.row["prompt"], tokenize=True, add_generation_prompt=True,
            return_dict=True)["input_ids"])
        shortest = min(tokens, shortest or tokens)
        return "prompt_longer_than_max_length" if tokens > budget else None

    prepared.drop(keep)
    if not prepared.train:
        raise ValueError(f"max_length {options.max_length} minus response_length "
                         f"{options.response_length} is shorter than every prompt (the shortest "
                         f"has {shortest} tokens); raise --max-length")


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
    import torch
    from accelerate import Accelerator
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    options: PPOOptions = prepared.options
    device = prepared.device
    log_with = None if options.report_to == "none" else options.report_to
    accelerator = Accelerator(cpu=device.name == "cpu", log_with=log_with,
                              project_dir=str(prepared.run_dir.path),
                              mixed_precision={"bf16": "bf16", "fp16": "fp16"}.get(
                                  device.precision, "no"))
    check_data_parallel(accelerator)
    torch.manual_seed(options.seed)
    policy = AutoModelForCausalLM.from_pretrained(options.policy, dtype=torch.float32)
    if options.gradient_checkpointing:
        policy.gradient_checkpointing_enable()
    ref_policy = AutoModelForCausalLM.from_pretrained(options.policy, dtype=torch.float32)
    ref_policy.requires_grad_(False)
    critic = AutoModelForSequenceClassification.from_pretrained(
        _value_source(options), num_labels=1, dtype=torch.float32)
    reward_model = reward_tokenizer = reward_end_id = None
    if options.reward_model:
        reward_model = AutoModelForSequenceClassification.from_pretrained(
            options.reward_model, num_labels=1, dtype=torch.float32)
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
                         "train/configs/multi_gpu.yaml (sft, rm and dpo take every config)")


def run_ppo(prepared: Prepared, trainer: PPOTrainer) -> dict[str, Any]:
    from train.callbacks import progress_bar

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

    def log(row: dict[str, Any]) -> None:
        run_dir.log_metrics(row)
        if accelerator.log_with:
            accelerator.log(row, step=row["step"])

    def save(iteration: int) -> None:
        save_checkpoint(trainer, run_dir, iteration, options.save_total_limit)

    bar = progress_bar() if run_dir.is_main else None
    loop_started = time.perf_counter()
    if bar is not None:
        with bar:
            task = bar.add_task("train ppo", total=trainer.num_iterations,
                                completed=trainer.iteration, status="")

            def progress(iteration: int, stats: dict[str, Any]) -> None:
                bar.update(task, completed=iteration, status=f"reward={stats['mean_reward']:.3g} "
                           f"kl={stats['kl']:.3g}")

            trainer.train(log, save, progress)
    else:
        trainer.train(log, save, lambda *_: None)
    loop_s = time.perf_counter() - loop_started
    evaluation = evaluate(trainer, [e.row["prompt"] for e in prepared.eval])
    save_final(trainer, prepared)
    accelerator.end_training()
    rows = run_dir.read_metrics()
    summary = _summary(prepared, trainer, rows, evaluation, loop_s)
    if run_dir.is_main:
        plot_curves(prepared, rows, "ppo")
        run_dir.write_summary(summary)
        print(summary_line(prepared, summary), file=sys.stderr)
    return summary


def evaluate(trainer: PPOTrainer, prompts: list[list[dict[str, str]]]) -> dict[str, float]:
    """Mean reward, KL, length and EOS fraction of fresh samples on held-out prompts."""
    if not prompts:
        return {}
    size = trainer.options.rollout_batch_size
    totals: dict[str, float] = {}
    batches = 0
    for start in range(0, len(prompts), size):
        stats = trainer.rollout(prompts[start:start + size]).stats
        for key in ("mean_reward", "kl", "response_length", "eos_fraction"):
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
    """The policy (and tokenizer) at RUN_DIR; the critic in RUN_DIR/value_model."""
    model = trainer.accelerator.unwrap_model(trainer.model)
    trainer.accelerator.wait_for_everyone()
    prepared.run_dir.save_model(model.policy, prepared.tokenizer)
    if prepared.run_dir.is_main:
        model.critic.save_pretrained(prepared.run_dir.path / "value_model")


def _summary(prepared: Prepared, trainer: PPOTrainer, rows: list[dict[str, Any]],
             evaluation: dict[str, float], loop_s: float) -> dict[str, Any]:
    from train.models import count_parameters

    losses = [row["loss"] for row in rows if "loss" in row]
    rewards = [row["mean_reward"] for row in rows if "mean_reward" in row]
    kls = [row["kl"] for row in rows if "kl" in row]
    tokens = sum(row.get("num_tokens", 0) for row in rows)
    policy = trainer.accelerator.unwrap_model(trainer.model).policy
    options: PPOOptions = prepared.options
    return {
        "command": "train ppo",
        "first_loss": losses[0] if losses else None,
        "last_loss": losses[-1] if losses else None,
        "eval": evaluation,
        "tokens_per_s": round(tokens / loop_s, 1) if loop_s else 0.0,
        "wall_s": round(time.perf_counter() - prepared.started, 2),
        "train_s": round(loop_s, 2),
        "num_tokens": tokens,
        "first_mean_reward": rewards[0] if rewards else None,
        "last_mean_reward": rewards[-1] if rewards else None,
        "mean_kl": sum(kls) / len(kls) if kls else None,
        "steps": trainer.iteration,
        "episodes": trainer.episodes,
        "data": data_accounting(prepared),
        "policy": options.policy,
        "reward": options.reward_model or options.reward_fn,
        "value_model": _value_source(options),
        "kl_estimator": options.kl_estimator,
        "parameters": count_parameters(policy),
        "device": prepared.device.name,
        "precision": prepared.device.precision,
        "chat_template": prepared.template_origin,
        "run_dir": str(prepared.run_dir.path),
    }


def _resolved_config(prepared: Prepared, trainer: PPOTrainer) -> dict[str, Any]:
    import torch
    import transformers

    return {
        "command": "train ppo",
        "options": prepared.options.model_dump(mode="json"),
        "resolved": {"device": prepared.device.name, "precision": prepared.device.precision,
                     "chat_template": prepared.template_origin,
                     "learning_rate": trainer.optimizer.param_groups[0]["initial_lr"]
                     if "initial_lr" in trainer.optimizer.param_groups[0]
                     else trainer.optimizer.param_groups[0]["lr"],
                     "iterations": trainer.num_iterations,
                     "rollout_batch_size": prepared.options.rollout_batch_size,
                     "value_model": _value_source(prepared.options),
                     "stop_token": prepared.tokenizer.convert_ids_to_tokens(
                         trainer.stop_token_id)},
        "trainer": "train.ppo.PPOTrainer",
        "versions": {"torch": str(torch.__version__), "transformers": transformers.__version__},
    }
