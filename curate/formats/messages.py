"""ChatML-style `messages` records and TRL's formats.

Accepted shapes:

* conversational LM: `{"messages": [{"role", "content"}...]}`;
* preference with explicit prompt: `{"prompt", "chosen", "rejected"}` (message lists or strings);
* preference with implicit prompt: `{"chosen": [...], "rejected": [...]}`, split after the
  last shared user turn (message by message, never inside a message);
* prompt/completion: `{"prompt", "completion"}` (message lists or strings).

Strings become a single user (prompt) or assistant (completion) turn.
"""

from __future__ import annotations

from typing import Any

from curate.formats.fields import (
    assistant,
    check_type,
    extra_fields,
    provenance,
    record_id,
    require,
    user,
)
from curate.io import BadRecord, Loc

KNOWN = frozenset({"id", "messages", "prompt", "chosen", "rejected", "completion", "meta"})


def _turns(value: Any, field: str, loc: Loc, record: dict[str, Any], as_role: str) -> list[dict[str, Any]]:
    if isinstance(value, str):
        return [user(value) if as_role == "user" else assistant(value)]
    turns = check_type(value, field, loc, list, record)
    for position, turn in enumerate(turns):
        check_type(turn, f"{field}[{position}]", loc, dict, record)
    return turns


def _meta(record: dict[str, Any], loc: Loc, fmt: str) -> dict[str, Any]:
    meta = dict(record.get("meta") or {})
    meta.setdefault("source", provenance(fmt, loc, had_id="id" in record))
    if extras := extra_fields(record, KNOWN):
        meta["extra_fields"] = extras
    return meta


def parse(record: dict[str, Any], loc: Loc, index: int) -> dict[str, Any]:
    rid = record_id(record, loc, index)
    if "messages" in record:
        messages = _turns(require(record, "messages", loc, list), "messages", loc, record, "user")
        return {"id": rid, "messages": messages, "meta": _meta(record, loc, "messages")}
    if "completion" in record:
        prompt = _turns(require(record, "prompt", loc, (str, list)), "prompt", loc, record, "user")
        completion = _turns(require(record, "completion", loc, (str, list)), "completion", loc, record,
                            "assistant")
        return {"id": rid, "messages": prompt + completion, "meta": _meta(record, loc, "prompt-completion")}
    chosen = _turns(require(record, "chosen", loc, (str, list)), "chosen", loc, record, "assistant")
    rejected = _turns(require(record, "rejected", loc, (str, list)), "rejected", loc, record, "assistant")
    if "prompt" in record:
        prompt = _turns(require(record, "prompt", loc, (str, list)), "prompt", loc, record, "user")
    else:
        prompt, chosen, rejected = _split_implicit_prompt(chosen, rejected, loc, record)
    return {"id": rid, "prompt": prompt, "chosen": chosen, "rejected": rejected,
            "meta": _meta(record, loc, "preference")}


def _split_implicit_prompt(chosen: list[dict[str, Any]], rejected: list[dict[str, Any]], loc: Loc,
                           record: dict[str, Any]) -> tuple[list, list, list]:
    """Shared leading turns up to the last shared user turn become the prompt."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    while shared and chosen[shared - 1].get("role") != "user":
        shared -= 1
    if not shared:
        raise BadRecord(loc, "chosen", "chosen and rejected share no user turn to use as the prompt",
                        reason="invalid_record", record=record)
    return chosen[:shared], chosen[shared:], rejected[shared:]


def render_messages(record: dict[str, Any]) -> dict[str, Any]:
    """Conversation records as they are; a pair becomes prompt + chosen."""
    if "messages" in record:
        return record
    return {"id": record["id"], "messages": record["prompt"] + record["chosen"],
            "meta": record["meta"] | {"converted_from": "preference"}}


def render_prompt_completion(record: dict[str, Any]) -> dict[str, Any]:
    """TRL conversational prompt/completion: everything before the last assistant turn is prompt."""
    messages = record["messages"] if "messages" in record else record["prompt"] + record["chosen"]
    last = max(i for i, m in enumerate(messages) if m["role"] == "assistant")
    if last != len(messages) - 1:
        raise ValueError("prompt/completion needs a conversation that ends with an assistant turn")
    return {"id": record["id"], "prompt": messages[:last], "completion": messages[last:],
            "meta": record["meta"]}


def render_preference(record: dict[str, Any]) -> dict[str, Any]:
    if "messages" in record:
        raise ValueError("a conversation has no rejected answer; --to preference needs pairs "
                         "(or OASST trees, whose ranked siblings become pairs)")
    return record
