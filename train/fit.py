"""One rule for records that do not fit `max_length`, for every method, with tokenisation done
once.

Each method measures a record (`Measured`: tokens before the first trained token, tokens
of the longest trained sequence, and the tokenised row handed to TRL so TRL does not
tokenise again). Then:

* a record whose prompt leaves fewer than `room` tokens (1 for sft/rm/dpo, the response
  length for ppo/grpo) is removed: `prompt_longer_than_max_length`;
* with `whole` (reward models: truncation would cut off the token the reward is read at),
  a longer record is removed: `longer_than_max_length`;
* otherwise a longer record is kept, counted as `truncated` (TRL keeps its start).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from curate.progress import progress

if TYPE_CHECKING:
    from train.data import Example
    from train.runner import Prepared


_BATCH = 256  # records tokenised per call


@dataclass
class Measured:
    prompt: int
    total: int
    row: dict[str, Any] | None = None  # replaces the example's row when given


def fit_to_max_length(prepared: Prepared,
                      measure: Callable[[dict[str, Any]], Measured] | None = None, *,
                      limit: int | None = None, room: int = 1, whole: bool = False,
                      what: str = "answer",
                      measure_many: Callable[[list[dict[str, Any]]], list[Measured]] | None = None
                      ) -> None:
    """Measure every record (`measure` row by row, or `measure_many` a batch at once: one
    tokenizer call per batch), drop what does not fit (with its reason), count truncations."""
    limit = limit or prepared.options.max_length
    truncated = 0
    shortest_prompt: int | None = None
    shortest_total: int | None = None
    examples = [*prepared.train, *prepared.eval]
    many = measure_many or (lambda rows: [measure(row) for row in rows])  # type: ignore[misc]
    measured: dict[int, Measured] = {}
    with progress(f"train {prepared.command}", "tokenise", len(examples)) as advance:
        for start in range(0, len(examples), _BATCH):
            batch = examples[start:start + _BATCH]
            for example, result in zip(batch, many([e.row for e in batch]), strict=True):
                measured[id(example)] = result
            advance(len(batch))

    def keep(example: Example) -> str | None:
        nonlocal truncated, shortest_prompt, shortest_total
        result = measured[id(example)]
        shortest_prompt = min(result.prompt, shortest_prompt or result.prompt)
        if limit - result.prompt < room:
            return "prompt_longer_than_max_length"
        shortest_total = min(result.total, shortest_total or result.total)
        if result.total > limit:
            if whole:
                return "longer_than_max_length"
            truncated += 1
        if result.row is not None:
            example.row = result.row
        return None

    prepared.drop(keep)
    if not prepared.train:
        if shortest_total is None:
            raise ValueError(f"max_length {limit} is too short: the shortest prompt has "
                             f"{shortest_prompt} tokens, and the {what} needs {room} more; "
                             "raise --max-length")
        raise ValueError(f"max_length {limit} is too short: every training record is longer "
                         f"(the shortest has {shortest_total} tokens); raise --max-length")
    prepared.data.extra["truncated"] = truncated


def chat_ids_many(tokenizer: Any, conversations: list[list[dict[str, str]]], *,
                  add_generation_prompt: bool = False) -> list[list[int]]:
    """`chat_ids` of many conversations: rendered one by one, tokenised in one call (what
    `apply_chat_template(tokenize=True)` does per conversation, 40% faster in a batch)."""
    texts = [tokenizer.apply_chat_template(messages, tokenize=False,
                                           add_generation_prompt=add_generation_prompt)
             for messages in conversations]
    return [list(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]


def chat_ids(tokenizer: Any, messages: list[dict[str, str]], **kwargs: Any) -> list[int]:
    """Token ids of `messages` rendered by the chat template."""
    return list(tokenizer.apply_chat_template(messages, tokenize=True, return_dict=True,
                                              **kwargs)["input_ids"])


def prompt_ids(tokenizer: Any, prompt: list[dict[str, str]]) -> list[int]:
    """The prompt with the assistant's generation prompt: what a model answers from."""
    return chat_ids(tokenizer, prompt, add_generation_prompt=True)


def common_prefix(first: list[int], second: list[int]) -> int:
    """Leading tokens two sequences share (a prompt rendered alone can end differently than
    followed by an answer, or merge with the answer's first token)."""
    count = 0
    for a, b in zip(first, second, strict=False):
        if a != b:
            break
        count += 1
    return count
