"""Log-probabilities of response tokens without the whole rollout's logits in memory.

A causal LM's logits are `[batch, length, vocabulary]`: for 8 rollouts of 1,024 tokens and a
152k vocabulary that is 5 GB in fp32, before log-softmax doubles it. Here the backbone's
hidden states are kept (`[batch, length, hidden]`, ~40x smaller), and the output head is
applied to one chunk of response positions at a time; under autograd each chunk is
recomputed in the backward pass (activation checkpointing), so at most one chunk of
full-vocabulary logits exists at any moment, forward or backward.
"""

from __future__ import annotations

from typing import Any

import torch
from torch.utils.checkpoint import checkpoint


def causal_lm(model: Any) -> Any:
    """The transformers model inside a peft wrapper (LoRA layers stay injected in it)."""
    return model.get_base_model() if hasattr(model, "get_base_model") else model


def response_logprobs(model: Any, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                      position_ids: torch.Tensor, *, context: int, temperature: float,
                      chunk_tokens: int = 1024, entropy: bool = False
                      ) -> tuple[torch.Tensor, torch.Tensor | None]:
    """`(log-probs, entropies)` of `input_ids[:, context:]` under `model`'s distribution at
    `temperature`, `[batch, response_length]` each (entropies only with `entropy`)."""
    lm = causal_lm(model)
    backbone = getattr(lm, lm.base_model_prefix)
    hidden = backbone(input_ids=input_ids, attention_mask=attention_mask,
                      position_ids=position_ids, use_cache=False).last_hidden_state
    hidden = hidden[:, context - 1:-1]
    targets = input_ids[:, context:]
    head = lm.get_output_embeddings()
    softcap = getattr(lm.config, "final_logit_softcapping", None)
    positions = max(1, chunk_tokens // max(1, hidden.shape[0]))
    logprobs, entropies = [], []
    for start in range(0, hidden.shape[1], positions):
        part = (hidden[:, start:start + positions], targets[:, start:start + positions])
        if torch.is_grad_enabled():
            lp, ent = checkpoint(_chunk, head, *part, temperature, softcap, entropy,
                                 use_reentrant=False)
        else:
            lp, ent = _chunk(head, *part, temperature, softcap, entropy)
        logprobs.append(lp)
        entropies.append(ent)
    return torch.cat(logprobs, dim=1), torch.cat(entropies, dim=1) if entropy else None


def _chunk(head: Any, hidden: torch.Tensor, targets: torch.Tensor, temperature: float,
           softcap: float | None, with_entropy: bool) -> tuple[torch.Tensor, torch.Tensor]:
    logits = head(hidden).float()
    if softcap:
        logits = torch.tanh(logits / softcap) * softcap
    logits = logits / temperature
    normaliser = torch.logsumexp(logits, dim=-1)
    logprobs = torch.gather(logits, 2, targets.unsqueeze(-1)).squeeze(-1) - normaliser
    if not with_entropy:
        return logprobs, logprobs.new_zeros(())
    probabilities = torch.softmax(logits, dim=-1)
    return logprobs, normaliser - (probabilities * logits).sum(dim=-1)


def sequence_logprobs(model: Any, sequences: list[list[int]], starts: list[int], *,
                      pad_id: int, batch_size: int = 8, chunk_tokens: int = 1024
                      ) -> list[tuple[float, int]]:
    """`(sum of log-probs, count)` of each sequence's tokens from `starts[i]` on (its answer),
    under `model`; right-padded batches, no gradients."""
    device = next(model.parameters()).device
    results = []
    with torch.inference_mode():
        for first in range(0, len(sequences), batch_size):
            batch = sequences[first:first + batch_size]
            width = max(map(len, batch))
            ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in batch], device=device)
            mask = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in batch],
                                device=device)
            positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
            logprobs, _ = response_logprobs(model, ids, mask, positions, context=1,
                                            temperature=1.0, chunk_tokens=chunk_tokens)
            for row, (sequence, start) in enumerate(zip(batch, starts[first:first + batch_size],
                                                        strict=True)):
                # logprobs[:, j] is the log-prob of token j + 1
                answer = logprobs[row, start - 1:len(sequence) - 1]
                results.append((float(answer.float().sum()), answer.numel()))
    return results
