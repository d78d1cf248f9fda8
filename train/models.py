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
    """Fail clearly unless `model` is a local model directory or a reachable hub id."""
    path = Path(model).expanduser()
    if path.exists():
        if not (path / "config.json").exists():
            raise FileNotFoundError(f"{what} {model}: a directory without config.json, not a "
                                    "saved model")
        return str(path)
    if _looks_like_path(model):
        raise FileNotFoundError(f"{what} {model}: no such directory")
    from transformers import AutoConfig

    try:
        AutoConfig.from_pretrained(model)
    except OSError as exc:
        offline = " (HF_HUB_OFFLINE is set, so only cached models load)" \
            if os.environ.get("HF_HUB_OFFLINE") in ("1", "true", "True") else ""
        raise FileNotFoundError(f"{what} {model}: not a local directory, and not a Hugging Face "
                                f"hub model that could be loaded{offline}: {exc}") from None
    return model


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


def merged(model: Any) -> Any:
    """A LoRA model with its adapters merged in (so RUN_DIR loads with `from_pretrained`)."""
    from peft import PeftModel

    return model.merge_and_unload() if isinstance(model, PeftModel) else model


def count_parameters(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def _looks_like_path(model: str) -> bool:
    """Hub ids are `name` or `org/name`; anything else is meant as a local path."""
    return model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model
