"""Loading a causal LM for the model-based difficulty signals, and formatting its prompts."""

from __future__ import annotations

from typing import Any


def device() -> str:
    """`cuda` when a GPU is present, else `mps` on Apple silicon, else `cpu`."""
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if torch.backends.mps.is_available():
        return "mps"
    return "cpu"


def load_causal_lm(name: str, *, padding_side: str) -> tuple[Any, Any]:
    """Model (eval mode, on `device()`) and tokenizer from a path or hub id."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    check_model_name(name)
    where = device()
    dtype = torch.bfloat16 if where == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, padding_side=padding_side)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype).to(where).eval()
    except OSError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ValueError(f"{name}: not a loadable model (a local model directory, or a hub id "
                         f"when online): {first[:200]}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def check_model_name(name: str) -> None:
    """A name that can only be a local path (it starts with . / ~ or has more than one
    slash) must exist: say so in one line, without asking the hub."""
    import os
    from pathlib import Path

    local = name.startswith((".", "/", "~")) or name.count("/") > 1 or os.sep in name and \
        Path(name).parent.exists()
    if local and not Path(name).expanduser().exists():
        raise ValueError(f"{name}: no such model directory")


def prompt_text(tokenizer: Any, user: str) -> str:
    """The model's input up to where the assistant's answer starts."""
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                             add_generation_prompt=True)
    return f"{user}\n\n"
