"""The `model-loss` signal: mean per-token loss of the reference solution under a causal LM.

The question is the user turn (through the model's chat template when it has one) and only
the solution's tokens, with the end-of-sequence token that closes it, are scored. Records
are batched by length to waste little padding; an over-long record keeps its solution and
loses the start of its question.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from curate.select.lm import load_causal_lm, prompt_text


def solution_losses(prompts: list[str], solutions: list[str], *, model: str, batch_size: int,
                    max_length: int, advance: Callable[[int], None] = lambda n: None) -> np.ndarray:
    """Mean cross-entropy (nats per token) of each solution given its question."""
    import torch

    lm, tokenizer = load_causal_lm(model, padding_side="right")
    end = tokenizer.eos_token or ""
    encoded = [_encode(tokenizer, prompt_text(tokenizer, prompt), solution + end, max_length)
               for prompt, solution in zip(prompts, solutions, strict=True)]
    losses = np.zeros(len(encoded))
    order = np.argsort([len(ids) for ids, _ in encoded], kind="stable")
    with torch.inference_mode():
        for start in range(0, len(order), batch_size):
            batch = order[start:start + batch_size]
            losses[batch] = _batch_losses(lm, [encoded[i] for i in batch], tokenizer.pad_token_id)
            advance(len(batch))
    return losses


def _encode(tokenizer, prompt: str, solution: str, max_length: int) -> tuple[list[int], int]:
    """Token ids of prompt + solution and where the solution starts."""
    prompt_ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    solution_ids = tokenizer(solution, add_special_tokens=False)["input_ids"][:max_length - 1]
    prompt_ids = prompt_ids[max(0, len(prompt_ids) + len(solution_ids) - max_length):]
    if not prompt_ids:  # the first token has no prediction: keep one token of context
        prompt_ids, solution_ids = solution_ids[:1], solution_ids[1:]
    return prompt_ids + solution_ids, len(prompt_ids)


def _batch_losses(lm, batch: list[tuple[list[int], int]], pad_id: int) -> np.ndarray:
    import torch

    width = max(len(ids) for ids, _ in batch)
    ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
    attention = torch.zeros_like(ids)
    labels = torch.full_like(ids, -100)
    for row, (tokens, solution_start) in enumerate(batch):
        ids[row, :len(tokens)] = torch.tensor(tokens)
        attention[row, :len(tokens)] = 1
        labels[row, solution_start:len(tokens)] = ids[row, solution_start:len(tokens)]
    ids, attention, labels = (t.to(lm.device) for t in (ids, attention, labels))
    logits = lm(input_ids=ids, attention_mask=attention).logits[:, :-1].float()
    targets = labels[:, 1:]
    token_losses = torch.nn.functional.cross_entropy(
        logits.transpose(1, 2), targets, ignore_index=-100, reduction="none")
    counts = (targets != -100).sum(dim=1).clamp(min=1)
    return (token_losses.sum(dim=1) / counts).cpu().numpy()
