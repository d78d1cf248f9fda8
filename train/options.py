"""Options of every `train` command: one pydantic model each, shared fields in `TrainOptions`.

Flags cover the common case (they are generated from these fields, see `train.flags`); a
`--config` YAML file can set every field below (validated here, unknown keys rejected), and
flags override the file. `trainer_args` passes any other field straight to the
TRL/transformers config (e.g. `weight_decay`, `optim`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TINY = "tiny"
ReportTo = Literal["none", "tensorboard", "wandb"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]
Attention = Literal["sdpa", "eager", "flash_attention_2", "flash_attention_3"]

# TRL's DPOTrainer loss types; `simpo` is routed to the CPO trainer (reference-free).
DPO_LOSSES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
              "aot", "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")
PREFERENCE_LOSSES = (*DPO_LOSSES, "simpo")

# beta by loss, from the papers (`--beta` overrides):
# * sigmoid (DPO, Rafailov et al. 2023): 0.1;
# * ipo: tau = 0.01, the best value of the IPO sweep in Hugging Face's "Preference tuning LLMs
#   with DPO methods" (2024, made with the IPO authors; TRL averages IPO's log-ratios per token);
# * sigmoid_norm (length-normalised DPO): 5, as Tulu 3 (Lambert et al. 2024) trains it;
# * simpo: 2.0 with gamma 1.0 (SimPO, Meng et al. 2024, Llama-3-Base setting; gamma/beta 0.5).
DEFAULT_BETA = {"ipo": 0.01, "sigmoid_norm": 5.0, "simpo": 2.0}
DEFAULT_SIMPO_GAMMA = 1.0
# Losses that read `label_smoothing` (TRL 1.16's DPOTrainer; CPOTrainer's simpo).
SMOOTHED_LOSSES = ("exo_pair", "robust", "aot", "aot_unpaired", "simpo")


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoraOptions(Strict):
    """LoRA adapters via peft. `--lora r=16,alpha=32[,dropout=0.05,targets=q_proj+v_proj]`."""

    r: int = Field(16, gt=0)
    alpha: float = Field(32, gt=0)
    dropout: float = Field(0.05, ge=0, lt=1)
    targets: list[str] | str = "all-linear"

    @classmethod
    def parse(cls, spec: str) -> LoraOptions:
        """`"r=16,alpha=32,targets=q_proj+v_proj"` -> LoraOptions (`+` separates targets)."""
        values: dict[str, Any] = {}
        for part in filter(None, (p.strip() for p in spec.split(","))):
            key, sep, value = part.partition("=")
            if not sep:
                raise ValueError(f"--lora: expected key=value, got {part!r} (e.g. r=16,alpha=32)")
            values[key.strip()] = value.strip().split("+") if key.strip() == "targets" else value
        if isinstance(values.get("targets"), list) and len(values["targets"]) == 1:
            values["targets"] = values["targets"][0]
        return cls.model_validate(values)


class TinyOptions(Strict):
    """Shape of the embedded `--model tiny` (see `train.tiny.build_tiny_model`)."""

    vocab_size: int = Field(4096, ge=300)
    hidden_size: int = Field(128, gt=0)
    num_layers: int = Field(2, gt=0)
    num_heads: int = Field(4, gt=0)
    num_kv_heads: int = Field(2, gt=0)
    intermediate_size: int = Field(384, gt=0)


Scheduler = Literal["linear", "cosine", "cosine_with_min_lr", "constant", "constant_with_warmup",
                    "polynomial", "inverse_sqrt", "warmup_stable_decay"]


# transformers/TRL config names accepted in a config file, and the fields they set. When a
# file uses both names (or a flag sets ours), ours wins.
TRL_NAMES = {"output_dir": "output", "num_train_epochs": "epochs", "learning_rate": "lr",
             "lr_scheduler_type": "lr_scheduler", "per_device_train_batch_size": "batch_size",
             "gradient_accumulation_steps": "grad_accum", "sft_model_path": "policy",
             "reward_model_path": "reward_model"}


class TrainOptions(Strict):
    """Fields every training command has. A config file may also use the TrainingArguments
    names (`output_dir`, `learning_rate`, `per_device_train_batch_size`, ...)."""

    output: Path = Field(description="RUN_DIR: model, metrics, summary and plots go here.")
    max_steps: int = Field(-1, ge=-1, description="Optimizer steps (overrides --epochs); -1 runs "
                           "--epochs instead.")
    epochs: float = Field(1.0, gt=0, description="Passes over the data.")
    lr: float | None = Field(None, gt=0, description="Peak learning rate. Default: per method "
                             "and model size.")
    lr_scheduler: Scheduler = Field("linear", description="linear, cosine, constant, "
                                    "constant_with_warmup, ...")
    warmup_ratio: float = Field(0.0, ge=0, lt=1, description="Fraction of steps warming the "
                                "learning rate up.")
    batch_size: int = Field(8, gt=0, description="Per-device batch size.")
    grad_accum: int = Field(1, gt=0, description="Gradient accumulation steps.")
    max_length: int = Field(1024, gt=0, description="Max tokens per sequence.")
    seed: int = Field(0, description="Random seed.")
    eval_split: float = Field(0.1, ge=0, description="Held-out fraction (< 1) or count of "
                              "records, split by prompt: no prompt is in both sets.")
    eval_data: Path | str | None = Field(None, description="Held-out records from this file "
                                         "instead of --eval-split.")
    eval_steps: int | None = Field(None, gt=0, description="Also evaluate every N steps.")
    logging_steps: int = Field(1, gt=0, description="Log metrics every N steps.")
    save_steps: int = Field(500, gt=0, description="Save a checkpoint every N steps.")
    save_total_limit: int = Field(2, gt=0)
    report_to: ReportTo = Field("none", description="none, tensorboard or wandb.")
    precision: Precision = Field("auto", description="auto: bf16 on GPUs that have it, fp16 on "
                                 "older GPUs, fp32 on CPU.")
    bf16: bool | None = Field(None, description="bf16 mixed precision (sets `precision`). "
                              "Default: on for GPUs that support it.")
    gradient_checkpointing: bool | None = Field(
        None, description="Recompute activations in the backward pass (less memory, ~30% more "
        "compute). Default: on, except for the tiny model.")
    attn_implementation: Attention | None = Field(
        None, description="sdpa, eager or flash_attention_2 (needs the flash-attn package and "
        "a GPU). Default: the model's own (sdpa for most).")
    lora: LoraOptions | None = Field(None, description="LoRA adapters, e.g. r=16,alpha=32 "
                                     "(merged into the saved model).")
    chat_template: Path | None = Field(None, description="A .jinja chat template with "
                                       "{% generation %} markers, overriding the model's.")
    resume: bool = Field(False, description="Continue from RUN_DIR's last checkpoint.")
    force: bool = Field(False, description="With --resume: continue even though the data "
                        "differ from the run's.")
    overwrite: bool = Field(False, description="Replace a RUN_DIR an earlier `train` run wrote "
                            "(refused for any other directory).")
    on_error: Literal["raise", "skip"] = Field(
        "raise", description="raise: stop at the first bad record (exit 1). skip: write bad "
        "records to RUN_DIR/rejects.jsonl.")
    push_to_hub: str | None = Field(None, description="After training, upload the model and a "
                                    "generated model card to this hub repo (org/name).")
    hub_private: bool = Field(True, description="Create the hub repo as private.")
    tiny: TinyOptions = Field(default_factory=TinyOptions)
    trainer_args: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="before")
    @classmethod
    def _trl_names(cls, values: Any) -> Any:
        if isinstance(values, dict):
            values = dict(values)
            for theirs, ours in TRL_NAMES.items():
                if theirs in values and ours in cls.model_fields:
                    values.setdefault(ours, values.pop(theirs))
        return values

    @field_validator("lora", mode="before")
    @classmethod
    def _lora_spec(cls, value: Any) -> Any:
        return LoraOptions.parse(value) if isinstance(value, str) else value

    @field_validator("max_steps")
    @classmethod
    def _steps(cls, value: int) -> int:
        if value == 0:
            raise ValueError("0 steps would train nothing; give a positive number, or -1 to "
                             "train for --epochs")
        return value

    @field_validator("eval_split")
    @classmethod
    def _eval_count(cls, value: float) -> float:
        if value >= 1 and value != int(value):
            raise ValueError("a count of held-out records must be a whole number")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> TrainOptions:
        if self.resume and self.overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")
        if self.force and not self.resume:
            raise ValueError("force: --force only applies with --resume")
        if self.bf16 is not None:
            wanted = "bf16" if self.bf16 else "fp32"
            if self.precision not in ("auto", wanted):
                raise ValueError(f"bf16: --{'' if self.bf16 else 'no-'}bf16 contradicts "
                                 f"precision {self.precision}")
            self.precision = wanted
        if self.push_to_hub is not None and self.push_to_hub.count("/") != 1:
            raise ValueError(f"push_to_hub: expected a repo id org/name, got {self.push_to_hub!r}")
        return self

    @property
    def input_paths(self) -> list[Path]:
        """Local input files, which a run directory must not contain (see `RunDir.check`)."""
        names = ("data", "prompts", "eval_data", "chat_template")
        return [Path(value) for name in names
                if isinstance(value := getattr(self, name, None), (str, Path))
                and Path(value).exists()]


class OfflineOptions(TrainOptions):
    """Commands that train `model` on a data file: sft, rm, dpo."""

    model: str = Field(TINY, description="`tiny` (built from the data, offline), a local model "
                       "or run directory, or a hub id.")
    data: Path | str = Field(description="Input file (jsonl, json, parquet, HF dataset dir) or "
                             "hub id.")


class SFTOptions(OfflineOptions):
    """`train sft`: supervised fine-tuning on assistant tokens only."""

    packing: bool = Field(False, description="Pack sequences into full rows (best-fit "
                          "decreasing, no cross-attention between them).")
    packing_strategy: Literal["bfd", "wrapped"] = "bfd"
    assistant_only_loss: bool = Field(
        True, description="Train only on assistant tokens (and their end-of-turn token).")


class RMOptions(OfflineOptions):
    """`train rm`: a scalar-head reward model on preference pairs."""

    center_rewards_coefficient: float | None = Field(
        0.01, ge=0, description="Weight of the (r_chosen + r_rejected)^2 penalty that centres "
        "rewards on 0.")
    margin_scale: float = Field(1.0, ge=0, description="margin = scale x meta.strength for "
                                "pairs from `label export` (1.0 better, 2.0 much better); 0 "
                                "disables margins.")


class DPOOptions(OfflineOptions):
    """`train dpo`: the DPO family (TRL's DPOTrainer) and SimPO (TRL's CPOTrainer).

    Label strength (`meta.strength` from `label export`) is not used by DPO: TRL's losses
    take no per-pair weight. It is counted in the summary; `train rm` turns it into margins.
    """

    loss: str = Field("sigmoid", description="sigmoid (DPO), ipo, sigmoid_norm "
                      "(length-normalised), simpo (reference-free), or any TRL DPO loss type.")
    beta: float | None = Field(None, gt=0, description="Strength of the KL constraint. Default "
                               "by loss: sigmoid 0.1, ipo 0.01, sigmoid_norm 5 (Tulu 3), "
                               "simpo 2.0.")
    ld_alpha: float | None = Field(None, ge=0, le=1, description="LD-DPO: weight (0-1) of the "
                                   "longer answer's tokens beyond the shorter's length.")
    precompute_ref: bool = Field(False, description="Compute reference log-probs once, before "
                                 "training.")
    simpo_gamma: float | None = Field(None, ge=0, description="SimPO target reward margin. "
                                      "Default: 1.0 (SimPO paper).")
    label_smoothing: float = Field(0.0, ge=0, lt=0.5, description="Assumed label noise (robust, "
                                   "exo_pair, aot, simpo).")

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, value: str) -> str:
        if value not in PREFERENCE_LOSSES:
            raise ValueError(f"unknown loss {value!r}; choose one of "
                             f"{', '.join(PREFERENCE_LOSSES)}")
        return value

    @model_validator(mode="after")
    def _reference_free(self) -> DPOOptions:
        if self.loss == "simpo" and (self.precompute_ref or self.ld_alpha is not None):
            raise ValueError("loss: simpo is reference-free and length-averaged; "
                             "--precompute-ref and --ld-alpha do not apply")
        return self

    @property
    def ignored(self) -> list[str]:
        """Options set to a value that does nothing with this loss (warned about at start)."""
        notes = []
        if self.label_smoothing and self.loss not in SMOOTHED_LOSSES:
            notes.append(f"label_smoothing does nothing with --loss {self.loss} (it applies to "
                         f"{', '.join(SMOOTHED_LOSSES)})")
        if self.simpo_gamma is not None and self.loss != "simpo":
            notes.append(f"simpo_gamma does nothing with --loss {self.loss}")
        return notes

    @property
    def resolved_beta(self) -> float:
        return self.beta if self.beta is not None else DEFAULT_BETA.get(self.loss, 0.1)

    @property
    def resolved_simpo_gamma(self) -> float:
        return self.simpo_gamma if self.simpo_gamma is not None else DEFAULT_SIMPO_GAMMA


class RolloutOptions(TrainOptions):
    """What PPO and GRPO share: a prompt file, rewards from a model or a function, LoRA."""

    prompts: Path | str = Field(description="Prompt records (`prompt`: a string or messages), "
                                "or a pair or conversation file whose prompts are used.")
    reward_model: str | None = Field(None, description="A `train rm` run directory (or any "
                                     "1-label sequence classifier).")
    reward_fn: str | None = Field(None, description="module:function or file.py:function "
                                  "taking (prompts, responses) and returning floats.")
    temperature: float = Field(0.7, gt=0, description="Sampling temperature.")


class PPOOptions(RolloutOptions):
    """`train ppo`: our PPO. Field names follow TRL 1.12's `PPOConfig` where they exist, and
    its names are accepted for the others (`sft_model_path`, `reward_model_path`,
    `total_episodes`), so a TRL 1.12 PPO config moves across.

    One PPO iteration samples `batch_size * grad_accum * num_mini_batches` prompts, rolls
    them out, then runs `num_ppo_epochs` passes of `num_mini_batches` minibatches over
    them. `max_steps` counts iterations; else `total_episodes` prompts are rolled out;
    else `epochs` passes over the prompts. `logging_steps` and `eval_steps` count iterations.
    """

    policy: str = Field(description="The SFT model to improve (a run directory or hub id).")
    total_episodes: int | None = Field(None, gt=0)
    value_model: str | None = Field(None, description="Critic initialisation. Default: the "
                                    "reward model, else the policy (with a new value head).")
    num_ppo_epochs: int = Field(4, gt=0, description="Passes over each rollout batch.")
    num_mini_batches: int = Field(1, gt=0, description="Minibatches per pass; the rollout batch "
                                  "is batch-size x grad-accum x this.")
    response_length: int = Field(53, gt=0, description="Max new tokens per response.")
    kl_coef: float = Field(0.05, ge=0, description="Weight of the per-token KL penalty.")
    kl_estimator: Literal["k1", "k3"] = Field("k1", description="k1 (log p - log q) or k3 "
                                              "(non-negative, lower variance).")
    cliprange: float = Field(0.2, gt=0, description="PPO ratio clip epsilon.")
    cliprange_value: float = Field(0.2, gt=0)
    vf_coef: float = Field(0.5, ge=0, description="Value loss weight c1.")
    entropy_coef: float = Field(0.01, ge=0, description="Entropy bonus weight c2.")
    gamma: float = Field(1.0, ge=0, le=1)
    lam: float = Field(0.95, ge=0, le=1)
    whiten_rewards: bool = False
    missing_eos_penalty: float | None = Field(1.0, ge=0, description="Subtracted from the score "
                                              "of a response without EOS.")
    stop_token: Literal["eos"] = Field("eos", description="TRL's name: stop at the policy's "
                                       "end-of-turn token (see `stop_token_id`).")
    stop_token_id: int | None = Field(None, ge=0, description="Token that ends a response; "
                                      "default: the chat template's end-of-turn token, else EOS.")
    local_rollout_forward_batch_size: int = Field(64, gt=0)
    logprob_chunk: int = Field(
        512, gt=0, description="Response positions per chunk when computing log-probs: "
        "full-vocabulary logits exist for one chunk at a time, never the whole rollout.")
    max_grad_norm: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _one_reward(self) -> PPOOptions:
        if (self.reward_model is None) == (self.reward_fn is None):
            raise ValueError("reward_model: give exactly one of --reward-model or --reward-fn")
        return self

    @property
    def rollout_batch_size(self) -> int:
        return self.batch_size * self.grad_accum * self.num_mini_batches


VERIFIABLE_REWARDS = ("accuracy", "format", "length")


class GRPOOptions(RolloutOptions):
    """`train grpo`: TRL's GRPOTrainer with verifiable rewards (answers checked like `curate
    select`'s model-solve), a reward model, or a reward function.

    `batch_size` counts completions per device and micro-step, as in TRL: each optimizer
    step trains on `batch_size x grad_accum x processes / num_generations` prompts.
    """

    model: str = Field(description="The model to improve: an SFT run directory, a local model "
                       "or a hub id.")
    rewards: list[str] | None = Field(
        None, description="Comma-separated: accuracy (final answer matches the reference), "
        "format (states a final answer as \\boxed{} or ####), length (DAPO's soft overlong "
        "penalty). Default: accuracy, unless --reward-model or --reward-fn is given.")
    reward_weights: list[float] | None = Field(None, description="One weight per reward, in "
                                               "order (rewards, then model, then function).")
    prompt_field: str | None = Field(None, description="Column holding the question. Default: "
                                     "prompt, question, problem or instruction.")
    answer_field: str | None = Field(None, description="Column holding the reference. Default: "
                                     "answer, final_answer, reference or solution (its "
                                     "#### or \\boxed{} answer is used).")
    prompt_template: str = Field("{prompt}", description="User turn built from a string "
                                 "question; {prompt} is the question.")
    num_generations: int = Field(8, ge=2, description="Completions sampled per prompt (the "
                                 "group).")
    max_completion_length: int = Field(256, gt=0, description="Max new tokens per completion.")
    temperature: float = Field(1.0, gt=0, description="Sampling temperature.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    beta: float = Field(0.0, ge=0, description="KL coefficient to the reference model; 0 loads "
                        "no reference (DAPO, Dr. GRPO). DeepSeek-R1 used 0.001.")
    epsilon: float = Field(0.2, gt=0, description="Lower clip range of the importance ratio.")
    epsilon_high: float | None = Field(None, gt=0, description="Upper clip range (DAPO: 0.28). "
                                       "Default: epsilon.")
    loss_type: Literal["grpo", "dr_grpo", "dapo", "bnpo"] = Field(
        "dapo", description="How token losses are averaged (TRL's default: dapo).")
    scale_rewards: Literal["group", "batch", "none"] = Field(
        "group", description="Divide advantages by the reward std of the group, the batch, or "
        "not at all (Dr. GRPO).")
    num_iterations: int = Field(1, gt=0, description="Updates per generated batch (mu).")
    mask_truncated_completions: bool = Field(False, description="Leave completions cut at "
                                             "max_completion_length out of the loss (DAPO).")
    length_cache: int | None = Field(None, gt=0, description="Length reward: penalty window "
                                     "before max_completion_length. Default: a fifth of it.")
    use_vllm: bool | None = Field(None, description="Generate with vLLM (colocated). Default: "
                                  "when vllm is installed and a GPU is present.")

    @field_validator("rewards", mode="before")
    @classmethod
    def _reward_list(cls, value: Any) -> Any:
        return [part.strip() for part in value.split(",") if part.strip()] \
            if isinstance(value, str) else value

    @field_validator("reward_weights", mode="before")
    @classmethod
    def _weight_list(cls, value: Any) -> Any:
        return [float(part) for part in value.split(",") if part.strip()] \
            if isinstance(value, str) else value

    @field_validator("rewards")
    @classmethod
    def _known_rewards(cls, value: list[str] | None) -> list[str] | None:
        for name in value or []:
            if name not in VERIFIABLE_REWARDS:
                raise ValueError(f"unknown reward {name!r}; choose from "
                                 f"{', '.join(VERIFIABLE_REWARDS)}")
        return value

    @field_validator("prompt_template")
    @classmethod
    def _has_slot(cls, value: str) -> str:
        if "{prompt}" not in value:
            raise ValueError("the template must contain {prompt}")
        return value

    @model_validator(mode="after")
    def _reward_sources(self) -> GRPOOptions:
        if self.rewards is None:
            self.rewards = [] if self.reward_model or self.reward_fn else ["accuracy"]
        if not self.reward_names:
            raise ValueError("rewards: no reward given (--rewards, --reward-model or --reward-fn)")
        if self.reward_weights is not None and len(self.reward_weights) != len(self.reward_names):
            raise ValueError(f"reward_weights: {len(self.reward_weights)} weights for "
                             f"{len(self.reward_names)} rewards ({', '.join(self.reward_names)})")
        return self

    @property
    def reward_names(self) -> list[str]:
        return [*(self.rewards or []), *(["reward_model"] if self.reward_model else []),
                *(["reward_fn"] if self.reward_fn else [])]

    @property
    def needs_answers(self) -> bool:
        return "accuracy" in (self.rewards or [])


class SamplingOptions(Strict):
    """How `train generate` and `train eval` sample from a model."""

    source: str = Field(description="RUN_DIR or model: a run directory, a local model or a hub "
                        "id.")
    k: int = Field(1, gt=0, description="Completions per prompt.")
    temperature: float = Field(0.7, ge=0, description="Sampling temperature; 0 decodes "
                               "greedily.")
    top_p: float = Field(1.0, gt=0, le=1, description="Nucleus sampling mass.")
    max_new_tokens: int = Field(256, gt=0, description="Max tokens per completion.")
    seed: int = Field(0, description="Random seed.")
    batch_size: int = Field(16, gt=0, description="Prompts per generation batch.")
    backend: Literal["auto", "vllm", "transformers"] = Field(
        "auto", description="auto: vLLM when installed and a GPU is present, else transformers.")
    prompt_field: str | None = Field(None, description="Column holding the prompt. Default: "
                                     "prompt, question, problem or instruction.")
    prompt_template: str = Field("{prompt}", description="User turn built from a string prompt; "
                                 "{prompt} is the prompt.")
    on_error: Literal["raise", "skip"] = Field("raise", description="raise: stop at the first "
                                               "bad record. skip: write it to OUT.rejects.jsonl.")

    @model_validator(mode="after")
    def _greedy_once(self) -> SamplingOptions:
        if self.temperature == 0 and self.k > 1:
            raise ValueError("k: greedy decoding (temperature 0) gives the same answer k times; "
                             "sample with a temperature > 0")
        return self


class GenerateOptions(SamplingOptions):
    """`train generate`: K sampled completions per prompt, one JSONL line per prompt."""

    prompts: Path | str = Field(description="Prompt records: `prompt` (string or messages), "
                                "a pair or conversation file, or question/problem records.")
    output: Path = Field(description="OUT.jsonl, with OUT.stats.json beside it.")
    source_name: str | None = Field(None, description="`source` of each response. Default: the "
                                    "run directory's name or the hub id.")


class EvalOptions(SamplingOptions):
    """`train eval`: math accuracy, pair accuracy, and win rate against another model."""

    math: Path | str | None = Field(None, description="Math problems with reference answers: "
                                    "accuracy with curate's answer checking.")
    answer_field: str | None = Field(None, description="Reference column of --math (default: "
                                     "answer, final_answer, reference or solution).")
    pairs: Path | str | None = Field(None, description="Preference pairs: reward-model or DPO "
                                     "implicit-reward accuracy, beside the length baseline.")
    ref: str | None = Field(None, description="Reference model of a DPO run for --pairs. "
                            "Default: the run's starting model (from its config.yaml).")
    against: str | None = Field(None, description="Another run or model: win rate of SOURCE's "
                                "answers against its answers on --prompts.")
    judge: str | None = Field(None, description="Reward model (a `train rm` run) that scores "
                              "both models' answers for --against.")
    prompts: Path | str | None = Field(None, description="Prompts for --against.")
    output: Path | None = Field(None, description="Directory for eval.json, eval.html, "
                                "eval.png and per-item results. Default: RUN_DIR/eval.")
    temperature: float = Field(0.0, ge=0, description="Sampling temperature; 0 (default) "
                               "decodes greedily.")

    @model_validator(mode="after")
    def _something_to_do(self) -> EvalOptions:
        if not (self.math or self.pairs or self.against):
            raise ValueError("math: nothing to evaluate; give --math, --pairs or --against")
        if self.against and not (self.judge and self.prompts):
            raise ValueError("against: --against needs --judge RM_RUN and --prompts FILE")
        if (self.judge or self.prompts) and not self.against:
            raise ValueError("judge: --judge and --prompts only apply with --against")
        return self
