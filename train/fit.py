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


@dataclass
class Measured:
    prompt: int
    total: int
    row: dict[str, Any] | None = None  # replaces the example's row when given


def fit_to_max_length(prepared: Prepared, measure: Callable[[dict[str, Any]], Measured], *,
                      limit: int | None = None, room: int = 1, whole: bool = False,
                      what: str = "answer") -> None:
    """Measure every record, drop what does not fit (with its reason), count truncations."""
    limit = limit or prepared.options.max_length
    truncated = 0
    shortest_prompt: int | None = None
    shortest_total: int | None = None
    total = len(prepared.train) + len(prepared.eval)
    with progress(f"train {prepared.command}", "tokenise", total) as advance:

        def keep(example: Example) -> str | None:
            nonlocal truncated, shortest_prompt, shortest_total
            advance()
            measured = measure(example.row)
            shortest_prompt = min(measured.prompt, shortest_prompt or measured.prompt)
            if limit - measured.prompt < room:
                return "prompt_longer_than_max_length"
            shortest_total = min(measured.total, shortest_total or measured.total)
            if measured.total > limit:
                if whole:
                    return "longer_than_max_length"
                truncated += 1
            if measured.row is not None:
                example.row = measured.row
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
