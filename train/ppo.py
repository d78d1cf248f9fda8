"""Our PPO for language models, on torch + transformers + accelerate (TRL 1.13+ has none).

One iteration:

1. **Rollout**: sample a response for each prompt of the batch (plain temperature sampling),
   cut after the first end-of-sequence (EOS) token: the stop token, by default the chat
   template's end-of-turn token (see `ppo_run.response_stop_id`).
2. **Score**: the reward model reads each prompt + response, rendered by its chat template
   and cut after the end-of-turn token, at that last token, never at padding (or a
   `reward_fn` scores the texts). A response that never emitted EOS loses
   `missing_eos_penalty`.
3. **Per-token rewards**: `-kl_coef * KL_t` on every response token against the frozen
   reference policy (estimator `k1` = log p - log q, or `k3`, see `ppo_math.kl_penalty`),
   plus the score on the last token.
4. **GAE** (`gamma`, `lam`) with the critic's values (the value head: a scalar head on
   a backbone, initialised from the reward model), then advantage whitening.
5. **Update**: `num_ppo_epochs` passes over the batch in `num_mini_batches` shuffled
   minibatches (each accumulated over `grad_accum` micro-batches), minimising
   `clipped surrogate + vf_coef * clipped value loss - entropy_coef * entropy`.

Logged every `logging_steps` iterations (means over them): mean reward (`mean_reward`, with
the EOS penalty, what PPO optimises; `mean_score`, the reward model's or function's own
score), KL, entropy, clip fraction, value loss, approximate KL (old -> new policy), response
length and EOS fraction; with `eval_steps`, the same on held-out prompts (`eval_*`).

Memory: log-probs are computed a chunk of positions at a time (`train.logprobs`); in bf16
every model is bf16 (the trained ones with fp32 master weights in the optimizer,
`train.precision`), so the untrained policy's KL to the reference is exactly 0; with LoRA
the reference is the policy with its adapter disabled, and the critic is a LoRA model too.

The learning-rate scheduler is not passed through `accelerator.prepare` (as in TRL's PPO):
a prepared scheduler steps once per process, so on 8 GPUs the rate would reach its end
after 1/8 of the run.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from train.logprobs import causal_lm, response_logprobs
from train.options import PPOOptions
from train.ppo_math import (
    gae,
    kl_penalty,
    masked_mean,
    masked_whiten,
    policy_loss,
    token_rewards,
    value_loss,
)
from train.precision import adamw

RewardFn = Callable[[list[list[dict[str, str]]], list[str]], list[float]]


class PolicyAndValue(nn.Module):
    """The two trained models as one module, so accelerate prepares (and DDP wraps) them once.
    `forward` gives the response tokens' log-probs (and entropies) and values."""

    def __init__(self, policy: nn.Module, critic: nn.Module, chunk_tokens: int) -> None:
        super().__init__()
        self.policy, self.critic = policy, critic
        self.chunk_tokens = chunk_tokens

    def forward(self, input_ids, attention_mask, position_ids, context: int, temperature: float,
                entropy: bool = False):
        logprobs, entropies = response_logprobs(
            self.policy, input_ids, attention_mask, position_ids, context=context,
            temperature=temperature, chunk_tokens=self.chunk_tokens, entropy=entropy)
        values = token_values(self.critic, input_ids, attention_mask, position_ids)
        return logprobs, entropies, values[:, context - 1:-1]


def token_values(model: nn.Module, input_ids, attention_mask, position_ids=None) -> torch.Tensor:
    """The scalar head applied at every position of a sequence-classification model."""
    inner = causal_lm(model)
    backbone = getattr(inner, inner.base_model_prefix)
    hidden = backbone(input_ids=input_ids, attention_mask=attention_mask,
                      position_ids=position_ids, use_cache=False).last_hidden_state
    return inner.score(hidden).squeeze(-1).float()


@dataclass
class Rollout:
    """One batch of sampled responses and everything PPO needs about them."""

    query_response: torch.Tensor   # [B, P + T], prompts left-padded, responses right-padded
    attention_mask: torch.Tensor   # [B, P + T]
    mask: torch.Tensor             # [B, T] response tokens up to and including EOS
    logprobs: torch.Tensor         # [B, T] under the sampling policy
    values: torch.Tensor           # [B, T]
    advantages: torch.Tensor       # [B, T] whitened
    returns: torch.Tensor          # [B, T]
    stats: dict[str, float]

    @property
    def context_length(self) -> int:
        return self.query_response.shape[1] - self.mask.shape[1]


