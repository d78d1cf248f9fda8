"""Rewards for `train grpo`, as TRL reward functions `(prompts, completions, **columns) ->
floats`.

* `accuracy`: 1 when the completion's final answer matches the record's reference, else 0,
  with `curate select`'s answer checking (`curate.select.answers`: GSM8K `#### N`, the last
  `\\boxed{}`, else the last number; normalised LaTeX, exact rational values, then
  Math-Verify), so a problem counts as solved in training as it does in selection and in
  `train eval --math`.
* `format`: 1 when the completion states its final answer explicitly (`\\boxed{...}` or a
  `#### N` line), else 0.
* `length`: DAPO's soft overlong punishment (Yu et al. 2025): 0 up to
  `max_completion_length - cache` tokens, then falling linearly to -1 at the limit.
* a reward model (a `train rm` run), read at the end-of-turn token as in `train rm` and PPO;
* a reward function `(prompts, responses) -> floats` (`--reward-fn`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from curate.select.answers import answers_match, extract_answer, last_boxed

RewardFunc = Callable[..., list[float]]
_GSM8K_LINE = re.compile(r"####\s*\S")


def text(completion: Any) -> str:
    """A completion as text: TRL passes conversational completions as message lists."""
    if isinstance(completion, list):
        return "".join(message.get("content", "") for message in completion)
    return str(completion)


def accuracy(completions: list[Any], answer: list[str | None] | None = None,
             **_: Any) -> list[float | None]:
    """1.0 for the reference's final answer, 0.0 otherwise (None: the record has no reference,
    which TRL leaves out of the mean)."""
    answers = answer or [None] * len(completions)
    return [None if reference is None
            else float(answers_match(extract_answer(text(completion)), reference))
            for completion, reference in zip(completions, answers, strict=True)]


def format_reward(completions: list[Any], **_: Any) -> list[float]:
    """1.0 when the final answer is marked (`\\boxed{}` or `#### N`), else 0.0."""
    return [float(last_boxed(text(c)) is not None or bool(_GSM8K_LINE.search(text(c))))
            for c in completions]


def length_reward(max_completion_length: int, cache: int) -> RewardFunc:
    """DAPO's soft overlong punishment, on completion token counts."""
    cache = max(1, min(cache, max_completion_length))
    free = max_completion_length - cache

    def length(completion_ids: list[list[int]], **_: Any) -> list[float]:
        return [0.0 if len(ids) <= free else max(-1.0, (free - len(ids)) / cache)
                for ids in completion_ids]

    return length


def reward_model_reward(source: str, *, dtype: Any = None) -> RewardFunc:
    """A `train rm` reward model as a reward function: each prompt + completion rendered by its
    own chat template, cut after the end-of-turn token, scored at that token."""
    import torch
    from accelerate import PartialState
    from transformers import AutoModelForSequenceClassification

    from train.models import load_tokenizer
    from train.ppo import score_sequences
    from train.template import conversation_ids, end_of_turn_id, resolve_template

    device = PartialState().device
    model = AutoModelForSequenceClassification.from_pretrained(
        source, num_labels=1, dtype=dtype or torch.float32).to(device).eval()
    tokenizer = load_tokenizer(source)
    if not tokenizer.chat_template:
        resolve_template(tokenizer, model_name=source)
    end_id = end_of_turn_id(tokenizer)

    def reward_model(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        sequences = [conversation_ids(tokenizer, list(prompt) + [
            {"role": "assistant", "content": text(completion)}], end_id)
            for prompt, completion in zip(prompts, completions, strict=True)]
        scores = []
        with torch.no_grad():
            for start in range(0, len(sequences), 16):
                scores += score_sequences(model, sequences[start:start + 16],
                                          tokenizer.pad_token_id, device).tolist()
        return scores

    return reward_model


def function_reward(fn: Callable[[list, list[str]], list[float]]) -> RewardFunc:
    """A `(prompts, responses) -> floats` function (as `train ppo --reward-fn` takes)."""

    def reward_fn(prompts: list[Any], completions: list[Any], **_: Any) -> list[float]:
        return [float(score) for score in fn(prompts, [text(c) for c in completions])]

    return reward_fn


def named(function: RewardFunc, name: str) -> RewardFunc:
    """TRL logs each reward as `rewards/<__name__>/mean`."""
    function.__name__ = name
    return function
