"""Decontamination: remove training records that share a long word n-gram with an eval set.

Every eval record (`eval_field`, by default its prompt: the problem or question)
is indexed as 13-grams of normalised units (`curate.text`: words, and single
characters in Chinese, Japanese, Thai and other scripts without spaces); a
training record whose `field` text (by default every turn) contains one of them
is removed, with the eval items it hit. Changed whitespace, case, punctuation,
character width or Unicode form does not hide a copy, nor does a one-character
edit of a Chinese or Japanese item of 27 characters or more. The step's
stats list every eval item that was hit and how often, so a benchmark's
contamination can be reported, not just removed.
"""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from curate.filters.eval_overlap import BOILERPLATE, MIN_WORDS, NGRAM, EvalIndex, cached_index
from curate.scoring import comma_list
from curate.step import StepResult, removal
from curate.text.units import join_units
from curate.views import text_view

STEP = "decontam"
REASON = "eval_overlap"


class DecontamOptions(BaseModel):
    """Options of `curate decontam` (and of the `decontam` recipe step)."""

    model_config = ConfigDict(extra="forbid")

    against: list[str] = Field(min_length=1, description="Eval sets (files or hub ids).")
    ngram: int = Field(NGRAM, ge=1, description="Words in a shared n-gram that flags a record.")
    char_ngram: int | None = Field(None, ge=1, description="Characters in a shared n-gram for "
                                   "eval items written without spaces (Chinese, Japanese, Thai, "
                                   "...); default: the same as ngram.")
    shingle: Literal["auto", "word", "char"] = Field(
        "auto", description="Units: auto (words; single characters in scripts without spaces), "
        "word (runs of letters in every script) or char (single characters everywhere).")
    field: str = Field("all", description="Training text to check: a view or a column.")
    eval_field: str = Field("prompt", description="Eval text to index: a view or a column.")
    min_eval_words: int = Field(MIN_WORDS, ge=1, description="Eval items with fewer units (words, "
                                "or characters in scripts without spaces) are skipped (too "
                                "generic to match); shorter than ngram are matched whole.")
    boilerplate: int = Field(BOILERPLATE, ge=2, description="An n-gram found in this many eval "
                             "items is template text and does not count as a match.")

    _lists = field_validator("against", mode="before")(comma_list)


def eval_index(options: DecontamOptions) -> EvalIndex:
    """The n-gram index of the eval sets (built once per process for the same options)."""
    return cached_index(tuple(options.against), options.eval_field, options.ngram,
                        options.min_eval_words, options.boilerplate, options.char_ngram,
                        options.shingle)


def decontam_records(records: list[dict[str, Any]], options: DecontamOptions) -> StepResult:
    """Keep records sharing no n-gram with an eval item; removed lines name the items hit
    (`eval_items`: eval file, item id, the shared n-gram). `extra` is `hit_report`."""
    index = eval_index(options)
    kept: list[dict[str, Any]] = []
    removed: list[dict[str, Any]] = []
    for record in records:
        try:
            text = text_view(record, options.field)
        except KeyError:
            raise ValueError(f"record id={record.get('id')!r} has no {options.field!r} text; "
                             "choose one with field") from None
        matches = index.matches(text)
        if not matches:
            kept.append(record)
            continue
        items = [{"eval": index.items[number].source, "item": index.items[number].item,
                  "ngram": join_units(gram)} for number, gram in matches.items()]
        removed.append(removal(record, REASON, STEP, eval_items=items))
    return StepResult(kept, removed, hit_report(index, hit_counts(removed)))


def hit_counts(removed: list[dict[str, Any]]) -> Counter[tuple[str, str]]:
    """How many training records hit each eval item `(eval file, item)`."""
    return Counter((item["eval"], item["item"]) for line in removed for item in line["eval_items"])


def hit_report(index: EvalIndex, hits: Counter[tuple[str, str]]) -> dict[str, Any]:
    """Stats: eval set sizes, and every eval item hit (most hit first) with how many
    training records hit it."""
    previews = {(item.source, item.item): item.preview for item in index.items}
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