class PPOTrainer:
    """Trains `policy` (a causal LM) against `reward_model` or `reward_fn` with PPO."""

    def __init__(self, options: PPOOptions, *, policy: nn.Module, ref_policy: nn.Module | None,
                 critic: nn.Module, tokenizer: Any, prompts: list[list[dict[str, str]]],
                 reward_model: nn.Module | None = None, reward_tokenizer: Any = None,
                 reward_end_id: int | None = None, reward_fn: RewardFn | None = None,
                 stop_token_id: int, accelerator: Any, learning_rate: float,
                 num_iterations: int) -> None:
        self.options, self.tokenizer, self.prompts = options, tokenizer, prompts
        self.accelerator = accelerator
        self.reward_model, self.reward_tokenizer = reward_model, reward_tokenizer
        self.reward_end_id, self.reward_fn = reward_end_id, reward_fn
        self.stop_token_id = stop_token_id
        self.num_iterations = num_iterations
        for model in (policy, ref_policy, critic, reward_model):
            if model is not None:
                _disable_dropout(model)
        optimizer = adamw([p for p in (*policy.parameters(), *critic.parameters())
                           if p.requires_grad], lr=learning_rate, eps=1e-5)
        self.updates = num_iterations * options.num_ppo_epochs * options.num_mini_batches
        # Not prepared: accelerate would step a prepared scheduler once per process.
        self.scheduler = _scheduler(optimizer, options, self.updates)
        accelerator.register_for_checkpointing(self.scheduler)
        self.model, self.optimizer = accelerator.prepare(
            PolicyAndValue(policy, critic, options.logprob_chunk), optimizer)
        self.ref_policy = ref_policy.to(accelerator.device).eval() if ref_policy is not None \
            else None  # None: the policy with its LoRA adapter disabled
        if reward_model is not None:
            self.reward_model = reward_model.to(accelerator.device).eval()
        self.iteration = 0
        self.episodes = 0

    # -- the loop ---------------------------------------------------------------------------

    def train(self, log: Callable[[dict[str, Any]], None], save: Callable[[int], None],
              progress: Callable[[int, dict[str, Any]], None],
              evaluate: Callable[[], dict[str, float]] | None = None) -> None:
        """Run the remaining iterations. `log` gets the means of each `logging_steps`
        iterations' metrics (and of the last, partial window); `evaluate`, every
        `eval_steps` iterations, returns held-out metrics, logged with an `eval_` prefix;
        `save` is called every `save_steps` iterations and after the last; `progress`
        after each."""
        options = self.options
        batches = self._prompt_batches()
        for _ in range(self.iteration):  # resumed: skip what was already trained on
            next(batches)
        window: list[dict[str, float]] = []
        while self.iteration < self.num_iterations:
            started = time.perf_counter()
            rollout = self.rollout(next(batches))
            stats = {**rollout.stats, **self.update(rollout)}
            self.iteration += 1
            self.episodes += rollout.mask.shape[0] * self.accelerator.num_processes
            seconds = time.perf_counter() - started
            tokens = rollout.attention_mask.sum().item() * self.accelerator.num_processes
            stats.update({"lr": self.scheduler.get_last_lr()[0], "num_tokens": tokens,
                          "tokens_per_s": tokens / seconds, "iteration_s": seconds})
            window.append(stats)
            last = self.iteration == self.num_iterations
            if self.iteration % options.logging_steps == 0 or last:
                means = {key: sum(row[key] for row in window) / len(window) for key in window[0]}
                means["num_tokens"] = sum(row["num_tokens"] for row in window)
                log({"step": self.iteration, "episode": self.episodes, **means})
                window = []
            if evaluate is not None and options.eval_steps and \
                    self.iteration % options.eval_steps == 0 and not last:
                log({"step": self.iteration, **{f"eval_{k}": v for k, v in evaluate().items()}})
            progress(self.iteration, stats)
            if self.iteration % options.save_steps == 0 or last:
                save(self.iteration)

    def _prompt_batches(self) -> Iterator[list[list[dict[str, str]]]]:
        """Shuffled prompts, epoch after epoch; each process takes its own share."""
        size = self.options.batch_size * self.options.grad_accum * self.options.num_mini_batches
        rank, world = self.accelerator.process_index, self.accelerator.num_processes
        epoch = 0
        while True:
            generator = torch.Generator().manual_seed(self.options.seed + epoch)
            order = torch.randperm(len(self.prompts), generator=generator).tolist()
            order = order[rank::world]
            for start in range(0, len(order) - size + 1, size):
                yield [self.prompts[i] for i in order[start:start + size]]
            if len(order) < size:  # fewer prompts than a batch: repeat them
                yield [self.prompts[order[i % len(order)]] for i in range(size)]
            epoch += 1

    # -- 1-4: rollout, score, rewards, advantages ---------------------------------------------

    @torch.no_grad()
    def rollout(self, prompts: list[list[dict[str, str]]]) -> Rollout:
        options = self.options
        queries = self._encode_prompts(prompts)
        responses = self.generate(queries)
        mask = response_mask(responses, self.stop_token_id)
        query_response = torch.cat([queries["input_ids"], responses], dim=1)
        attention_mask = torch.cat([queries["attention_mask"], mask.long()], dim=1)
        query_response = query_response.masked_fill(attention_mask == 0,
                                                     self.tokenizer.pad_token_id)
        context = queries["input_ids"].shape[1]
        logprobs, values, ref_logprobs = [], [], []
        step = options.local_rollout_forward_batch_size
        for start in range(0, len(prompts), step):
            inputs = _model_inputs(query_response[start:start + step],
                                   attention_mask[start:start + step])
            logprob, _, value = self.model(**inputs, context=context,
                                           temperature=options.temperature)
            logprobs.append(logprob)
            values.append(value)
            ref_logprobs.append(self._reference_logprobs(inputs, context))
        logprobs, ref_logprobs = torch.cat(logprobs), torch.cat(ref_logprobs)
        values = torch.cat(values) * mask
        texts = [self.tokenizer.decode(tokens[keep.bool()], skip_special_tokens=True)
                 for tokens, keep in zip(responses, mask, strict=True)]
        has_eos = (responses == self.stop_token_id).any(dim=1)
        raw_scores = self.score(prompts, texts)
        scores = raw_scores
        if options.missing_eos_penalty is not None:
            scores = scores - options.missing_eos_penalty * (~has_eos).float()
        kl = kl_penalty(logprobs, ref_logprobs, options.kl_estimator) * mask
        rewards = token_rewards(scores, kl, mask, options.kl_coef)
        if options.whiten_rewards:
            rewards = masked_whiten(rewards, mask, shift_mean=False)
        advantages, returns = gae(rewards, values, mask, options.gamma, options.lam)
        advantages = masked_whiten(advantages, mask)
        stats = self._gathered_means({
            "mean_reward": scores,
            "mean_score": raw_scores,
            "kl": kl.sum(dim=1),
            "kl_penalty": (options.kl_coef * kl).sum(dim=1),
            "non_score_reward": (-options.kl_coef * kl).sum(dim=1),
            "response_length": mask.sum(dim=1).float(),
            "eos_fraction": has_eos.float(),
        })
        return Rollout(query_response, attention_mask, mask, logprobs, values, advantages,
                       returns, stats)

    def _reference_logprobs(self, inputs: dict[str, torch.Tensor], context: int) -> torch.Tensor:
        """The frozen reference's log-probs, in the same precision as the policy's (so the KL
        of the untrained policy is 0): a separate model, or the policy without its adapter."""
        options = self.options
        reference = self.ref_policy
        disabled = nullcontext()
        if reference is None:
            reference = self.accelerator.unwrap_model(self.model).policy
            disabled = reference.disable_adapter()
        with disabled, self.accelerator.autocast():
            return response_logprobs(reference, **inputs, context=context,
                                     temperature=options.temperature,
                                     chunk_tokens=options.logprob_chunk)[0]

    def generate(self, queries: dict[str, torch.Tensor]) -> torch.Tensor:
        """Sampled responses, `[B, response_length]`, padded after the end if shorter.

        Sampling is plain temperature sampling, the distribution whose log-probs PPO
        computes: the model's own generation settings (a hub model's repetition penalty,
        top-k, min-p, ...) would bias the rollout away from it, so they are swapped out.
        """
        from transformers import GenerationConfig

        policy = causal_lm(self.accelerator.unwrap_model(self.model).policy)
        sampling = GenerationConfig(
            max_new_tokens=self.options.response_length, min_new_tokens=1, do_sample=True,
            temperature=self.options.temperature, top_k=0, top_p=1.0,
            eos_token_id=self.stop_token_id, pad_token_id=self.tokenizer.pad_token_id,
            bos_token_id=policy.generation_config.bos_token_id)
        own, policy.generation_config = policy.generation_config, sampling
        try:
            output = policy.generate(input_ids=queries["input_ids"],
                                     attention_mask=queries["attention_mask"],
                                     generation_config=sampling)
        finally:
            policy.generation_config = own
        responses = output[:, queries["input_ids"].shape[1]:]
        width = self.options.response_length
        if responses.shape[1] < width:
            pad = responses.new_full((responses.shape[0], width - responses.shape[1]),
                                     self.tokenizer.pad_token_id)
            responses = torch.cat([responses, pad], dim=1)
        return responses

    def score(self, prompts: list[list[dict[str, str]]], texts: list[str]) -> torch.Tensor:
        """One scalar per response: the reward function's, or the reward model's at the EOS."""
        device = self.accelerator.device
        if self.reward_fn is not None:
            return torch.tensor([float(s) for s in self.reward_fn(prompts, texts)],
                                device=device)
        from train.template import conversation_ids

        tokenizer = self.reward_tokenizer
        sequences = [conversation_ids(tokenizer, prompt + [{"role": "assistant", "content": text}],
                                      self.reward_end_id) for prompt, text in zip(prompts, texts,
                                                                                   strict=True)]
        with self.accelerator.autocast():
            return score_sequences(self.reward_model, sequences, tokenizer.pad_token_id, device)

    # -- 5: the PPO update ----------------------------------------------------------------------

    def update(self, rollout: Rollout) -> dict[str, float]:
        options = self.options
        size = rollout.mask.shape[0]
        minibatch = size // options.num_mini_batches
        micro = options.batch_size
        totals: dict[str, list[float]] = {}
        self.model.train()
        for _ in range(options.num_ppo_epochs):
            order = torch.randperm(size, device=rollout.mask.device)
            for start in range(0, size - minibatch + 1, minibatch):
                indices = order[start:start + minibatch]
                for micro_start in range(0, minibatch, micro):
                    part = indices[micro_start:micro_start + micro]
                    last = micro_start + micro >= minibatch
                    # gradients are synchronised across processes once per minibatch
                    with nullcontext() if last else self.accelerator.no_sync(self.model):
                        losses = self._losses(rollout, part)
                        self.accelerator.backward(losses["loss"] / options.grad_accum)
                    for key, value in losses.items():
                        totals.setdefault(key, []).append(value.item())
                self.accelerator.clip_grad_norm_(self.model.parameters(), options.max_grad_norm)
                self.optimizer.step()
                self.scheduler.step()
                self.optimizer.zero_grad()
        self.model.eval()
        means = {key: sum(values) / len(values) for key, values in totals.items()}
        return self._gathered_means({k: torch.tensor([v], device=self.accelerator.device)
                                     for k, v in means.items()})

    def _losses(self, rollout: Rollout, part: torch.Tensor) -> dict[str, torch.Tensor]:
        options = self.options
        context = rollout.context_length
        new_logprobs, entropies, values = self.model(
            **_model_inputs(rollout.query_response[part], rollout.attention_mask[part]),
            context=context, temperature=options.temperature, entropy=True)
        mask = rollout.mask[part]
        policy = policy_loss(new_logprobs, rollout.logprobs[part], rollout.advantages[part], mask,
                             options.cliprange)
        value = value_loss(values, rollout.values[part], rollout.returns[part], mask,
                           options.cliprange_value)
        entropy = masked_mean(entropies, mask)
        loss = policy["loss"] + options.vf_coef * value["loss"] - options.entropy_coef * entropy
        return {"loss": loss, "policy_loss": policy["loss"].detach(),
                "value_loss": value["loss"].detach(), "entropy": entropy.detach(),
                "clip_fraction": policy["clip_fraction"], "approx_kl": policy["approx_kl"].detach(),
                "value_clip_fraction": value["clip_fraction"]}

    # -- helpers ----------------------------------------------------------------------------

    def _encode_prompts(self, prompts: list[list[dict[str, str]]]) -> dict[str, torch.Tensor]:
        ids = [self.tokenizer.apply_chat_template(p, tokenize=True, add_generation_prompt=True,
                                                  return_dict=True)["input_ids"] for p in prompts]
        width = max(map(len, ids))
        pad = self.tokenizer.pad_token_id
        input_ids = torch.tensor([[pad] * (width - len(x)) + list(x) for x in ids])
        attention = torch.tensor([[0] * (width - len(x)) + [1] * len(x) for x in ids])
        device = self.accelerator.device
        return {"input_ids": input_ids.to(device), "attention_mask": attention.to(device)}

    def _gathered_means(self, values: dict[str, torch.Tensor]) -> dict[str, float]:
        return {key: self.accelerator.gather_for_metrics(value.float()).mean().item()
                for key, value in values.items()}

    def state(self) -> dict[str, int]:
        return {"iteration": self.iteration, "episodes": self.episodes}

    def load_state(self, state: dict[str, int]) -> None:
        self.iteration, self.episodes = state["iteration"], state["episodes"]


