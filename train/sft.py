"""`train sft`: TRL's SFTTrainer with loss on assistant tokens only.

The loss mask comes from the chat template's `{% generation %}` markers (see
`train.template`), so it covers each assistant turn's content and its end-of-turn token,
nothing else. Prompt/completion records are also masked to the completion. A record
whose prompt alone reaches `max_length` has nothing left to train on: it is removed
(with that reason) rather than silently dropped by the trainer; longer records are
truncated and counted.
"""

from __future__ import annotations

from typing import Any

from train.data import Example, load_sft
from train.options import SFTOptions
from train.rundir import removed_if_setup_fails
from train.runner import Prepared, finish, make_config, prepare, trainer_args, trainer_inputs

TINY_LR, LR = 1e-3, 2e-5


def train_sft(options: SFTOptions) -> dict[str, Any]:
    """Run `train sft`; returns the summary also written to RUN_DIR/summary.json."""
    with removed_if_setup_fails(options.output):
        prepared, trainer = build_sft_trainer(options)
    return finish(prepared, trainer, method="sft", extra={"packing": options.packing})


def build_sft_trainer(options: SFTOptions) -> tuple[Prepared, Any]:
    """Everything up to (not including) `trainer.train()`."""
    from trl import SFTConfig, SFTTrainer

    from train.packing import PackedRowsSFTTrainer

    prepared = prepare("sft", options, load_sft)
    fit_to_max_length(prepared)
    config = make_config(
        SFTConfig, trainer_args(prepared, tiny_lr=TINY_LR, lr=LR), options,
        max_length=options.max_length,
        packing=options.packing,
        packing_strategy=options.packing_strategy,
        assistant_only_loss=options.assistant_only_loss,
    )
    packed_rows = options.packing and options.packing_strategy == "bfd"
    trainer = (PackedRowsSFTTrainer if packed_rows else SFTTrainer)(
        args=config, **trainer_inputs(prepared, "CAUSAL_LM"))
    return prepared, trainer


def fit_to_max_length(prepared: Prepared) -> None:
    """Remove records whose prompt fills `max_length`; count the ones that will be truncated."""
    tokenizer, limit = prepared.tokenizer, prepared.options.max_length
    truncated = 0
    shortest_prompt: int | None = None

    def keep(example: Example) -> str | None:
        nonlocal truncated, shortest_prompt
        prompt_tokens, total = prompt_and_total_length(tokenizer, example.row)
        shortest_prompt = min(prompt_tokens, shortest_prompt or prompt_tokens)
        if prompt_tokens >= limit:
            return "prompt_longer_than_max_length"
        truncated += total > limit
        return None

    prepared.drop(keep)
    if not prepared.train:
        raise ValueError(f"max_length {limit} is shorter than the prompt of every training "
                         f"record (the shortest prompt has {shortest_prompt} tokens); "
                         "raise --max-length")
    prepared.data.extra["truncated"] = truncated


def prompt_and_total_length(tokenizer: Any, row: dict[str, Any]) -> tuple[int, int]:
    """Tokens before the first trained token, and in the whole rendered record."""
    if "messages" in row:
        rendered = tokenizer.apply_chat_template(row["messages"], tokenize=True, return_dict=True,
                                                 return_assistant_tokens_mask=True)
        mask = rendered["assistant_masks"]
        return (mask.index(1) if 1 in mask else len(mask)), len(mask)
    prompt = tokenizer.apply_chat_template(row["prompt"], tokenize=True, return_dict=True,
                                           add_generation_prompt=True)["input_ids"]
    full = tokenizer.apply_chat_template(row["prompt"] + row["completion"], tokenize=True,
                                         return_dict=True)["input_ids"]
    return len(prompt), len(full)

