"""Training data: read with `curate.io`, validate with `schemas`, shape for TRL.

Three shapes, checked record by record before any model loads (a bad record names
its file:line and field):

* SFT: `{"messages": [...]}` conversations, or `{"prompt", "completion"}` (message lists,
  or strings, which become a user turn and an assistant turn);
* pairs (rm, dpo): `{"prompt", "chosen", "rejected"}` message lists (strings are wrapped
  the same way; without `prompt`, the shared leading turns of chosen and rejected are it);
* prompts (ppo, grpo, generate, eval): `{"prompt": [...] | "text"}`, the prompt of any pair
  or conversation file, or `question` / `problem` / `instruction` strings; with a reference
  answer (`answer`, `final_answer`, `reference` or `solution`) for verifiable rewards.

Records keep their `id` (and `meta`), so anything dropped later can be written with a
reason. Held-out records are split by prompt: no prompt is in both sets.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from curate.io import BadRecord, Loc, Rejects, read_rows
from curate.progress import progress
from schemas import Conversation, Message, PreferencePair, check_turn_order, first_error

Kind = Literal["messages", "prompt_completion", "preference", "prompt"]

_SFT_HINT = ("train sft needs `messages` or `prompt` + `completion`; "
             "train pairs with `train rm` / `train dpo`, or make conversations with "
             "`curate convert --to messages`")
_PAIR_HINT = ("train rm/dpo need `prompt`, `chosen` and `rejected`; make pairs with "
              "`curate convert --to preference` or `label export --format dpo`")


@dataclass
class Example:
    """One usable record: the TRL-ready `row`, where it came from, and its id."""

    row: dict[str, Any]
    loc: Loc
    id: str
    meta: dict[str, Any] = field(default_factory=dict)
    answer_chars: tuple[int, int] | None = None  # pairs: characters of chosen, rejected


@dataclass
class TrainData:
    """Validated records of one file, with the accounting of what was rejected."""

    source: str
    kind: Kind
    examples: list[Example]
    rejects: Rejects
    n_in: int
    extra: dict[str, Any] = field(default_factory=dict)
    removed: list[tuple[Example, str]] = field(default_factory=list)  # (example, reason)

    def rows(self) -> list[dict[str, Any]]:
        return [example.row for example in self.examples]

    def texts(self) -> list[str]:
        """Every message text, for training the tiny model's tokenizer."""
        return [m["content"] for row in self.rows() for key in ("messages", "prompt", "completion",
                "chosen", "rejected") for m in row.get(key, ())]


