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

    where = device()
    dtype = torch.bfloat16 if where == "cuda" and torch.cuda.is_bf16_supported() else torch.float32
    try:
        tokenizer = AutoTokenizer.from_pretrained(name, padding_side=padding_side)
        model = AutoModelForCausalLM.from_pretrained(name, dtype=dtype).to(where).eval()
    except OSError as exc:
        raise ValueError(f"model {name!r} could not be loaded (a local path, or a hub id when "
                         f"online): {exc}") from None
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def prompt_text(tokenizer: Any, user: str) -> str:
    """The model's input up to where the assistant's answer starts."""
    if tokenizer.chat_template:
        return tokenizer.apply_chat_template([{"role": "user", "content": user}], tokenize=False,
                                             add_generation_prompt=True)
    return f"{user}\n\n"
