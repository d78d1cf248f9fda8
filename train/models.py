"""Models: where they come from (tiny, a local path, a hub id), the device, LoRA, saving.

A missing model fails here, before any data is tokenized or weights are loaded.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from train.options import LoraOptions, Precision, TinyOptions

BASE_MODEL_DIR = "base_model"


@dataclass(frozen=True)
class Device:
    """Where and in which precision to train: bf16 on a GPU that has it, fp32 on CPU."""

    name: str
    precision: str

    @property
    def trainer_args(self) -> dict[str, Any]:
        return {"use_cpu": self.name == "cpu", "bf16": self.precision == "bf16",
                "fp16": self.precision == "fp16"}


def pick_device(precision: Precision = "auto") -> Device:
    """CUDA (bf16 if supported, else fp16 mixed precision), Apple MPS (fp32), else CPU (fp32)."""
    import torch

    if torch.cuda.is_available():
        name = "cuda"
        best = "bf16" if torch.cuda.is_bf16_supported() else "fp16"
    elif getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
        name, best = "mps", "fp32"
    else:
        name, best = "cpu", "fp32"
    chosen = best if precision == "auto" else precision
    if name == "cpu" and chosen != "fp32":
        raise ValueError(f"precision: {chosen} needs a GPU; this machine trains on CPU in fp32")
    return Device(name, chosen)


def process_state(device: Device) -> Any:
    """accelerate's process state (a singleton): created here as the trainers will create it,
    so that `torchrun`/`accelerate launch` runs agree on who the main process is."""
    from accelerate import PartialState

    return PartialState(cpu=device.name == "cpu")


def resolve_model(model: str, *, run_dir: Path, state: Any, texts: Iterable[str] | None = None,
                  tiny: TinyOptions | None = None, seed: int = 0, reuse: bool = False) -> str:
    """The path or hub id to load `model` from; `tiny` is built into RUN_DIR/base_model (by
    the main process; the others wait for it and load it)."""
    if model == "tiny":
        target = run_dir / BASE_MODEL_DIR
        with state.main_process_first():
            if (reuse or not state.is_main_process) and (target / "config.json").exists():
                return str(target)
            return str(build_tiny(texts or [], target, tiny or TinyOptions(), seed))
    return check_model_exists(model)


def build_tiny(texts: Iterable[str], target: Path, tiny: TinyOptions, seed: int) -> Path:
    from train.tiny import build_tiny_model

    staging = target.with_name(target.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    build_tiny_model(texts, staging, seed=seed, **tiny.model_dump())
    shutil.rmtree(target, ignore_errors=True)
    staging.rename(target)
    return target


def check_model_exists(model: str, *, what: str = "model") -> str:
    """Fail in one line unless `model` is a local model directory or a reachable hub id."""
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{what} {model}: a directory without config.json, not a "
                                    "saved model")
        return str(path)
    if _looks_like_path(model) or not _valid_repo_id(model):
        raise FileNotFoundError(f"{what} {model}: no such directory")
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(model)
    except (OSError, ValueError) as exc:
        if _offline():
            raise FileNotFoundError(f"{what} {model}: no such directory, and no hub model of that "
                                    "name in the local cache (HF_HUB_OFFLINE is set, so nothing "
                                    "is downloaded)") from None
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileNotFoundError(f"{what} {model}: no such directory, and not a hub model that "
                                f"could be loaded ({first_line})") from None
    return model


def check_attention(implementation: str | None) -> None:
    """Fail early when a flash-attention kernel is asked for but cannot run here."""
    if implementation is None or not implementation.startswith("flash_attention"):
        return
    import importlib.util

    import torch

    package = "flash_attn_interface" if implementation == "flash_attention_3" else "flash_attn"
    if not torch.cuda.is_available():
        raise ValueError(f"--attn-implementation {implementation}: needs a CUDA GPU; use sdpa here")
    if importlib.util.find_spec(package) is None:
        raise ValueError(f"--attn-implementation {implementation}: the `{package}` package is not "
                         "installed (pip install flash-attn --no-build-isolation); or use sdpa")


def load_tokenizer(source: str) -> Any:
    """The model's tokenizer, with a pad token (the EOS token if it has none)."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source)
    if tokenizer.pad_token is None:
        if tokenizer.eos_token is None:
            raise ValueError(f"tokenizer of {source}: no pad token and no EOS token")
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def lora_config(options: LoraOptions, task_type: str) -> Any:
    from peft import LoraConfig

    return LoraConfig(r=options.r, lora_alpha=options.alpha, lora_dropout=options.dropout,
                      target_modules=options.targets, task_type=task_type)


def weight_sharding(accelerator: Any) -> str | None:
    """`fsdp` or `zero3` when each process holds only a shard of the weights, else None."""
    from accelerate.utils import DistributedType

    if accelerator.distributed_type == DistributedType.FSDP:
        return "fsdp"
    if accelerator.distributed_type == DistributedType.DEEPSPEED and \
            accelerator.deepspeed_config["zero_optimization"]["stage"] == 3:
        return "zero3"
    return None


def full_state_dict(model: Any, sharding: str | None, accelerator: Any = None
                    ) -> dict[str, Any] | None:
    """The full state dict of a model whose weights are sharded (`sharding`), gathered on the
    main process. A collective: every process must call it. FSDP (1 or 2): torch's
    `get_model_state_dict` with a full, CPU-offloaded dict (what accelerate calls); ZeRO-3:
    accelerate's `get_state_dict` of the DeepSpeed engine. None when not sharded."""
    if sharding == "fsdp":
        from torch.distributed.checkpoint.state_dict import StateDictOptions, get_model_state_dict

        return get_model_state_dict(model, options=StateDictOptions(full_state_dict=True,
                                                                    cpu_offload=True))
    if sharding == "zero3":
        return accelerator.get_state_dict(model)
    return None


def merged(model: Any, state: dict[str, Any] | None = None, source: str | None = None) -> Any:
    """A LoRA model with its adapters merged in (so RUN_DIR loads with `from_pretrained`).

    With `state` (a gathered full state dict of the LoRA model, see `full_state_dict`), the
    merge happens on a fresh copy of the base model from `source`, loaded on the CPU: the
    trained model's own weights are only shards."""
    from peft import PeftModel, get_peft_model

    if not isinstance(model, PeftModel):
        return model
    if state is None:
        return model.merge_and_unload()
    config = model.peft_config["default"]
    base = _auto_class(config.task_type).from_pretrained(
        source, **({"num_labels": 1} if str(config.task_type).endswith("SEQ_CLS") else {}))
    fresh = get_peft_model(base, config)
    fresh.load_state_dict(state, strict=True)
    return fresh.merge_and_unload()


def _auto_class(task_type: Any) -> Any:
    from transformers import AutoModelForCausalLM, AutoModelForSequenceClassification

    return AutoModelForSequenceClassification if str(task_type).endswith("SEQ_CLS") \
        else AutoModelForCausalLM


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes", "on")


def _valid_repo_id(model: str) -> bool:
    from huggingface_hub.utils import HFValidationError, validate_repo_id

    try:
        validate_repo_id(model)
    except HFValidationError:
        return False
    return True


def _looks_like_path(model: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else is meant as a local path."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