class _PromptCompletion(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    prompt: list[Message] = Field(min_length=1)
    completion: list[Message] = Field(min_length=1)


def load_sft(source: str | Path, rejects: Rejects) -> TrainData:
    """Conversations or prompt/completion records (one format per file). Records with an
    empty assistant turn are kept (they are data) and counted: `train sft` warns."""
    data = _load(source, rejects, _sft_example)
    data.extra["empty_assistant_turns"] = sum(
        any(not m["content"].strip() for m in turns if m["role"] == "assistant")
        for turns in (example.row.get("messages") or example.row["completion"]
                      for example in data.examples))
    return data


def load_pairs(source: str | Path, rejects: Rejects, *, margin_scale: float = 0.0) -> TrainData:
    """Preference pairs. With `margin_scale > 0`, pairs carrying `meta.strength` (from
    `label export`: 1.0 = "better", 2.0 = "much better") get `margin = margin_scale * strength`
    and the others `margin = 0` (no margin); without any strength there is no margin column.
    """
    data = _load(source, rejects, _pair_example)
    _remove_degenerate_pairs(data)
    for example in data.examples:
        example.answer_chars = tuple(sum(len(m["content"]) for m in example.row[side])
                                     for side in ("chosen", "rejected"))
    strengths = [example.row.pop("_strength") for example in data.examples]
    with_strength = sum(s is not None for s in strengths)
    if margin_scale > 0 and with_strength:
        for example, strength in zip(data.examples, strengths, strict=True):
            example.row["margin"] = margin_scale * strength if strength is not None else 0.0
    data.extra["pairs_with_strength"] = with_strength
    return data


def load_prompts(source: str | Path, rejects: Rejects, *, dedup: bool = True,
                 prompt_field: str | None = None, template: str = "{prompt}",
                 answer_field: str | None = None, need_answers: bool = False) -> TrainData:
    """Prompts for ppo, grpo, generate and eval: prompt-only, pair, conversation or
    question/problem records. Each row has `prompt` (messages) and, when the record has
    one, `answer` (the reference's final answer). With `dedup`, a repeated prompt (pairs
    often share one) is kept once; the repeats are removed with reason `duplicate_prompt`.
    """
    def make(loc: Loc, record: dict[str, Any]) -> tuple[Kind, dict, str]:
        return _prompt_example(loc, record, prompt_field, template, answer_field, need_answers)

    data = _load(source, rejects, make)
    data.extra["with_answers"] = sum("answer" in example.row for example in data.examples)
    if not dedup:
        return data
    seen: set[str] = set()
    unique = []
    for example in data.examples:
        key = prompt_key(example.row)
        if key in seen:
            data.removed.append((example, "duplicate_prompt"))
        else:
            seen.add(key)
            unique.append(example)
    data.examples = unique
    return data


def prompt_key(row: dict[str, Any]) -> str:
    """What identifies a record's prompt: its prompt turns, or a conversation's turns before
    the first assistant answer."""
    turns = row.get("prompt")
    if turns is None:
        messages = row.get("messages", [])
        first = next((i for i, m in enumerate(messages) if m["role"] == "assistant"),
                     len(messages))
        turns = messages[:first]
    return json.dumps(turns, ensure_ascii=False, sort_keys=True)


def split_eval(examples: list[Example], eval_split: float, seed: int
               ) -> tuple[list[Example], list[Example]]:
    """Hold out `eval_split` (a fraction < 1, or a count) of the records, reproducibly, by
    prompt: all records sharing a prompt land on the same side (pairs of one OASST prompt
    would otherwise leak into the held-out set). Whole prompt groups are drawn at random
    until the count is reached."""
    n = len(examples)
    count = int(eval_split) if eval_split >= 1 else round(n * eval_split)
    if eval_split > 0 and n >= 2:
        count = max(1, count)
    if count == 0:
        return list(examples), []
    groups: dict[str, list[int]] = {}
    for index, example in enumerate(examples):
        groups.setdefault(prompt_key(example.row), []).append(index)
    if count >= n or len(groups) < 2:
        raise ValueError(f"eval split of {count} leaves no training records ({n} records, "
                         f"{len(groups)} distinct prompts; held-out records are split by "
                         "prompt); lower --eval-split or pass --eval-data FILE")
    order = list(groups)
    random.Random(seed).shuffle(order)
    held: set[int] = set()
    for key in order:
        if len(held) >= count:
            break
        if len(held) + len(groups[key]) >= n:
            continue  # keep at least one prompt for training
        held.update(groups[key])
    return ([e for i, e in enumerate(examples) if i not in held],
            [e for i, e in enumerate(examples) if i in held])


def shared_prompts(train: list[Example], held: list[Example]) -> int:
    """Held-out records whose prompt is also a training prompt."""
    seen = {prompt_key(example.row) for example in train}
    return sum(prompt_key(example.row) in seen for example in held)


def length_baseline(examples: list[Example]) -> float | None:
    """Accuracy of "the longer answer is the chosen one" (ties count half) on these pairs:
    what a model must beat to have learned more than length."""
    lengths = [e.answer_chars for e in examples if e.answer_chars is not None]
    if not lengths:
        return None
    return sum(1.0 if c > r else 0.5 if c == r else 0.0 for c, r in lengths) / len(lengths)


def _remove_degenerate_pairs(data: TrainData) -> None:
    """Pairs that teach nothing or the wrong thing: chosen equal to rejected (up to
    whitespace: the loss sits at log 2 and learns nothing), or an empty chosen answer
    (DPO and reward models learn to prefer empty answers)."""
    def words(turns: list[dict[str, str]]) -> list[tuple[str, str]]:
        return [(m["role"], " ".join(m["content"].split())) for m in turns]

    kept = []
    for example in data.examples:
        row = example.row
        reason = "chosen_equals_rejected" if words(row["chosen"]) == words(row["rejected"]) \
            else None if any(m["content"].strip() for m in row["chosen"]
                             if m["role"] == "assistant") else "empty_chosen"
        if reason is None:
            kept.append(example)
        else:
            row.pop("_strength", None)  # internal: not part of the removed record
            data.removed.append((example, reason))
    data.examples = kept


def _load(source: str | Path, rejects: Rejects,
          make: Callable[[Loc, dict[str, Any]], tuple[Kind, dict, str]]) -> TrainData:
    examples: list[Example] = []
    kinds: dict[str, Loc] = {}
    read = invalid = 0
    with progress("train", f"read {source}") as advance:
        for loc, record in read_rows(source, rejects=rejects):
            read += 1
            advance()
            try:
                kind, row, record_id = make(loc, record)
                kinds.setdefault(kind, loc)
                if len(kinds) > 1:
                    other = next(k for k in kinds if k != kind)
                    raise BadRecord(loc, "<record>", f"a {kind} record in a file of {other} "
                                    f"records (first at {kinds[other]}); use one format per file",
                                    reason="mixed_formats", record=record)
            except BadRecord as error:
                invalid += 1
                rejects(error)
                continue
            meta = record.get("meta")
            examples.append(Example(row, loc, record_id, meta if isinstance(meta, dict) else {}))
    n_in = read + len(rejects) - invalid  # the reader rejects unparsable lines itself
    if n_in == 0:
        raise ValueError(f"{source}: empty dataset (no records)")
    if not examples:
        raise ValueError(f"{source}: no usable records ({len(rejects)} rejected)")
    return TrainData(str(source), next(iter(kinds)), examples, rejects, n_in)


def _sft_example(loc: Loc, record: dict[str, Any]) -> tuple[Kind, dict, str]:
    record_id = _id(loc, record)
    if "messages" in record:
        conversation = _validate(Conversation, loc, record,
                                 {"id": record_id, "messages": record["messages"],
                                  "meta": record.get("meta") or {}})
        return "messages", {"messages": _plain(conversation.messages)}, record_id
    if "chosen" in record or "rejected" in record:
        raise BadRecord(loc, "messages", "a preference record (prompt/chosen/rejected): "
                        f"{_SFT_HINT}", reason="wrong_format", record=record)
    for column in ("prompt", "completion"):
        if column not in record:
            missing = "messages" if column == "prompt" else column
            raise BadRecord(loc, missing, f"missing column: {_SFT_HINT}", reason="missing_column",
                            record=record)
    values = {"id": record_id, "prompt": _as_turns(record["prompt"], "user"),
              "completion": _as_turns(record["completion"], "assistant")}
    pair = _validate(_PromptCompletion, loc, record, values)
    _check_order(loc, record, "completion", pair.prompt + pair.completion)
    if pair.completion[0].role != "assistant":
        raise BadRecord(loc, "completion[0].role", "a completion must start with 'assistant'",
                        record=record)
    return "prompt_completion", {"prompt": _plain(pair.prompt),
                                 "completion": _plain(pair.completion)}, record_id


def _pair_example(loc: Loc, record: dict[str, Any]) -> tuple[Kind, dict, str]:
    record_id = _id(loc, record)
    if "messages" in record and "chosen" not in record:
        raise BadRecord(loc, "chosen", f"a conversation record (messages): {_PAIR_HINT}",
                        reason="wrong_format", record=record)
    for column in ("chosen", "rejected"):
        if column not in record:
            raise BadRecord(loc, column, f"missing column: {_PAIR_HINT}", reason="missing_column",
                            record=record)
    chosen = _as_turns(record["chosen"], "assistant")
    rejected = _as_turns(record["rejected"], "assistant")
    prompt = record.get("prompt")
    if prompt is None:
        prompt, chosen, rejected = _split_shared_prefix(loc, record, chosen, rejected)
    values = {"id": record_id, "prompt": _as_turns(prompt, "user"), "chosen": chosen,
              "rejected": rejected, "meta": record.get("meta") or {}}
    pair = _validate(PreferencePair, loc, record, values)
    row = {"prompt": _plain(pair.prompt), "chosen": _plain(pair.chosen),
           "rejected": _plain(pair.rejected)}
    return "preference", {**row, "_strength": _strength(loc, record, pair.meta)}, record_id


PROMPT_FIELDS = ("prompt", "question", "problem", "instruction")
ANSWER_FIELDS = ("answer", "final_answer", "reference", "expected_answer", "solution")
_PROMPT_HINT = ("needs `prompt` (a string or messages), `question`, `problem` or `instruction`, "
                "or a pair or conversation file (whose prompt is used); or pass --prompt-field")


def _prompt_example(loc: Loc, record: dict[str, Any], prompt_field: str | None = None,
                    template: str = "{prompt}", answer_field: str | None = None,
                    need_answer: bool = False) -> tuple[Kind, dict, str]:
    record_id = _id(loc, record)
    field_name = prompt_field or next((name for name in PROMPT_FIELDS if name in record), None)
    if field_name is None and "messages" in record:
        turns = _as_turns(record["messages"], "user")
        last_assistant = max((i for i, m in enumerate(turns) if isinstance(m, dict)
                              and m.get("role") == "assistant"), default=len(turns))
        turns, field_name = turns[:last_assistant], "messages"
    elif field_name is None or field_name not in record:
        raise BadRecord(loc, field_name or "prompt", f"missing column: {_PROMPT_HINT}",
                        reason="missing_column", record=record)
    else:
        value = record[field_name]
        if field_name == "instruction" and record.get("input"):
            value = f"{value}\n\n{record['input']}"  # Alpaca
        turns = _as_turns(template.replace("{prompt}", value) if isinstance(value, str)
                          else value, "user")
    if not turns:
        raise BadRecord(loc, field_name, "no prompt turns before the assistant's answer",
                        record=record)
    messages = _validate_messages(loc, record, field_name, turns)
    if messages[-1].role not in ("user", "tool"):
        raise BadRecord(loc, field_name, "a prompt must end with a user (or tool) turn",
                        record=record)
    row: dict[str, Any] = {"prompt": _plain(messages)}
    answer = _reference(loc, record, answer_field, need_answer)
    if answer is not None:
        row["answer"] = answer
    return "prompt", row, record_id


def _reference(loc: Loc, record: dict[str, Any], answer_field: str | None, need: bool
               ) -> str | None:
    """The final answer of a record's reference: GSM8K's `#### N` or a solution's last
    `\\boxed{}` when there is one, else the whole (stripped) value."""
    name = answer_field or next((n for n in ANSWER_FIELDS if record.get(n) is not None), None)
    if name is None or record.get(name) is None:
        if need:
            raise BadRecord(loc, answer_field or "answer", "missing reference answer: the accuracy "
                            f"reward needs one of {', '.join(ANSWER_FIELDS)} (or --answer-field)",
                            reason="missing_column", record=record)
        return None
    from curate.select.answers import extract_answer  # curate.select is heavy to import

    value = record[name]
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise BadRecord(loc, name, f"expected a string or number, got {type(value).__name__}",
                        record=record)
    text = str(value).strip()
    answer = extract_answer(text) if ("####" in text or "\\boxed" in text
                                      or name == "solution") else text
    if not answer:
        raise BadRecord(loc, name, "no final answer found (no #### line, \\boxed{} or number)",
                        record=record)
    return answer


def _strength(loc: Loc, record: dict, meta: dict[str, Any]) -> float | None:
    strength = meta.get("strength")
    if strength is None:
        return None
    if not isinstance(strength, (int, float)) or isinstance(strength, bool) or strength < 0:
        raise BadRecord(loc, "meta.strength", f"expected a number >= 0, got {strength!r}",
                        record=record)
    return float(strength)


def _split_shared_prefix(loc: Loc, record: dict, chosen: list, rejected: list
                         ) -> tuple[list, list, list]:
    """Implicit prompt: the leading turns chosen and rejected share, up to the last user turn."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    while shared and not (isinstance(chosen[shared - 1], dict)
                          and chosen[shared - 1].get("role") in ("user", "tool")):
        shared -= 1
    if not shared:
        raise BadRecord(loc, "prompt", "missing column, and chosen/rejected share no leading "
                        f"user turn to use as the prompt: {_PAIR_HINT}", reason="missing_column",
                        record=record)
    return chosen[:shared], chosen[shared:], rejected[shared:]


def _validate(model: type[BaseModel], loc: Loc, record: dict, values: dict) -> Any:
    try:
        return model.model_validate(values)
    except ValidationError as exc:
        path, message = first_error(exc)
        raise BadRecord(loc, path, message, record=record) from None


def _validate_messages(loc: Loc, record: dict, name: str, turns: list) -> list[Message]:
    try:
        messages = [Message.model_validate(turn) for turn in turns]
    except ValidationError as exc:
        path, message = first_error(exc)
        raise BadRecord(loc, f"{name}.{path}", message, record=record) from None
    _check_order(loc, record, name, messages)
    return messages


def _check_order(loc: Loc, record: dict, name: str, messages: list[Message]) -> None:
    try:
        check_turn_order(messages)
    except ValueError as exc:
        raise BadRecord(loc, name, str(exc), record=record) from None


def _as_turns(value: Any, role: str) -> Any:
    """A plain string becomes one turn of `role`; anything else is validated as messages."""
    return [{"role": role, "content": value}] if isinstance(value, str) else value


def _plain(messages: list[Message]) -> list[dict[str, str]]:
    return [{"role": m.role, "content": m.content} for m in messages]


def _id(loc: Loc, record: dict[str, Any]) -> str:
    value = record.get("id")
    return str(value) if value is not None else str(loc)
