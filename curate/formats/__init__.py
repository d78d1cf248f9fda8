"""Input formats (parsers into canonical records) and output formats (renderers)."""

from __future__ import annotations

from typing import Any

from curate.formats import alpaca, columns, hh, messages, oasst, sharegpt

SOURCE_FORMATS = ("alpaca", "sharegpt", "messages", "oasst", "hh", "columns")
TARGET_FORMATS = ("messages", "prompt-completion", "alpaca", "sharegpt", "preference")

RENDERERS = {
    "messages": messages.render_messages,
    "prompt-completion": messages.render_prompt_completion,
    "alpaca": alpaca.render,
    "sharegpt": sharegpt.render,
    "preference": messages.render_preference,
}


def detect_format(record: dict[str, Any]) -> str:
    """The source format of a record, from its keys."""
    keys = record.keys()
    if oasst.is_tree_row(record) or oasst.is_message_row(record):
        return "oasst"
    if "conversations" in keys:
        return "sharegpt"
    if "instruction" in keys:
        return "alpaca"
    if hh.looks_like_hh(record):
        return "hh"
    if "messages" in keys or {"prompt", "completion"} <= keys or {"chosen", "rejected"} <= keys:
        return "messages"
    if columns.detect_fields(record):
        return "columns"
    raise ValueError(f"cannot tell the format from the keys {sorted(keys)}; pass --from "
                     f"({'|'.join(SOURCE_FORMATS)})")
