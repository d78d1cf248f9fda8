"""The arithmetic of PPO for language models, as pure functions of tensors.

Shapes: `[batch, response_tokens]`; `mask` is 1 on response tokens up to and including
the end-of-sequence token, 0 on the padding after it.
"""

from __future__ import annotations

import torch


def masked_mean(values: torch.Tensor, mask: torch.Tensor, dim: int | None = None) -> torch.Tensor:
    mask = mask.to(values.dtype)
    if dim is None:
        return (values * mask).sum() / mask.sum().clamp(min=1)
    return (values * mask).sum(dim) / mask.sum(dim).clamp(min=1)


def masked_whiten(values: torch.Tensor, mask: torch.Tensor, shift_mean: bool = True
                  ) -> torch.Tensor:
    """Normalise to unit variance over the masked entries (and zero mean if `shift_mean`)."""
    mean = masked_mean(values, mask)
    variance = masked_mean((values - mean) ** 2, mask)
    whitened = (values - mean) * torch.rsqrt(variance + 1e-8)
    if not shift_mean:
        whitened = whitened + mean
    return whitened * mask


def kl_penalty(logprobs: torch.Tensor, ref_logprobs: torch.Tensor, estimator: str = "k1"
               ) -> torch.Tensor:
    """Per-token estimate of KL(policy || reference) from tokens sampled by the policy.

    * `k1`: `log p - log q`, unbiased, can be negative on a token;
    * `k3`: `(q/p - 1) - log(q/p)`, unbiased and never negative, lower variance
      (Schulman, "Approximating KL divergence", 2020).
    """
    log_ratio = ref_logprobs - logprobs
    if estimator == "k1":
        return -log_ratio
    if estimator == "k3":
        return torch.expm1(log_ratio) - log_ratio
    raise ValueError(f"kl_estimator must be 'k1' or 'k3', not {estimator!r}")


def token_rewards(scores: torch.Tensor, kl: torch.Tensor, mask: torch.Tensor, kl_coef: float
                  ) -> torch.Tensor:
    """`-kl_coef * KL` on every response token, plus the sequence score on its last token."""
    rewards = -kl_coef * kl * mask
    last = (mask.sum(dim=1).long() - 1).clamp(min=0)
    rewards[torch.arange(len(scores)), last] += scores
    return rewards


def gae(rewards: torch.Tensor, values: torch.Tensor, mask: torch.Tensor, gamma: float, lam: float
        ) -> tuple[torch.Tensor, torch.Tensor]:
    """Generalised advantage estimation. Returns `(advantages, returns)`.

    `delta_t = r_t + gamma * V_{t+1} - V_t`, `A_t = delta_t + gamma * lam * A_{t+1}`, with
    `V` and `r` zero past the end of each response, so the last token bootstraps from 0.
    `returns = A + V` are the value targets.
    """
    values = values * mask
    rewards = rewards * mask
    advantages = torch.zeros_like(rewards)
    running = torch.zeros_like(rewards[:, 0])
    length = rewards.shape[1]
    for t in reversed(range(length)):
        next_value = values[:, t + 1] if t + 1 < length else torch.zeros_like(running)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        running = delta + gamma * lam * running
        advantages[:, t] = running
    advantages = advantages * mask
    return advantages, (advantages + values) * mask


def policy_loss(logprobs: torch.Tensor, old_logprobs: torch.Tensor, advantages: torch.Tensor,
                mask: torch.Tensor, cliprange: float) -> dict[str, torch.Tensor]:
    """The clipped surrogate `-min(r * A, clip(r, 1 - eps, 1 + eps) * A)`, `r = pi / pi_old`,
    averaged over response tokens; with the fraction of clipped tokens and the approximate
    KL `0.5 * E[(log r)^2]` between the old and new policy."""
    log_ratio = logprobs - old_logprobs
    ratio = torch.exp(log_ratio)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    return {
        "loss": masked_mean(torch.max(unclipped, clipped), mask),
        "clip_fraction": masked_mean((clipped > unclipped).float(), mask),
        "approx_kl": 0.5 * masked_mean(log_ratio ** 2, mask),
    }


def value_loss(values: torch.Tensor, old_values: torch.Tensor, returns: torch.Tensor,
               mask: torch.Tensor, cliprange_value: float) -> dict[str, torch.Tensor]:
    """Clipped value loss `0.5 * max((V - R)^2, (V_clip - R)^2)`, `V_clip` kept within
    `cliprange_value` of the rollout's values."""
    clipped_values = old_values + torch.clamp(values - old_values, -cliprange_value,
                                              cliprange_value)
    unclipped = (values - returns) ** 2
    clipped = (clipped_values - returns) ** 2
    return {
        "loss": 0.5 * masked_mean(torch.max(unclipped, clipped), mask),
        "clip_fraction": masked_mean((clipped > unclipped).float(), mask),
    }
