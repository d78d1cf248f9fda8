"""ShareGPT: `{"conversations": [{"from": "human"|"gpt"|"system"|..., "value"}]}`.

Also LLaMA-Factory's variants: a top-level `system`, and preference records with
`chosen`/`rejected` turns. Speaker names other than the defaults (human, gpt,
system, observation) are remembered in `meta.sharegpt_from`, so writing back
is lossless.
"""

from __future__ import annotations

from typing import Any

from curate.formats.fields import extra_fields, optional, provenance, record_id, require
from curate.io import BadRecord, Loc

ROLE_OF = {
    "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
    "chatgpt": "assistant", "bard": "assistant", "bing": "assistant", "model": "assistant",
    "function_call": "assistant", "system": "system", "observation": "tool", "tool": "tool",
    "function": "tool",
}
SPEAKER_OF = {"user": "human", "assistant": "gpt", "system": "system", "tool": "observation"}
KNOWN = frozenset({"id", "conversations", "system", "chosen", "rejected"})


def _turn(raw: Any, field: str, loc: Loc, record: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """One ShareGPT turn as a message, plus the original speaker name."""
    if not isinstance(raw, dict):
        raise BadRecord(loc, field, "expected an object with 'from' and 'value'",
                        reason="invalid_field", record=record)
    speaker = raw.get("from", raw.get("role"))
    text = raw.get("value", raw.get("content"))
    if speaker is None:
        raise BadRecord(loc, f"{field}.from", "missing required field", reason="missing_field", record=record)
    if speaker not in ROLE_OF:
        raise BadRecord(loc, f"{field}.from", f"unknown speaker {speaker!r}; expected one of "
                        f"{', '.join(sorted(ROLE_OF))}", reason="unknown_role", record=record)
    if not isinstance(text, str):
        raise BadRecord(loc, f"{field}.value", "missing or not a string", reason="missing_field",
                        record=record)
    message = {"role": ROLE_OF[speaker], "content": text}
    message |= {k: v for k, v in raw.items() if k not in ("from", "value", "role", "content")}
    return message, speaker


def parse(record: dict[str, Any], loc: Loc, index: int) -> dict[str, Any]:
    raw_turns = require(record, "conversations", loc, list)
    turns, speakers = [], []
    for position, raw in enumerate(raw_turns):
        message, speaker = _turn(raw, f"conversations[{position}]", loc, record)
        turns.append(message)
        speakers.append(speaker)
    meta: dict[str, Any] = {"source": provenance("sharegpt", loc, had_id="id" in record)}
    if system := optional(record, "system", loc):
        turns.insert(0, {"role": "system", "content": system})
        speakers.insert(0, "system")
        meta["sharegpt_system"] = "top"
    rid = record_id(record, loc, index)
    if "chosen" in record or "rejected" in record:
        sides = {}
        for side in ("chosen", "rejected"):
            value = require(record, side, loc, (dict, list))
            shape = "dict" if isinstance(value, dict) else "list"
            parsed = [_turn(v, f"{side}[{i}]" if shape == "list" else side, loc, record)
                      for i, v in enumerate(value if shape == "list" else [value])]
            sides[side] = [m for m, _ in parsed]
            speakers += [s for _, s in parsed]
            meta["sharegpt_shape"] = shape
        record_out = {"id": rid, "prompt": turns, **sides, "meta": meta}
    else:
        record_out = {"id": rid, "messages": turns, "meta": meta}
    if any(s != SPEAKER_OF.get(ROLE_OF[s]) for s in speakers):
        meta["sharegpt_from"] = speakers
    if extras := extra_fields(record, KNOWN):
        meta["extra_fields"] = extras
    return record_out


def _turns_out(messages: list[dict[str, Any]], speakers: list[str]) -> list[dict[str, Any]]:
    return [{"from": speaker, "value": message["content"]}
            | {k: v for k, v in message.items() if k not in ("role", "content")}
            for message, speaker in zip(messages, speakers)]


def render(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as ShareGPT; speaker names and extra columns are restored."""
    meta = record.get("meta", {})
    out: dict[str, Any] = {"id": record["id"]} if meta.get("source", {}).get("had_id") else {}
    sides = [record["messages"]] if "messages" in record else \
        [record["prompt"], record["chosen"], record["rejected"]]
    speakers = meta.get("sharegpt_from")
    if not speakers or len(speakers) != sum(map(len, sides)):
        speakers = [SPEAKER_OF[m["role"]] for turns in sides for m in turns]
    groups, start = [], 0
    for turns in sides:
        groups.append(_turns_out(turns, speakers[start:start + len(turns)]))
        start += len(turns)
    conversations = groups[0]
    system = None
    if meta.get("sharegpt_system") == "top" and conversations and conversations[0]["from"] == "system":
        system = conversations.pop(0)["value"]
    out["conversations"] = conversations
    for side, turns in zip(("chosen", "rejected"), groups[1:]):
        out[side] = turns[0] if meta.get("sharegpt_shape", "dict") == "dict" and len(turns) == 1 else turns
    if system is not None:
        out["system"] = system
    return out | meta.get("extra_fields", {})
