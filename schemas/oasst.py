"""OpenAssistant message trees, in both public exports.

* "trees" export: one line per tree, `{"message_tree_id", "tree_state", "prompt": node}`;
* "messages" export: one line per message with `parent_id` (and optionally
  `message_tree_id`), or a root message with its `replies` already nested.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class OasstNode(BaseModel):
    """One message of a tree. Unknown export fields (`emojis`, `model_name`...) are kept."""

    model_config = ConfigDict(extra="allow")

    message_id: str
    parent_id: str | None = None
    role: Literal["prompter", "assistant"]
    text: str
    lang: str | None = None
    rank: int | None = None
    review_result: bool | None = None
    deleted: bool = False
    synthetic: bool = False
    labels: Any = None
    replies: list[OasstNode] = Field(default_factory=list)


class OasstTree(BaseModel):
    """One tree of the "trees" export."""

    model_config = ConfigDict(extra="allow")

    message_tree_id: str
    tree_state: str | None = None
    prompt: OasstNode
