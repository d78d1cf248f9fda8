"""Labeling records: the A/B `Item`, the K-way `MultiItem`, the stored `Judgment` and the
choice vocabulary.

Two vocabularies, never mixed:

* **canonical** choices name the item's own sides, `a` and `b` (`Choice`);
* **shown** choices name the screen, `left` and `right` (`Shown`): what a labeler clicked.

The server converts shown to canonical with the side that was on the left for that
assignment (`labeling_app.positions.to_canonical`), and stores both.
"""

from __future__ import annotations

from typing import Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, model_validator

from schemas.chat import Message, RecordId, check_turn_order

Side = Literal["a", "b"]
Gold = Literal["a", "b", "tie"]
Winner = Literal["a", "b", "tie", "both_bad"]
Choice = Literal["a_much", "a", "tie", "b", "b_much", "both_bad", "skip"]
Shown = Literal["left_much", "left", "tie", "right", "right_much", "both_bad", "skip"]

CHOICES: tuple[str, ...] = get_args(Choice)
SHOWN: tuple[str, ...] = get_args(Shown)
VOTES: tuple[str, ...] = tuple(c for c in CHOICES if c != "skip")
"""Choices that count as a judgment (a skip does not)."""

WINNER: dict[str, str] = {"a_much": "a", "a": "a", "tie": "tie", "b": "b", "b_much": "b",
                          "both_bad": "both_bad"}
STRENGTH: dict[str, float] = {"a_much": 2.0, "a": 1.0, "tie": 0.0, "b": 1.0, "b_much": 2.0,
                              "both_bad": 0.0}
ORDINAL: dict[str, int] = {"a_much": 0, "a": 1, "tie": 2, "both_bad": 2, "b": 3, "b_much": 4}
"""The 5-point scale from "A much better" (0) to "B much better" (4); both-bad sits at tie."""

NEEDS_RATIONALE = frozenset({"both_bad", "skip"})

TASKS: tuple[str, ...] = ("pairwise", "ranking", "ratings")
"""A project's task: A/B items on a 5-point scale, or K responses ranked, or rated per
criterion (`MultiItem`s)."""
MAX_RESPONSES = 9
"""Responses one ranking or ratings item may have: keys 1-9 pick them, and InstructGPT's
labelers ranked 4 to 9 at once."""

Text = str | list[Message]


def as_text(value: Text) -> str:
    """What a pane shows: the string itself, or the turns with their roles."""
    if isinstance(value, str):
        return value
    if len(value) == 1:
        return value[0].content
    return "\n\n".join(f"**{m.role}:** {m.content}" for m in value)


def as_messages(value: Text, role: str) -> list[Message]:
    """A prompt or response as chat turns: a string becomes one `role` turn."""
    return [Message(role=role, content=value)] if isinstance(value, str) else list(value)


def check_prompt(prompt: Text) -> None:
    """A prompt to judge: some text, and, as turns, in order and ending with the user."""
    if not as_text(prompt).strip():
        raise ValueError("prompt: must not be empty")
    if isinstance(prompt, list):
        check_turn_order(prompt)
        if prompt[-1].role not in ("user", "tool"):
            raise ValueError("prompt: the last prompt turn must be 'user' (or 'tool')")


class Item(BaseModel):
    """One A/B comparison: `{id, prompt, response_a, response_b, source_a, source_b, meta}`.

    `prompt` and the responses are plain text or chat turns. A `gold` item carries its
    known answer (`a`, `b` or `tie`), used to measure labeler accuracy.
    """

    model_config = ConfigDict(extra="forbid")

    id: RecordId = Field(min_length=1)
    prompt: Text
    response_a: Text
    response_b: Text
    source_a: str | None = None
    source_b: str | None = None
    gold: Gold | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check_texts(self) -> Item:
        check_prompt(self.prompt)
        for side in ("response_a", "response_b"):
            value = getattr(self, side)
            if not as_text(value).strip():
                raise ValueError(f"{side}: must not be empty")
            if isinstance(value, list) and value[0].role != "assistant":
                raise ValueError(f"{side}[0].role: a response must start with 'assistant'")
        return self


class Judgment(BaseModel):
    """One stored decision, in canonical terms, with how the item was shown.

    `left` is the canonical side that was displayed on the left; `seconds` is the
    server-measured time from serving the item to receiving the vote.
    """

    model_config = ConfigDict(extra="forbid")

    item_id: str
    user: str
    choice: Choice
    shown: Shown
    left: Side
    seconds: float = Field(ge=0)
    guideline_version: str
    rationale: str = ""
    simulated: bool = False
    created_at: float


class MultiItem(BaseModel):
    """One prompt with K responses (2 to `MAX_RESPONSES`), ranked or rated as a whole:
    `{id, prompt, responses, sources, gold, meta}`.

    `sources[i]` names the model of `responses[i]` (win rates per model). A `gold` item
    carries its known ranking: `gold[i]` is the rank of response i (1 is best, equal ranks
    are ties). A response may be empty (a model that answered nothing is ranked too).
    """

    model_config = ConfigDict(extra="forbid")

    id: RecordId = Field(min_length=1)
    prompt: Text
    responses: list[Text] = Field(min_length=2, max_length=MAX_RESPONSES)
    sources: list[str | None] | None = None
    gold: list[int] | None = None
    meta: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _check(self) -> MultiItem:
        check_prompt(self.prompt)
        for index, value in enumerate(self.responses):
            if isinstance(value, list) and (not value or value[0].role != "assistant"):
                raise ValueError(f"responses[{index}][0].role: a response must start with "
                                 "'assistant'")
        k = len(self.responses)
        for name in ("sources", "gold"):
            value = getattr(self, name)
            if value is not None and len(value) != k:
                raise ValueError(f"{name}: one per response ({k}), not {len(value)}")
        if self.gold is not None and not all(1 <= rank <= k for rank in self.gold):
            raise ValueError(f"gold: ranks from 1 (best) to {k}")
        return self

    def source(self, index: int) -> str | None:
        return self.sources[index] if self.sources else None
