"""Packed batches as rows, for attention kernels that take a mask (SDPA, eager).

TRL's padding-free collator concatenates the whole batch into one row of `batch x max_length`
tokens: right for flash-attention's variable-length kernels, but SDPA then builds one
block-diagonal mask over that row and pays `(batch x max_length)^2` attention. Here each
packed bin stays its own row (`batch x max_length^2`), its documents kept apart by
`position_ids` that restart at each document (transformers derives the mask from them when
there is no attention mask). Measured in benchmarks/train_bench.py: TRL's layout made
packing barely faster than no packing on CPU; this one gives the speed-up packing promises.
"""

from __future__ import annotations

from typing import Any

import torch
from trl import SFTTrainer
from trl.trainer.sft_trainer import DataCollatorForLanguageModeling
from trl.trainer.utils import pad

FLASH_KERNELS = ("flash_attention_2", "flash_attention_3")


class PackedRowsCollator(DataCollatorForLanguageModeling):
    """Batches of BFD-packed rows (`input_ids`, `labels`, `seq_lengths`), one row each."""

    def torch_call(self, examples: list[dict[str, Any]]) -> dict[str, Any]:
        positions = self.get_position_ids_from_packed_seq_lengths(
            [example["seq_lengths"] for example in examples])
        ids = [torch.tensor(example["input_ids"]) for example in examples]
        labels = [torch.tensor(example.get("labels", example["input_ids"])) for example in examples]
        output = {
            "input_ids": pad(ids, padding_value=self.pad_token_id, padding_side="right"),
            "labels": pad(labels, padding_value=-100, padding_side="right"),
            "position_ids": pad(positions, padding_value=0, padding_side="right"),
            "num_packed_tokens": torch.tensor(sum(len(x) for x in ids)),
        }
        # a document's first token must not be trained to follow the previous document
        output["labels"][output["position_ids"] == 0] = -100
        return output


class PackedRowsSFTTrainer(SFTTrainer):
    """SFTTrainer with `PackedRowsCollator` (unless the model uses flash-attention), counting
    the tokens it trains on.

    SFTTrainer refuses a custom collator together with packing, so it is swapped in after
    construction; and TRL counts a padding-free batch as its width, so the count is fixed.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.model.config._attn_implementation not in FLASH_KERNELS:
            self.data_collator = PackedRowsCollator(pad_token_id=self.data_collator.pad_token_id)

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if "num_packed_tokens" not in inputs:
            return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        tokens = inputs.pop("num_packed_tokens")
        before = self._total_train_tokens
        result = super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
        if model.training:
            self._total_train_tokens = before + int(self.accelerator.gather(tokens).sum().item())
            self._metrics["train"]["num_tokens"] = [self._total_train_tokens]
        return result

