"""Per-record steps: each a pure function of a batch, run by `curate.engine` for commands,
recipes and Ray alike.

`apply(records, locs, options, rejects) -> StepResult` sees one batch; a record it cannot
read goes to `rejects` (file:line and field; raised in `raise` mode). `merge` combines the
`extra` statistics of two batches (or tasks) and must be associative; `finish` turns the
merged statistics into the step's stats once every task is done, and may refuse the result
(an option that matched nothing), in which case nothing is committed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from curate.io import BadRecord, Loc, Rejects
from curate.step import StepResult

Apply = Callable[[list[dict[str, Any]], list[Loc], Any, Rejects], StepResult]


def merge_extra(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    """Numbers add up, dicts merge key by key, lists concatenate, anything else keeps the
    first value seen (such as the resolved rules)."""
    if not a:
        return dict(b)
    out = dict(a)
    for key, value in b.items():
        if key not in out:
            out[key] = value
        elif isinstance(value, dict) and isinstance(out[key], dict):
            out[key] = merge_extra(out[key], value)
        elif isinstance(value, int | float) and not isinstance(value, bool) \
                and isinstance(out[key], int | float) and not isinstance(out[key], bool) or isinstance(value, list) and isinstance(out[key], list):
            out[key] = out[key] + value
    return out


def keep_extra(options: Any, extra: dict[str, Any], records_in: int = 0) -> dict[str, Any]:
    return extra


@dataclass(frozen=True)
class RecordStep:
    apply: Apply
    merge: Callable[[dict[str, Any], dict[str, Any]], dict[str, Any]] = merge_extra
    finish: Callable[[Any, dict[str, Any], int], dict[str, Any]] = keep_extra


def checked(check: Callable[[dict[str, Any]], None], records: list[dict[str, Any]],
            locs: list[Loc], rejects: Rejects) -> tuple[list[dict[str, Any]], list[Loc]]:
    """The records `check` accepts; the others go to rejects with their location."""
    from curate.scoring import Unreadable

    good, good_locs = [], []
    for record, loc in zip(records, locs):
        try:
            check(record)
        except Unreadable as exc:
            rejects(BadRecord(loc, exc.field, exc.message, reason=exc.reason, record=record))
            continue
        except (TypeError, AttributeError) as exc:  # a turn that is not an object, say
            rejects(BadRecord(loc, "messages", f"unreadable ({exc})", reason="bad_field",
                              record=record))
            continue
        good.append(record)
        good_locs.append(loc)
    return good, good_locs


# --- the steps --------------------------------------------------------------------------

def _read(records: list[dict[str, Any]], locs: list[Loc], options: Any,
          rejects: Rejects) -> StepResult:
    return StepResult(records)


def _convert(records: list[dict[str, Any]], locs: list[Loc], options: Any,
             rejects: Rejects) -> StepResult:
    from curate.convert import convert_batch

    return convert_batch(records, locs, options, rejects)


def _score(records: list[dict[str, Any]], locs: list[Loc], options: Any,
           rejects: Rejects) -> StepResult:
    from curate.scoring import score_records, text_check

    records, _ = checked(text_check(options), records, locs, rejects)
    scored = score_records(records, options)
    return StepResult(scored, extra={"scores": summarize_scores(scored)})


def _filter(records: list[dict[str, Any]], locs: list[Loc], options: Any,
            rejects: Rejects) -> StepResult:
    from curate.filtering import filter_records
    from curate.scoring import text_check

    records, _ = checked(text_check(options), records, locs, rejects)
    return filter_records(records, options)


def _finish_filter(options: Any, extra: dict[str, Any], records_in: int) -> dict[str, Any]:
    """Merged counts of every batch; a requested language that no record has fails here,
    before anything is committed."""
    from curate.filtering import check_filter_stats, merge_filter_stats

    stats = merge_filter_stats(options, [extra])
    check_filter_stats(options, stats, records_in)
    return stats


def _decontam(records: list[dict[str, Any]], locs: list[Loc], options: Any,
              rejects: Rejects) -> StepResult:
    from curate.decontam import decontam_records
    from curate.views import text_view

    def check(record: dict[str, Any]) -> None:
        from curate.scoring import Unreadable

        try:
            text_view(record, options.field)
        except KeyError:
            raise Unreadable(options.field, "no such text in this record (choose another with "
                             "--field)", "missing_text") from None
        except (TypeError, AttributeError) as exc:
            raise Unreadable(options.field, f"not text ({exc})", "bad_field") from None

    records, _ = checked(check, records, locs, rejects)
    result = decontam_records(records, options)
    hits = Counter(f"{item['eval']}\x1f{item['item']}" for line in result.removed
                   for item in line["eval_items"])
    return StepResult(result.kept, result.removed, {"hits": dict(hits)})


def _finish_decontam(options: Any, extra: dict[str, Any], records_in: int = 0) -> dict[str, Any]:
    """Eval set sizes, and every eval item hit (most hit first) with how many training
    records hit it."""
    from curate.decontam import eval_index

    index = eval_index(options)
    hits = Counter({tuple(key.split("\x1f", 1)): count
                    for key, count in (extra.get("hits") or {}).items()})
    previews = {(item.source, str(item.item)): item.preview for item in index.items}
    return {
        "ngram": index.ngram,
        "eval_items": dict(Counter(item.source for item in index.items)),
        "eval_items_skipped_short": index.skipped,
        "boilerplate_ngrams_ignored": index.boilerplate_ngrams,
        "eval_items_hit": dict(Counter(source for source, _ in hits)),
        "hits": [{"eval": source, "item": item, "records": count,
                  "preview": previews.get((source, item), "")}
                 for (source, item), count in hits.most_common()],
    }


def _stats(records: list[dict[str, Any]], locs: list[Loc], options: Any,
           rejects: Rejects) -> StepResult:
    from curate.stats import partial_stats

    return StepResult(records, extra={"stats": partial_stats(records)})


def _merge_stats(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    from curate.stats import merge_partial

    if not a:
        return b
    if not b:
        return a
    return {"stats": merge_partial(a["stats"], b["stats"])}


# --- score summaries, mergeable -----------------------------------------------------------

def summarize_scores(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Per score: count, sum, min, max of numbers; trues of flags; counts of labels. Values are
    gathered per score name first, then summarised with builtins (a third of the time of
    updating a summary per value)."""
    columns: dict[str, list[Any]] = {}
    for record in records:
        for name, value in (record.get("scores") or {}).items():
            column = columns.get(name)
            if column is None:
                column = columns[name] = []
            column.append(value)
    summary: dict[str, Any] = {}
    for name, values in columns.items():
        flags = [v for v in values if isinstance(v, bool)]
        numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
        if flags and len(flags) >= len(numbers):
            summary[name] = {"kind": "flag", "true": sum(flags)}
        elif numbers:
            summary[name] = {"kind": "number", "n": len(numbers), "sum": float(sum(numbers)),
                             "min": min(numbers), "max": max(numbers)}
        elif name.endswith(("lang", "script")):
            labels = Counter(v for v in values if isinstance(v, str))
            if labels:
                summary[name] = {"kind": "label", "counts": dict(labels)}
    return summary


