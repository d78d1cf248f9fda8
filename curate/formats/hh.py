"""Anthropic HH-RLHF transcripts: `{"chosen": str, "rejected": str}` with
"\\n\\nHuman: ..." / "\\n\\nAssistant: ..." turns.

Each transcript is split into turns on the markers; the prompt is the turns both
transcripts share, up to the last shared human turn, so for a well-formed pair the
reply is exactly the text after the *last* "\\n\\nAssistant:" (a character-level
common prefix, as TRL's `extract_prompt` uses, cuts into the reply whenever both
replies start alike: 444 of the 2,312 harmless-base test pairs). Pairs whose
text before the last marker differs between the sides are converted by the same
turn-level rule and flagged `meta.hh_prefix_mismatch`.
"""

from __future__ import annotations

import re
from typing import Any

from curate.formats.fields import extra_fields, provenance, record_id, require
from curate.io import BadRecord, Loc

HUMAN, ASSISTANT = "\n\nHuman:", "\n\nAssistant:"
_TURN = re.compile(r"\n\n(Human|Assistant):")
_ROLE = {"Human": "user", "Assistant": "assistant"}


def looks_like_hh(record: dict[str, Any]) -> bool:
    chosen = record.get("chosen")
    return isinstance(chosen, str) and ASSISTANT in chosen and HUMAN in chosen


def split_transcript(text: str) -> tuple[str, str]:
    """`(prompt, reply)`: split on the last "\n\nAssistant:"; the reply drops one leading space."""
    prompt, _, reply = text.rpartition(ASSISTANT)
    return prompt, reply.removeprefix(" ")


def parse_turns(text: str) -> list[dict[str, str]]:
    """"\n\nHuman: a\n\nAssistant: b" -> user/assistant messages.

    A marker that repeats the current speaker ("\n\nAssistant: x\n\nAssistant: y") does
    not start a new turn: it stays in the text, so turns alternate and nothing is lost.
    """
    pieces = _TURN.split(text)
    if pieces[0].strip():
        raise ValueError("text before the first 'Human:' turn")
    turns: list[dict[str, str]] = []
    for speaker, piece in zip(pieces[1::2], pieces[2::2]):
        role = _ROLE[speaker]
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += f"\n\n{speaker}:{piece}"
        else:
            turns.append({"role": role, "content": piece.removeprefix(" ")})
    return turns


def split_pair(chosen: list[dict[str, str]], rejected: list[dict[str, str]]) -> int:
    """Number of leading turns shared by both transcripts, ending on a user turn."""
    shared = 0
    while shared < min(len(chosen), len(rejected)) and chosen[shared] == rejected[shared]:
        shared += 1
    while shared and chosen[shared - 1]["role"] != "user":
        shared -= 1
    return shared


def parse(record: dict[str, Any], loc: Loc, index: int) -> dict[str, Any]:
    texts = {side: require(record, side, loc) for side in ("chosen", "rejected")}
    turns = {}
    for side, text in texts.items():
        if ASSISTANT not in text:
            raise BadRecord(loc, side, "no '\\n\\nAssistant:' turn in the transcript",
                            reason="invalid_field", record=record)
        try:
            turns[side] = parse_turns(text)
        except ValueError as exc:
            raise BadRecord(loc, side, str(exc), reason="invalid_field", record=record) from None
    shared = split_pair(turns["chosen"], turns["rejected"])
    if not shared:
        raise BadRecord(loc, "rejected", "chosen and rejected share no human turn",
                        reason="prompt_mismatch", record=record)
    meta: dict[str, Any] = {"source": provenance("hh", loc, had_id="id" in record)}
    # The check the format promises: both transcripts are one prompt plus a final reply.
    if split_transcript(texts["chosen"])[0] != split_transcript(texts["rejected"])[0]:
        meta["hh_prefix_mismatch"] = True
    if extras := extra_fields(record, {"id", "chosen", "rejected"}):
        meta["extra_fields"] = extras
    return {"id": record_id(record, loc, index), "prompt": turns["chosen"][:shared],
            "chosen": turns["chosen"][shared:], "rejected": turns["rejected"][shared:], "meta": meta}
