"""`train grpo`: TRL's GRPOTrainer with verifiable rewards, a reward model or a function.

Each step samples `num_generations` completions per prompt, scores them (`train.rewards`),
and moves the policy toward the completions that beat their group's mean (advantage =
reward minus the group mean, divided by the group's std unless `--scale-rewards none`).
Prompts come from any prompt, pair, conversation or question/problem file; the accuracy
reward needs each record's reference answer (`answer`, `solution`, ...).

The run directory, summary and plots are those of every method; held-out prompts (split
off like every method's, or `--eval-data`) are sampled at the end, so `summary.json`
reports held-out accuracy (`eval.accuracy`: the share of sampled completions with the
right answer).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from train.data import load_prompts
from train.fit import Measured, fit_to_max_length, prompt_ids
from train.options import GRPOOptions
from train.rundir import removed_if_setup_fails
from train.runner import Prepared, finish, make_config, prepare, trainer_args, trainer_inputs

TINY_LR, LR = 1e-3, 1e-6


def train_grpo(options: GRPOOptions) -> dict[str, Any]:
    """Run `train grpo`; returns the summary also written to RUN_DIR/summary.json."""
    with removed_if_setup_fails(options.output):
        prepared, trainer = build_grpo_trainer(options)
    return finish(prepared, trainer, method="grpo", extra=_extra(options))


def build_grpo_trainer(options: GRPOOptions) -> tuple[Prepared, Any]:
    from trl import GRPOConfig, GRPOTrainer

    from train.models import check_model_exists

    if options.reward_model:
        check_model_exists(options.reward_model, what="reward model")
    user_fn = _user_reward_fn(options)
    loader = partial(load_prompts, prompt_field=options.prompt_field,
                     template=options.prompt_template, answer_field=options.answer_field,
                     need_answers=options.needs_answers)
    prepared = prepare("grpo", options, loader, model=options.model, data="prompts",
                       needs_markers=False)
    _check_batch(options, prepared)
    tokenizer = prepared.tokenizer
    fit_to_max_length(prepared, lambda row: Measured(len(prompt_ids(tokenizer, row["prompt"])), 0),
                      room=options.max_completion_length, what="completion")
    _check_enough_prompts(options, prepared)
    common = trainer_args(prepared, tiny_lr=TINY_LR, lr=LR)
    group = options.num_generations
    common["per_device_eval_batch_size"] = -(-options.batch_size // group) * group
    config = make_config(
        GRPOConfig, common, options,
        num_generations=group,
        max_completion_length=options.max_completion_length,
        temperature=options.temperature,
        top_p=options.top_p,
        beta=options.beta,
        epsilon=options.epsilon,
        epsilon_high=options.epsilon_high,
        loss_type=options.loss_type,
        scale_rewards=options.scale_rewards,
        num_iterations=options.num_iterations,
        mask_truncated_completions=options.mask_truncated_completions,
        reward_weights=options.reward_weights,
        use_vllm=_use_vllm(options),
        vllm_mode="colocate",
        log_completions=False,
    )
    rewards = reward_functions(options, prepared, user_fn)
    trainer = GRPOTrainer(reward_funcs=rewards, args=config,
                          **trainer_inputs(prepared, "CAUSAL_LM"))
    return prepared, trainer


def reward_functions(options: GRPOOptions, prepared: Prepared, user_fn: Any) -> list[Any]:
    """The reward functions, in the order of `options.reward_names` (and of `reward_weights`)."""
    import torch

    from train import rewards

    made: dict[str, Any] = {
        "accuracy": rewards.accuracy,
        "format": rewards.format_reward,
        "length": rewards.length_reward(options.max_completion_length,
                                        options.length_cache
                                        or options.max_completion_length // 5),
    }
    if options.reward_model:
        dtype = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(prepared.device.precision)
        made["reward_model"] = rewards.reward_model_reward(options.reward_model, dtype=dtype)
    if user_fn is not None:
        made["reward_fn"] = rewards.function_reward(user_fn)
    return [rewards.named(made[name], name) for name in options.reward_names]


def _user_reward_fn(options: GRPOOptions) -> Any:
    from train.ppo import load_reward_fn

    return load_reward_fn(options.reward_fn) if options.reward_fn else None


def _check_batch(options: GRPOOptions, prepared: Prepared) -> None:
    """Every step needs whole groups: TRL's own message comes mid-way through set-up."""
    processes = prepared.run_dir.state.num_processes if prepared.run_dir.state else 1
    completions = options.batch_size * options.grad_accum * processes
    if completions % options.num_generations:
        raise ValueError(f"batch_size: batch-size x grad-accum x processes = {completions} "
                         f"completions per step, not a multiple of num_generations "
                         f"{options.num_generations}; each step trains on whole groups")


def _check_enough_prompts(options: GRPOOptions, prepared: Prepared) -> None:
    """TRL drops a last partial batch: with fewer prompts than one step needs, it would train
    zero steps and say nothing."""
    processes = prepared.run_dir.state.num_processes if prepared.run_dir.state else 1
    needed = options.batch_size * options.grad_accum * processes // options.num_generations
    if len(prepared.train) < needed:
        raise ValueError(f"prompts: {len(prepared.train)} training prompts, but each step "
                         f"samples {needed} (batch-size x grad-accum x processes / "
                         "num-generations); add prompts or lower --batch-size")


def _use_vllm(options: GRPOOptions) -> bool:
    """vLLM when asked, or by default when it is installed and a GPU is present."""
    import importlib.util

    import torch

    available = importlib.util.find_spec("vllm") is not None and torch.cuda.is_available()
    if options.use_vllm and not available:
        raise ValueError("use_vllm: needs the `vllm` package and a CUDA GPU")
    return available if options.use_vllm is None else options.use_vllm


def _extra(options: GRPOOptions) -> dict[str, Any]:
    return {"rewards": options.reward_names, "num_generations": options.num_generations,
            "beta": options.beta, "loss_type": options.loss_type}
