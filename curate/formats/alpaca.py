"""Alpaca: `{"instruction", "input", "output"}` (plus LLaMA-Factory's `system`, `history`,
and `chosen`/`rejected` for preference data).

The user turn is `instruction`, or `instruction + "\\n\\n" + input` when `input` is not
empty; `meta.alpaca_input` remembers the input so writing back to Alpaca is lossless.
"""

from __future__ import annotations

from typing import Any

from curate.formats.fields import (
    assistant,
    extra_fields,
    optional,
    provenance,
    record_id,
    require,
    user,
)
from curate.io import BadRecord, Loc

KNOWN = frozenset({"id", "instruction", "input", "output", "system", "history", "chosen", "rejected"})
INPUT_SEPARATOR = "\n\n"


def parse(record: dict[str, Any], loc: Loc, index: int) -> dict[str, Any]:
    instruction = require(record, "instruction", loc)
    given_input = optional(record, "input", loc, default="")
    prompt: list[dict[str, str]] = []
    if system := optional(record, "system", loc):
        prompt.append({"role": "system", "content": system})
    for turn, pair in enumerate(optional(record, "history", loc, list, default=[])):
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(t, str) for t in pair)):
            raise BadRecord(loc, f"history[{turn}]", "expected a [instruction, response] pair of strings",
                            reason="invalid_field", record=record)
        prompt += [user(pair[0]), assistant(pair[1])]
    prompt.append(user(instruction + INPUT_SEPARATOR + given_input if given_input else instruction))
    meta: dict[str, Any] = {"source": provenance("alpaca", loc, had_id="id" in record)}
    if given_input:
        meta["alpaca_input"] = given_input
    if extras := extra_fields(record, KNOWN):
        meta["extra_fields"] = extras
    rid = record_id(record, loc, index)
    if "output" in record:
        output = require(record, "output", loc)
        return {"id": rid, "messages": prompt + [assistant(output)], "meta": meta}
    if "chosen" in record or "rejected" in record:
        chosen, rejected = require(record, "chosen", loc), require(record, "rejected", loc)
        return {"id": rid, "prompt": prompt, "chosen": [assistant(chosen)],
                "rejected": [assistant(rejected)], "meta": meta}
    raise BadRecord(loc, "output", "missing required field (or chosen/rejected)",
                    reason="missing_field", record=record)


def _split_prompt(prompt: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    """Alpaca fields for a prompt: system, history pairs, instruction and input."""
    out: dict[str, Any] = {}
    turns = list(prompt)
    system = turns.pop(0)["content"] if turns and turns[0]["role"] == "system" else None
    if any(m["role"] not in ("user", "assistant") for m in turns):
        raise ValueError("Alpaca cannot hold tool turns; write messages or sharegpt instead")
    last_user = turns.pop()["content"]
    given_input = meta.get("alpaca_input", "")
    if given_input and last_user.endswith(INPUT_SEPARATOR + given_input):
        out["instruction"] = last_user[: -len(INPUT_SEPARATOR + given_input)]
        out["input"] = given_input
    else:
        out["instruction"], out["input"] = last_user, ""
    if system is not None:
        out["system"] = system
    if turns:
        out["history"] = [[turns[i]["content"], turns[i + 1]["content"]] for i in range(0, len(turns), 2)]
    return out


def render(record: dict[str, Any]) -> dict[str, Any]:
    """A canonical record as Alpaca; extra input columns are restored."""
    meta = record.get("meta", {})
    out: dict[str, Any] = {"id": record["id"]} if meta.get("source", {}).get("had_id") else {}
    if "messages" in record:
        messages = record["messages"]
        if messages[-1]["role"] != "assistant":
            raise ValueError("Alpaca needs a conversation that ends with an assistant turn")
        out |= _split_prompt(messages[:-1], meta)
        out["output"] = messages[-1]["content"]
    else:
        out |= _split_prompt(record["prompt"], meta)
        out["chosen"] = _single_reply(record["chosen"], "chosen")
        out["rejected"] = _single_reply(record["rejected"], "rejected")
    return out | meta.get("extra_fields", {})


def _single_reply(turns: list[dict[str, Any]], side: str) -> str:
    if len(turns) != 1:
        raise ValueError(f"Alpaca holds a single {side} reply, this pair has {len(turns)} turns")
    return turns[0]["content"]
