"""The `train` command: sft, rm, dpo (TRL-backed) and ppo (our own)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from curate.cli_support import Config, cli_errors
from curate.options import build_options

app = typer.Typer(
    name="train",
    help="Train on curated data: sft, rm, dpo (TRL-backed) and ppo (our own). Runs on CPU "
         "with `--model tiny` (built from the data, offline) and on GPUs as is.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_COMMON = "Common options"


@app.callback()
def main() -> None:
    """Train on curated data: sft, rm, dpo (TRL-backed) and ppo (our own)."""

Data = Annotated[str | None, typer.Option("--data", help="Input file (jsonl, json, parquet, HF "
                                          "dataset dir) or hub id.", show_default=False)]
Model = Annotated[str | None, typer.Option("--model", help="`tiny` (built from the data), a local "
                                           "model dir or a hub id. (default: tiny)",
                                           show_default=False)]
RunDirOpt = Annotated[Path | None, typer.Option("--output", "-o", help="RUN_DIR: model, metrics, "
                                                "summary and plots go here.", show_default=False)]
MaxSteps = Annotated[int | None, typer.Option("--max-steps", help="Optimizer steps (overrides "
                                              "--epochs).", rich_help_panel=_COMMON)]
Epochs = Annotated[float | None, typer.Option("--epochs", help="Passes over the data. (default: 1)",
                                              rich_help_panel=_COMMON)]
Lr = Annotated[float | None, typer.Option("--lr", help="Peak learning rate. (default: per method "
                                          "and model size)", rich_help_panel=_COMMON)]
LrScheduler = Annotated[str | None, typer.Option("--lr-scheduler", help="linear, cosine, "
                                                 "constant, constant_with_warmup, ... "
                                                 "(default: linear)", rich_help_panel=_COMMON)]
WarmupRatio = Annotated[float | None, typer.Option("--warmup-ratio", help="Fraction of steps "
                                                   "warming the learning rate up. (default: 0)",
                                                   rich_help_panel=_COMMON)]
BatchSize = Annotated[int | None, typer.Option("--batch-size", help="Per-device batch size. "
                                               "(default: 8)", rich_help_panel=_COMMON)]
GradAccum = Annotated[int | None, typer.Option("--grad-accum", help="Gradient accumulation steps. "
                                               "(default: 1)", rich_help_panel=_COMMON)]
MaxLength = Annotated[int | None, typer.Option("--max-length", help="Max tokens per sequence. "
                                               "(default: 1024)", rich_help_panel=_COMMON)]
Seed = Annotated[int | None, typer.Option("--seed", help="Random seed. (default: 0)",
                                          rich_help_panel=_COMMON)]
EvalSplit = Annotated[float | None, typer.Option("--eval-split", help="Held-out fraction (< 1) or "
                                                 "count. (default: 0.1)", rich_help_panel=_COMMON)]
Lora = Annotated[str | None, typer.Option("--lora", help="LoRA adapters, e.g. r=16,alpha=32 "
                                          "(merged into the saved model).",
                                          rich_help_panel=_COMMON)]
Resume = Annotated[bool | None, typer.Option("--resume", help="Continue from RUN_DIR's last "
                                             "checkpoint.", rich_help_panel=_COMMON)]
Overwrite = Annotated[bool | None, typer.Option("--overwrite", help="Replace an existing RUN_DIR.",
                                                rich_help_panel=_COMMON)]
ReportTo = Annotated[str | None, typer.Option("--report-to", help="none, tensorboard or wandb. "
                                              "(default: none)", rich_help_panel=_COMMON)]
OnError = Annotated[str | None, typer.Option("--on-error", help="raise: stop at the first bad "
                                             "record (exit 1). skip: write bad records to "
                                             "RUN_DIR/rejects.jsonl.", rich_help_panel=_COMMON)]
ChatTemplate = Annotated[Path | None, typer.Option("--chat-template", help="A .jinja template "
                                                   "with {% generation %} markers.",
                                                   rich_help_panel=_COMMON)]


@app.command("sft")
@cli_errors
def sft(
    data: Data = None, model: Model = None, output: RunDirOpt = None, config: Config = None,
    packing: Annotated[bool | None, typer.Option(
        "--packing/--no-packing", help="Pack sequences into full rows (best-fit decreasing, no "
        "cross-attention between them). (default: no-packing)")] = None,
    max_steps: MaxSteps = None, epochs: Epochs = None, lr: Lr = None,
    lr_scheduler: LrScheduler = None, warmup_ratio: WarmupRatio = None,
    batch_size: BatchSize = None,
    grad_accum: GradAccum = None, max_length: MaxLength = None, seed: Seed = None,
    eval_split: EvalSplit = None, lora: Lora = None, resume: Resume = None,
    overwrite: Overwrite = None, report_to: ReportTo = None, on_error: OnError = None,
    chat_template: ChatTemplate = None,
) -> None:
    """Supervised fine-tuning, with loss only on assistant tokens (and their end-of-turn token).

    Data: `messages` conversations or `prompt`/`completion` records, as `curate` writes them.

    Example:

        train sft --data sft.jsonl --model tiny -o runs/sft --max-steps 30
    """
    from train.options import SFTOptions
    from train.sft import train_sft

    options = build_options(
        SFTOptions, config=config, where="train sft", data=data, model=model, output=output,
        packing=packing, max_steps=max_steps, epochs=epochs, lr=lr,
        lr_scheduler=lr_scheduler, warmup_ratio=warmup_ratio, batch_size=batch_size,
        grad_accum=grad_accum, max_length=max_length, seed=seed, eval_split=eval_split,
        lora=lora, resume=resume, overwrite=overwrite, report_to=report_to, on_error=on_error,
        chat_template=chat_template)
    train_sft(options)


@app.command("rm")
@cli_errors
def rm(
    data: Data = None, model: Model = None, output: RunDirOpt = None, config: Config = None,
    center_rewards_coefficient: Annotated[float | None, typer.Option(
        "--center-rewards-coefficient", help="Weight of the (r_chosen + r_rejected)^2 penalty "
        "that centres rewards on 0. (default: 0.01)")] = None,
    margin_scale: Annotated[float | None, typer.Option(
        "--margin-scale", help="margin = scale x meta.strength for pairs from `label export` "
        "(1.0 better, 2.0 much better); 0 disables margins. (default: 1.0)")] = None,
    max_steps: MaxSteps = None, epochs: Epochs = None, lr: Lr = None,
    lr_scheduler: LrScheduler = None, warmup_ratio: WarmupRatio = None,
    batch_size: BatchSize = None,
    grad_accum: GradAccum = None, max_length: MaxLength = None, seed: Seed = None,
    eval_split: EvalSplit = None, lora: Lora = None, resume: Resume = None,
    overwrite: Overwrite = None, report_to: ReportTo = None, on_error: OnError = None,
    chat_template: ChatTemplate = None,
) -> None:
    """Reward model: a scalar head on a backbone (usually the SFT model), trained on pairs.

    Data: `prompt`/`chosen`/`rejected` pairs. Reports pairwise accuracy on the held-out split.

    Example:

        train rm --data pairs.jsonl --model runs/sft -o runs/rm --max-steps 50
    """
    from train.options import RMOptions
    from train.rm import train_rm

    options = build_options(
        RMOptions, config=config, where="train rm", data=data, model=model, output=output,
        center_rewards_coefficient=center_rewards_coefficient, margin_scale=margin_scale,
        max_steps=max_steps, epochs=epochs, lr=lr, lr_scheduler=lr_scheduler,
        warmup_ratio=warmup_ratio, batch_size=batch_size, grad_accum=grad_accum,
        max_length=max_length, seed=seed, eval_split=eval_split, lora=lora, resume=resume,
        overwrite=overwrite, report_to=report_to, on_error=on_error, chat_template=chat_template)
    train_rm(options)


@app.command("dpo")
@cli_errors
def dpo(
    data: Data = None, model: Model = None, output: RunDirOpt = None, config: Config = None,
    loss: Annotated[str | None, typer.Option(
        "--loss", help="sigmoid (DPO), ipo, sigmoid_norm (length-normalised), simpo "
        "(reference-free), or any TRL DPO loss type. (default: sigmoid)")] = None,
    beta: Annotated[float | None, typer.Option(
        "--beta", help="Strength of the KL constraint. (default: 0.1; simpo 2.0)")] = None,
    ld_alpha: Annotated[float | None, typer.Option(
        "--ld-alpha", help="LD-DPO: weight (0-1) of the longer answer's tokens beyond the "
        "shorter's length.")] = None,
    precompute_ref: Annotated[bool | None, typer.Option(
        "--precompute-ref", help="Compute reference log-probs once, before training.")] = None,
    simpo_gamma: Annotated[float | None, typer.Option(
        "--simpo-gamma", help="SimPO target reward margin. (default: 0.5)")] = None,
    max_steps: MaxSteps = None, epochs: Epochs = None, lr: Lr = None,
    lr_scheduler: LrScheduler = None, warmup_ratio: WarmupRatio = None,
    batch_size: BatchSize = None,
    grad_accum: GradAccum = None, max_length: MaxLength = None, seed: Seed = None,
    eval_split: EvalSplit = None, lora: Lora = None, resume: Resume = None,
    overwrite: Overwrite = None, report_to: ReportTo = None, on_error: OnError = None,
    chat_template: ChatTemplate = None,
) -> None:
    """Preference optimisation: DPO and its variants (TRL's DPOTrainer), SimPO (CPOTrainer).

    Data: `prompt`/`chosen`/`rejected` pairs. `--model` is usually the SFT run directory.

    Example:

        train dpo --data pairs.jsonl --model runs/sft -o runs/dpo --loss sigmoid --beta 0.1
    """
    from train.dpo import train_dpo
    from train.options import DPOOptions

    options = build_options(
        DPOOptions, config=config, where="train dpo", data=data, model=model, output=output,
        loss=loss, beta=beta, ld_alpha=ld_alpha, precompute_ref=precompute_ref,
        simpo_gamma=simpo_gamma, max_steps=max_steps, epochs=epochs, lr=lr,
        lr_scheduler=lr_scheduler, warmup_ratio=warmup_ratio,
        batch_size=batch_size, grad_accum=grad_accum, max_length=max_length, seed=seed,
        eval_split=eval_split, lora=lora, resume=resume, overwrite=overwrite,
        report_to=report_to, on_error=on_error, chat_template=chat_template)
    train_dpo(options)


@app.command("ppo")
@cli_errors
def ppo(
    prompts: Annotated[str | None, typer.Option(
        "--prompts", help="Prompt records (`prompt`: a list of messages), or a pair or "
        "conversation file whose prompts are used.", show_default=False)] = None,
    policy: Annotated[str | None, typer.Option(
        "--policy", help="The SFT model to improve (a run directory or hub id).",
        show_default=False)] = None,
    reward_model: Annotated[str | None, typer.Option(
        "--reward-model", help="A `train rm` run directory (or any 1-label sequence "
        "classifier).", show_default=False)] = None,
    reward_fn: Annotated[str | None, typer.Option(
        "--reward-fn", help="Instead of a reward model: module:function or file.py:function "
        "taking (prompts, responses) and returning floats.", show_default=False)] = None,
    value_model: Annotated[str | None, typer.Option(
        "--value-model", help="Critic initialisation. (default: the reward model, else the "
        "policy)", show_default=False)] = None,
    output: RunDirOpt = None, config: Config = None,
    kl_coef: Annotated[float | None, typer.Option(
        "--kl-coef", help="Weight of the per-token KL penalty. (default: 0.05)")] = None,
    kl_estimator: Annotated[str | None, typer.Option(
        "--kl-estimator", help="k1 (log p - log q) or k3 (non-negative, lower variance). "
        "(default: k1)")] = None,
    num_ppo_epochs: Annotated[int | None, typer.Option(
        "--num-ppo-epochs", help="Passes over each rollout batch. (default: 4)")] = None,
    num_mini_batches: Annotated[int | None, typer.Option(
        "--num-mini-batches", help="Minibatches per pass; the rollout batch is batch-size x "
        "grad-accum x this. (default: 1)")] = None,
    response_length: Annotated[int | None, typer.Option(
        "--response-length", help="Max new tokens per response. (default: 53)")] = None,
    temperature: Annotated[float | None, typer.Option(
        "--temperature", help="Sampling temperature. (default: 0.7)")] = None,
    cliprange: Annotated[float | None, typer.Option(
        "--cliprange", help="PPO ratio clip epsilon. (default: 0.2)")] = None,
    vf_coef: Annotated[float | None, typer.Option(
        "--vf-coef", help="Value loss weight c1. (default: 0.5)")] = None,
    entropy_coef: Annotated[float | None, typer.Option(
        "--entropy-coef", help="Entropy bonus weight c2. (default: 0.01)")] = None,
    missing_eos_penalty: Annotated[float | None, typer.Option(
        "--missing-eos-penalty", help="Subtracted from the score of a response without EOS. "
        "(default: 1.0)")] = None,
    max_steps: MaxSteps = None, epochs: Epochs = None, lr: Lr = None,
    lr_scheduler: LrScheduler = None, warmup_ratio: WarmupRatio = None,
    batch_size: BatchSize = None,
    grad_accum: GradAccum = None, max_length: MaxLength = None, seed: Seed = None,
    eval_split: EvalSplit = None, resume: Resume = None, overwrite: Overwrite = None,
    report_to: ReportTo = None, on_error: OnError = None, chat_template: ChatTemplate = None,
) -> None:
    """PPO (our own, TRL 1.12 field names): rollouts scored by a reward model, per-token KL
    to the reference, GAE with a value head, clipped surrogate and value losses.

    `--max-steps` counts PPO iterations (one rollout batch and its updates each).

    Example:

        train ppo --prompts pairs.jsonl --policy runs/sft --reward-model runs/rm -o runs/ppo
    """
    from train.options import PPOOptions
    from train.ppo_run import train_ppo

    options = build_options(
        PPOOptions, config=config, where="train ppo", prompts=prompts, policy=policy,
        reward_model=reward_model, reward_fn=reward_fn, value_model=value_model, output=output,
        kl_coef=kl_coef, kl_estimator=kl_estimator, num_ppo_epochs=num_ppo_epochs,
        num_mini_batches=num_mini_batches, response_length=response_length,
        temperature=temperature, cliprange=cliprange, vf_coef=vf_coef, entropy_coef=entropy_coef,
        missing_eos_penalty=missing_eos_penalty, max_steps=max_steps, epochs=epochs, lr=lr,
        lr_scheduler=lr_scheduler, warmup_ratio=warmup_ratio,
        batch_size=batch_size, grad_accum=grad_accum, max_length=max_length, seed=seed,
        eval_split=eval_split, resume=resume, overwrite=overwrite, report_to=report_to,
        on_error=on_error, chat_template=chat_template)
    train_ppo(options)


if __name__ == "__main__":
    app()
