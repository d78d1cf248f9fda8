"""Chat records: `Message`, `Conversation` (SFT) and `PreferencePair` (DPO/RM).

Both records are TRL's conversational formats, so `train` needs no mapping.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

Role = Literal["system", "user", "assistant", "tool"]
# A record id is text; an integer id (a row number, a dataset's own int ids) becomes its text.
RecordId = Annotated[str, BeforeValidator(lambda value: str(value) if isinstance(value, int)
                                          else value)]


class Message(BaseModel):
    """One turn. Extra keys (e.g. `name`, `tool_call_id`) are kept, never dropped."""

    model_config = ConfigDict(extra="allow")

    role: Role
    content: str


def check_turn_order(messages: list[Message], *, must_start_with_user: bool = True) -> None:
    """Raise ValueError unless the roles alternate sensibly.

    Rules: `system` only first; the first non-system turn is `user` (when
    `must_start_with_user`); `user` and `assistant` alternate; `tool` follows
    an assistant (or another tool) turn.
    """
    previous: str | None = None
    for index, message in enumerate(messages):
        role = message.role
        where = f"messages[{index}].role"
        if role == "system":
            if index != 0:
                raise ValueError(f"{where}: a system message is only allowed first")
        elif role == "tool":
            if previous not in ("assistant", "tool"):
                raise ValueError(f"{where}: a tool message must follow an assistant or tool turn")
        elif previous in (None, "system"):
            if must_start_with_user and role != "user":
                raise ValueError(f"{where}: the first non-system turn must be 'user', got {role!r}")
        elif role == previous:
            raise ValueError(f"{where}: two consecutive {role!r} turns")
        previous = role


class Conversation(BaseModel):
    """An SFT record: `{"id", "messages": [...], "meta": {...}}`."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    messages: list[Message] = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_roles(self) -> Conversation:
        if not any(m.role == "assistant" for m in self.messages):
            raise ValueError("messages: needs at least one assistant turn")
        check_turn_order(self.messages)
        return self


class PreferencePair(BaseModel):
    """A preference record: a shared `prompt` and two continuations."""

    model_config = ConfigDict(extra="forbid")

    id: RecordId
    prompt: list[Message] = Field(min_length=1)
    chosen: list[Message] = Field(min_length=1)
    rejected: list[Message] = Field(min_length=1)
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_roles(self) -> PreferencePair:
        check_turn_order(self.prompt)
        if self.prompt[-1].role not in ("user", "tool"):
            raise ValueError("prompt: the last prompt turn must be 'user' (or 'tool')")
        for side in ("chosen", "rejected"):
            turns = getattr(self, side)
            if turns[0].role != "assistant":
                raise ValueError(f"{side}[0].role: a completion must start with 'assistant'")
            check_turn_order(self.prompt + turns)
        return self
