"""The `train` command: sft, rm, dpo (TRL-backed), ppo (our own), grpo (TRL-backed), and
generate / eval to sample from and score what was trained.

Every flag is generated from the command's options model (`train.options`, see
`train.flags`), so the flags, `--config` files and the Python API share one definition.
"""

from __future__ import annotations

import typer

from curate.cli_support import cli_errors
from train.flags import COMMON, options_command
from train.options import (
    DPOOptions,
    EvalOptions,
    GenerateOptions,
    GRPOOptions,
    PPOOptions,
    RMOptions,
    SFTOptions,
)

# A training command interrupted leaves its run directory unfinished (no summary.json), for
# --resume: it is not "as before the run" as curate's commands leave their outputs.
run_errors = cli_errors(interrupted="interrupted: the run is not finished (no summary.json); "
                        "rerun with --resume to continue from its last checkpoint, or with "
                        "--overwrite to start again")

app = typer.Typer(
    name="train",
    help="Train on curated data: sft, rm, dpo (TRL-backed), ppo (our own), grpo (verifiable "
         "rewards); sample with generate, score with eval. Runs on CPU with `--model tiny` "
         "(built from the data, offline) and on GPUs as is.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

_SAMPLING = ("k", "temperature", "top_p", "max_new_tokens", "seed", "batch_size", "backend",
             "prompt_field", "prompt_template", "on_error")


@app.callback()
def main() -> None:
    """Train on curated data, sample from the result, and evaluate it."""


@app.command("sft")
@run_errors
@options_command(SFTOptions, ("data", "model", "output", "packing"), common=COMMON)
def sft(options: SFTOptions) -> None:
    """Supervised fine-tuning, with loss only on assistant tokens (and their end-of-turn token).

    Data: `messages` conversations or `prompt`/`completion` records, as `curate` writes them.

    Example:

        train sft --data sft.jsonl --model tiny -o runs/sft --max-steps 30
    """
    from train.sft import train_sft

    train_sft(options)


@app.command("rm")
@run_errors
@options_command(RMOptions, ("data", "model", "output", "center_rewards_coefficient",
                             "margin_scale"), common=COMMON)
def rm(options: RMOptions) -> None:
    """Reward model: a scalar head on a backbone (usually the SFT model), trained on pairs.

    Data: `prompt`/`chosen`/`rejected` pairs. Reports held-out pairwise accuracy beside the
    accuracy of "the longer answer wins" on the same pairs.

    Example:

        train rm --data pairs.jsonl --model runs/sft -o runs/rm --max-steps 50
    """
    from train.rm import train_rm

    train_rm(options)


@app.command("dpo")
@run_errors
@options_command(DPOOptions, ("data", "model", "output", "loss", "beta", "ld_alpha",
                              "precompute_ref", "simpo_gamma", "label_smoothing"), common=COMMON)
def dpo(options: DPOOptions) -> None:
    """Preference optimisation: DPO and its variants (TRL's DPOTrainer), SimPO (CPOTrainer).

    Data: `prompt`/`chosen`/`rejected` pairs. `--model` is usually the SFT run directory.
    `--beta` defaults by loss, from the papers: sigmoid 0.1, ipo 0.01, sigmoid_norm 5, simpo 2.

    Example:

        train dpo --data pairs.jsonl --model runs/sft -o runs/dpo --loss sigmoid --beta 0.1
    """
    from train.dpo import train_dpo

    train_dpo(options)


@app.command("ppo")
@run_errors
@options_command(PPOOptions, ("prompts", "policy", "reward_model", "reward_fn", "value_model",
                              "output", "kl_coef", "kl_estimator", "num_ppo_epochs",
                              "num_mini_batches", "response_length", "temperature", "cliprange",
                              "vf_coef", "entropy_coef", "missing_eos_penalty"),
                 common=COMMON)
def ppo(options: PPOOptions) -> None:
    """PPO (our own, TRL 1.12 field names): rollouts scored by a reward model, per-token KL
    to the reference, GAE with a value head, clipped surrogate and value losses.

    `--max-steps`, `--logging-steps` and `--eval-steps` count PPO iterations (one rollout
    batch and its updates each). With `--lora`, the reference is the policy with its
    adapter disabled (no second copy of the weights).

    Example:

        train ppo --prompts pairs.jsonl --policy runs/sft --reward-model runs/rm -o runs/ppo
    """
    from train.ppo_run import train_ppo

    train_ppo(options)


@app.command("grpo")
@run_errors
@options_command(GRPOOptions, ("prompts", "model", "output", "rewards", "reward_weights",
                               "reward_model", "reward_fn", "prompt_field", "answer_field",
                               "prompt_template", "num_generations", "max_completion_length",
                               "temperature", "top_p", "beta", "epsilon", "epsilon_high",
                               "loss_type", "scale_rewards", "num_iterations",
                               "mask_truncated_completions", "length_cache", "use_vllm"),
                 common=COMMON)
def grpo(options: GRPOOptions) -> None:
    """GRPO (TRL's GRPOTrainer) with verifiable rewards: each prompt's completions are checked
    against its reference answer the way `curate select`'s model-solve does (GSM8K `####`,
    `\\boxed{}`, numeric and LaTeX equivalence, Math-Verify), or scored by a reward model.

    Data: `prompt` / `question` / `problem` records with `answer` / `solution` references
    (GSM8K, MATH, s1 selections). `--batch-size` counts completions, so each step trains on
    batch-size x grad-accum x processes / num-generations prompts.

    Example:

        train grpo --prompts math.jsonl --model runs/sft -o runs/grpo --rewards accuracy,format
    """
    from train.grpo import train_grpo

    train_grpo(options)


@app.command("generate")
@cli_errors
@options_command(GenerateOptions, ("prompts", "output", *_SAMPLING, "source_name"),
                 arguments=("source",))
def generate(options: GenerateOptions) -> None:
    """Sample K completions per prompt from a run or model, batched (vLLM when installed and
    a GPU is present, else transformers).

    Output: one JSONL line per prompt, `{"id", "prompt": [messages], "responses": [{"content",
    "source"}...], "meta": {"generation": {...}, ...}}` (what `curate pairs --from-candidates`
    reads), with OUT.stats.json beside it.

    Example:

        train generate runs/dpo --prompts prompts.jsonl -o candidates.jsonl -k 4
    """
    from train.generate import run_generate

    run_generate(options)


@app.command("eval")
@cli_errors
@options_command(EvalOptions, ("math", "answer_field", "pairs", "ref", "against", "judge",
                               "prompts", "output", *_SAMPLING), arguments=("source",),
                 name="eval")
def evaluate(options: EvalOptions) -> None:
    """Score a run or model: math accuracy (`--math`), reward-model or DPO implicit-reward
    accuracy on pairs beside the length baseline (`--pairs`), and the win rate of its answers
    against another model's, judged by a reward model, raw and length-controlled
    (`--against --judge --prompts`). Writes eval.json, eval.html and eval.png.

    Example:

        train eval runs/grpo --math gsm8k_test.jsonl --pairs prefs.jsonl
    """
    from train.evaluate import run_eval

    run_eval(options)


if __name__ == "__main__":
    app()
