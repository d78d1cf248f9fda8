"""PPO arithmetic against values computed by hand."""

from __future__ import annotations

import math

import pytest
import torch

from train.ppo import response_mask
from train.ppo_math import (
    gae,
    kl_penalty,
    masked_whiten,
    policy_loss,
    token_rewards,
    value_loss,
)


def tensor(*rows):
    return torch.tensor(rows, dtype=torch.float32)


def test_gae_by_hand():
    # delta_2 = 1 - 0.7 = 0.3; delta_1 = 0.7 - 0.6 = 0.1; delta_0 = 0.6 - 0.5 = 0.1
    # A_2 = 0.3; A_1 = 0.1 + 0.9 * 0.3 = 0.37; A_0 = 0.1 + 0.9 * 0.37 = 0.433
    advantages, returns = gae(tensor([0, 0, 1]), tensor([0.5, 0.6, 0.7]), tensor([1, 1, 1]),
                              gamma=1.0, lam=0.9)
    torch.testing.assert_close(advantages, tensor([0.433, 0.37, 0.3]))
    torch.testing.assert_close(returns, tensor([0.933, 0.97, 1.0]))


def test_gae_discounts_with_gamma():
    # delta_2 = 0.3; delta_1 = 0.5 * 0.7 - 0.6 = -0.25; delta_0 = 0.5 * 0.6 - 0.5 = -0.2
    # A_1 = -0.25 + 0.5 * 0.3 = -0.1; A_0 = -0.2 + 0.5 * -0.1 = -0.25
    advantages, _ = gae(tensor([0, 0, 1]), tensor([0.5, 0.6, 0.7]), tensor([1, 1, 1]),
                        gamma=0.5, lam=1.0)
    torch.testing.assert_close(advantages, tensor([-0.25, -0.1, 0.3]))


def test_gae_ignores_padding_after_the_response():
    # the pad position's reward (5) and value (9) must not leak: the last real token
    # bootstraps from 0. delta_1 = 1 - 0.6 = 0.4; A_0 = 0.1 + 0.9 * 0.4 = 0.46
    advantages, returns = gae(tensor([0, 1, 5]), tensor([0.5, 0.6, 9.0]), tensor([1, 1, 0]),
                              gamma=1.0, lam=0.9)
    torch.testing.assert_close(advantages, tensor([0.46, 0.4, 0.0]))
    torch.testing.assert_close(returns, tensor([0.96, 1.0, 0.0]))


def test_clipped_surrogate_by_hand():
    ratio = tensor([1.5, 0.5, 1.5, 0.5])
    advantages = tensor([1.0, 1.0, -1.0, -1.0])
    # per token -min(rA, clip(r)A): -1.2 (clipped), -0.5, 1.5, 0.8 (clipped); mean 0.15
    out = policy_loss(ratio.log(), torch.zeros_like(ratio), advantages, torch.ones_like(ratio),
                      cliprange=0.2)
    assert out["loss"].item() == pytest.approx(0.15)
    assert out["clip_fraction"].item() == pytest.approx(0.5)
    expected_kl = 0.5 * (2 * math.log(1.5) ** 2 + 2 * math.log(0.5) ** 2) / 4
    assert out["approx_kl"].item() == pytest.approx(expected_kl)


def test_masked_tokens_do_not_count_in_the_surrogate():
    ratio = tensor([1.5, 3.0])
    out = policy_loss(ratio.log(), torch.zeros_like(ratio), tensor([1.0, 100.0]),
                      tensor([1, 0]), cliprange=0.2)
    assert out["loss"].item() == pytest.approx(-1.2)


def test_clipped_value_loss_by_hand():
    # token 1: V=1.5 clipped to 1.2 around V_old=1.0; max((1.5-2)^2, (1.2-2)^2) = 0.64
    # token 2: V=0.9 within the clip; (0.9-0)^2 = 0.81. Loss 0.5 * mean = 0.3625
    out = value_loss(tensor([1.5, 0.9]), tensor([1.0, 1.0]), tensor([2.0, 0.0]), tensor([1, 1]),
                     cliprange_value=0.2)
    assert out["loss"].item() == pytest.approx(0.3625)
    assert out["clip_fraction"].item() == pytest.approx(0.5)


def test_kl_estimators():
    logprobs, ref = tensor([-1.0, -0.5]), tensor([-2.0, -0.5])
    torch.testing.assert_close(kl_penalty(logprobs, ref, "k1"), tensor([1.0, 0.0]))
    torch.testing.assert_close(kl_penalty(logprobs, ref, "k3"), tensor([math.exp(-1), 0.0]))
    assert (kl_penalty(ref, logprobs, "k3") >= 0).all()  # k3 is never negative
    with pytest.raises(ValueError, match="k1"):
        kl_penalty(logprobs, ref, "k2")


def test_score_lands_on_the_last_response_token_and_kl_on_every_token():
    rewards = token_rewards(torch.tensor([2.0, -1.0]), tensor([0.1, 0.2, 0.3], [0.4, 0.4, 0.4]),
                            tensor([1, 1, 0], [1, 1, 1]), kl_coef=0.5)
    torch.testing.assert_close(rewards, tensor([-0.05, 1.9, 0.0], [-0.2, -0.2, -1.2]))


def test_whitening_uses_only_masked_entries():
    whitened = masked_whiten(tensor([1.0, 2.0, 3.0, 100.0]), tensor([1, 1, 1, 0]))
    scale = math.sqrt(1.5)
    torch.testing.assert_close(whitened, tensor([-scale, 0.0, scale, 0.0]), atol=1e-4, rtol=1e-4)


def test_response_mask_keeps_tokens_up_to_the_first_stop():
    responses = torch.tensor([[5, 2, 0, 0], [5, 6, 7, 8], [2, 2, 5, 5]])
    assert response_mask(responses, stop_token_id=2).tolist() == [
        [1, 1, 0, 0], [1, 1, 1, 1], [1, 0, 0, 0]]
