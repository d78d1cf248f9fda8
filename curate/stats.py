"""Dataset statistics over canonical records: counts, turns, roles, lengths, languages."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

PERCENTILES = (5, 25, 50, 75, 95)


def summarize(values: list[int]) -> dict[str, float]:
    """min, p5..p95, max and mean of a list of lengths (zeros when empty)."""
    if not values:
        return {"n": 0}
    array = np.asarray(values)
    out = {"n": int(array.size), "min": int(array.min())}
    out |= {f"p{p}": float(np.percentile(array, p)) for p in PERCENTILES}
    return out | {"max": int(array.max()), "mean": round(float(array.mean()), 2)}


def _text(turns: list[dict[str, Any]], role: str) -> str:
    return "\n\n".join(m["content"] for m in turns if m["role"] == role)


def _language(record: dict[str, Any]) -> str | None:
    meta, scores = record.get("meta") or {}, record.get("scores") or {}
    return scores.get("lang") or meta.get("lang") or record.get("lang")


def dataset_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Statistics of conversations and/or preference pairs."""
    kinds: Counter[str] = Counter()
    roles: Counter[str] = Counter()
    languages: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    turns: list[int] = []
    lengths: dict[str, list[int]] = {f"{part}_{unit}": [] for part in ("prompt", "response", "rejected")
                                     for unit in ("chars", "words")}
    for record in records:
        if "messages" in record:
            kinds["conversation"] += 1
            conversation = record["messages"]
            parts = {"prompt": _text(conversation, "user"), "response": _text(conversation, "assistant")}
        else:
            kinds["preference_pair"] += 1
            conversation = record["prompt"] + record["chosen"]
            parts = {"prompt": _text(record["prompt"], "user"),
                     "response": _text(record["chosen"], "assistant"),
                     "rejected": _text(record["rejected"], "assistant")}
        turns.append(len(conversation))
        roles.update(m["role"] for m in conversation)
        for part, text in parts.items():
            lengths[f"{part}_chars"].append(len(text))
            lengths[f"{part}_words"].append(len(text.split()))
        if language := _language(record):
            languages[language] += 1
        sources[(record.get("meta") or {}).get("source", {}).get("format", "unknown")] += 1
    return {
        "records": sum(kinds.values()),
        "kinds": dict(kinds),
        "source_formats": dict(sources),
        "turns": summarize(turns),
        "roles": dict(roles.most_common()),
        "lengths": {name: summarize(values) for name, values in lengths.items() if values},
        "languages": dict(languages.most_common()) or None,
    }