def response_mask(responses: torch.Tensor, stop_token_id: int) -> torch.Tensor:
    """1 on each response's tokens up to and including its first stop token, 0 after."""
    is_stop = (responses == stop_token_id).long()
    seen_before = torch.cumsum(is_stop, dim=1) - is_stop
    return (seen_before == 0).long()


def score_sequences(model: nn.Module, sequences: list[list[int]], pad_id: int, device: Any
                    ) -> torch.Tensor:
    """The reward model's head at each sequence's last token (right-padded, so never a pad)."""
    width = max(map(len, sequences))
    input_ids = torch.tensor([s + [pad_id] * (width - len(s)) for s in sequences], device=device)
    attention = torch.tensor([[1] * len(s) + [0] * (width - len(s)) for s in sequences],
                             device=device)
    values = token_values(model, input_ids, attention)
    last = torch.tensor([len(s) - 1 for s in sequences], device=device)
    return values[torch.arange(len(sequences), device=device), last]


def _model_inputs(input_ids: torch.Tensor, attention_mask: torch.Tensor) -> dict[str, Any]:
    """Inputs with positions that skip left padding."""
    position_ids = (attention_mask.cumsum(dim=1) - 1).clamp(min=0)
    return {"input_ids": input_ids, "attention_mask": attention_mask, "position_ids": position_ids}


