"""The text a report measures and shows of a record of any shape, never its JSON.

`parts(record)` gives labelled pieces in reading order: the turns of a conversation, a pair's
prompt then its chosen and rejected answers, every message of an OpenAssistant tree (nested
export) with its depth, ShareGPT turns, A/B items, and for anything else the record's text
columns. `measured_text` is what lengths count: the record's `all` view (every turn) where
it has one, else the text of its parts.
"""

from __future__ import annotations

from typing import Any

from curate.views import text_view

# Columns that name or describe a record rather than hold its text.
_NOT_TEXT = frozenset({"id", "meta", "scores", "source", "url", "lang", "role", "generator",
                       "dataset", "subject", "level", "unique_id", "type", "label"})


def parts(record: Any) -> list[tuple[str, str]]:
    """(label, text) pieces of a record, in reading order."""
    if not isinstance(record, dict):
        return [("", record if isinstance(record, str) else repr(record))]
    if isinstance(record.get("messages"), list):
        return _turns(record["messages"])
    if isinstance(record.get("prompt"), dict):  # an OpenAssistant tree, nested export
        return _tree(record["prompt"], 0)
    if isinstance(record.get("conversations"), list):  # raw ShareGPT
        pieces = _turns(record["conversations"])
        for side in ("chosen", "rejected"):
            if isinstance(record.get(side), dict):
                pieces += [(side, text) for _, text in _turns([record[side]])]
        return pieces
    if "prompt" in record and any(key in record for key in ("chosen", "completion",
                                                             "response_a")):
        pieces = _side(record["prompt"], "user")
        for side in ("chosen", "rejected", "completion", "response_a", "response_b"):
            if side in record:
                pieces += [(side, text) for _, text in _side(record[side], side)]
        return pieces
    return [(key, value) for key, value in record.items()
            if isinstance(value, str) and value and key not in _NOT_TEXT]


def measured_text(record: Any) -> str:
    """The text whose length a report plots: every turn, or every message of a tree."""
    if isinstance(record, dict) and not isinstance(record.get("prompt"), dict):
        try:
            return text_view(record, "all")
        except (KeyError, TypeError):
            pass
    return "\n\n".join(text for _, text in parts(record))


def shown_text(record: Any) -> str:
    """The record as a reader sees it: each piece under its label."""
    pieces = parts(record)
    if len(pieces) == 1 and pieces[0][0] in ("", "text"):
        return pieces[0][1]
    return "\n\n".join(_labelled(label, text) for label, text in pieces)


def _labelled(label: str, text: str) -> str:
    """`[label] text`, a tree reply's indent (leading spaces of its label) kept in front."""
    name = label.lstrip(" ")
    return f"{label[:len(label) - len(name)]}[{name}] {text}" if name else text


def _turns(messages: list[Any]) -> list[tuple[str, str]]:
    pieces = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        role = message.get("role", message.get("from", ""))
        content = message.get("content", message.get("value"))
        if isinstance(content, str):
            pieces.append((str(role), content))
    return pieces


def _side(value: Any, label: str) -> list[tuple[str, str]]:
    if isinstance(value, str):
        return [(label, value)]
    if isinstance(value, list):
        return _turns(value)
    return []


def _tree(node: dict[str, Any], depth: int) -> list[tuple[str, str]]:
    """Every message of an OpenAssistant tree, depth first, replies indented by depth."""
    pieces = []
    if isinstance(node.get("text"), str):
        label = str(node.get("role", "message"))
        if node.get("rank") is not None:
            label += f", rank {node['rank']}"
        pieces.append(("  " * depth + label, node["text"]))
    for reply in node.get("replies") or []:
        if isinstance(reply, dict):
            pieces += _tree(reply, depth + 1)
    return pieces
