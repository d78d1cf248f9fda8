"""Text views of a record: which text a step compares, scores or filters.

A view is one of:

* `prompt`   - user turns (conversations, preference pairs, prompt/completion, raw
               ShareGPT `conversations`; `instruction` + `input` or `question`/`problem`
               for raw columns);
* `response` - assistant turns (for a preference pair: the chosen side);
* `chosen`, `rejected` - a preference pair's chosen or rejected answer;
* `all`      - every turn, system included, in order;
* `text`     - the `text` column of a plain document;
* any other name - that column (a dotted path such as `meta.title` reaches inside).

Turns are joined with a blank line. A missing view raises `KeyError`.
"""

from __future__ import annotations

from typing import Any

VIEWS = ("prompt", "response", "chosen", "rejected", "all", "text")

_RAW_PROMPT_FIELDS = (("instruction", "input"), ("question",), ("problem",), ("query",))
_RAW_RESPONSE_FIELDS = ("output", "answer", "solution", "response", "completion")
_JOIN = "\n\n"


def text_view(record: dict[str, Any], view: str) -> str:
    """The text of `record` under `view` (see module docstring)."""
    if isinstance(record.get("conversations"), list) and "messages" not in record:
        record = _from_sharegpt(record)
    if view == "prompt":
        return _prompt_text(record)
    if view == "response":
        return _response_text(record)
    if view == "all":
        return _all_text(record)
    if view in ("chosen", "rejected") and isinstance(record.get(view), list):
        return _JOIN.join(_turns(record[view], ("assistant",)))
    return _column(record, view)


def is_pair(record: dict[str, Any]) -> bool:
    """A preference pair: it has both a chosen and a rejected side."""
    return "chosen" in record and "rejected" in record


def _from_sharegpt(record: dict[str, Any]) -> dict[str, Any]:
    """A raw ShareGPT record (`conversations` of `from`/`value` turns, LLaMA-Factory's
    `chosen`/`rejected` turns) with its turns as messages, so every view reads it as it reads
    the converted record: no need to convert before dedup, filter or decontam."""
    from curate.formats.sharegpt import ROLE_OF

    def messages(turns: Any) -> Any:
        if isinstance(turns, dict):
            turns = [turns]
        if not isinstance(turns, list):
            return turns
        return [{"role": ROLE_OF.get(turn.get("from"), turn.get("from")),
                 "content": turn.get("value")} if isinstance(turn, dict) else turn
                for turn in turns]

    converted = {key: value for key, value in record.items() if key != "conversations"}
    converted["messages"] = messages(record["conversations"])
    if isinstance(record.get("system"), str):
        converted["messages"] = [{"role": "system", "content": record["system"]},
                                 *converted["messages"]]
    for side in ("chosen", "rejected"):
        if side in record:
            converted[side] = messages(record[side])
    if "chosen" in converted:  # a preference record: the conversation is its prompt
        converted["prompt"] = converted.pop("messages")
    return converted


def _turns(messages: Any, roles: tuple[str, ...]) -> list[str]:
    """The contents of the turns with these roles. A turn that is not an object, or whose
    content is not text, makes the view unreadable (`TypeError`), never a crash."""
    if isinstance(messages, str):
        return [messages]
    if not isinstance(messages, list):
        raise KeyError("messages")
    out = []
    for position, message in enumerate(messages):
        if not isinstance(message, dict):
            raise TypeError(f"turn {position} is {type(message).__name__}, not an object")
        if message.get("role") in roles and message.get("content"):
            content = message["content"]
            if not isinstance(content, str):
                raise TypeError(f"turn {position}: content is {type(content).__name__}, not text")
            out.append(content)
    return out


def _prompt_text(record: dict[str, Any]) -> str:
    if "messages" in record:
        return _JOIN.join(_turns(record["messages"], ("user",)))
    if "prompt" in record:
        return _JOIN.join(_turns(record["prompt"], ("user",)))
    for fields in _RAW_PROMPT_FIELDS:
        if fields[0] in record:
            return _JOIN.join(str(record[f]) for f in fields if record.get(f))
    raise KeyError("prompt")


def _response_text(record: dict[str, Any]) -> str:
    if "messages" in record:
        return _JOIN.join(_turns(record["messages"], ("assistant",)))
    for key in ("chosen", "completion"):
        if key in record:
            return _JOIN.join(_turns(record[key], ("assistant",)))
    for key in _RAW_RESPONSE_FIELDS:
        if key in record:
            return str(record[key])
    raise KeyError("response")


def _all_text(record: dict[str, Any]) -> str:
    every_role = ("system", "user", "assistant", "tool")
    if "messages" in record:
        return _JOIN.join(_turns(record["messages"], every_role))
    if "prompt" in record and ("chosen" in record or "completion" in record):
        reply = record.get("chosen", record.get("completion"))
        return _JOIN.join(_turns(record["prompt"], every_role) + _turns(reply, every_role))
    if "text" in record:
        return str(record["text"])
    return _JOIN.join(part for part in (_prompt_text(record), _response_text(record)) if part)


def _column(record: dict[str, Any], path: str) -> str:
    value: Any = record
    for key in path.split("."):
        if not isinstance(value, dict) or key not in value:
            raise KeyError(path)
        value = value[key]
    if value is None:
        raise KeyError(path)
    return value if isinstance(value, str) else str(value)