def _disable_dropout(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, nn.Dropout):
            module.p = 0.0


def _scheduler(optimizer: torch.optim.Optimizer, options: PPOOptions, updates: int):
    from transformers import get_scheduler

    return get_scheduler(options.lr_scheduler, optimizer,
                         num_warmup_steps=math.ceil(options.warmup_ratio * updates),
                         num_training_steps=max(1, updates))


def load_reward_fn(spec: str) -> RewardFn:
    """`package.module:function` or `path/to/file.py:function`."""
    import importlib
    import importlib.util
    from pathlib import Path

    module_name, sep, function = spec.rpartition(":")
    if not sep or not module_name or not function:
        raise ValueError(f"--reward-fn {spec!r}: expected module:function or file.py:function")
    if module_name.endswith(".py"):
        path = Path(module_name)
        if not path.is_file():
            raise FileNotFoundError(f"--reward-fn {spec}: no such file {path}")
        loader_spec = importlib.util.spec_from_file_location(path.stem, path)
        module = importlib.util.module_from_spec(loader_spec)
        loader_spec.loader.exec_module(module)
    else:
        try:
            module = importlib.import_module(module_name)
        except ImportError as exc:
            raise ValueError(f"--reward-fn {spec}: cannot import {module_name}: {exc}") from None
    fn = getattr(module, function, None)
    if not callable(fn):
        raise ValueError(f"--reward-fn {spec}: no function {function!r} in {module_name}")  # noqa: TRY004
    return fn

