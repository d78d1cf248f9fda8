"""Token counts with a Hugging Face tokenizer (a local path, or a hub id when online)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from curate.filters.signal import Family, Signal, Value
from curate.filters.text import Doc


@lru_cache(maxsize=4)
def load_tokenizer(name: str) -> Any:
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(name)
    except OSError as exc:
        raise ValueError(f"tokenizer {name!r} could not be loaded "
                         f"(a local path, or a hub id when online): {exc}") from None


def count_tokens(texts: list[str], tokenizer_name: str) -> list[int]:
    """Tokens per text, without special tokens."""
    if not texts:
        return []
    encoded = load_tokenizer(tokenizer_name)(texts, add_special_tokens=False)["input_ids"]
    return [len(ids) for ids in encoded]


def _batch(docs: Sequence[Doc], options: Any) -> list[dict[str, Value]]:
    name = getattr(options, "tokenizer", None)
    if not name:
        raise ValueError("token counts need a tokenizer (--tokenizer PATH_OR_ID)")
    return [{"tokens": count} for count in count_tokens([doc.text for doc in docs], name)]


FAMILY = Family(
    name="tokens",
    doc="Token count under a Hugging Face tokenizer (needs --tokenizer).",
    signals=(Signal("tokens", None, None,
                    "Tokens of the text under --tokenizer (no special tokens); only with one."),),
    batch=_batch,
)
