"""Dataset statistics over canonical records: counts, turns, roles, lengths, languages.

Statistics are computed a batch at a time and merged (`partial_stats`, `merge_partial`),
so they run on the engine over any number of shards in bounded memory. Percentiles are
exact up to `EXACT_VALUES` values per length; beyond, they come from a log-spaced histogram
whose bins are 1% wide (each percentile within 1% of the exact value); min, max and mean are
always exact.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from typing import Any

import numpy as np

PERCENTILES = (5, 25, 50, 75, 95)
EXACT_VALUES = 100_000
_GROWTH = math.log(1.01)


def _text(turns: list[dict[str, Any]], role: str) -> str:
    return "\n\n".join(m["content"] for m in turns if m["role"] == role)


def _language(record: dict[str, Any]) -> str | None:
    meta, scores = record.get("meta") or {}, record.get("scores") or {}
    return scores.get("lang") or meta.get("lang") or record.get("lang")


def _lengths() -> dict[str, Any]:
    return {"n": 0, "sum": 0, "min": None, "max": None, "values": [], "bins": {}}


def _add(entry: dict[str, Any], value: int) -> None:
    entry["n"] += 1
    entry["sum"] += value
    entry["min"] = value if entry["min"] is None else min(entry["min"], value)
    entry["max"] = value if entry["max"] is None else max(entry["max"], value)
    entry["values"].append(value)
    if len(entry["values"]) > EXACT_VALUES:
        _to_bins(entry)


def _bin(value: int) -> int:
    return int(math.log1p(value) / _GROWTH)


def _to_bins(entry: dict[str, Any]) -> None:
    bins = Counter(entry["bins"])
    bins.update(_bin(v) for v in entry["values"])
    entry["bins"] = dict(bins)
    entry["values"] = []


def partial_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Mergeable statistics of conversations and/or preference pairs."""
    out: dict[str, Any] = {"kinds": {}, "roles": {}, "languages": {}, "sources": {},
                           "turns": _lengths(), "lengths": {}}
    kinds, roles = Counter(), Counter()
    languages, sources = Counter(), Counter()
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
        _add(out["turns"], len(conversation))
        roles.update(m["role"] for m in conversation)
        for part, text in parts.items():
            for unit, value in (("chars", len(text)), ("words", len(text.split()))):
                _add(out["lengths"].setdefault(f"{part}_{unit}", _lengths()), value)
        if language := _language(record):
            languages[language] += 1
        sources[((record.get("meta") or {}).get("source") or {}).get("format", "unknown")] += 1
    out.update(kinds=dict(kinds), roles=dict(roles), languages=dict(languages),
               sources=dict(sources))
    return out


def _merge_lengths(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {"n": a["n"] + b["n"], "sum": a["sum"] + b["sum"],
           "min": min(x for x in (a["min"], b["min"]) if x is not None) if a["n"] or b["n"] else None,
           "max": max(x for x in (a["max"], b["max"]) if x is not None) if a["n"] or b["n"] else None,
           "values": a["values"] + b["values"], "bins": dict(Counter(a["bins"]) + Counter(b["bins"]))}
    if out["bins"] or len(out["values"]) > EXACT_VALUES:
        _to_bins(out)
    return out


def merge_partial(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = {key: dict(Counter(a[key]) + Counter(b[key]))
           for key in ("kinds", "roles", "languages", "sources")}
    out["turns"] = _merge_lengths(a["turns"], b["turns"])
    names = list(dict.fromkeys([*a["lengths"], *b["lengths"]]))
    out["lengths"] = {name: _merge_lengths(a["lengths"].get(name, _lengths()),
                                           b["lengths"].get(name, _lengths()))
                      for name in names}
    return out


def summarize_lengths(entry: dict[str, Any]) -> dict[str, float]:
    """min, p5..p95, max and mean."""
    if not entry["n"]:
        return {"n": 0}
    out: dict[str, float] = {"n": entry["n"], "min": entry["min"]}
    if entry["bins"]:
        keys = np.array(sorted(entry["bins"]))
        counts = np.array([entry["bins"][k] for k in keys])
        cumulative = np.cumsum(counts) / counts.sum()
        for p in PERCENTILES:
            bin_number = keys[min(len(keys) - 1, int(np.searchsorted(cumulative, p / 100)))]
            value = math.expm1((bin_number + 0.5) * _GROWTH)
            out[f"p{p}"] = float(min(max(value, entry["min"]), entry["max"]))
    else:
        array = np.asarray(entry["values"])
        out |= {f"p{p}": float(np.percentile(array, p)) for p in PERCENTILES}
    return out | {"max": entry["max"], "mean": round(entry["sum"] / entry["n"], 2)}


def summarize(values: list[int]) -> dict[str, float]:
    """min, p5..p95, max and mean of a list of lengths."""
    entry = _lengths()
    for value in values:
        _add(entry, value)
    return summarize_lengths(entry)


def finish_stats(partial: dict[str, Any]) -> dict[str, Any]:
    return {
        "records": sum(partial["kinds"].values()),
        "kinds": partial["kinds"],
        "source_formats": partial["sources"],
        "turns": summarize_lengths(partial["turns"]),
        "roles": dict(Counter(partial["roles"]).most_common()),
        "lengths": {name: summarize_lengths(entry) for name, entry in partial["lengths"].items()
                    if entry["n"]},
        "languages": dict(Counter(partial["languages"]).most_common()) or None,
    }


def dataset_stats(records: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Statistics of conversations and/or preference pairs (in memory)."""
    return finish_stats(partial_stats(records))