def merge_scores(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    if not a:
        return dict(b)
    out = {"scores": dict(a.get("scores") or {})}
    for name, entry in (b.get("scores") or {}).items():
        mine = out["scores"].get(name)
        if mine is None or mine["kind"] != entry["kind"]:
            out["scores"][name] = entry if mine is None else mine
        elif entry["kind"] == "flag":
            out["scores"][name] = {"kind": "flag", "true": mine["true"] + entry["true"]}
        elif entry["kind"] == "number":
            out["scores"][name] = {"kind": "number", "n": mine["n"] + entry["n"],
                                   "sum": mine["sum"] + entry["sum"],
                                   "min": min(mine["min"], entry["min"]),
                                   "max": max(mine["max"], entry["max"])}
        else:
            counts = Counter(mine["counts"])
            counts.update(entry["counts"])
            out["scores"][name] = {"kind": "label", "counts": dict(counts)}
    return out


def finish_scores(options: Any, extra: dict[str, Any], records_in: int = 0) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name, entry in (extra.get("scores") or {}).items():
        if entry["kind"] == "number":
            summary[name] = {"min": entry["min"], "mean": round(entry["sum"] / entry["n"], 4),
                             "max": entry["max"]}
        elif entry["kind"] == "flag":
            summary[name] = {"true": entry["true"]}
        else:
            summary[name] = dict(Counter(entry["counts"]).most_common(10))
    return {"scores": summary}


STEPS: dict[str, RecordStep] = {
    "read": RecordStep(_read),
    "write": RecordStep(_read),
    "convert": RecordStep(_convert),
    "score": RecordStep(_score, merge_scores, finish_scores),
    "filter": RecordStep(_filter, merge_extra, _finish_filter),
    "decontam": RecordStep(_decontam, merge_extra, _finish_decontam),
    "stats": RecordStep(_stats, _merge_stats),
}


def record_step(name: str) -> RecordStep:
    return STEPS[name]
