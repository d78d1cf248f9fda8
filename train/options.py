"""Options of every `train` command: one pydantic model each, shared fields in `TrainOptions`.

Flags cover the common case; a `--config` YAML file can set every field below (validated
here, unknown keys rejected), and flags override the file. `trainer_args` passes any other
field straight to the TRL/transformers config (e.g. `weight_decay`, `optim`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TINY = "tiny"
ReportTo = Literal["none", "tensorboard", "wandb"]
Precision = Literal["auto", "bf16", "fp16", "fp32"]

# TRL's DPOTrainer loss types; `simpo` is routed to the CPO trainer (reference-free).
DPO_LOSSES = ("sigmoid", "hinge", "ipo", "exo_pair", "nca_pair", "robust", "bco_pair", "sppo_hard",
              "aot", "aot_unpaired", "apo_zero", "apo_down", "discopop", "sft", "sigmoid_norm")
PREFERENCE_LOSSES = (*DPO_LOSSES, "simpo")


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
    """Fields every `train` command has. A config file may also use the TrainingArguments
    names (`output_dir`, `learning_rate`, `per_device_train_batch_size`, ...)."""

    output: Path
    max_steps: int = Field(-1, description="Optimizer steps; -1 runs `epochs` instead.")
    epochs: float = Field(1.0, gt=0)
    lr: float | None = Field(None, gt=0, description="Default depends on the method and model.")
    lr_scheduler: Scheduler = "linear"
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(8, gt=0)
    grad_accum: int = Field(1, gt=0)
    max_length: int = Field(1024, gt=0)
    seed: int = 0
    eval_split: float = Field(0.1, ge=0, description="Fraction (< 1) or count (>= 1) held out.")
    eval_steps: int | None = Field(None, gt=0, description="Also evaluate every N steps.")
    logging_steps: int = Field(1, gt=0)
    save_steps: int = Field(500, gt=0)
    save_total_limit: int = Field(2, gt=0)
    report_to: ReportTo = "none"
    precision: Precision = "auto"
    gradient_checkpointing: bool | None = Field(
        None, description="Default: on for real models on a GPU, off for tiny or CPU runs.")
    lora: LoraOptions | None = None
    chat_template: Path | None = Field(None, description="A .jinja chat template with "
                                       "{% generation %} markers, overriding the model's.")
    resume: bool = False
    overwrite: bool = False
    on_error: Literal["raise", "skip"] = "raise"
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

    @field_validator("eval_split")
    @classmethod
    def _eval_count(cls, value: float) -> float:
        if value >= 1 and value != int(value):
            raise ValueError("a count of held-out records must be a whole number")
        return value

    @model_validator(mode="after")
    def _resume_or_overwrite(self) -> TrainOptions:
        if self.resume and self.overwrite:
            raise ValueError("resume: --resume and --overwrite exclude each other")
        return self


class OfflineOptions(TrainOptions):
    """Commands that train `model` on a data file: sft, rm, dpo."""

    model: str = TINY
    data: Path | str

    @property
    def is_tiny(self) -> bool:
        return self.model == TINY


class SFTOptions(OfflineOptions):
    """`train sft`: supervised fine-tuning on assistant tokens only."""

    packing: bool = False
    packing_strategy: Literal["bfd", "wrapped"] = "bfd"
    assistant_only_loss: bool = Field(
        True, description="Train only on assistant tokens (and their end-of-turn token).")


class RMOptions(OfflineOptions):
    """`train rm`: a scalar-head reward model on preference pairs."""

    center_rewards_coefficient: float | None = Field(0.01, ge=0)
    margin_scale: float = Field(1.0, ge=0, description="margin = margin_scale * meta.strength.")


class DPOOptions(OfflineOptions):
    """`train dpo`: the DPO family (TRL's DPOTrainer) and SimPO (TRL's CPOTrainer)."""

    loss: str = "sigmoid"
    beta: float | None = Field(None, gt=0, description="Default 0.1; 2.0 for simpo.")
    ld_alpha: float | None = Field(None, ge=0, le=1)
    precompute_ref: bool = False
    simpo_gamma: float = Field(0.5, ge=0)
    label_smoothing: float = Field(0.0, ge=0, lt=0.5)

    @field_validator("loss")
    @classmethod
    def _known_loss(cls, value: str) -> str:
        if value not in PREFERENCE_LOSSES:
            raise ValueError(f"unknown loss {value!r}; choose one of "
                             f"{', '.join(PREFERENCE_LOSSES)}")
        return value

    @model_validator(mode="after")
    def _simpo_has_no_reference(self) -> DPOOptions:
        if self.loss == "simpo" and (self.precompute_ref or self.ld_alpha is not None):
            raise ValueError("loss: simpo is reference-free and length-averaged; "
                             "--precompute-ref and --ld-alpha do not apply")
        return self

    @property
    def resolved_beta(self) -> float:
        return self.beta if self.beta is not None else (2.0 if self.loss == "simpo" else 0.1)


class PPOOptions(TrainOptions):
    """`train ppo`: our PPO. Field names follow TRL 1.12's `PPOConfig` where they exist, and
    its names are accepted for the others (`sft_model_path`, `reward_model_path`,
    `total_episodes`), so a TRL 1.12 PPO config moves across.

    One PPO iteration samples `batch_size * grad_accum * num_mini_batches` prompts, rolls
    them out, then runs `num_ppo_epochs` passes of `num_mini_batches` minibatches over
    them. `max_steps` counts iterations; else `total_episodes` prompts are rolled out;
    else `epochs` passes over the prompts.
    """

    prompts: Path | str
    policy: str
    reward_model: str | None = None
    total_episodes: int | None = Field(None, gt=0)
    reward_fn: str | None = Field(None, description="module:function scoring (prompts, "
                                  "responses) -> floats, instead of a reward model.")
    value_model: str | None = Field(None, description="Critic init; default: the reward model, "
                                    "else the policy (with a new value head).")
    num_ppo_epochs: int = Field(4, gt=0)
    num_mini_batches: int = Field(1, gt=0)
    response_length: int = Field(53, gt=0)
    temperature: float = Field(0.7, gt=0)
    kl_coef: float = Field(0.05, ge=0)
    kl_estimator: Literal["k1", "k3"] = "k1"
    cliprange: float = Field(0.2, gt=0)
    cliprange_value: float = Field(0.2, gt=0)
    vf_coef: float = Field(0.5, ge=0)
    entropy_coef: float = Field(0.01, ge=0)
    gamma: float = Field(1.0, ge=0, le=1)
    lam: float = Field(0.95, ge=0, le=1)
    whiten_rewards: bool = False
    missing_eos_penalty: float | None = Field(1.0, ge=0)
    stop_token: Literal["eos"] = Field("eos", description="TRL's name: stop at the policy's "
                                       "end-of-turn token (see `stop_token_id`).")
    stop_token_id: int | None = Field(None, ge=0, description="Token that ends a response; "
                                      "default: the chat template's end-of-turn token, else EOS.")
    local_rollout_forward_batch_size: int = Field(64, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)

    @model_validator(mode="after")
    def _one_reward(self) -> PPOOptions:
        if (self.reward_model is None) == (self.reward_fn is None):
            raise ValueError("reward_model: give exactly one of --reward-model or --reward-fn")
        return self

    @property
    def rollout_batch_size(self) -> int:
        return self.batch_size * self.grad_accum * self.num_mini_batches
