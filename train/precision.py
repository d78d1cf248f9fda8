"""AdamW with fp32 master weights for models whose parameters are bf16.

PPO in bf16 keeps the policy and critic in bf16 (the forward pass then computes exactly what
the bf16 reference computes: the KL of the untrained policy is 0, not the gap between an
fp32 residual stream and a bf16 one) and the optimizer keeps an fp32 copy of each bf16
parameter, steps it, and writes it back rounded: the standard mixed-precision recipe
(Micikevicius et al. 2018; DeepSpeed and Megatron do the same). Per parameter: 2 bytes of
weights, 2 of gradients, 4 of master weights and 8 of Adam moments: the 16 bytes of fp32
training under autocast, with half-size activations and no weight casts.

torch has no such optimizer, so it is written here; fp32 parameters (LoRA adapters, heads)
are stepped in place.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch


class MasterWeightsAdamW(torch.optim.AdamW):
    """`torch.optim.AdamW` over fp32 masters of the given parameters."""

    def __init__(self, params: Iterable[torch.nn.Parameter], **kwargs: Any) -> None:
        self.model_params = list(params)
        self.masters = [p if p.dtype == torch.float32
                        else torch.nn.Parameter(p.detach().float().clone())
                        for p in self.model_params]
        super().__init__(self.masters, **kwargs)

    @torch.no_grad()
    def step(self, closure: Any = None) -> Any:
        for model_param, master in zip(self.model_params, self.masters, strict=True):
            if master is not model_param:
                master.grad = None if model_param.grad is None else model_param.grad.float()
        loss = super().step(closure)
        for model_param, master in zip(self.model_params, self.masters, strict=True):
            if master is not model_param:
                model_param.copy_(master)
        return loss

    def zero_grad(self, set_to_none: bool = True) -> None:
        for param in self.model_params:
            param.grad = None
        super().zero_grad(set_to_none=set_to_none)

    def state_dict(self) -> dict[str, Any]:
        """Adam's state and the masters themselves, so a resumed run continues bit for bit."""
        return {**super().state_dict(), "masters": [m.detach().clone() for m in self.masters]}

    @torch.no_grad()
    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        state_dict = dict(state_dict)
        masters = state_dict.pop("masters", None)
        super().load_state_dict(state_dict)
        if masters is not None:
            for model_param, master, saved in zip(self.model_params, self.masters, masters,
                                                  strict=True):
                master.copy_(saved)
                model_param.copy_(master)


def adamw(params: Iterable[torch.nn.Parameter], **kwargs: Any) -> torch.optim.Optimizer:
    """AdamW, with fp32 master weights when any parameter is in half precision."""
    params = list(params)
    if all(p.dtype == torch.float32 for p in params):
        return torch.optim.AdamW(params, **kwargs)
    return MasterWeightsAdamW(params, **kwargs)
